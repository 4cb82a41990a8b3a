"""The dispatch state store: one SQLite file that carries a district's state from one run
to the next, and a lock that keeps two runs apart.

``--state DIR`` holds ``pecopt-state.sqlite`` (the store) and ``pecopt-state.lock`` (the
lock file). Every successful run adds, in one transaction, a row to ``runs`` (day,
window, status, plan, cost, flags ...) and one row per asset and quantity to
``trajectories``: the planned state at the end of each step of its whole horizon, as a
JSON array on the run's time grid:

==================  ====  ==============================================================
quantity            unit  meaning (at the end of step i, i.e. at ``start + (i+1) step``)
==================  ====  ==============================================================
``soc_kwh``         kWh   energy in a battery, thermal store or EV (``fleet/vehicle``)
``plugged``         1     EV plugged in during step i (1) or away (0)
``on``              1     heat pump running in step i
``hours_in_state``  h     how long the heat pump has been on (off) at the end of step i
``billing_peak_kw`` kW    district-heat billing peak so far (running maximum)
==================  ====  ==============================================================

**Which run's state a new run starts from** (:meth:`StateStore.state_at`): the latest
run whose delivery window ``(window_start, window_end]`` contains the new start time; a
re-run of the same day therefore reads the same state as the first run did, and an
intraday re-plan (``--from``) reads the morning plan. With no such run, the latest run
whose look-ahead reaches the start (a missed night), flagged. Levels are clipped to
their bounds when read.

**Atomicity.** SQLite's rollback journal makes each commit all-or-nothing: a process
killed while writing leaves the store as it was before the run (the next opening rolls
the hot journal back). The store is opened with ``synchronous=FULL``.

**Lock.** :func:`locked` takes an exclusive, non-blocking ``fcntl.flock`` on the lock
file for the whole run and writes the holder's pid, host and start time into it; a
second run fails at once with :class:`StateLocked` (exit 75, "try again later") naming
the holder. The kernel releases the lock when the holder exits, killed or not, so a
stale lock never blocks the next night.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pecopt.errors import DataError, PecoptError

__all__ = [
    "LOCK_FILE",
    "STORE_FILE",
    "RunRecord",
    "StartState",
    "StateLocked",
    "StateStore",
    "Trajectory",
    "locked",
]

STORE_FILE = "pecopt-state.sqlite"
LOCK_FILE = "pecopt-state.lock"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    from_local TEXT,
    window_start_utc TEXT NOT NULL,
    window_end_utc TEXT NOT NULL,
    horizon_end_utc TEXT NOT NULL,
    step_s INTEGER NOT NULL,
    started_utc TEXT NOT NULL,
    finished_utc TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    plan TEXT NOT NULL,
    cost_eur REAL,
    objective REAL,
    gap REAL,
    flags TEXT NOT NULL,
    state_from INTEGER,
    scenario TEXT,
    scenario_sha256 TEXT,
    out TEXT,
    pecopt_version TEXT
);
CREATE TABLE IF NOT EXISTS trajectories (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    asset TEXT NOT NULL,
    quantity TEXT NOT NULL,
    start_utc TEXT NOT NULL,
    step_s INTEGER NOT NULL,
    values_json TEXT NOT NULL,
    PRIMARY KEY (run_id, asset, quantity)
);
CREATE INDEX IF NOT EXISTS runs_window ON runs (window_end_utc);
"""


class StateLocked(PecoptError):
    """Another run holds the state store's lock (exit 75: temporary, try again later)."""

    exit_code = 75


@dataclass(frozen=True)
class Trajectory:
    """One asset's planned state over a run's horizon: ``values[i]`` at the end of step i."""

    asset: str
    quantity: str
    start: pd.Timestamp
    step: pd.Timedelta
    values: np.ndarray

    def at(self, when: pd.Timestamp) -> float | None:
        """The value at instant ``when`` (the end of the step before it), or None when
        ``when`` is not a step end inside the trajectory."""
        k = (when - self.start) / self.step - 1.0
        i = int(round(k))
        if abs(k - i) > 1e-9 or not 0 <= i < len(self.values):
            return None
        return float(self.values[i])


@dataclass(frozen=True)
class RunRecord:
    """One row of ``runs`` (what :meth:`StateStore.record` writes and ``runs list`` shows)."""

    day: str
    from_local: str | None
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    horizon_end: pd.Timestamp
    step: pd.Timedelta
    started_utc: str
    finished_utc: str
    status: str
    exit_code: int
    plan: str
    cost_eur: float | None
    objective: float | None
    gap: float | None
    flags: list[dict[str, str]]
    state_from: int | None
    scenario: str
    scenario_sha256: str | None
    out: str
    pecopt_version: str
    id: int | None = None


@dataclass(frozen=True)
class StartState:
    """The state a run starts from: values by (asset, quantity), the run they came from,
    and how (``exact``: that run's delivery window ends or passes there; ``lookahead``:
    from a run's look-ahead, a night was missed; ``none``: nothing known)."""

    at: pd.Timestamp
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    run_id: int | None = None
    source: str = "none"
    run_day: str | None = None

    def get(self, asset: str, quantity: str) -> float | None:
        return self.values.get((asset, quantity))


def _iso(t: pd.Timestamp) -> str:
    return pd.Timestamp(t).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


#: pecopt's tables and the columns each must have (a foreign file lacks them)
_TABLES = {
    "meta": {"key", "value"},
    "runs": {"id", "day", "window_start_utc", "window_end_utc", "horizon_end_utc", "status"},
    "trajectories": {"run_id", "asset", "quantity", "start_utc", "step_s", "values_json"},
}


class StateStore:
    """The SQLite state store in ``folder`` (created on first use).

    Before anything is read or written the store is checked (:meth:`_check`): an
    existing file must be pecopt's (its tables and ``meta.schema`` =
    :data:`SCHEMA_VERSION`) and pass SQLite's ``PRAGMA quick_check``; with ``write``
    (a dispatch run, ``runs prune``) the file and its folder must take a write (a
    transaction that is rolled back). A file that fails any check is left exactly as it
    was. ``write=False`` (``runs list``) opens the file read-only and creates nothing.

    Raises
    ------
    DataError
        The store is missing (``write=False``), not pecopt's, damaged, of another schema
        version, or not writable: one message naming the file and the problem (exit 2).
    """

    def __init__(self, folder: Path, *, write: bool = True) -> None:
        self.folder = Path(folder)
        self.path = self.folder / STORE_FILE
        existed = self.path.is_file() and self.path.stat().st_size > 0
        if not write and not existed:
            raise DataError(
                self.folder, "--state", f"no state store here ({STORE_FILE} is missing)"
            )
        try:
            if write:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            else:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise DataError(self.path, "--state", f"cannot be opened ({exc})") from None
        except OSError as exc:
            raise DataError(self.folder, "--state", f"cannot be used ({exc.strerror})") from None
        try:
            self._check(existed, write)
            if write:
                self._db.execute("PRAGMA journal_mode=DELETE")
                self._db.execute("PRAGMA synchronous=FULL")
                if not existed:
                    self._db.executescript(_SCHEMA)
                    self._db.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                    )
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise DataError(self.path, "--state", f"not a usable state store ({exc})") from None
        except BaseException:
            self._db.close()
            raise

    def _check(self, existed: bool, write: bool) -> None:
        """The checks of the class docstring; nothing is changed (see there)."""
        db = self._db
        if existed:
            tables = {
                str(r[0]): {str(c[1]) for c in db.execute(f"PRAGMA table_info('{r[0]}')")}
                for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            missing = [t for t, cols in _TABLES.items() if not cols <= tables.get(t, set())]
            if missing:
                raise DataError(
                    self.path, "--state", f"not a pecopt state store (no table {missing[0]!r} "
                    "with pecopt's columns); it was left as it is: give another --state folder",
                )  # fmt: skip
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or str(row[0]) != str(SCHEMA_VERSION):
                found = "none" if row is None else repr(row[0])
                raise DataError(
                    self.path, "meta.schema", f"version {found}, this pecopt reads "
                    f"{SCHEMA_VERSION}; the store was left as it is",
                )  # fmt: skip
            check = [" ".join(str(r[0]).split()) for r in db.execute("PRAGMA quick_check(3)")]
            if check != ["ok"]:
                raise DataError(
                    self.path, "--state", f"damaged (SQLite quick_check: {'; '.join(check)}); "
                    "restore it from a backup or give another --state folder",
                )  # fmt: skip
        if write:
            try:  # a write that is rolled back: the file and the folder (its journal) take it
                db.execute("BEGIN IMMEDIATE")
                db.execute("CREATE TABLE pecopt_write_check (x)")
            except sqlite3.DatabaseError as exc:
                raise DataError(
                    self.path, "--state", f"not writable ({exc}); nothing was planned"
                ) from None
            finally:
                if db.in_transaction:
                    db.execute("ROLLBACK")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading
    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Past runs, newest first."""
        sql = "SELECT * FROM runs ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        cur = self._db.execute(sql)
        cols = [c[0] for c in cur.description]
        return [_record(dict(zip(cols, row, strict=True))) for row in cur.fetchall()]

    def integrity(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` (``ok`` when the file is sound)."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    def _latest_run_reaching(self, t: str, end: str) -> tuple[Any, ...] | None:
        """(id, day) of the latest run with ``window_start_utc < t <= end`` (``end``: the
        column ``window_end_utc`` or ``horizon_end_utc``)."""
        assert end in ("window_end_utc", "horizon_end_utc")
        row = self._db.execute(
            f"SELECT id, day FROM runs WHERE window_start_utc < ? AND ? <= {end} "
            "ORDER BY id DESC LIMIT 1",
            (t, t),
        ).fetchone()
        return None if row is None else tuple(row)

    def state_at(self, when: pd.Timestamp) -> StartState:
        """The state at instant ``when`` (see the module docstring for which run)."""
        t = _iso(when)
        row, source = self._latest_run_reaching(t, "window_end_utc"), "exact"
        if row is None:  # no delivery window holds the instant: a look-ahead reaching it
            row, source = self._latest_run_reaching(t, "horizon_end_utc"), "lookahead"
        if row is None:
            return StartState(when)
        run_id, day = int(row[0]), str(row[1])
        values: dict[tuple[str, str], float] = {}
        for traj in self.trajectories(run_id):
            v = traj.at(when)
            if v is not None:
                values[(traj.asset, traj.quantity)] = v
        return StartState(when, values, run_id, source, day)

    def trajectories(self, run_id: int) -> list[Trajectory]:
        cur = self._db.execute(
            "SELECT asset, quantity, start_utc, step_s, values_json FROM trajectories "
            "WHERE run_id = ?",
            (run_id,),
        )
        out = []
        for a, q, s, st, v in cur.fetchall():
            try:
                values = np.asarray(json.loads(v), dtype=float)
                if values.ndim != 1:
                    raise ValueError("not a flat array")
                out.append(Trajectory(a, q, _ts(s), pd.Timedelta(seconds=int(st)), values))
            except (ValueError, TypeError) as exc:
                raise DataError(
                    self.path, f"trajectories (run {run_id}, {a}, {q})", "not a JSON array of "
                    f"numbers ({str(exc).splitlines()[0][:80]}); the store was left as it is",
                ) from None  # fmt: skip
        return out

    def has_runs(self) -> bool:
        return self._db.execute("SELECT 1 FROM runs LIMIT 1").fetchone() is not None

    # ------------------------------------------------------------------ writing
    def record(
        self,
        run: RunRecord,
        trajectories: Sequence[Trajectory],
        before_commit: Any = None,
    ) -> int:
        """Write a run and its trajectories in one transaction; returns the run id.

        ``before_commit()`` (if given) is called inside the open transaction, just
        before the commit (progress reporting; the tests kill the process there).
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute(
                "INSERT INTO runs (day, from_local, window_start_utc, window_end_utc, "
                "horizon_end_utc, step_s, started_utc, finished_utc, status, exit_code, plan, "
                "cost_eur, objective, gap, flags, state_from, scenario, scenario_sha256, out, "
                "pecopt_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run.day, run.from_local, _iso(run.window_start), _iso(run.window_end),
                    _iso(run.horizon_end), int(run.step.total_seconds()), run.started_utc,
                    run.finished_utc, run.status, run.exit_code, run.plan, _num(run.cost_eur),
                    _num(run.objective), _num(run.gap), json.dumps(run.flags), run.state_from,
                    run.scenario, run.scenario_sha256, run.out, run.pecopt_version,
                ),
            )  # fmt: skip
            run_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO trajectories VALUES (?,?,?,?,?,?)",
                [
                    (
                        run_id, t.asset, t.quantity, _iso(t.start), int(t.step.total_seconds()),
                        json.dumps(np.round(np.asarray(t.values, float), 9).tolist()),
                    )
                    for t in trajectories
                ],
            )  # fmt: skip
            if before_commit is not None:
                before_commit()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return run_id

    def prune(self, keep_days: float) -> tuple[int, int]:
        """Delete the runs (and their trajectories) whose delivery window ended more than
        ``keep_days`` days before the newest run's; the newest run is always kept (the
        next night starts from it). The file is then compacted (``VACUUM``).

        Returns
        -------
        (runs deleted, bytes freed)
        """
        newest = self._db.execute("SELECT max(window_end_utc), max(id) FROM runs").fetchone()
        if newest is None or newest[0] is None:
            return 0, 0
        cut = _iso(_ts(newest[0]) - pd.Timedelta(days=keep_days))
        before = self.path.stat().st_size
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            old = "SELECT id FROM runs WHERE window_end_utc < ? AND id <> ?"
            db.execute(f"DELETE FROM trajectories WHERE run_id IN ({old})", (cut, newest[1]))
            n = db.execute(f"DELETE FROM runs WHERE id IN ({old})", (cut, newest[1])).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if n:
            db.execute("VACUUM")
        return int(n), max(0, before - self.path.stat().st_size)


def _num(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _record(row: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        day=row["day"],
        from_local=row["from_local"],
        window_start=_ts(row["window_start_utc"]),
        window_end=_ts(row["window_end_utc"]),
        horizon_end=_ts(row["horizon_end_utc"]),
        step=pd.Timedelta(seconds=int(row["step_s"])),
        started_utc=row["started_utc"],
        finished_utc=row["finished_utc"],
        status=row["status"],
        exit_code=int(row["exit_code"]),
        plan=row["plan"],
        cost_eur=row["cost_eur"],
        objective=row["objective"],
        gap=row["gap"],
        flags=json.loads(row["flags"]),
        state_from=row["state_from"],
        scenario=row["scenario"],
        scenario_sha256=row["scenario_sha256"],
        out=row["out"],
        pecopt_version=row["pecopt_version"],
        id=int(row["id"]),
    )


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """Hold the state store's lock for the ``with`` block (see the module docstring).

    Raises
    ------
    StateLocked
        Another process holds it; the message names its pid, host and start time.
    DataError
        The folder cannot be made or the lock file cannot be opened.
    """
    folder = Path(folder)
    path = folder / LOCK_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise DataError(folder, "--state", f"cannot be used ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "unknown"
            raise StateLocked(
                f"{folder}: another pecopt dispatch run holds the state store ({holder}); "
                "nothing was done, try again when it has finished"
            ) from None
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {now}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the flock

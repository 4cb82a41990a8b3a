"""The sweep workflow: many variants of one scenario, each one task on Dask distributed.

1. :func:`~pecopt.workflows.sweep_plan.plan_sweep` reads and validates every variant
   before anything runs; each variant gets a content hash.
2. :func:`run_sweep` skips the variants already done in ``--out`` (same hash, status ok),
   submits the others to a Dask ``Client`` and writes each result on the client as soon as
   it arrives (:mod:`pecopt.workflows.sweep_dataset`), so workers need no shared output
   folder. A failing variant becomes a KPI row with its error; Ctrl-C keeps what is done.
3. :func:`open_client` gives a ``LocalCluster`` (one single-threaded worker process per
   core) or connects to ``--scheduler ADDRESS``.

The only call into the solve path is :func:`_solve_variant`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pecopt import __version__
from pecopt.errors import DataError, OptionError
from pecopt.ingest.parquet import table_bytes
from pecopt.progress import dask_receiving, dask_sending
from pecopt.scenario import Scenario
from pecopt.workflows import sweep_dataset as ds
from pecopt.workflows.sweep_plan import (
    ReplayJob,
    SweepPlan,
    Variant,
    column_values,
    describe,
    manifest_body,
    map_paths,
    plan_sweep,
)

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client


@dataclass(frozen=True)
class VariantResult:
    """What one solved variant hands back to the client."""

    kpis: dict[str, Any]
    schedule: pd.DataFrame
    storage: pd.DataFrame
    seconds: dict[str, float]
    #: more tables of the dataset (a replay's ``replay``: one row per day)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    flat: bool = False  # kpis are one flat row already (a replay's)


@dataclass(frozen=True)
class TaskOutcome:
    """A task's answer: KPIs and the tables as Parquet bytes, or the error that stopped it.

    The tables are encoded on the worker, so the client only writes bytes."""

    kpis: dict[str, Any] | None
    seconds: dict[str, float]
    tables: dict[str, bytes]
    error: str | None
    worker: str
    task_s: float
    task_cpu_s: float = math.nan  # CPU time of the worker process during the task
    flat: bool = False  # kpis are one flat row already (a replay's)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SweepCounts:
    """Progress of a sweep (variants)."""

    total: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    interrupted: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.done - self.failed


Progress = Callable[[SweepCounts, str | None], None]


def _noop(_: SweepCounts, __: str | None) -> None:
    return None


# ---------------------------------------------------------------- tasks (worker side)


#: HiGHS threads of this process's global scheduler, as last set by _solve_variant


def _solve_variant(scenario: Scenario, file: str) -> VariantResult:
    """Solve one variant: the sweep's only call into the solve path.

    (A worker may get variants with other ``solver.threads``: the solver resets HiGHS'
    thread scheduler when the count changes, :func:`pecopt.solver.highs.use_threads`.)
    """
    from pecopt.workflows.solve import run_scenario

    run = run_scenario(scenario, file)
    return VariantResult(
        kpis=run.kpis,
        schedule=run.results.schedule,
        storage=run.results.storage,
        seconds=dict(run.seconds),
    )


def _replay_variant(scenario: Scenario, file: str, job: dict[str, Any]) -> VariantResult:
    """Replay one variant (a sweep of replays): its days, forecast mode and seed."""
    from datetime import date

    from pecopt.ingest.parquet import read_table
    from pecopt.workflows.replay import flat_kpis, replay

    tmp = Path(tempfile.mkdtemp(prefix="pecopt-replay-"))
    try:
        out = tmp / "replay"
        run = replay(
            Path(file), out, first=date.fromisoformat(job["from"]),
            last=date.fromisoformat(job["to"]), forecast=job["forecast"], seed=job["seed"],
            reference_time_limit_s=job["reference_time_limit_s"], scenario=scenario,
        )  # fmt: skip
        return VariantResult(
            kpis=flat_kpis(run.kpis),
            schedule=read_table(out / "schedule.parquet"),
            storage=read_table(out / "storage.parquet"),
            seconds={k: float(v) for k, v in run.seconds.items()},
            extra={"replay": run.table},
            flat=True,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_variant(
    scenario: Scenario,
    file: str,
    version: str,
    shipped: dict[str, bytes] | None = None,
    job: dict[str, Any] | None = None,
    report: tuple[str, bool] | None = None,
) -> TaskOutcome:
    """One Dask task: solve a variant (or, with ``job``, replay it); any error becomes
    the outcome's ``error``.

    With ``shipped`` (path -> bytes), the files are written to a worker-local temporary
    folder and the scenario's paths are pointed there. With ``report`` (the variant's
    name, whether HiGHS' log is wanted), the solver's figures (and log) are sent to the
    client (:func:`pecopt.progress.dask_sending`).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    worker = _worker_address()
    tmp: Path | None = None
    try:
        if version != __version__:
            raise RuntimeError(f"the worker runs pecopt {__version__}, the client {version}")
        if shipped:
            tmp = Path(tempfile.mkdtemp(prefix="pecopt-sweep-"))
            scenario = _localise(scenario, shipped, tmp)
        name, wants_log = report if report is not None else ("", None)
        with dask_sending(name, wants_log):
            result = (
                _solve_variant(scenario, file)
                if job is None
                else _replay_variant(scenario, file, job)
            )
        source = f"pecopt sweep of {Path(file).name}"
        tables = {
            "schedule": table_bytes(result.schedule, source),
            "storage": table_bytes(result.storage, source),
            **{name: table_bytes(t, source) for name, t in result.extra.items()},
        }
        return TaskOutcome(
            result.kpis,
            result.seconds,
            tables,
            None,
            worker,
            time.perf_counter() - t0,
            time.process_time() - c0,
            result.flat,
        )
    except Exception as exc:  # recorded with the variant, never stops the sweep
        error = f"{type(exc).__name__}: {exc}".strip()
        return TaskOutcome(
            None, {}, {}, error, worker, time.perf_counter() - t0, time.process_time() - c0
        )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def _localise(scenario: Scenario, shipped: dict[str, bytes], tmp: Path) -> Scenario:
    local: dict[str, Path] = {}
    for i, (path, data) in enumerate(sorted(shipped.items())):
        target = tmp / str(i) / Path(path).name
        target.parent.mkdir()
        target.write_bytes(data)
        local[path] = target
    out = map_paths(scenario, lambda p: local.get(str(p), p))
    assert isinstance(out, Scenario)
    return out


# ---------------------------------------------------------------- running (client side)


def dask_setup(worker: object) -> None:
    """Dask preload hook of the ``LocalCluster`` workers.

    Ctrl-C in a terminal reaches the whole process group: the client stops the sweep and
    closes the cluster, so the worker processes ignore SIGINT (no tracebacks from them).
    """
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # pragma: no cover - not the main thread
        pass


#: the most LocalCluster worker processes ``--workers`` may start
MAX_WORKERS = 256


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: to ``scheduler`` (``tcp://HOST:8786``) or to a new ``LocalCluster`` of
    ``workers`` single-threaded worker processes (default: one per core)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise OptionError("--scheduler", f"{scheduler}: cannot connect ({exc})") from None
        with client:
            yield client
        return
    n = workers or default_workers()
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            # task errors are recorded with their variants; what the workers would log is
            # shutdown noise (e.g. a heartbeat racing the scheduler's close under load)
            silence_logs=logging.CRITICAL,
            preload=[__name__],  # runs dask_setup in each worker process
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _row(v: Variant, columns: dict[str, Any], outcome: TaskOutcome) -> dict[str, Any]:
    """A variant's KPI row: the same leading columns for solved and failed variants."""
    row: dict[str, Any] = {
        "variant_id": v.variant_id,
        "hash": v.hash,
        "status": "ok" if outcome.ok else "failed",
        "error": outcome.error,
        **columns,
        "worker": outcome.worker,
        "finished_utc": pd.Timestamp(datetime.now(UTC)),
        "task_s": outcome.task_s,
        "task_cpu_s": outcome.task_cpu_s,
    }
    if outcome.kpis is not None:
        row |= outcome.kpis if outcome.flat else ds.flatten_kpis(outcome.kpis)
    row |= {f"{phase}_s": s for phase, s in outcome.seconds.items()}
    return row


def run_sweep(
    plan: SweepPlan,
    out: Path,
    client: Client,
    *,
    ship_inputs: bool = False,
    progress: Progress = _noop,
) -> SweepCounts:
    """Run the variants not yet done in ``out`` on ``client``'s cluster; write each result
    as it arrives. Returns the counts (``interrupted`` after Ctrl-C: what is done is kept).
    """
    from distributed import as_completed

    previous = ds.prepare_out(out, plan.scenario_file)
    if previous is not None and previous.get("job", "solve") != plan.job:
        raise DataError(
            out, "--out", f"a sweep of {previous.get('job', 'solve')}s, not of {plan.job}s: "
            "give another folder",
        )  # fmt: skip
    ds.write_manifest(out, manifest_body(plan, previous))
    done = ds.done_hashes(out)  # a damaged KPI file is not done
    todo = [v for v in plan.variants if v.hash not in done]
    counts = SweepCounts(total=len(plan.variants), skipped=len(plan.variants) - len(todo))
    rerun = {ds.kpi_file(out, v.variant_id) for v in todo}
    for f, why in ds.damaged_kpi_files(out):
        then = "its variant runs again" if f in rerun else "not a variant of this sweep: delete it"
        progress(counts, f"{f} is damaged ({why}): {then}")
    progress(counts, None)
    if not todo:
        return counts
    columns = column_values(plan)
    shipped = None
    if ship_inputs and plan.input_files:
        blob = {p: Path(p).read_bytes() for p in plan.input_files}
        [shipped] = client.scatter([blob], broadcast=False, hash=False)
    file = str(plan.scenario_file)
    source = f"pecopt sweep of {plan.scenario_file.name}"
    with dask_receiving(client) as wants_log:  # the tasks' solver figures and log
        futures = {
            client.submit(
                run_variant,
                v.scenario,
                file,
                __version__,
                shipped,
                v.job,
                None if wants_log is None else (v.variant_id, wants_log),
                key=f"pecopt-variant-{v.hash}",
            ): v  # fmt: skip
            for v in todo
        }
        try:
            with _DeferredInterrupt() as interrupts:
                for fut in as_completed(futures):
                    v = futures[fut]
                    try:
                        outcome = fut.result()
                    except Exception as exc:  # the worker died or the task could not run
                        error = f"{type(exc).__name__}: {exc}"
                        outcome = TaskOutcome(None, {}, {}, error, "?", math.nan)
                    fut.release()
                    with interrupts.deferred():  # written and counted, or not at all
                        _record(out, v, columns[v.variant_id], outcome, source, counts, progress)
        except KeyboardInterrupt:
            counts.interrupted = True
            client.cancel(list(futures))
            progress(counts, None)
    return counts


def _record(
    out: Path,
    v: Variant,
    columns: dict[str, Any],
    outcome: TaskOutcome,
    source: str,
    counts: SweepCounts,
    progress: Progress,
) -> None:
    ds.write_variant(out, _row(v, columns, outcome), outcome.tables, source)
    message = None
    if not outcome.ok:
        counts.failed += 1
        counts.failures.append((v.variant_id, str(outcome.error)))
        message = f"{v.variant_id} failed ({describe(v.overrides)}): {outcome.error}"
    else:
        counts.done += 1
    progress(counts, message)


class _DeferredInterrupt:
    """Ctrl-C raises ``KeyboardInterrupt`` at once, except inside :meth:`deferred`, where
    it is held until the block ends (main thread only; elsewhere nothing changes)."""

    def __init__(self) -> None:
        self._held = False
        self._pending = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self._held:
            self._pending = True
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> _DeferredInterrupt:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self._held = True
        try:
            yield
        finally:
            self._held = False
        if self._pending:
            raise KeyboardInterrupt


def sweep(
    scenario_file: Path,
    out: Path,
    *,
    vary: list[str],
    grid: Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    threads: int = 1,
    ship_inputs: bool = False,
    progress: Progress = _noop,
    replay: ReplayJob | None = None,
    sets: tuple[str, ...] = (),
) -> SweepCounts:
    """The ``pecopt sweep`` job: plan and validate, then run on a Dask cluster (every
    variant solved, or with ``replay`` replayed over its days)."""
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise OptionError("--workers", f"from 1 to {MAX_WORKERS} worker processes (got {workers})")
    plan = plan_sweep(scenario_file, vary, grid, threads, replay, sets)
    ds.check_out(out, scenario_file)  # before a cluster starts
    with open_client(scheduler, workers) as client:
        return run_sweep(plan, out, client, ship_inputs=ship_inputs, progress=progress)

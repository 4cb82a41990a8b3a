"""The sweep workflow: many variants of one scenario, each one task on Dask distributed.

1. :func:`plan_sweep` reads the variants (``--vary`` cartesian product and/or ``--grid``
   rows), applies each one's overrides to the base YAML and validates every resolved
   scenario before anything runs; each variant gets a content hash (:func:`variant_hash`).
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
import hashlib
import itertools
import json
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
import yaml
from pydantic import BaseModel

from pecopt import __version__
from pecopt.errors import DataError, ScenarioError
from pecopt.ingest.district import horizon_index
from pecopt.scenario import Scenario, load_scenario
from pecopt.scenario.loader import scenario_from_data
from pecopt.scenario.overrides import apply_overrides, check_path, parse_path, parse_value
from pecopt.scenario.overrides import parse_vary as _parse_vary
from pecopt.workflows import sweep_dataset as ds

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client


@dataclass(frozen=True)
class Variant:
    """One scenario of a sweep: its overrides and the validated scenario they give."""

    variant_id: str
    hash: str
    overrides: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class SweepPlan:
    """Every variant of a sweep, validated, with the override paths in column order."""

    scenario_file: Path
    paths: list[str]
    variants: list[Variant]
    input_files: dict[str, str]  # absolute path -> SHA-256


@dataclass(frozen=True)
class VariantResult:
    """What one solved variant hands back to the client."""

    kpis: dict[str, Any]
    schedule: pd.DataFrame
    storage: pd.DataFrame
    seconds: dict[str, float]


@dataclass(frozen=True)
class TaskOutcome:
    """A task's answer: a result, or the error that stopped it."""

    result: VariantResult | None
    error: str | None
    worker: str
    task_s: float


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


# ---------------------------------------------------------------- planning (client side)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def scenario_paths(model: BaseModel, prefix: str = "") -> list[tuple[str, Path]]:
    """Every file path a scenario points to, with its field path."""
    out: list[tuple[str, Path]] = []
    for name in type(model).model_fields:
        v = getattr(model, name)
        where = f"{prefix}.{name}" if prefix else name
        if isinstance(v, Path):
            out.append((where, v))
        elif isinstance(v, BaseModel):
            out += scenario_paths(v, where)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                if isinstance(x, BaseModel):
                    out += scenario_paths(x, f"{where}[{i}]")
    return out


def _map_paths(model: BaseModel, fn: Callable[[Path], Path]) -> BaseModel:
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        v = getattr(model, name)
        if isinstance(v, Path):
            updates[name] = fn(v)
        elif isinstance(v, BaseModel):
            updates[name] = _map_paths(v, fn)
        elif isinstance(v, list) and v and isinstance(v[0], BaseModel):
            updates[name] = [_map_paths(x, fn) for x in v]
    return model.model_copy(update=updates) if updates else model


def variant_hash(scenario: Scenario, file_sha: dict[str, str]) -> str:
    """SHA-256 of the resolved scenario (canonical JSON, each file path replaced by the
    SHA-256 of the file's bytes) and the pecopt version: equal hashes mean equal runs."""
    by_content = _map_paths(scenario, lambda p: Path("sha256:" + file_sha[str(p)]))
    canonical = json.dumps(
        {"pecopt": __version__, "scenario": by_content.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_grid(path: Path) -> list[dict[str, Any]]:
    """Variants from a CSV or Parquet file: one row a variant, one column an override path.

    CSV cells are read by YAML scalar rules (as ``--vary`` values); an empty cell (or a
    Parquet null) keeps the base scenario's value.
    """
    if not path.is_file():
        raise DataError(path, "--grid", "file not found")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
            records = frame.to_dict("records")
            rows = [{str(c): _py(v) for c, v in r.items() if pd.notna(v)} for r in records]
        elif path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            records = frame.to_dict("records")
            rows = [{str(c): parse_value(v) for c, v in r.items() if v != ""} for r in records]
        else:
            raise DataError(path, "--grid", "expected a .csv or .parquet file")
    except (ValueError, OSError) as exc:
        raise DataError(path, "--grid", f"cannot read: {exc}".splitlines()[0]) from None
    for col in frame.columns:
        check_path(parse_path(str(col), path), path)
    if not rows:
        raise DataError(path, "--grid", "no rows")
    return rows


def _py(v: Any) -> Any:
    """A numpy scalar as the Python value (``int``, ``float``, ``bool``, ``str``)."""
    return v.item() if hasattr(v, "item") else v


def _combine(vary: list[str], grid: Path | None) -> tuple[list[str], list[dict[str, Any]]]:
    axes = [_parse_vary(spec) for spec in vary]
    rows = read_grid(grid) if grid is not None else [{}]
    paths = [p for p, _ in axes]
    grid_cols = list(dict.fromkeys(c for r in rows for c in r))
    for p in paths:
        check_path(parse_path(p, "--vary"), "--vary")
        if paths.count(p) > 1 or p in grid_cols:
            raise ScenarioError("--vary", p, "given twice (in --vary or in --grid)")
    combos = [
        {**row, **dict(zip(paths, values, strict=True))}
        for row in rows
        for values in itertools.product(*[v for _, v in axes])
    ]
    return grid_cols + paths, combos


def plan_sweep(
    scenario_file: Path, vary: list[str], grid: Path | None = None, threads: int = 1
) -> SweepPlan:
    """Read and validate every variant of a sweep (nothing is solved or written).

    Parameters
    ----------
    scenario_file
        The base scenario YAML.
    vary
        ``PATH=v1,v2,...`` specs; the variants are their cartesian product (times the grid).
    grid
        A CSV or Parquet file, one row a variant, columns override paths.
    threads
        HiGHS threads per task (``solver.threads``; a ``--vary`` of it wins).

    Raises
    ------
    ScenarioError, DataError
        A bad path, value or file, naming the path (and the variant); exit 2.
    """
    load_scenario(scenario_file)  # the base alone must be valid (clear messages)
    raw = yaml.safe_load(scenario_file.read_text(encoding="utf-8")) or {}
    raw = apply_overrides(raw, {"solver.threads": threads})
    paths, combos = _combine(vary, grid)
    if not paths:
        raise ScenarioError("--vary", "<none>", "give at least one --vary PATH=... or --grid")
    shas: dict[str, str] = {}
    variants: dict[str, Variant] = {}
    for overrides in combos:
        scenario = _validated(scenario_file, raw, overrides)
        for where, p in scenario_paths(scenario):
            if str(p) not in shas:
                if not p.is_file():
                    raise DataError(p, where, f"input file not found ({_describe(overrides)})")
                shas[str(p)] = _sha256(p)
        h = variant_hash(scenario, shas)
        variants.setdefault(h, Variant(h[:12], h, overrides, scenario))
    return SweepPlan(scenario_file, paths, list(variants.values()), shas)


def _describe(overrides: dict[str, Any]) -> str:
    return "variant " + ", ".join(f"{k}={v}" for k, v in overrides.items())


def _validated(scenario_file: Path, raw: dict[str, Any], overrides: dict[str, Any]) -> Scenario:
    merged = apply_overrides(raw, overrides, scenario_file)
    try:
        scenario = scenario_from_data(merged, scenario_file)
        horizon_index(scenario, str(scenario_file))
    except ScenarioError as exc:
        field = _bracketed(exc.field)
        raise ScenarioError(exc.file, field, f"{exc.problem} ({_describe(overrides)})") from None
    return scenario


def _bracketed(loc: str) -> str:
    """``assets.batteries.0.capacity_kwh`` -> ``assets.batteries[0].capacity_kwh``."""
    parts = loc.split(".")
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


# ---------------------------------------------------------------- tasks (worker side)


def _solve_variant(scenario: Scenario, file: str) -> VariantResult:
    """Solve one variant: the sweep's only call into the solve path."""
    from pecopt.workflows.solve import run_scenario

    run, _ = run_scenario(scenario, file)
    return VariantResult(
        kpis=run.kpis,
        schedule=run.results.schedule,
        storage=run.results.storage,
        seconds=dict(run.seconds),
    )


def run_variant(
    scenario: Scenario, file: str, version: str, shipped: dict[str, bytes] | None = None
) -> TaskOutcome:
    """One Dask task: solve a variant; any error becomes the outcome's ``error``.

    With ``shipped`` (path -> bytes), the files are written to a worker-local temporary
    folder and the scenario's paths are pointed there.
    """
    t0 = time.perf_counter()
    worker = _worker_address()
    tmp: Path | None = None
    try:
        if version != __version__:
            raise RuntimeError(f"the worker runs pecopt {__version__}, the client {version}")
        if shipped:
            tmp = Path(tempfile.mkdtemp(prefix="pecopt-sweep-"))
            scenario = _localise(scenario, shipped, tmp)
        result = _solve_variant(scenario, file)
        return TaskOutcome(result, None, worker, time.perf_counter() - t0)
    except Exception as exc:  # recorded with the variant, never stops the sweep
        error = f"{type(exc).__name__}: {exc}".strip()
        return TaskOutcome(None, error, worker, time.perf_counter() - t0)
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
    out = _map_paths(scenario, lambda p: local.get(str(p), p))
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
        except (OSError, TimeoutError) as exc:
            raise DataError(scheduler, "--scheduler", f"cannot connect ({exc})") from None
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
            silence_logs=logging.ERROR,
            preload=[__name__],  # runs dask_setup in each worker process
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def manifest_body(plan: SweepPlan, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest: base scenario, override paths and variant table (merged with an
    earlier sweep's in the same folder)."""
    old = previous or {}
    table = {v["variant_id"]: v for v in old.get("variants", [])}
    for v in plan.variants:
        table[v.variant_id] = {"variant_id": v.variant_id, "hash": v.hash, "overrides": v.overrides}
    return {
        "pecopt": __version__,
        "base_scenario": {
            "path": str(plan.scenario_file.resolve()),
            "sha256": _sha256(plan.scenario_file),
        },
        "override_paths": list(dict.fromkeys([*old.get("override_paths", []), *plan.paths])),
        "input_files": {**old.get("input_files", {}), **plan.input_files},
        "layout": {
            "kpis": "kpis/<variant_id>.parquet",
            "schedule": "schedule/variant_id=<variant_id>/part.parquet",
            "storage": "storage/variant_id=<variant_id>/part.parquet",
        },
        "variants": list(table.values()),
    }


def _column_values(plan: SweepPlan) -> dict[str, dict[str, Any]]:
    """Override values per variant as KPI columns: one type per column (ints and floats
    as floats; a mix of kinds as text)."""
    out: dict[str, dict[str, Any]] = {v.variant_id: {} for v in plan.variants}
    for path in plan.paths:
        values = [v.overrides.get(path) for v in plan.variants]
        kinds = {type(x) for x in values if x is not None}
        if kinds == {int, float}:
            values = [None if x is None else float(x) for x in values]
        elif len(kinds) > 1:
            values = [None if x is None else str(x) for x in values]
        for v, x in zip(plan.variants, values, strict=True):
            out[v.variant_id][path] = x
    return out


def _row(v: Variant, columns: dict[str, Any], outcome: TaskOutcome) -> dict[str, Any]:
    """A variant's KPI row: the same leading columns for solved and failed variants."""
    row: dict[str, Any] = {
        "variant_id": v.variant_id,
        "hash": v.hash,
        "status": "ok" if outcome.result is not None else "failed",
        "error": outcome.error,
        **columns,
        "worker": outcome.worker,
        "finished_utc": pd.Timestamp(datetime.now(UTC)),
        "task_s": outcome.task_s,
    }
    if outcome.result is not None:
        row |= ds.flatten_kpis(outcome.result.kpis)
        row |= {f"{phase}_s": s for phase, s in outcome.result.seconds.items()}
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
    ds.write_manifest(out, manifest_body(plan, previous))
    done = ds.done_hashes(out)
    todo = [v for v in plan.variants if v.hash not in done]
    counts = SweepCounts(total=len(plan.variants), skipped=len(plan.variants) - len(todo))
    progress(counts, None)
    if not todo:
        return counts
    columns = _column_values(plan)
    shipped = None
    if ship_inputs and plan.input_files:
        blob = {p: Path(p).read_bytes() for p in plan.input_files}
        [shipped] = client.scatter([blob], broadcast=False, hash=False)
    file = str(plan.scenario_file)
    futures = {
        client.submit(
            run_variant, v.scenario, file, __version__, shipped, key=f"pecopt-variant-{v.hash}"
        ): v
        for v in todo
    }
    source = f"pecopt sweep of {plan.scenario_file.name}"
    try:
        with _DeferredInterrupt() as interrupts:
            for fut in as_completed(futures):
                v = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # the worker died or the task could not run
                    outcome = TaskOutcome(None, f"{type(exc).__name__}: {exc}", "?", math.nan)
                fut.release()
                with interrupts.deferred():  # a result is written and counted, or not at all
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
    tables = {}
    if outcome.result is not None:
        tables = {"schedule": outcome.result.schedule, "storage": outcome.result.storage}
    ds.write_variant(out, _row(v, columns, outcome), tables, source)
    message = None
    if outcome.result is None:
        counts.failed += 1
        counts.failures.append((v.variant_id, str(outcome.error)))
        message = f"{v.variant_id} failed ({_describe(v.overrides)}): {outcome.error}"
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
) -> SweepCounts:
    """The ``pecopt sweep`` job: plan and validate, then run on a Dask cluster."""
    plan = plan_sweep(scenario_file, vary, grid, threads)
    ds.check_out(out, scenario_file)  # before a cluster starts
    with open_client(scheduler, workers) as client:
        return run_sweep(plan, out, client, ship_inputs=ship_inputs, progress=progress)

"""The compare workflow: a layouts file -> every variant solved in its own process ->
``comparison.parquet``, a results folder per variant, a manifest and the report.

Each variant goes through the same path as ``pecopt solve`` (:func:`run_scenario`, then
:func:`write_results` into ``variants/<name>/``), in a pool of worker processes
(:class:`concurrent.futures.ProcessPoolExecutor`, one variant per process and HiGHS on
one thread each, so that ``workers`` variants use ``workers`` cores). Workers are forked
from a server process that has imported pecopt once (:mod:`pecopt.workflows.pool`), not
from the command itself.

A variant that fails (infeasible, a data problem, the solver) is a row with its status
and the error; the others are written as usual. Problems in the layouts file or in any
variant's scenario are found before anything is solved and nothing is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from pecopt import __version__
from pecopt.errors import (
    DataError,
    InfeasibleError,
    OptionError,
    PecoptError,
    ScenarioError,
    SolverError,
)
from pecopt.progress import Progress, counted, forward_to, forwarding, listener, noop, relaying
from pecopt.results.summary import flat_kpis
from pecopt.scenario.layouts import Layouts, load_layouts
from pecopt.scenario.schema import Scenario
from pecopt.workflows.outputs import atomic_dir, check_output
from pecopt.workflows.pool import context

COMPARISON = "comparison.parquet"
VARIANTS = "variants"
#: ``status`` of a variant that produced a plan (others failed)
SOLVED = ("optimal", "time_limit")
#: exit code of ``pecopt compare`` when some variant failed (the others are written)
SOME_FAILED = 10


@dataclass(frozen=True)
class Comparison:
    """What a compare run produced: the table (one row per variant, base first)."""

    table: pd.DataFrame
    out: Path
    seconds: dict[str, float]

    @property
    def failed(self) -> list[str]:
        """Names of the variants without a plan."""
        t = self.table
        return t.loc[~t["status"].isin(SOLVED), "variant"].tolist()


def _status(exc: BaseException) -> str:
    if isinstance(exc, InfeasibleError):
        return "infeasible"
    if isinstance(exc, ScenarioError | DataError | OptionError):
        return "bad_input"
    if isinstance(exc, SolverError):
        return "solver_error"
    return "internal_error"


def solve_variant(
    name: str, scenario: Scenario, label: str, source: str, folder: str
) -> dict[str, Any]:
    """Solve one variant and write its results folder (runs in a worker process).

    ``label`` names the variant in error messages; ``source`` is the layouts file.

    Returns the row of ``comparison.parquet`` (``variant``, ``status``, ``error``, the key
    figures, ``solve_s``, ``wall_s``, ``cpu_s``: HiGHS, elapsed and CPU seconds) and, for
    the manifest, when it ran and, for an internal error, its traceback.
    """
    from pecopt.workflows.solve import run_scenario, write_results

    t0, c0, started = time.perf_counter(), time.process_time(), time.time()
    row: dict[str, Any] = {"variant": name}
    try:
        with forwarding(name):  # the solver's figures and log to the command's listener
            run = run_scenario(scenario, label)
        write_results(run, Path(folder), Path(source))
        row |= {"status": run.outcome.status.value, "error": None}
        row |= flat_kpis(run.kpis)
        row["solve_s"] = run.seconds.get("solve")
    except Exception as exc:  # noqa: BLE001 - one variant's failure is that variant's row
        shutil.rmtree(folder, ignore_errors=True)
        row |= {"status": _status(exc), "error": str(exc) or type(exc).__name__}
        if not isinstance(exc, PecoptError):
            row["error"] = f"{type(exc).__name__}: {row['error']}"
            row["traceback"] = "".join(traceback.format_exception(exc))
    row["wall_s"] = time.perf_counter() - t0
    row["cpu_s"] = time.process_time() - c0
    row["span_unix_s"] = (started, time.time())  # for the manifest
    return row


def solve_all(
    layouts: Layouts, folder: Path, workers: int, progress: Progress = noop
) -> list[dict[str, Any]]:
    """Solve every variant in ``workers`` processes; results into ``folder/variants``."""
    jobs = []
    for v in layouts.variants:
        s = v.scenario.model_copy(
            update={"solver": v.scenario.solver.model_copy(update={"threads": 1})}
        )
        label = f"{layouts.path} (variant {v.name})"
        jobs.append((v.name, s, label, str(layouts.path), str(folder / VARIANTS / v.name)))
    rows: dict[str, dict[str, Any]] = {}
    ctx, who = context(), listener()
    relay: Any = ctx.Queue() if who is not None else None  # the workers' solver figures
    with (
        ProcessPoolExecutor(
            workers, mp_context=ctx, max_tasks_per_child=1,
            initializer=forward_to, initargs=(relay, who is not None and who.wants_log),
        ) as pool,
        contextlib.nullcontext() if who is None else relaying(relay, who),
    ):  # fmt: skip
        futures: dict[Future[dict[str, Any]], str] = {
            pool.submit(solve_variant, *job): job[0] for job in jobs
        }
        try:
            for fut in as_completed(futures):
                name = futures[fut]
                try:
                    rows[name] = fut.result()
                except BrokenProcessPool:
                    rows[name] = {
                        "variant": name,
                        "status": "internal_error",
                        "error": "a worker process died (out of memory, or killed) before "
                        "this variant was done",
                    }
                progress(counted(f"{name}: {rows[name]['status']}", len(rows), len(jobs)))
        except BaseException:  # Ctrl-C or an error here: stop the workers, do not wait
            for p in list(getattr(pool, "_processes", {}).values()):
                p.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [rows[job[0]] for job in jobs]


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def header(kind: str, sources: dict[str, Path]) -> dict[str, Any]:
    """The common top of a compare or Pareto manifest: versions and input hashes."""
    versions: dict[str, str | None] = {}
    for pkg in ("pyomo", "highspy", "numpy", "pandas", "pyarrow", "pvlib", "pydantic", "plotly"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "kind": kind,
        "pecopt": __version__,
        "python": platform.python_version(),
        "dependencies": versions,
        **{k: {"path": str(p), "sha256": _sha256(p)} for k, p in sources.items()},
    }


def union(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of ``rows``, each one that only some rows have placed right after the
    key it follows in its row (so a variant's extra cost item stays among the costs)."""
    cols: list[str] = []
    for r in rows:
        at = 0
        for k in r:
            if k in cols:
                at = cols.index(k) + 1
            else:
                cols.insert(at, k)
                at += 1
    return cols


#: Columns that hold text (names, statuses, errors) whatever their values.
TEXT = ("variant", "status", "error", "role")


def write_rows(rows: list[dict[str, Any]], path: Path, source: str) -> pd.DataFrame:
    """``rows`` as one Parquet table: text columns (:data:`TEXT`, ``*_status``) as strings,
    integer columns as int64, the others float64 (None is missing)."""
    from pecopt.ingest.parquet import write_table

    df = pd.DataFrame(rows, columns=union(rows))
    for c in df.columns:
        values = df[c].tolist()
        if c in TEXT or c.endswith("_status"):
            df[c] = df[c].astype("string")
        elif all(isinstance(x, int) and not isinstance(x, bool) for x in values):
            df[c] = df[c].astype("int64")
        elif all(x is None or isinstance(x, int | float) for x in values):
            df[c] = df[c].astype("float64")
        else:
            df[c] = df[c].astype("string")
    write_table(df, path, source)
    return df


def check_files(layouts: Layouts) -> list[Path]:
    """The layouts file, the base and every data file a variant names; raises
    :class:`~pecopt.errors.DataError` if one of those is missing (before any solve)."""
    from pecopt.workflows.solve import input_files

    out = [layouts.path, layouts.base]
    for v in layouts.variants:
        for p in input_files(v.scenario):
            if not p.is_file():
                raise DataError(p, f"variant {v.name}", f"no such file (named by {layouts.path})")
            out.append(p)
    return list(dict.fromkeys(out))


def compare(
    layouts_file: Path,
    out: Path,
    *,
    workers: int | None = None,
    progress: Progress = noop,
    sets: tuple[str, ...] = (),
) -> Comparison:
    """The ``pecopt compare`` job: solve every variant of ``layouts_file`` and write
    ``out`` (atomically: all or nothing).

    ``workers``: processes solving at once (default: the machine's cores, at most one per
    variant). Raises :class:`~pecopt.errors.ScenarioError` or
    :class:`~pecopt.errors.DataError` (nothing written) for a bad layouts file, variant or
    ``out``; a variant that fails to solve is a row of the table instead. ``sets``:
    ``--set PATH=VALUE`` options applied to every variant (the base included).
    """
    t0 = time.perf_counter()
    progress("read the layouts")
    check_output(out, [layouts_file])
    context(start=True)  # already running when the CLI started it
    layouts = load_layouts(layouts_file, sets)
    used = check_files(layouts)
    check_output(out, used)
    n = len(layouts.variants)
    if workers is not None and workers < 1:
        raise OptionError("--workers", f"must be at least 1 (got {workers})")
    workers = min(workers or os.cpu_count() or 1, n)
    t_valid = time.perf_counter() - t0
    with atomic_dir(out, "compare", used) as tmp:
        (tmp / VARIANTS).mkdir()
        processes = f"{workers} process{'es' if workers > 1 else ''}"
        progress(counted(f"solving {n} variants in {processes}", 0, n))
        t1 = time.perf_counter()
        started = time.time()
        rows = solve_all(layouts, tmp, workers, progress)
        t_solve = time.perf_counter() - t1
        traces = {r["variant"]: r.pop("traceback") for r in rows if "traceback" in r}
        spans = {r["variant"]: r.pop("span_unix_s") for r in rows if "span_unix_s" in r}
        table = write_rows(rows, tmp / COMPARISON, f"pecopt compare of {layouts_file.name}")
        manifest = header("compare", {"layouts": layouts.path, "base": layouts.base})
        manifest |= {
            "--set": list(sets),
            "workers": workers,
            "variants": {
                r["variant"]: {
                    "status": r["status"],
                    "error": r.get("error"),
                    "traceback": traces.get(r["variant"]),
                    "wall_s": r.get("wall_s"),
                    "cpu_s": r.get("cpu_s"),
                    "ran_s": [t - started for t in spans.get(r["variant"], ())],
                    "overrides": v.overrides,
                }
                for r, v in zip(rows, layouts.variants, strict=True)
            },
        }
        progress("report")
        from pecopt.report import build_report

        t2 = time.perf_counter()
        build_report(tmp, Path(out).resolve().name)  # titled by --out, not the temp
        seconds = {
            "validate": t_valid,
            "solve": t_solve,
            "report": time.perf_counter() - t2,
            "total": time.perf_counter() - t0,
        }
        manifest["seconds"] = seconds
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return Comparison(table, out, seconds)

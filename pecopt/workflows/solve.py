"""The solve workflow: scenario (or an ingested folder) -> inputs -> model -> HiGHS ->
results -> files.

Each phase is timed separately (ingest, build, hand-off, solve, extract, write).

Time: a ``deadline`` (``time.perf_counter()`` seconds) bounds the whole job. Ingest and
build run under an interval timer (:func:`before_deadline`) and stop with
:class:`~pecopt.errors.SolverError` when the deadline passes during them; the solver gets
what is left less a reserve for extraction and writing (:func:`extraction_reserve_s`); a
MILP stopped by the deadline keeps its best plan (:attr:`SolveRun.optimal` is False).
"""

from __future__ import annotations

import hashlib
import json
import platform
import resource
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import pyomo.environ as pyo
from pydantic import BaseModel

from pecopt import __version__
from pecopt.api import Built, Solution, build, solve
from pecopt.errors import DataError, InfeasibleError, OptionError, ScenarioError, SolverError
from pecopt.ingest.district import horizon_index, ingest, to_inputs
from pecopt.ingest.layout import read_checked, write_layout
from pecopt.ingest.parquet import write_table
from pecopt.inputs import DistrictInputs
from pecopt.model.transforms import attach_duals, fix_sizes, sizes
from pecopt.progress import Progress, noop
from pecopt.scenario import load_scenario
from pecopt.scenario.schema import Scenario
from pecopt.solver import Status
from pecopt.workflows.outputs import atomic_dir, check_output

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.aggregation import Selection

SCENARIO_JSON = "scenario.json"
#: the key of ``scenario.json`` (and ``manifest.json``) that lists the ``--set`` options
SET_KEY = "--set"
#: the marginal prices of a run (:func:`pecopt.results.marginal.prices`)
PRICES = "prices.parquet"
T = TypeVar("T")


@dataclass(frozen=True)
class SolveRun:
    """What one scenario solve produced."""

    scenario: Scenario
    inputs: DistrictInputs
    built: Built
    solution: Solution
    seconds: dict[str, float]

    @property
    def kpis(self) -> dict[str, Any]:
        return self.solution.kpis

    @property
    def results(self) -> Any:
        return self.solution.results

    @property
    def outcome(self) -> Any:
        return self.solution.outcome

    @property
    def optimal(self) -> bool:
        """Whether the plan is proven optimal (within ``mip_rel_gap``); False when the time
        limit stopped the solver with a feasible plan (``kpis["solver"]["status"]``)."""
        return bool(self.solution.outcome.status is Status.OPTIMAL)


def extraction_reserve_s(columns: int) -> float:
    """Seconds kept back from a command's time limit for extraction and writing: 0.5 s
    plus about 3 us per model column (2.7 s for the 728k-column Kera year)."""
    return 0.5 + 3e-6 * columns


class _OutOfTime(BaseException):
    """The interval timer of :func:`before_deadline` went off. A ``BaseException`` (like
    ``KeyboardInterrupt``), so that no ``except Exception`` in ingest or build takes it for
    a problem of the input."""


def before_deadline(deadline: float | None, phase: str, work: Callable[[], T]) -> T:
    """``work()``, stopped when ``deadline`` passes (``time.perf_counter()`` seconds).

    Ingest and build cannot be told a time limit, so a ``SIGALRM`` interval timer
    interrupts them (Python code only: the handler runs between bytecodes). Without a
    deadline, or outside the main thread (signals are delivered there only), ``work``
    runs unbounded and the deadline is checked afterwards by the caller.

    Raises
    ------
    SolverError
        The deadline passed before or during ``work`` (nothing was solved).
    """
    if deadline is None:
        return work()
    left = deadline - time.perf_counter()
    if left <= 0:
        raise SolverError(f"the time limit was reached before {phase} (no plan)")
    if threading.current_thread() is not threading.main_thread():
        return work()
    armed = [True]  # the timer is one-shot; a late signal after `work` returns is ignored

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if armed[0]:
            raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, left)
            result = work()
            armed[0] = False
        except _OutOfTime:
            armed[0] = False
            raise SolverError(
                f"the time limit was reached during {phase}, before the solve could start "
                "(no plan): give more time (--time-limit)"
            ) from None
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
    return result


def run_inputs(
    inputs: DistrictInputs, *, deadline: float | None = None, progress: Progress = noop
) -> SolveRun:
    """Build, solve and extract from ready inputs (no files written); with an
    ``aggregation:`` section, size on typical periods first (:func:`size_on_typical_periods`)."""
    if inputs.scenario.aggregation is not None and inputs.common.periods is None:
        return size_on_typical_periods(inputs, deadline=deadline, progress=progress)
    return _run(inputs, deadline=deadline, progress=progress)


def typical_inputs(inputs: DistrictInputs) -> tuple[DistrictInputs, Selection]:
    """The inputs of the scenario's typical periods (``aggregation:``; tsam,
    :func:`pecopt.aggregation.select`) and the selection: the model that sizes."""
    from pecopt.aggregation import select

    agg = inputs.scenario.aggregation
    assert agg is not None
    c = inputs.common
    sel = select(
        inputs.tables, c.index, k=agg.typical_periods, period_h=agg.period_h, dt_h=c.dt_h,
        timezone=c.timezone, file=c.file,
    )  # fmt: skip
    return to_inputs(inputs.scenario, inputs.tables, c.file, selection=sel), sel


def size_on_typical_periods(
    inputs: DistrictInputs,
    *,
    deadline: float | None = None,
    progress: Progress = noop,
) -> SolveRun:
    """Design mode on typical periods, then the whole horizon with the sizes found.

    1. tsam picks the representative periods (:func:`pecopt.aggregation.select`);
    2. the model of those periods (weighted steps, linked stores) is built and solved;
    3. every new capacity is fixed at its value in the whole horizon's model
       (:func:`pecopt.model.transforms.fix_sizes`), which is solved as any dispatch.

    ``kpis["aggregation"]`` gives the periods, the typical-period objective (an estimate
    of the year's), the whole horizon's, their difference [%] and the seconds of each
    phase."""
    agg = inputs.scenario.aggregation
    assert agg is not None
    c = inputs.common
    progress("typical periods")
    t0 = time.perf_counter()
    typical, sel = typical_inputs(inputs)
    t_select = time.perf_counter() - t0
    first = _run(typical, deadline=deadline, progress=progress, duals=False)
    chosen = sizes(first.built.district)
    if not chosen:
        raise ScenarioError(
            c.file, "aggregation",
            "nothing to size: typical periods are for design mode (give a capacity as "
            "{existing, max, capex_eur_per_unit, ...})",
        )  # fmt: skip

    def fix_chosen(built: Built) -> None:
        fix_sizes(built.district, chosen)

    try:
        full = _run(inputs, deadline=deadline, progress=progress, edit=fix_chosen)
    except InfeasibleError as exc:
        raise InfeasibleError(
            f"the sizes chosen on {agg.typical_periods} typical periods cannot meet the whole "
            f"horizon: {exc} (more typical periods, a shortfall_penalty on the target, or "
            "no aggregation)"
        ) from None
    est, real = first.solution.objective, full.solution.objective
    full.kpis["aggregation"] = {
        "typical_periods": agg.typical_periods,
        "period_h": agg.period_h,
        "steps": int(sel.steps.size),
        "representatives_start_utc": [
            c.index[int(d) * sel.periods.length].isoformat() for d in sel.periods.original
        ],
        "weight": [float(sel.weight[p * sel.periods.length]) for p in range(sel.periods.k)],
        "typical_objective": est,
        "full_objective": real,
        "difference_pct": 100.0 * (est - real) / abs(real) if real else 0.0,
        "sizes": chosen,
        "seconds": {"select": t_select, **{f"typical_{k}": v for k, v in first.seconds.items()}},
    }
    full.seconds["typical"] = t_select + sum(first.seconds.values())
    return full


def _run(
    inputs: DistrictInputs,
    *,
    deadline: float | None = None,
    progress: Progress = noop,
    edit: Callable[[Built], None] | None = None,
    duals: bool = True,
) -> SolveRun:
    """Build, (edit,) solve and extract; ``duals``: ask for the duals, for the marginal
    prices and capacity values (:mod:`pecopt.results.marginal`)."""
    progress("build")
    built = before_deadline(deadline, "the model build", lambda: build(inputs))
    if deadline is not None:
        cols = sum(len(v) for v in built.model.component_objects(pyo.Var, descend_into=True))
        left = deadline - time.perf_counter()
        if left <= 0:
            raise SolverError(
                "the time limit was reached before the solve could start "
                f"(ingest and build took {sum(built.seconds.values()):.1f} s)"
            )
        deadline -= min(extraction_reserve_s(cols), 0.25 * left)
    if edit is not None:
        edit(built)
    if duals:
        attach_duals(built.district)
    progress("solve")
    solution = solve(built, deadline=deadline)
    seconds = {"build": built.seconds["build"], **solution.seconds}
    return SolveRun(inputs.scenario, inputs, built, solution, seconds)


def run_scenario(
    scenario: Scenario,
    file: str | None = None,
    *,
    deadline: float | None = None,
    progress: Progress = noop,
) -> SolveRun:
    """Ingest, build, solve and extract one scenario (no files written)."""
    t0 = time.perf_counter()
    progress("ingest")
    inputs = before_deadline(
        deadline, "ingest", lambda: to_inputs(scenario, ingest(scenario, file), file)
    )
    t_ingest = time.perf_counter() - t0
    run = run_inputs(inputs, deadline=deadline, progress=progress)
    run.seconds["ingest"] = t_ingest
    return run


def read_inputs(folder: Path, overrides: dict[str, Any] | None = None) -> DistrictInputs:
    """Inputs from a folder written by ``pecopt ingest`` (``scenario.json`` and Parquet);
    ``overrides`` (CLI solver options) are merged over the stored scenario."""
    from pecopt.scenario.loader import validate_document
    from pecopt.scenario.yaml_source import YamlProblem, read_yaml

    spec = folder / SCENARIO_JSON
    if not spec.is_file():
        raise DataError(folder, "--inputs", f"not an ingested inputs folder (no {SCENARIO_JSON})")
    try:
        doc = read_yaml(spec)  # JSON is YAML: the same positions and checks
    except YamlProblem as exc:
        raise DataError(spec, exc.field, exc.problem) from None
    sets = doc.data.pop(SET_KEY, None) if isinstance(doc.data, dict) else None
    scenario = validate_document(Scenario, doc, spec, overrides)
    if isinstance(sets, list):
        scenario = scenario.with_set_options(tuple(map(str, sets)))
    tables = read_checked(folder, horizon_index(scenario, str(spec)))
    return to_inputs(scenario, tables, str(spec))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_files(model: BaseModel) -> list[Path]:
    """Every file a scenario points to (paths anywhere in its records)."""
    out: list[Path] = []
    for name in type(model).model_fields:
        v = getattr(model, name)
        items = v if isinstance(v, list) else [v]
        for x in items:
            if isinstance(x, Path):
                out.append(x)
            elif isinstance(x, BaseModel):
                out += input_files(x)
    return out


def manifest(source: Path, run: SolveRun) -> dict[str, Any]:
    """Versions, hashes, options and timings of a run."""
    versions: dict[str, str | None] = {}
    for pkg in ("pyomo", "highspy", "numpy", "pandas", "pyarrow", "pvlib", "pydantic", "typer"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "pecopt": __version__,
        "python": platform.python_version(),
        "dependencies": versions,
        "scenario": {"path": str(source), "sha256": _sha256(source) if source.is_file() else None},
        "input_files": {
            str(p): _sha256(p) for p in dict.fromkeys(input_files(run.scenario)) if p.is_file()
        },
        SET_KEY: list(run.scenario.set_options),
        "site": {"name": run.scenario.site.name, "timezone": run.scenario.site.timezone},
        "solver_options": run.scenario.solver.model_dump(),
        "seconds": run.seconds,
        "model_size": run.outcome.size,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def write_inputs(
    scenario: Scenario, tables: Mapping[str, pd.DataFrame], folder: Path, source: str
) -> None:
    """The canonical inputs: ``scenario.json`` (resolved, absolute paths; its ``--set``
    key lists the ``--set PATH=VALUE`` options it was loaded with, if any), one Parquet
    file per table, units in the schema metadata, and ``tables.json`` (their layout,
    checked when they are solved again: :mod:`pecopt.ingest.layout`)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(scenario.model_dump_json())
    if scenario.set_options:
        data = {SET_KEY: list(scenario.set_options), **data}
    (folder / SCENARIO_JSON).write_text(json.dumps(data, indent=2), encoding="utf-8")
    for name, df in tables.items():
        write_table(df, folder / f"{name}.parquet", source)
    write_layout(tables, folder, horizon_index(scenario, source))


def write_results(run: SolveRun, folder: Path, source: Path) -> None:
    """schedule, storage, carbon, KPIs, manifest and the canonical inputs."""
    t0 = time.perf_counter()
    write_inputs(
        run.scenario, run.inputs.tables, folder / "inputs", f"pecopt ingest of {source.name}"
    )
    src = f"pecopt solve of {source.name}"
    write_table(run.results.schedule, folder / "schedule.parquet", src)
    write_table(run.results.storage, folder / "storage.parquet", src)
    write_table(run.results.carbon, folder / "carbon.parquet", src)
    if run.results.prices is not None:
        write_table(run.results.prices, folder / PRICES, src)
    run.seconds["write"] = time.perf_counter() - t0
    (folder / "kpis.json").write_text(json.dumps(run.kpis, indent=2, default=float))
    (folder / "manifest.json").write_text(json.dumps(manifest(source, run), indent=2, default=str))


def solve_scenario(
    scenario_file: Path | None,
    out: Path,
    *,
    overrides: dict[str, Any] | None = None,
    inputs_dir: Path | None = None,
    deadline: float | None = None,
    progress: Progress = noop,
    sets: tuple[str, ...] = (),
) -> SolveRun:
    """The ``pecopt solve`` job: writes schedule, storage, carbon, KPIs, manifest and the
    canonical inputs to ``out`` (atomically: all or nothing). Solves the scenario file,
    or (``inputs_dir``) a folder written by ``pecopt ingest``. Nothing is done if ``out``
    cannot take the result (see :mod:`pecopt.workflows.outputs`). ``sets``: ``--set
    PATH=VALUE`` options applied to the scenario file (not to an ingested folder)."""
    if inputs_dir is not None and sets:
        raise OptionError("--set", "changes a scenario file: give the scenario, not --inputs")
    if inputs_dir is not None:
        check_output(out, [inputs_dir])
        t0 = time.perf_counter()
        progress("read inputs")
        inputs = before_deadline(
            deadline, "reading the inputs", lambda: read_inputs(inputs_dir, overrides)
        )
        used = [inputs_dir, *input_files(inputs.scenario)]
        check_output(out, used)
        t_read = time.perf_counter() - t0
        run = run_inputs(inputs, deadline=deadline, progress=progress)
        run.seconds["ingest"] = t_read
        source = inputs_dir / SCENARIO_JSON
    else:
        assert scenario_file is not None
        check_output(out, [scenario_file])
        scenario = load_scenario(scenario_file, overrides, sets)
        used = [scenario_file, *input_files(scenario)]
        check_output(out, used)
        run = run_scenario(scenario, str(scenario_file), deadline=deadline, progress=progress)
        source = scenario_file
    progress("write")
    with atomic_dir(out, "solve", used) as tmp:
        write_results(run, tmp, source)
    return run


def ingest_scenario(
    scenario_file: Path,
    out: Path,
    overrides: dict[str, Any] | None = None,
    sets: tuple[str, ...] = (),
    progress: Progress = noop,
) -> dict[str, pd.DataFrame]:
    """The ``pecopt ingest`` job: the resolved scenario (with the ``--set`` options
    ``sets``) and canonical Parquet inputs."""
    progress("read scenario")
    check_output(out, [scenario_file])
    scenario = load_scenario(scenario_file, overrides, sets)
    used = [scenario_file, *input_files(scenario)]
    check_output(out, used)
    progress("ingest")
    tables = ingest(scenario, str(scenario_file))
    to_inputs(scenario, tables, str(scenario_file))  # validates that they make a model input
    progress("write")
    with atomic_dir(out, "ingest", used) as tmp:
        write_inputs(scenario, tables, tmp, f"pecopt ingest of {scenario_file.name}")
    return tables

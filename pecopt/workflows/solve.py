"""The solve workflow: scenario -> ingest -> inputs -> model -> HiGHS -> results -> files.

Each phase is timed separately (ingest, build, hand-off, solve, extract, write).
"""

from __future__ import annotations

import hashlib
import json
import platform
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pecopt import __version__
from pecopt.ingest.district import Tables, ingest, to_inputs
from pecopt.ingest.parquet import write_table
from pecopt.inputs import DistrictInputs
from pecopt.model.core import build_model
from pecopt.results.extract import Results, extract
from pecopt.results.kpis import kpis
from pecopt.scenario import load_scenario
from pecopt.scenario.schema import Scenario
from pecopt.solve import SolveOutcome, solve
from pecopt.workflows.outputs import atomic_dir, check_output

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SolveRun:
    """What one scenario solve produced."""

    scenario: Scenario
    inputs: DistrictInputs
    outcome: SolveOutcome
    results: Results
    kpis: dict[str, Any]
    seconds: dict[str, float]


def _noop(_: str) -> None:
    return None


def run_scenario(
    scenario: Scenario, file: str | None = None, progress: Progress = _noop
) -> tuple[SolveRun, Tables]:
    """Ingest, build, solve and extract one scenario (no files written)."""
    t0 = time.perf_counter()
    progress("ingest")
    tables = ingest(scenario, file)
    inputs = to_inputs(scenario, tables)
    t1 = time.perf_counter()
    progress("build")
    dm = build_model(inputs)
    t2 = time.perf_counter()
    progress("solve")
    outcome = solve(dm.model, inputs.solver)
    t3 = time.perf_counter()
    progress("extract")
    results = extract(inputs, dm, outcome)
    k = kpis(inputs, results, outcome)
    t4 = time.perf_counter()
    seconds = {
        "ingest": t1 - t0,
        "build": t2 - t1,
        "handoff": outcome.seconds["handoff"],
        "mip_start": outcome.seconds["mip_start"],
        "solve": outcome.seconds["solve"],
        "extract": t4 - t3 + outcome.seconds["read_solution"],
    }
    return SolveRun(scenario, inputs, outcome, results, k, seconds), tables


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _input_files(model: BaseModel) -> list[Path]:
    out: list[Path] = []
    for name in type(model).model_fields:
        v = getattr(model, name)
        if isinstance(v, Path):
            out.append(v)
        elif isinstance(v, BaseModel):
            out += _input_files(v)
        elif isinstance(v, list):
            out += [p for x in v if isinstance(x, BaseModel) for p in _input_files(x)]
    return out


def manifest(scenario_file: Path, run: SolveRun) -> dict[str, Any]:
    """Versions, hashes, options and timings of a run."""
    versions: dict[str, str | None] = {}
    for pkg in (
        "pyomo",
        "highspy",
        "numpy",
        "pandas",
        "pyarrow",
        "pvlib",
        "pydantic",
        "holidays",
        "typer",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "pecopt": __version__,
        "python": platform.python_version(),
        "dependencies": versions,
        "scenario": {"path": str(scenario_file), "sha256": _sha256(scenario_file)},
        "input_files": {
            str(p): _sha256(p) for p in dict.fromkeys(_input_files(run.scenario)) if p.is_file()
        },
        "solver_options": run.scenario.solver.model_dump(),
        "seconds": run.seconds,
        "model_size": run.outcome.size,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def write_inputs(tables: Tables, folder: Path, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.as_dict().items():
        write_table(df, folder / f"{name}.parquet", source)


def solve_scenario(
    scenario_file: Path,
    out: Path,
    *,
    overrides: dict[str, Any] | None = None,
    progress: Progress = _noop,
) -> SolveRun:
    """The ``pecopt solve`` job: writes schedule, storage, carbon, KPIs, manifest and the
    canonical inputs to ``out`` (atomically: all or nothing)."""
    check_output(out, [scenario_file])
    scenario = load_scenario(scenario_file, overrides)
    inputs = [scenario_file, *_input_files(scenario)]
    check_output(out, inputs)
    run, tables = run_scenario(scenario, str(scenario_file), progress)
    progress("write")
    t0 = time.perf_counter()
    with atomic_dir(out, "solve", inputs) as tmp:
        write_inputs(tables, tmp / "inputs", f"pecopt ingest of {scenario_file.name}")
        src = f"pecopt solve of {scenario_file.name}"
        write_table(run.results.schedule, tmp / "schedule.parquet", src)
        write_table(run.results.storage, tmp / "storage.parquet", src)
        write_table(run.results.carbon, tmp / "carbon.parquet", src)
        run.seconds["write"] = time.perf_counter() - t0
        (tmp / "kpis.json").write_text(json.dumps(run.kpis, indent=2, default=float))
        (tmp / "manifest.json").write_text(
            json.dumps(manifest(scenario_file, run), indent=2, default=str)
        )
    return run


def ingest_scenario(
    scenario_file: Path, out: Path, overrides: dict[str, Any] | None = None
) -> Tables:
    """The ``pecopt ingest`` job: canonical Parquet inputs only."""
    check_output(out, [scenario_file])
    scenario = load_scenario(scenario_file, overrides)
    inputs = [scenario_file, *_input_files(scenario)]
    check_output(out, inputs)
    tables = ingest(scenario, str(scenario_file))
    to_inputs(scenario, tables)  # validates that the tables make a model input
    with atomic_dir(out, "ingest", inputs) as tmp:
        write_inputs(tables, tmp, f"pecopt ingest of {scenario_file.name}")
    return tables

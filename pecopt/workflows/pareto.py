"""The cost-CO2 front by the epsilon-constraint method, each point a full solution.

On one built model of the scenario, with its cost objective (money plus any carbon
price), one variable and one row are added::

    e = sum_f co2_f[t] * flow_f[t] * dt  (+ constants)        [kg CO2e, net: credit < 0]
    e <= eps                                                   (the upper bound of e)

and an alternative objective ``min e``. The points, each solved by HiGHS:

1. ``min cost`` with ``eps = +inf``: the cost optimum, its emissions ``E_max``;
2. ``min e``: the CO2 minimum ``E_min``; many plans reach it at different costs, so
3. ``min cost`` with ``eps = E_min + tol * max(|E_min|, |E_max|, 1 kg)``: the last point;
4. ``min cost`` with ``eps_k = E_max - k (E_max - eps_last) / (N - 1)``, k = N-2 ... 1.

Only the bound of ``e`` changes between points (:meth:`pyomo.core.base.var.VarData.setub`,
which the compiler reads from the Pyomo model at the cost of one identity check per
element), so the columns and rows stay the same and each solve starts from its
neighbour: the simplex basis of the previous point for an LP, its plan as the first
incumbent for a MILP. Steps 3 and 4 run from the lowest bound up, so that each earlier
plan is feasible for the next (looser) bound. Step 2 changes the objective: it gets the
cost optimum's plan as a MILP incumbent but no basis (on a month of Kera, starting the
CO2 minimum from the cost optimum's basis took 6-8 s against 1 s from scratch with
presolve; step 3 from step 2's basis 0.45 s against 1.35 s). Cost is non-decreasing as
emissions fall (each bound allows less than the one before, up to solver tolerance).

Every point serves as much demand as the cost optimum: the energy left unmet at a
penalty (an EV fleet's charging shortfall) is capped at the cost optimum's, so that the
front does not buy CO2 by leaving demand unserved.

Points are numbered from the cost optimum (0) to the CO2 minimum (N - 1).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from pecopt.api import Built, Solution, build, solution_of
from pecopt.errors import OptionError
from pecopt.model.transforms import add_co2_bound
from pecopt.results.summary import flat_kpis
from pecopt.scenario.schema import Scenario
from pecopt.solver.highs import SolveOutcome
from pecopt.workflows.compare import header, write_rows
from pecopt.workflows.outputs import atomic_dir, check_output

Progress = Callable[[str], None]
PARETO = "pareto.parquet"
POINTS = "points"
#: default relative slack on the CO2 minimum for the last point (step 3)
TOL = 1e-4


def _noop(_: str) -> None:
    return None


@dataclass(frozen=True)
class Point:
    """One point of the front: its bound (None: none), role and full solution."""

    k: int
    eps_co2_kg: float | None
    role: str
    solution: Solution
    seconds: dict[str, float]


def _run(built: Built, warm: SolveOutcome | None, basis: bool = True) -> SolveOutcome:
    """Solve the model as it is, starting from ``warm`` (the neighbouring point): its
    plan as the first incumbent of a MILP, its basis for an LP (unless ``basis`` is
    False)."""
    from pecopt.solver.highs import solve

    mip = warm is not None and warm.layout.n_binary > 0
    return solve(
        built.model,
        built.inputs.common.solver,
        start=warm.x if mip and warm is not None else None,
        basis=warm.basis if warm is not None and basis else None,
    )


def _solve(built: Built, warm: SolveOutcome | None, basis: bool = True) -> Solution:
    """:func:`_run`, then the results and KPIs of the solution (as :func:`pecopt.solve`)."""
    return solution_of(built, _run(built, warm, basis))


def front(built: Built, points: int, tol: float = TOL, progress: Progress = _noop) -> list[Point]:
    """The ``points`` points of the cost-CO2 front of a built model (see the module
    docstring), ordered from the cost optimum to the CO2 minimum."""
    if points < 2:
        raise OptionError("--points", f"a front needs at least 2 points (got {points})")
    if not tol >= 0:
        raise OptionError("--tol", f"must be >= 0 (got {tol})")
    ec = add_co2_bound(built.district)
    found: dict[int, Point] = {}

    def point(k: int, eps: float | None, role: str, warm: SolveOutcome | None) -> Solution:
        progress(f"point {k} ({role})")
        ec.bound(eps)
        sol = _solve(built, warm)
        found[k] = Point(k, eps, role, sol, sol.seconds)
        return sol

    ec.minimise("cost")
    best = point(0, None, "cost optimum", None)
    e_max = float(pyo.value(ec.co2[0]))
    ec.serve_as_much()
    progress("CO2 minimum")
    ec.minimise("emissions")
    ec.bound(None)
    low = _run(built, best.outcome, basis=False)  # another objective: see the module doc
    e_min = float(pyo.value(ec.co2[0]))
    ec.minimise("cost")
    last = e_min + tol * max(abs(e_min), abs(e_max), 1.0)
    warm = point(points - 1, last, "CO2 minimum", low).outcome
    eps = np.linspace(e_max, last, points)
    for k in range(points - 2, 0, -1):
        warm = point(k, float(eps[k]), "epsilon", warm).outcome
    return [found[k] for k in range(points)]


@dataclass(frozen=True)
class Front:
    """What a pareto run produced: the table (one row per point) and the points."""

    table: pd.DataFrame
    out: Path
    seconds: dict[str, float]


def pareto(
    scenario_file: Path,
    out: Path,
    *,
    points: int = 6,
    tol: float = TOL,
    progress: Progress = _noop,
) -> Front:
    """The ``pecopt pareto`` job: the front of ``scenario_file`` into ``out`` (atomically):
    ``points/<k>/`` (a full results folder each), ``pareto.parquet``, ``manifest.json``
    and ``report.html``. The scenario's ``objective.kind`` is set to ``cost`` (its carbon
    price, if any, stays in the cost)."""
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.scenario import load_scenario
    from pecopt.workflows.solve import SolveRun, input_files, write_results

    t0 = time.perf_counter()
    if points < 2:
        raise OptionError("--points", f"a front needs at least 2 points (got {points})")
    if not tol >= 0:
        raise OptionError("--tol", f"must be >= 0 (got {tol})")
    check_output(out, [scenario_file])
    scenario: Scenario = load_scenario(scenario_file, {"objective": {"kind": "cost"}})
    used = [scenario_file, *input_files(scenario)]
    check_output(out, used)
    progress("ingest")
    t1 = time.perf_counter()
    inputs = to_inputs(scenario, ingest(scenario, str(scenario_file)), str(scenario_file))
    t_ingest = time.perf_counter() - t1
    progress("build")
    built = build(inputs)
    t1 = time.perf_counter()
    found = front(built, points, tol, progress)
    t_front = time.perf_counter() - t1
    rows: list[dict[str, Any]] = []
    with atomic_dir(out, "pareto", used) as tmp:
        for p in found:
            progress(f"write point {p.k}")
            run = SolveRun(scenario, inputs, built, p.solution, {**p.seconds})
            write_results(run, tmp / POINTS / str(p.k), scenario_file)
            rows.append(
                {
                    "point": p.k,
                    "role": p.role,
                    "eps_co2_kg": p.eps_co2_kg,
                    "cost_objective_eur": p.solution.objective,
                    **flat_kpis(p.solution.kpis),
                    "solve_s": p.seconds["solve"],
                }
            )
        table = write_rows(rows, tmp / PARETO, f"pecopt pareto of {scenario_file.name}")
        progress("report")
        from pecopt.report import build_report

        t2 = time.perf_counter()
        build_report(tmp, Path(out).resolve().name)  # titled by --out, not the temp
        seconds = {
            "ingest": t_ingest,
            "build": built.seconds["build"],
            "front": t_front,
            "write": t2 - t1 - t_front,
            "report": time.perf_counter() - t2,
            "total": time.perf_counter() - t0,
        }
        manifest = header("pareto", {"scenario": scenario_file})
        manifest |= {
            "points": points,
            "tol": tol,
            "seconds": seconds,
            "solver_options": scenario.solver.model_dump(),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return Front(table, out, seconds)

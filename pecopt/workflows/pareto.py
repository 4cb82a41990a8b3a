"""The cost-CO2 front by the epsilon-constraint method, each point a full solution.

On one built model of the scenario, with its cost objective (money plus any carbon
price), one variable and one row are added::

    e = sum_f co2_f[t] * flow_f[t] * dt  (+ constants)        [kg CO2e, net: credit < 0]
    e <= eps                                                   (the upper bound of e)

and an alternative objective ``min e``. The points, each solved by HiGHS:

1. ``min cost`` with ``eps = +inf``: the cost optimum, its emissions ``E_max``;
2. ``min e``: the CO2 minimum ``E_min``; many plans reach it at different costs, so
3. ``min cost`` with ``eps = E_min + tol * max(|E_min|, |E_max|, 1 kg)``: the last point;
4. ``min cost`` with ``eps_k = E_max - k (E_max - eps_last) / (N - 1)``, k = 1 ... N-2
   (an LP; a MILP: k = N-2 ... 1).

Only the bound of ``e`` changes between points (:meth:`pyomo.core.base.var.VarData.setub`,
which the compiler reads from the Pyomo model at the cost of one identity check per
element), so the columns and rows stay the same and each solve starts from its
neighbour: the simplex basis of the previous point for an LP, its plan as the first
incumbent for a MILP. For a MILP steps 3 and 4 run from the lowest bound up, so that each
earlier plan is feasible for the next (looser) bound; for an LP step 4 runs from the cost
optimum down, each basis a step from the next bound (the dual simplex then restores
primal feasibility: on Kera's year the middle of 3 points took 20 s from the cost
optimum's basis, 68 s from the last point's). Step 2 changes the objective: it gets the
cost optimum's plan as a MILP incumbent but no basis (on a month of Kera, starting the
CO2 minimum from the cost optimum's basis took 6-8 s against 1 s from scratch with
presolve). Step 3 changes the objective back: step 2's basis is still feasible for it
(its plan is within the new bound), so the primal simplex goes on from it. On Kera's year
that took 64 s, where the dual simplex had not finished after 4 min from the same basis
(the designer's ``pecopt pareto scenarios/kera.yaml --points 3`` that stopped at the
scenario's 300 s limit), nor after 9 min from the cost optimum's basis or from scratch.
Cost is non-decreasing as emissions fall (each bound allows less than the one before, up
to solver tolerance).

Every point serves as much demand as the cost optimum: the energy left unmet at a
penalty (an EV fleet's charging shortfall) is capped at the cost optimum's, so that the
front does not buy CO2 by leaving demand unserved.

Points are numbered from the cost optimum (0) to the CO2 minimum (N - 1).

**As it comes, and within a time limit.** :func:`pareto` writes each point's folder as
soon as the point is solved, into the temporary folder that replaces ``--out`` at the end
(:func:`pecopt.workflows.outputs.atomic_dir`). A ``deadline`` bounds the whole command:
ingest and build stop at it (nothing written), each solve gets what is left less a
reserve for extracting and writing that point, the table and the report (``points + 2``
times :func:`~pecopt.workflows.solve.extraction_reserve_s`, at most a quarter of the
time left after the build: 13.5 s for 3 points of the Kera year). When the time limit (or a
solver failure) stops a point after at least one point is done, the points done so far
are the result: ``pareto.parquet`` holds them, ``manifest.json`` says ``complete: false``
and why, and the command exits 10. A MILP point stopped by the limit keeps its best plan
(status ``time_limit``) and ends the front there.
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
from pecopt.errors import OptionError, SolverError
from pecopt.model.transforms import add_co2_bound, attach_duals
from pecopt.progress import Progress, noop
from pecopt.results.summary import flat_kpis
from pecopt.scenario.schema import Scenario
from pecopt.solver.highs import SolveOutcome, Status
from pecopt.workflows.compare import header, write_rows
from pecopt.workflows.outputs import atomic_dir, check_output

PARETO = "pareto.parquet"
POINTS = "points"
#: default relative slack on the CO2 minimum for the last point (step 3)
TOL = 1e-4


@dataclass(frozen=True)
class Point:
    """One point of the front: its bound (None: none), role and full solution."""

    k: int
    eps_co2_kg: float | None
    role: str
    solution: Solution
    seconds: dict[str, float]


@dataclass(frozen=True)
class Traced:
    """The points of a front that were solved, in point order, and why the front stopped
    before its last point (None: it is complete)."""

    points: list[Point]
    stopped: str | None = None


def _run(
    built: Built,
    warm: SolveOutcome | None,
    basis: bool = True,
    deadline: float | None = None,
    primal: bool = False,
) -> SolveOutcome:
    """Solve the model as it is, starting from ``warm`` (the neighbouring point): its
    plan as the first incumbent of a MILP, its basis for an LP (unless ``basis`` is
    False), continued by the primal simplex when ``primal`` (a basis of another
    objective: :func:`pecopt.solver.highs.solve`); by ``deadline``
    (``time.perf_counter()`` seconds; None: the scenario's ``solver.time_limit_s`` per
    solve)."""
    from pecopt.solver.highs import solve

    mip = warm is not None and warm.layout.n_binary > 0
    return solve(
        built.model,
        built.inputs.common.solver,
        deadline=deadline,
        start=warm.x if mip and warm is not None else None,
        basis=warm.basis if warm is not None and basis else None,
        primal=primal,
    )


def _solve(
    built: Built,
    warm: SolveOutcome | None,
    basis: bool = True,
    deadline: float | None = None,
    primal: bool = False,
) -> Solution:
    """:func:`_run`, then the results and KPIs of the solution (as :func:`pecopt.solve`)."""
    return solution_of(built, _run(built, warm, basis, deadline, primal))


#: the most points a front may have: each is a solve (Kera's year: about 20 s a point)
MAX_POINTS = 1000


def _check(points: int, tol: float) -> None:
    if points < 2:
        raise OptionError("--points", f"a front needs at least 2 points (got {points})")
    if points > MAX_POINTS:
        raise OptionError("--points", f"at most {MAX_POINTS} points (got {points})")
    if not tol >= 0:
        raise OptionError("--tol", f"must be >= 0 (got {tol})")


def front(
    built: Built,
    points: int,
    tol: float = TOL,
    progress: Progress = noop,
    *,
    deadline: float | None = None,
    done: Callable[[Point], None] | None = None,
) -> Traced:
    """The ``points`` points of the cost-CO2 front of a built model (see the module
    docstring), ordered from the cost optimum to the CO2 minimum; ``done(point)`` is
    called as each point is solved. Solves end by ``deadline`` (None: each gets the
    scenario's time limit).

    A :class:`~pecopt.errors.SolverError` (the time limit, or HiGHS failing) after at
    least one point ends the front there: the points done and the reason are returned.
    Before any point it is raised. A MILP point stopped by the limit (a plan, not proven)
    also ends the front, after it."""
    _check(points, tol)
    ec = add_co2_bound(built.district)
    found: dict[int, Point] = {}
    doing = [""]  # the solve under way, to say where the front stopped

    def point(
        k: int, eps: float | None, role: str, warm: SolveOutcome | None, primal: bool = False
    ) -> Solution:
        doing[0] = f"point {k} ({role})"
        progress(doing[0])
        ec.bound(eps)
        sol = _solve(built, warm, True, deadline, primal)
        p = Point(k, eps, role, sol, sol.seconds)
        found[k] = p
        if done is not None:
            done(p)
        if sol.outcome.status is Status.TIME_LIMIT:
            raise _Stop(f"the time limit stopped point {k} before it was proven optimal")
        return sol

    stopped = None
    try:
        ec.minimise("cost")
        best = point(0, None, "cost optimum", None)
        e_max = float(pyo.value(ec.co2[0]))
        ec.serve_as_much()
        doing[0] = "the CO2 minimum"
        progress(doing[0])
        ec.minimise("emissions")
        ec.bound(None)
        low = _run(built, best.outcome, False, deadline)  # another objective: module doc
        if low.status is not Status.OPTIMAL:  # a MILP's plan: no E_min to place points by
            raise _Stop("the time limit stopped the CO2 minimum before it was proven optimal")
        e_min = float(pyo.value(ec.co2[0]))
        ec.minimise("cost")
        last = e_min + tol * max(abs(e_min), abs(e_max), 1.0)
        # the CO2 minimum's basis, still feasible: the primal simplex goes on from it
        warm = point(points - 1, last, "CO2 minimum", low, primal=True).outcome
        eps = np.linspace(e_max, last, points)
        mip = best.outcome.layout.n_binary > 0
        if not mip:  # an LP: down from the cost optimum, each bound a little tighter
            warm = best.outcome
        for k in range(1, points - 1) if not mip else range(points - 2, 0, -1):
            warm = point(k, float(eps[k]), "epsilon", warm).outcome
    except _Stop as stop:
        stopped = str(stop)
    except SolverError as exc:
        if not found:
            raise
        stopped = f"{doing[0]}: {exc}"
    return Traced([found[k] for k in sorted(found)], stopped)


class _Stop(Exception):
    """A point ended the front (its solve was stopped by the time limit)."""


@dataclass(frozen=True)
class Front:
    """What a pareto run produced: the table (one row per point written), the folder,
    seconds per phase, and why the front stopped early (None: complete)."""

    table: pd.DataFrame
    out: Path
    seconds: dict[str, float]
    points: int = 0
    stopped: str | None = None

    @property
    def complete(self) -> bool:
        """Whether every point was solved and proven optimal."""
        return self.stopped is None


def _columns(built: Built) -> int:
    return sum(len(v) for v in built.model.component_objects(pyo.Var, descend_into=True))


def pareto(
    scenario_file: Path,
    out: Path,
    *,
    points: int = 6,
    tol: float = TOL,
    deadline: float | None = None,
    progress: Progress = noop,
    sets: tuple[str, ...] = (),
) -> Front:
    """The ``pecopt pareto`` job: the front of ``scenario_file`` into ``out`` (atomically):
    ``points/<k>/`` (a full results folder each, written as the point is solved),
    ``pareto.parquet``, ``manifest.json`` and ``report.html``. The scenario's
    ``objective.kind`` is set to ``cost`` (its carbon price, if any, stays in the cost),
    after the ``--set PATH=VALUE`` options ``sets``.

    ``deadline`` (``time.perf_counter()`` seconds) bounds the whole job (module
    docstring): a front stopped by it after its first point is written as far as it got
    (:attr:`Front.stopped` says why); before it, nothing is written
    (:class:`~pecopt.errors.SolverError`)."""
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.scenario import load_scenario
    from pecopt.workflows.solve import (
        SolveRun,
        before_deadline,
        extraction_reserve_s,
        input_files,
        write_results,
    )

    t0 = time.perf_counter()
    _check(points, tol)
    check_output(out, [scenario_file])
    scenario: Scenario = load_scenario(scenario_file, {"objective": {"kind": "cost"}}, sets)
    used = [scenario_file, *input_files(scenario)]
    check_output(out, used)
    progress("ingest")
    t1 = time.perf_counter()
    inputs = before_deadline(
        deadline,
        "ingest",
        lambda: to_inputs(scenario, ingest(scenario, str(scenario_file)), str(scenario_file)),
    )
    t_ingest = time.perf_counter() - t1
    progress("build")
    built = before_deadline(deadline, "the model build", lambda: build(inputs))
    attach_duals(built.district)  # each point's marginal prices and capacity values
    solve_by = deadline
    if deadline is not None:  # kept back: extracting and writing a point, the report
        reserve = (points + 2) * extraction_reserve_s(_columns(built))
        solve_by = deadline - min(reserve, 0.25 * max(deadline - time.perf_counter(), 0.0))
    rows: list[dict[str, Any]] = []
    with atomic_dir(out, "pareto", used) as tmp:
        t_write = 0.0

        def write_point(p: Point) -> None:
            nonlocal t_write
            progress(f"write point {p.k}")
            tw = time.perf_counter()
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
            t_write += time.perf_counter() - tw

        t1 = time.perf_counter()
        traced = front(built, points, tol, progress, deadline=solve_by, done=write_point)
        t_front = time.perf_counter() - t1 - t_write
        rows.sort(key=lambda r: int(r["point"]))
        table = write_rows(rows, tmp / PARETO, f"pecopt pareto of {scenario_file.name}")
        progress("report")
        from pecopt.report import build_report

        t2 = time.perf_counter()
        build_report(tmp, Path(out).resolve().name)  # titled by --out, not the temp
        seconds = {
            "ingest": t_ingest,
            "build": built.seconds["build"],
            "front": t_front,
            "write": t_write + (t2 - t1 - t_front - t_write),
            "report": time.perf_counter() - t2,
            "total": time.perf_counter() - t0,
        }
        manifest = header("pareto", {"scenario": scenario_file})
        manifest |= {
            "--set": list(sets),
            "points": points,
            "points_written": [int(r["point"]) for r in rows],
            "complete": traced.stopped is None,
            "stopped": traced.stopped,
            "tol": tol,
            "seconds": seconds,
            "solver_options": scenario.solver.model_dump(),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return Front(table, out, seconds, points, traced.stopped)

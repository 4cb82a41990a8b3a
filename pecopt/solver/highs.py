"""Solve a Pyomo model with HiGHS, in memory, and return a typed outcome.

The model is compiled to one sparse matrix (:mod:`pecopt.solver.compile`, which reads the
Pyomo model as it is now) and passed to ``highspy`` in one call: no LP or MPS files. The
solution is loaded back into the Pyomo variables. Infeasible models are diagnosed by an
elastic re-solve that says which constraint family and which steps cannot be met.

Time: a solve gets a **deadline** (``time.perf_counter()`` seconds) rather than a
duration, so that a command's ``--time-limit`` bounds the whole command. Every HiGHS
call gets what is left before the deadline less :data:`RESERVE_S` as its own limit
(HiGHS' clock sums over the runs of one instance, so a re-solve's limit is its run time
so far plus what is left), and is given up at the deadline if HiGHS, in a phase that
does not look at its limit (presolve, the MIP set-up), has not returned by then
(:func:`run_by`). A MILP stopped by the deadline returns the best plan found, which may be
the LP-guided start, with its gap (:attr:`Status.TIME_LIMIT`).
"""

from __future__ import annotations

import enum
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import pyomo.environ as pyo

from pecopt.errors import InfeasibleError, SolverError
from pecopt.model.linear import FloatArray
from pecopt.progress import observe
from pecopt.scenario.settings import SolverOptions
from pecopt.solver.compile import HighsArrays, Layout, compile_model, load_solution
from pecopt.solver.duals import load_duals, requested
from pecopt.solver.search import Guided, search


class Status(enum.Enum):
    """How a solve ended with a plan."""

    OPTIMAL = "optimal"  # optimal (MILP: within mip_rel_gap)
    TIME_LIMIT = "time_limit"  # stopped by the time limit with a feasible, unproven plan


@dataclass(frozen=True)
class SolveOutcome:
    """What a solve returns: never written onto the inputs (the model holds the values)."""

    status: Status
    objective: float
    bound: float
    gap: float
    x: FloatArray
    layout: Layout
    seconds: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    """The optimum of each stage of a lexicographic objective (first = ``objective``)."""
    basis: highspy.HighsBasis | None = None  # LPs: the final simplex basis, for a warm start
    progress: tuple[tuple[float, float, float], ...] = ()
    """MILPs with the LP-guided start: (``time.perf_counter()``, best plan, best bound)
    each time either improved (:meth:`pecopt.solver.search.Guided.progress`)."""

    def value(self, var: pyo.Var) -> FloatArray:
        """Solution values of a vector variable (the same numbers Pyomo now holds)."""
        start = self.layout.offset(var)
        return self.x[start : start + len(var)]


BasisCodes = tuple[tuple[int, ...], tuple[int, ...]]
"""A simplex basis as plain status codes (columns, rows), which pickle: HiGHS' own
``HighsBasis`` does not, so a basis travels to another process (a Dask worker) as this."""


def basis_codes(basis: highspy.HighsBasis) -> BasisCodes:
    """The status codes of a basis (:class:`highspy.HighsBasisStatus` values)."""
    return tuple(map(int, basis.col_status)), tuple(map(int, basis.row_status))


def basis_of(codes: BasisCodes) -> highspy.HighsBasis:
    """The basis of :func:`basis_codes` again, for :func:`solve` of a model built the
    same way (the same columns and rows in the same order)."""
    b = highspy.HighsBasis()
    b.col_status = [highspy.HighsBasisStatus(c) for c in codes[0]]
    b.row_status = [highspy.HighsBasisStatus(r) for r in codes[1]]
    b.valid = True
    return b


_BANNER_SHOWN = False

#: ``mip_start: auto`` runs the LP-guided start from this many binaries up
AUTO_START_MIN_BINARIES = 500
#: seconds between HiGHS' own time limit and the deadline at which :func:`run_by` gives
#: the run up: HiGHS usually stops within this much of its limit, and then its own best
#: plan is read (a run given up leaves only the MIP start)
RESERVE_S = 1.0

#: HiGHS runs given up at their deadline and still running (they stop at HiGHS' own time
#: limit, late): joined before the next HiGHS instance, so that two never run at once
_LEFT_BEHIND: list[threading.Thread] = []


def run_by(h: highspy.Highs, deadline: float) -> bool:
    """``h.run()``, given up at ``deadline`` if HiGHS has not returned by then.

    HiGHS overshoots its ``time_limit`` in phases that do not look at it (presolve, the
    MIP set-up before the root LP: up to 8 s on the year-long reference MILP on a loaded
    2-core machine; see ERGO-Code/HiGHS#885, #1278). The run is made in a thread (highspy
    releases the GIL), so the caller can go on at its deadline with what it has (the MIP
    start); the abandoned run stops at HiGHS' own limit and is joined by
    :func:`new_highs`. Returns whether HiGHS returned in time.
    """
    run = threading.Thread(target=h.run, name="pecopt-highs", daemon=True)
    run.start()
    try:
        run.join(max(0.0, deadline - time.perf_counter()))
    finally:  # also on Ctrl-C, which now stops the wait at once
        if run.is_alive():
            _LEFT_BEHIND.append(run)
    return not run.is_alive()


def new_highs(threads: int | None = None) -> highspy.Highs:
    """A HiGHS instance; the copyright banner HiGHS prints on its first construction goes to
    /dev/null so that it does not break the CLI's output. A run given up by :func:`run_by`
    is waited for first."""
    global _BANNER_SHOWN
    while _LEFT_BEHIND:
        _LEFT_BEHIND.pop().join()
    if threads is not None:
        use_threads(threads)
    if _BANNER_SHOWN:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True
    return h


def remaining(deadline: float) -> float:
    """Seconds left before ``deadline`` for a HiGHS call (after the reserve), >= 0."""
    return max(0.0, deadline - time.perf_counter() - RESERVE_S)


def use_threads(threads: int) -> None:
    """HiGHS keeps one thread scheduler per process, sized by the first solve; a later
    solve asking for another thread count fails ("Not Set"). Reset the scheduler when the
    count changes (call before creating the instance; no other HiGHS run may be going)."""
    if _THREADS[0] is not None and _THREADS[0] != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _THREADS[0] = threads


_THREADS: list[int | None] = [None]


def highs_options(h: highspy.Highs, opts: SolverOptions, deadline: float) -> None:
    """Apply pecopt's solver options to a HiGHS instance (its log goes to the progress
    listener, if any: :func:`pecopt.progress.observe`)."""
    observe(h)
    h.setOptionValue("time_limit", max(0.05, remaining(deadline)))
    h.setOptionValue("mip_rel_gap", float(opts.mip_rel_gap))
    if opts.threads:
        h.setOptionValue("threads", int(opts.threads))
    h.setOptionValue("presolve", opts.presolve)
    h.setOptionValue("solver", opts.method)


#: an LP with a capacity the optimiser chooses and at least this many columns is given to
#: the interior-point method
IPM_MIN_COLUMNS = 20_000


def prefers_ipm(lp: HighsArrays, layout: Layout) -> bool:
    """Whether ``method: choose`` should mean HiGHS' interior-point method (with crossover)
    rather than its dual simplex: for sizing LPs (a capacity the optimiser chooses, not
    fixed, and no integer), whose capacity columns couple every step.

    Measured on Kera's design scenario (``bench/README.md``): on 12 typical weeks IPM took
    27.7 s against 40.9 s for the dual simplex; on the full year IPM took 375 s while the
    dual simplex had not finished after 300 s. Dispatch LPs (no such column) stay with the
    simplex, which solves Kera's year in about 20 s against 74 s by IPM. MILPs are left to
    HiGHS' branch and bound, which solves its LPs by simplex."""
    if lp.num_col < IPM_MIN_COLUMNS or bool(lp.integrality.any()):
        return False
    free = lp.col_upper[layout.sizing] > lp.col_lower[layout.sizing]
    return bool(free.any())


def solve(
    model: pyo.Block,
    opts: SolverOptions,
    *,
    deadline: float | None = None,
    start: FloatArray | list[float] | None = None,
    basis: highspy.HighsBasis | None = None,
    primal: bool = False,
) -> SolveOutcome:
    """Compile ``model`` as it is now, solve it with HiGHS, load the solution into the
    Pyomo variables and return the outcome.

    Parameters
    ----------
    deadline
        ``time.perf_counter()`` value by which the solve must return; default: now plus
        ``opts.time_limit_s``.
    start
        A full column vector to hand HiGHS as its first incumbent (MILPs).
    basis
        LPs: a simplex basis to start from (``outcome.basis`` of an earlier solve of the
        same model with other bounds or another objective: the columns and rows must be
        the same); HiGHS then skips presolve. Ignored for MILPs or when HiGHS refuses it.
    primal
        With ``basis``: continue from it by the primal simplex (HiGHS'
        ``simplex_strategy`` 4) instead of the dual. For a basis that is still primal
        feasible but no longer optimal (the same rows, another objective, bounds no
        tighter at its plan): the dual simplex would first have to regain dual
        feasibility. On Kera's year, the cheapest plan at the CO2 minimum took 64 s from
        the CO2 minimum's basis by the primal simplex; by the dual simplex it had not
        finished after 4 min from that basis, nor after 9 min from the cost optimum's
        basis or from scratch.

    Duals: when the model declares ``m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)``
    (and/or ``m.rc``), they are filled with the duals (reduced costs) of every active
    constraint (variable), in the model's units and Pyomo's sign convention; for a MILP,
    those of the LP with the integers fixed at the plan (:mod:`pecopt.solver.duals`).
    Without such a suffix no dual work is done.

    Raises
    ------
    InfeasibleError
        The model has no feasible point (the message names what cannot be met).
    SolverError
        HiGHS failed, or stopped without a feasible solution.
    """
    t0 = time.perf_counter()
    if deadline is None:
        deadline = t0 + float(opts.time_limit_s)
    lp, layout = compile_model(model)
    relaxation = float("nan")
    use_start = opts.mip_start == "lp_rounding" or (
        opts.mip_start == "auto" and layout.n_binary >= AUTO_START_MIN_BINARIES
    )
    guided = bool(layout.n_binary) and start is None and use_start
    h = None
    if remaining(deadline) > 0.05:
        h = new_highs(opts.threads)
        highs_options(h, opts, deadline)
        lp.pass_to(h)
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(start)
            sol.value_valid = True
            h.setSolution(sol)
        if basis is not None and not layout.n_binary:
            h.setBasis(basis)  # a refused basis (wrong size) leaves HiGHS to start cold
            if primal:
                h.setOptionValue("simplex_strategy", 4)
        elif opts.method == "choose" and prefers_ipm(lp, layout):
            h.setOptionValue("solver", "ipm")  # crossover on: a basic optimum, as simplex
    elif start is None:  # HiGHS would find nothing in the time left
        raise SolverError(
            "the time limit was reached before the solver could start (no plan); give "
            "more time (--time-limit)"
        )
    t2 = time.perf_counter()
    found = None
    if guided and h is not None:  # HiGHS searches while the LP-guided start is made better
        families = [(a, n) for a, n, _ in sorted(layout.binary_families, key=lambda f: not f[2])]
        found = search(
            h, lp, families, deadline,
            lambda stop: lp_rounding_start(lp, opts, families, deadline, stop),
            gap=float(opts.mip_rel_gap), threads=opts.threads,
            run=lambda hh, until: run_by(hh, until),
        )  # fmt: skip
        # a run given up at the deadline is kept by run_by, to be joined before the next
        relaxation, ran = found.relaxation_objective, found.returned
        if found.x is not None:
            start = found.x  # the answer if HiGHS has none
    else:
        # HiGHS' own limit is RESERVE_S before the deadline, so it normally returns in
        # time; with no time left (h is None), a given start is the answer
        ran = h is not None and run_by(h, deadline)
    t_start = found.start_seconds if found is not None else 0.0
    if not ran and start is None:
        raise SolverError(
            "the time limit was reached before any feasible plan was found (no plan); "
            "give more time (--time-limit)"
        )
    t3 = time.perf_counter()
    if ran:
        assert h is not None
        x, obj, bound, status = _read_guided(h, lp, layout, model, opts, deadline, found)
    else:
        assert start is not None
        x = np.asarray(start, dtype=np.float64)
        obj = float(lp.col_cost @ x + lp.offset)
        bound = -np.inf * layout.sense  # the relaxation's, below, or HiGHS' last one
        if found is not None and np.isfinite(found.highs_bound):
            bound = found.highs_bound
        status = Status.TIME_LIMIT
    final = h.getBasis() if ran and h is not None and not layout.n_binary else None
    mip = layout.n_binary > 0
    if mip and np.isfinite(relaxation):
        bound = max(bound, relaxation) if layout.sense == 1 else min(bound, relaxation)
    gap = abs(obj - bound) / max(abs(obj), 1e-9) if mip else 0.0
    if not np.isfinite(gap):
        gap = float("inf")
    load_solution(layout, x)
    t4 = time.perf_counter()
    dual, rc = requested(model)
    if dual is not None or rc is not None:  # only when asked: no cost otherwise
        if mip:
            got = fixed_lp_duals(lp, x, opts, deadline)
        else:
            got = _lp_duals(h) if ran and status is Status.OPTIMAL else None
        load_duals(layout, dual, rc, *(got if got is not None else (None, None)))
    t5 = time.perf_counter()
    return SolveOutcome(
        status=status,
        objective=obj,
        bound=bound,
        gap=gap,
        x=x,
        layout=layout,
        seconds={
            "handoff": t2 - t0,
            "mip_start": t_start,  # HiGHS ran alongside: solve is the time after it
            "solve": t3 - t2 - t_start,
            "read_solution": t4 - t3,
            "duals": t5 - t4,
        },
        size={
            "rows": layout.n_rows,
            "columns": layout.n_cols,
            "nonzeros": layout.nnz,
            "binaries": layout.n_binary,
        },
        basis=final if final is not None and final.valid else None,
        progress=tuple(found.progress(layout.sense)) if found is not None else (),
    )


def _read(
    h: highspy.Highs,
    lp: HighsArrays,
    layout: Layout,
    model: pyo.Block,
    opts: SolverOptions,
    deadline: float,
) -> tuple[FloatArray, float, float, Status]:
    """Solution, objective, bound and status after ``h.run()``; raises on failure."""
    ms = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    infeasible = (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    )
    if ms in infeasible and not has_solution:
        raise InfeasibleError(diagnose(lp, layout, opts, deadline))
    if ms == highspy.HighsModelStatus.kUnbounded:
        raise SolverError("the model is unbounded: some flow has no limit and pays to grow")
    if ms == highspy.HighsModelStatus.kOptimal:
        status = Status.OPTIMAL
    elif has_solution:
        status = Status.TIME_LIMIT
    elif ms == highspy.HighsModelStatus.kTimeLimit:
        raise SolverError(
            "the time limit was reached before any feasible plan was found (no plan); "
            "give more time (--time-limit)"
            + (" or a looser mip_rel_gap" if layout.n_binary else "")
        )
    else:
        raise SolverError(f"HiGHS stopped without a feasible solution: {h.modelStatusToString(ms)}")
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    obj = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if layout.n_binary else obj
    return x, obj, bound, status


def _read_guided(
    h: highspy.Highs,
    lp: HighsArrays,
    layout: Layout,
    model: pyo.Block,
    opts: SolverOptions,
    deadline: float,
    found: Guided | None,
) -> tuple[FloatArray, float, float, Status]:
    """:func:`_read`, except that a better plan of the heuristics (one HiGHS ended before
    taking) is the answer, with HiGHS' bound."""
    try:
        x, obj, bound, status = _read(h, lp, layout, model, opts, deadline)
    except SolverError:
        if found is None or found.x is None:
            raise
        bound = float(h.getInfo().mip_dual_bound)
        x, obj, status = found.x, float("inf") * layout.sense, Status.TIME_LIMIT
    if found is not None and found.x is not None and better(found.objective, obj, layout.sense):
        proven = status is Status.OPTIMAL  # HiGHS' plan was within its gap: so is a better one
        x, obj = found.x, found.objective
        gap = abs(obj - bound) / max(abs(obj), 1e-9)
        status = Status.OPTIMAL if proven or gap <= opts.mip_rel_gap else Status.TIME_LIMIT
    return x, obj, bound, status


#: relative tolerance of :func:`better`: plans whose objectives differ by less than this
#: share of ``max(1, |objective|)`` are the same plan as far as the status goes
SAME_OBJECTIVE_RTOL = 1e-9


def better(candidate: float, incumbent: float, sense: int) -> bool:
    """Whether a plan of objective ``candidate`` beats one of ``incumbent`` by more than
    rounding: for minimisation (``sense`` 1; -1 maximises)

        incumbent - candidate  >  rtol * max(1, |incumbent|)        (rtol = 1e-9)

    (:data:`SAME_OBJECTIVE_RTOL`; an infinite incumbent, no plan, is beaten by any finite
    candidate). The search's plans replace HiGHS' only when :func:`better`: two plans of
    equal cost summed in another order differ by ~1e-15 relative, and HiGHS' own plan,
    proven optimal, must stay the answer (before, a plan 2e-15 cheaper replaced it and the
    gap recomputed against HiGHS' bound, 1e-16 > ``mip_rel_gap: 0``, said "time limit").
    """
    if not np.isfinite(candidate):
        return False
    if not np.isfinite(incumbent):
        return bool(sense * incumbent > 0)
    return bool(sense * (incumbent - candidate) > SAME_OBJECTIVE_RTOL * max(1.0, abs(incumbent)))


def _lp_duals(h: highspy.Highs | None) -> tuple[FloatArray, FloatArray] | None:
    """HiGHS' row duals and reduced costs after an LP solved to optimality."""
    if h is None:
        return None
    sol = h.getSolution()
    if not sol.dual_valid:
        return None
    return np.asarray(sol.row_dual, dtype=np.float64), np.asarray(sol.col_dual, dtype=np.float64)


def fixed_lp_duals(
    lp: HighsArrays, x: FloatArray, opts: SolverOptions, deadline: float
) -> tuple[FloatArray, FloatArray] | None:
    """Duals and reduced costs of a MILP's plan: those of the LP with every integer column
    fixed at its value in ``x`` (``lb = ub = x_j``), the other columns free within their
    bounds, solved in an instance of its own (the Pyomo model is not touched) with the
    plan as its starting point; the integers' reduced costs are 0 (fixed variables).
    None when that LP is not solved to optimality before ``deadline``."""
    ints = lp.integrality != 0
    lo, up = lp.col_lower.copy(), lp.col_upper.copy()
    lo[ints] = up[ints] = x[ints]
    fixed = replace(lp, col_lower=lo, col_upper=up, integrality=np.zeros_like(lp.integrality))
    if remaining(deadline) <= 0.05:
        return None
    h = new_highs(opts.threads)
    highs_options(h, opts, deadline)
    fixed.pass_to(h)
    start = highspy.HighsSolution()
    start.col_value = list(x)
    start.value_valid = True
    h.setSolution(start)
    if not run_by(h, deadline) or h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    got = _lp_duals(h)
    if got is None:
        return None
    row_dual, col_dual = got
    col_dual[ints] = 0.0  # fixed: a parameter, as Pyomo reports a fixed variable
    return row_dual, col_dual


@dataclass(frozen=True)
class StartHeuristic:
    """A feasible MIP start (or None) and the LP-relaxation optimum (a valid bound)."""

    start: list[float] | None
    relaxation_objective: float
    threshold: float | None
    relaxed: FloatArray | None = None
    """The LP relaxation's solution (orders the windows of the improvement heuristic)."""


def lp_rounding_start(
    lp: HighsArrays,
    opts: SolverOptions,
    families: list[tuple[int, int]],
    deadline: float,
    stop: Callable[[], bool] = lambda: False,
) -> StartHeuristic:
    """LP-guided start for the MILP, feasible for the whole horizon.

    1. Solve the LP relaxation (binaries in [0, 1]); its optimum bounds the MILP optimum.
    2. Family by family (each binary vector variable: a battery's ``y``, a heat pump's
       ``u`` ...), round ``x > threshold`` for the thresholds of ``_THRESHOLDS`` in turn,
       fix, and re-solve the LP (warm-started); keep the first threshold that stays
       feasible, else give up.
    Commitment families (on/off decisions) are fixed before exclusivity families, whose
    flows can adapt around them (on the reference MILP: 34,423 EUR vs 34,717 the other
    way round, against a relaxation bound of 34,325).
    3. With every family fixed, the LP optimum is a feasible MILP solution, consistent over
       the whole horizon (storage levels, cyclic ends): HiGHS starts with an incumbent.

    Every LP gets all that is left before ``deadline`` (:func:`run_by`); when time runs out
    (or ``stop()`` says the plan is no longer needed) the relaxation bound is still
    returned. A low threshold comes first: in the relaxation
    a heat pump's ``u = p / P``, so ``u > 0.5`` would hand its low-load hours to district
    heat, while ``u > 1e-6`` may force it above its minimum load where no heat can go.
    ``families`` are ``(first column, count)``.
    """
    n = lp.num_col
    h = new_highs(opts.threads)
    observe(h)
    if opts.threads:
        h.setOptionValue("threads", int(opts.threads))
    replace(lp, integrality=np.zeros(n, dtype=np.int32)).pass_to(h)

    def run() -> bool:
        # no reserve: an LP stopped early gives nothing, so HiGHS may use all the time
        left = deadline - time.perf_counter()
        if left <= 0.05 or stop():
            return False
        # HiGHS compares time_limit with the instance's run time summed over all its runs
        h.setOptionValue("time_limit", h.getRunTime() + left)
        if not run_by(h, deadline):  # given up: h is still running, touch it no more
            return False
        return bool(h.getModelStatus() == highspy.HighsModelStatus.kOptimal)

    if not run():
        return StartHeuristic(None, float("nan"), None)
    relax_obj = float(h.getInfo().objective_function_value)
    x = relaxed = np.asarray(h.getSolution().col_value)
    chosen: list[float] = []
    for first, count in families:
        cols = np.arange(first, first + count, dtype=np.int32)
        xi = x[cols]
        pick = None
        for threshold in _THRESHOLDS:
            fixed = (xi > threshold).astype(float)
            h.changeColsBounds(count, cols, fixed, fixed)
            if run():
                pick = threshold
                break
            if deadline - time.perf_counter() <= 0.05 or stop():
                break
        if pick is None:
            return StartHeuristic(None, relax_obj, None, relaxed)
        chosen.append(pick)
        x = np.asarray(h.getSolution().col_value)
    return StartHeuristic(list(x), relax_obj, max(chosen) if chosen else None, relaxed)


_THRESHOLDS = (1e-6, 0.1, 0.3, 0.5)


def diagnose(lp: HighsArrays, layout: Layout, opts: SolverOptions, deadline: float) -> str:
    """Elastic re-solve: every row gets slack in both directions at cost 1 and the true
    objective is dropped (integrality relaxed). Rows that need slack are reported by
    constraint family and element indices (= steps for time-indexed families)."""
    n, m = lp.num_col, lp.num_row
    h = new_highs()
    observe(h)
    h.setOptionValue("time_limit", max(5.0, remaining(deadline)))
    lp.pass_to(h)
    if layout.n_binary:
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.uint8))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
    rows = np.arange(m, dtype=np.int32)
    for sign in (1.0, -1.0):
        h.addCols(
            m,
            np.ones(m),
            np.zeros(m),
            np.full(m, np.inf),
            m,
            np.arange(m, dtype=np.int32),
            rows,
            np.full(m, sign),
        )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return "the model is infeasible (no diagnosis: the elastic re-solve did not finish)"
    x = np.asarray(h.getSolution().col_value)
    slack = x[n : n + m] + x[n + m : n + 2 * m]
    bad = slack > 1e-6
    if not bad.any():
        return "the model is infeasible (bounds of variables conflict)"
    found = []
    for fam in layout.families:
        hit = np.flatnonzero((fam.rows >= 0) & bad[np.maximum(fam.rows, 0)])
        if hit.size:
            total = float(slack[fam.rows[hit]].sum())
            found.append(
                f"{fam.name} at {hit.size} row(s), first {hit[:5].tolist()} "
                f"(short by {total:.6g} in total)"
            )
    n_fast = m - len(layout.generic_rows)
    for k, c in enumerate(layout.generic_rows):
        if bad[n_fast + k]:
            found.append(f"{c.name} (short by {slack[n_fast + k]:.6g})")  # type: ignore[attr-defined]
    return "cannot be met: " + "; ".join(found[:5])

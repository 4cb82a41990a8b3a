"""Fix-and-optimise and the search beside HiGHS: plans stay feasible and integral, never get
worse than their start, and reach the optimum where a window covers what was wrong."""

from __future__ import annotations

import time

import highspy
import numpy as np
import pytest

from pecopt.model.core import build_model
from pecopt.solver import solve
from pecopt.solver.compile import HighsArrays, compile_model, csr
from pecopt.solver.heuristics import Graph, fix_and_optimise, improve, objective, windows
from pecopt.solver.highs import lp_rounding_start
from pecopt.testing import heat_pump_milp, inputs_of

INF = np.inf


def _commitment_lp() -> HighsArrays:
    """Two steps t = 0, 1 of a unit with an on/off decision and a grid.

    Columns: y0, y1 (on), then per step p (unit output, 1 EUR/kWh) and g (grid, 2 EUR/kWh):
    [y0, y1, p0, g0, p1, g1]; the unit costs 8 EUR per step on. Rows per step:
    p + g = d[t]; p >= 5 y; p <= 10 y. d = (3, 9): at t = 0 the unit cannot run (5 > 3),
    grid 6 EUR; at t = 1 running costs 9 + 8 = 17 EUR against 18 by grid.
    Optimum 23 EUR with y = (0, 1)."""
    d = [3.0, 9.0]
    rows, cols, vals, lo, up = [], [], [], [], []
    for t in range(2):
        y, p, g = t, 2 + 2 * t, 3 + 2 * t
        r = 3 * t
        rows += [r, r, r + 1, r + 1, r + 2, r + 2]
        cols += [p, g, p, y, p, y]
        vals += [1.0, 1.0, 1.0, -5.0, 1.0, -10.0]
        lo += [d[t], 0.0, -INF]
        up += [d[t], INF, 0.0]
    start, index, value = csr(np.array(rows), np.array(cols), np.array(vals), 6, 6)
    return HighsArrays(
        num_col=6,
        num_row=6,
        sense=1,
        offset=0.0,
        col_cost=np.array([8.0, 8.0, 1.0, 2.0, 1.0, 2.0]),
        col_lower=np.zeros(6),
        col_upper=np.array([1.0, 1.0, 10.0, INF, 10.0, INF]),
        row_lower=np.array(lo),
        row_upper=np.array(up),
        a_start=start,
        a_index=index,
        a_value=value,
        integrality=np.array([1, 1, 0, 0, 0, 0], dtype=np.int32),
    )


GRID_ONLY = np.array([0, 0, 0, 3, 0, 9], dtype=float)  # 6 + 18 = 24 EUR


def _feasible(lp: HighsArrays, x: np.ndarray, tol: float = 1e-6) -> bool:
    ax = np.zeros(lp.num_row)
    rows = np.repeat(np.arange(lp.num_row), np.diff(lp.a_start))
    np.add.at(ax, rows, lp.a_value * x[lp.a_index])
    ints = lp.integrality == 1
    return bool(
        np.all(ax >= lp.row_lower - tol)
        and np.all(ax <= lp.row_upper + tol)
        and np.all(x >= lp.col_lower - tol)
        and np.all(x <= lp.col_upper + tol)
        and np.all(np.abs(x[ints] - np.round(x[ints])) <= tol)
    )


def test_a_window_over_the_second_step_finds_the_hand_worked_optimum():
    lp = _commitment_lp()
    assert _feasible(lp, GRID_ONLY) and objective(lp, GRID_ONLY) == pytest.approx(24.0)
    free = np.array([False, True, False, False, True, True])
    res = improve(lp, Graph.of(lp), GRID_ONLY, free, time_limit=10.0)
    assert res.x is not None
    assert _feasible(lp, res.x)
    assert res.objective == pytest.approx(23.0)
    np.testing.assert_allclose(res.x, [0, 1, 0, 3, 9, 0], atol=1e-7)


def test_a_window_with_nothing_to_gain_returns_no_plan():
    lp = _commitment_lp()
    free = np.array([True, False, True, True, False, False])  # step 0: grid is best
    res = improve(lp, Graph.of(lp), GRID_ONLY, free, time_limit=10.0)
    assert res.x is None and res.objective == pytest.approx(24.0)


def test_fix_and_optimise_one_step_windows_reach_the_optimum():
    lp = _commitment_lp()
    seen = []
    x = fix_and_optimise(
        lp, GRID_ONLY, None, [(0, 2)], time.perf_counter() + 60, width=1,
        found=lambda y, v: seen.append(v),
    )  # fmt: skip
    assert _feasible(lp, x)
    assert objective(lp, x) == pytest.approx(23.0)
    assert seen == [pytest.approx(23.0)]


def test_neighbourhood_follows_rows_and_stops_at_hubs():
    # a chain x0 - x1 - x2 - x3 - x4 (row k: x_k + x_{k+1} + x5), x5 in all 4 rows
    rows = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    cols = np.array([0, 1, 5, 1, 2, 5, 2, 3, 5, 3, 4, 5])
    start, index, value = csr(rows, cols, np.ones(12), 4, 6)
    g = Graph.of(replace_matrix(start, index, value, 4, 6))
    seed = np.array([True] + [False] * 5)

    def reach(depth: int, hub: int) -> list[int]:
        return np.flatnonzero(g.neighbourhood(seed, depth, hub)).tolist()

    assert reach(1, hub=3) == [0, 1]  # x5 has 4 nonzeros: a hub, stays fixed
    assert reach(2, hub=3) == [0, 1, 2]
    assert reach(1, hub=4) == [0, 1, 5]
    assert reach(1, hub=2) == [0]  # rows of 3 nonzeros are not expanded through


def replace_matrix(start, index, value, m, n) -> HighsArrays:
    return HighsArrays(
        n, m, 1, 0.0, np.zeros(n), np.zeros(n), np.ones(n), np.zeros(m), np.ones(m),
        start, index, value, np.zeros(n, np.int32),
    )  # fmt: skip


def test_windows_cover_every_family_at_two_offsets():
    seeds = windows([(0, 8), (10, 4)], 14, width=4)  # a family of 8 and one of 4
    assert len(seeds) == 4  # offsets 0, 2, 4, 6
    first = np.flatnonzero(seeds[0]).tolist()
    assert first == [0, 1, 2, 3, 10, 11]  # half of the short family: positions scaled
    covered = np.logical_or.reduce(seeds)
    assert covered[:8].all() and covered[10:].all() and not covered[8:10].any()


def _district(n: int = 48):
    # Two days of low heat demand (1-5 kW) for a 4 kW(el) heat pump (COP 3) with a 50 %
    # minimum load, i.e. at least 6 kW of heat when on, a small tank and district heat:
    # rounding the relaxation switches the pump on where it must then dump heat, so the
    # LP-guided start is far (about 40 %) above the optimum.
    t = np.arange(n)
    heat = 3 + 2 * np.sin(t / 24 * 2 * np.pi)
    spot = 0.05 + 0.1 * (t % 24 >= 16) + 0.03 * np.sin(t / 7)
    return inputs_of(heat_pump_milp(n, heat, spot, min_part_load=0.5, tank_kwh=5))


def _optimum(lp: HighsArrays) -> float:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    lp.pass_to(h)
    h.run()
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize("width", [4, pytest.param(12, marks=pytest.mark.slow)])
def test_fix_and_optimise_on_a_district_is_feasible_integral_and_never_worse(width):
    inputs = _district()
    lp, layout = compile_model(build_model(inputs).model)
    families = [(a, n) for a, n, _ in sorted(layout.binary_families, key=lambda f: not f[2])]
    heur = lp_rounding_start(lp, inputs.common.solver, families, time.perf_counter() + 60)
    assert heur.start is not None and heur.relaxed is not None
    x0 = np.asarray(heur.start)
    plans = []
    x = fix_and_optimise(
        lp, x0, heur.relaxed, families, time.perf_counter() + 60, width=width,
        found=lambda y, v: plans.append(v),
    )  # fmt: skip
    assert _feasible(lp, x)
    assert objective(lp, x0) > 1.2 * _optimum(lp)  # the start is poor here
    assert objective(lp, x) < 0.9 * objective(lp, x0)  # and the windows improve it
    assert objective(lp, x) >= _optimum(lp) - 1e-6
    assert plans == sorted(plans, reverse=True)  # each plan handed on is better
    assert plans[-1] == pytest.approx(objective(lp, x))


def test_solve_with_the_guided_search_reaches_the_optimum_and_loads_it():
    inputs = _district()
    m = build_model(inputs).model
    out = solve(m, inputs.common.solver)
    lp, _ = compile_model(build_model(inputs).model)
    assert out.objective == pytest.approx(_optimum(lp), rel=1e-7)
    assert _feasible(lp, out.x)
    assert out.progress, "the search reports its progress"
    t, plan, bound = out.progress[-1]
    assert bound <= plan + 1e-6


def test_watchdog_interrupts_only_while_the_long_root_step_may_still_come():
    from pecopt.solver.search import Watchdog

    w = Watchdog(start=0.0, limit=100.0, relaxation=50.0)
    w.seen(1.0, -np.inf)  # set-up
    w.seen(5.0, -1000.0)  # a trivial bound before the root LP
    assert w.root is None and not w.risky(99.0)  # the root LP not yet solved: no rule
    w.seen(20.0, 50.0)  # root LP solved and a round of cuts: 20 s
    assert w.root == 20.0 and w.rounds == 1
    assert not w.risky(49.0)  # 51 s left >= 2.5 x 20 s: room for the step
    assert not w.risky(61.0)  # 39 s left: rounds first (they come before the step)
    assert w.risky(81.0)  # 19 s left < the root's 20 s: stop at once
    for t, b in ((24.0, 51.0), (28.0, 52.0), (32.0, 53.0)):
        w.seen(t, b)  # rounds two to four, a few seconds apart
    assert w.rounds == 4 and not w.step_done
    assert not w.risky(49.0) and w.risky(51.0)  # short of time: the step must not start


def test_watchdog_stands_down_once_the_step_has_happened():
    from pecopt.solver.search import Watchdog

    w = Watchdog(start=0.0, limit=200.0, relaxation=50.0)
    w.seen(20.0, 50.0)
    w.seen(25.0, 51.0)
    w.seen(70.0, 52.0)  # a 45 s pause (> 20 s): the step has happened
    assert w.step_done and not w.risky(195.0)


def test_watchdog_without_the_relaxation_takes_the_second_finite_bound_as_the_root():
    from pecopt.solver.search import Watchdog

    w = Watchdog(start=10.0, limit=110.0)
    w.seen(12.0, -np.inf)
    w.seen(15.0, -5.0)
    assert w.root is None
    w.seen(30.0, 7.0)  # root: 20 s; risky below 50 s left after 4 rounds, 20 s at once
    assert w.root == 30.0 and not w.risky(89.0) and w.risky(91.0)

"""The status of a MILP's plan: a plan HiGHS proves optimal is reported optimal, even when
the LP-guided search beside it holds a plan of the same cost summed in another order."""

from __future__ import annotations

import math

import pytest

from pecopt.model.core import build_model
from pecopt.solver import Status, highs, solve
from pecopt.testing import inputs_of, tiny_milp


@pytest.mark.parametrize(
    ("candidate", "incumbent", "sense", "expected"),
    [
        (12.652772839676995, 12.652772839676997, 1, False),  # 2e-15 cheaper: rounding
        (100.0 - 1e-8, 100.0, 1, False),  # 1e-10 relative: within the tolerance
        (100.0 - 1e-6, 100.0, 1, True),  # 1e-8 relative: better
        (0.5e-9, 1e-9, 1, False),  # near zero the tolerance is absolute (1e-9)
        (-1e-9, 1e-9, 1, True),
        (101.0, 100.0, 1, False),  # worse
        (100.0 + 1e-6, 100.0, -1, True),  # maximising: more is better
        (100.0 - 1e-6, 100.0, -1, False),
        (5.0, math.inf, 1, True),  # HiGHS has no plan
        (5.0, -math.inf, -1, True),
        (math.inf, 5.0, 1, False),  # the search has none
    ],
)
def test_better_takes_only_a_gain_beyond_rounding(candidate, incumbent, sense, expected):
    assert highs.better(candidate, incumbent, sense) is expected


def test_a_plan_highs_proves_optimal_stays_optimal_when_the_search_ties_it(monkeypatch):
    """HiGHS proves the tiny MILP optimal (``mip_rel_gap: 0``) while the search holds the
    same plan, its objective 2e-15 lower (summed in another order): the answer is HiGHS'
    plan, optimal, gap 0. Before, the search's plan replaced it and the gap recomputed
    against HiGHS' bound (1.4e-16 > 0) called it stopped by the time limit."""
    inputs = inputs_of(tiny_milp())
    assert inputs.common.solver.mip_rel_gap == 0.0
    real = highs.search
    tied = []

    def search_holding_highs_plan(h, lp, *args, **kwargs):
        found = real(h, lp, *args, **kwargs)
        assert h.getModelStatus() == highs.highspy.HighsModelStatus.kOptimal
        ours = float(h.getInfo().objective_function_value)
        found.x = highs.np.asarray(h.getSolution().col_value)
        found.objective = ours - 2e-15 * abs(ours)
        tied.append(ours)
        return found

    monkeypatch.setattr(highs, "search", search_holding_highs_plan)
    out = solve(build_model(inputs).model, inputs.common.solver)
    assert tied, "the guided search did not run"
    assert out.status is Status.OPTIMAL
    assert out.objective == tied[0]  # HiGHS' own plan and objective
    assert out.gap == 0.0

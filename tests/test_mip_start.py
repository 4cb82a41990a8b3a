"""The LP-guided MIP start: feasible, integral, bounded below by the LP relaxation, and it
does not change the optimum."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from pecopt.model.core import build_model
from pecopt.solver import solve
from pecopt.solver.compile import compile_model, csr
from pecopt.solver.highs import lp_rounding_start
from pecopt.testing import inputs_of, tiny_milp


def _district(mip_start: str = "lp_rounding"):
    return inputs_of(tiny_milp(mip_start))


def _families(layout):
    return [(first, n) for first, n, _ in sorted(layout.binary_families, key=lambda f: not f[2])]


def test_start_is_integral_feasible_and_above_the_relaxation():
    inputs = _district()
    dm = build_model(inputs)
    lp, layout = compile_model(dm.model)
    deadline = time.perf_counter() + 60
    heur = lp_rounding_start(lp, inputs.common.solver, _families(layout), deadline)
    assert heur.start is not None
    x = np.asarray(heur.start)
    ints = lp.integrality == 1
    assert ints.sum() == 4 * 24  # battery y, tank y, grid z, heat-pump u
    assert np.all(np.isclose(x[ints], 0) | np.isclose(x[ints], 1))
    a = sp.csr_array((lp.a_value, lp.a_index, lp.a_start), shape=(lp.num_row, lp.num_col))
    act = a @ x
    tol = 1e-6
    assert np.all(act >= lp.row_lower - tol) and np.all(act <= lp.row_upper + tol)
    assert np.all(x >= lp.col_lower - tol) and np.all(x <= lp.col_upper + tol)
    start_obj = float(lp.col_cost @ x)
    assert start_obj >= heur.relaxation_objective - 1e-6


def test_start_does_not_change_the_optimum():
    a, b = _district(), _district("none")
    with_start = solve(build_model(a).model, a.common.solver)
    plain = solve(build_model(b).model, b.common.solver)
    assert with_start.objective == pytest.approx(plain.objective, rel=1e-9, abs=1e-9)
    assert with_start.bound <= with_start.objective + 1e-9
    assert with_start.seconds["mip_start"] > 0
    assert plain.seconds["mip_start"] == 0


def test_csr_sums_duplicates_and_drops_zeros():
    # rows/cols/values, with (0, 2) twice and (1, 0) cancelling to zero
    start, index, value = csr(
        np.array([0, 1, 0, 1, 2]),
        np.array([2, 0, 2, 0, 1]),
        np.array([1.0, 3.0, 2.0, -3.0, 5.0]),
        3,
        4,
    )
    assert start.tolist() == [0, 1, 1, 2]
    assert index.tolist() == [2, 1]
    assert value.tolist() == [3.0, 5.0]


def test_auto_start_only_for_many_binaries():
    # 96 binaries: below the threshold, so "auto" leaves HiGHS alone
    d = _district("auto")
    small = solve(build_model(d).model, d.common.solver)
    assert small.size["binaries"] == 96
    assert small.seconds["mip_start"] == 0

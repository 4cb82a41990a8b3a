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
from pecopt.testing import tiny_inputs


def _district(mip_start: str = "lp_rounding"):
    # 24 h; heat demand swings between 2 and 14 kW; a 10 kW(el) heat pump with COP 3 and
    # a 30 % minimum load, district heat dearer than heat-pump heat, a small tank, and a
    # battery whose exclusivity binaries exist at every step ("always").
    n = 24
    heat = 8 + 6 * np.sin(np.arange(n) / n * 2 * np.pi)
    spot = 0.05 + 0.1 * (np.arange(n) % 24 >= 16)
    return tiny_inputs(
        n,
        heat_kw=heat,
        elec_kw=5.0,
        spot=spot,
        dh_price=0.09,
        grid={"import_max_kw": 50, "export_max_kw": 50},
        assets={
            "heat_pumps": [
                {
                    "name": "hp",
                    "capacity_kw_el": 4.0,
                    "min_part_load": 0.3,
                    "source": "series",
                    "cop_series": 3.0,
                }
            ],
            "thermal_stores": [
                {"name": "tank", "carrier": "space_heat", "capacity_kwh": 20, "power_kw": 10}
            ],
            "batteries": [{"name": "bat", "capacity_kwh": 10, "power_kw": 5}],
        },  # fmt: skip
        district_heating={"import_max_kw": 50},
        solver={"binaries": "always", "mip_start": mip_start, "mip_rel_gap": 0.0},
    )


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

"""Sized PV arrays share one output variable and one row per step: optima worked out by
hand, a size fixed through Pyomo honoured, curtailment."""

from __future__ import annotations

import numpy as np
import pytest

from pecopt.api import build, solve
from pecopt.model.blocks.pv import SIZED
from pecopt.testing import inputs_of, tiny_scenario

TOL = 1e-6
YEARS = 2 / 8760  # a two-hour horizon


def size(coef_per_unit: float, maximum: float = 100.0) -> dict:
    """A Size costing ``coef_per_unit`` EUR per kWp over the 2-h horizon (discount rate 0,
    lifetime 1 year)."""
    return {"max": maximum, "capex_eur_per_unit": coef_per_unit / YEARS, "lifetime_yr": 1.0}


def two_arrays() -> dict:
    """Load 5 kW in both hours, grid 0.3 EUR/kWh, export worth nothing. Array ``a`` gives
    1.0 / 0.25 kW per kWp in hours 0 / 1 and costs 0.10 EUR per kWp; ``b`` 0.5 / 1.0 and
    0.12 EUR per kWp; ``c`` is a given 2 kWp giving 0.5 kW per kWp in both hours."""
    s = tiny_scenario(2, elec_kw=5.0, spot=0.3, export=0.0)
    s["economics"] = {"discount_rate": 0.0}
    s["assets"]["pv_series"] = [
        {"name": "a", "series": [1.0, 0.25], "kwp": size(0.10)},
        {"name": "b", "series": [0.5, 1.0], "kwp": size(0.12)},
        {"name": "c", "series": [0.5, 0.5], "kwp": 2.0},
    ]
    return s


def flow(sol, asset: str) -> np.ndarray:
    s = sol.results.schedule
    return s.loc[s["asset"] == asset, "flow_kw"].to_numpy()


def test_two_sized_arrays_with_different_profiles_by_hand():
    # c covers 1 kW of each hour; a and b cover the remaining 4 kW when
    #   Ka + 0.5 Kb >= 4 (hour 0),  0.25 Ka + Kb >= 4 (hour 1).
    # Both rows binding: Kb = 24/7, Ka = 16/7. Their duals (the value of a kWh in each
    # hour) solve 0.10 = l0 + 0.25 l1, 0.12 = 0.5 l0 + l1: l0 = l1 = 0.08 EUR/kWh, below
    # the grid's 0.3 and above 0, so covering both hours is optimal (a alone: Ka = 16,
    # 1.6 EUR; b alone: Kb = 8, 0.96 EUR). Cost = 0.10 * 16/7 + 0.12 * 24/7 = 0.64 EUR.
    sol = solve(build(inputs_of(two_arrays())))
    assert sol.objective == pytest.approx(0.64, abs=TOL)
    caps = sol.kpis["capacities"]
    assert caps["a"]["kwp"] == pytest.approx(16 / 7, abs=TOL)
    assert caps["b"]["kwp"] == pytest.approx(24 / 7, abs=TOL)
    np.testing.assert_allclose(flow(sol, "c"), [1.0, 1.0], atol=TOL)
    np.testing.assert_allclose(flow(sol, SIZED), [4.0, 4.0], atol=TOL)
    assert sol.results.cost_items_eur["investment"] == pytest.approx(0.64, abs=TOL)


def test_a_size_fixed_through_pyomo_is_honoured_and_the_surplus_curtailed():
    # a fixed at 0 kWp on the Pyomo model: b alone covers hour 0 with 0.5 Kb = 4, Kb = 8
    # (0.24 EUR per kWh of hour 0, below the grid's 0.3), 8 kW in hour 1 of which 4 are
    # used and 4 curtailed (export is worth nothing). Cost = 0.12 * 8 = 0.96 EUR.
    built = build(inputs_of(two_arrays()))
    built.model.pv_series.a.kwp_new[0].fix(0.0)
    sol = solve(built)
    assert sol.objective == pytest.approx(0.96, abs=TOL)
    caps = sol.kpis["capacities"]
    assert caps["a"]["kwp"] == pytest.approx(0.0, abs=TOL)
    assert caps["b"]["kwp"] == pytest.approx(8.0, abs=TOL)
    np.testing.assert_allclose(flow(sol, SIZED), [4.0, 4.0], atol=TOL)


def test_one_sized_array_keeps_its_name():
    s = two_arrays()
    s["assets"]["pv_series"] = s["assets"]["pv_series"][1:]
    # b alone (with c): 0.5 Kb >= 4 in hour 0 -> Kb = 8, 0.96 EUR
    sol = solve(build(inputs_of(s)))
    assert sol.objective == pytest.approx(0.96, abs=TOL)
    np.testing.assert_allclose(flow(sol, "b"), [4.0, 4.0], atol=TOL)
    assert SIZED not in set(sol.results.schedule["asset"])

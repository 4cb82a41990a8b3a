"""Design on typical periods (``aggregation:``): weighted representative periods, stores
linked across the original period order, sizes fixed for the whole horizon; optima worked
out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pecopt.aggregation import select
from pecopt.api import build, solve
from pecopt.errors import ScenarioError
from pecopt.testing import inputs_of, tiny_scenario
from pecopt.workflows.solve import run_inputs

TOL = 1e-6
DAYS = 4
N = 24 * DAYS
YEARS = N / 8760


def size(coef: float, maximum: float = 1000.0) -> dict:
    """A Size costing ``coef`` EUR per unit over the 4-day horizon (rate 0, 1-year life)."""
    return {"max": maximum, "capex_eur_per_unit": coef / YEARS, "lifetime_yr": 1.0}


def sunny_then_dark(**grid) -> dict:
    """Load 1 kW; days 0-1 sunny (PV 4 kW in hours 0-11), days 2-3 dark; grid 0.3 EUR/kWh,
    exports worth nothing; a lossless battery (10 kW) whose size costs 0.1 EUR/kWh."""
    day = np.r_[np.full(12, 4.0), np.zeros(12)]
    pv = np.r_[day, day, np.zeros(24), np.zeros(24)]
    s = tiny_scenario(N, elec_kw=1.0, spot=0.3, export=0.0, pv_kw=pv, grid=grid or None)
    s["assets"]["batteries"] = [
        {"name": "bat", "eta_charge": 1.0, "eta_discharge": 1.0, "power_kw": 10.0,
         "capacity_kwh": size(0.1)}
    ]  # fmt: skip
    s["economics"] = {"discount_rate": 0.0}
    return s


def test_selection_weights_and_order():
    inp = inputs_of(sunny_then_dark())
    c = inp.common
    sel = select(inp.tables, c.index, k=2, period_h=24, dt_h=1.0, timezone=c.timezone)
    per = sel.periods
    assert (per.length, per.k) == (24, 2)
    # one sunny and one dark day represent two days each
    assert list(per.order) == [0, 0, 1, 1]
    assert per.original[0] in (0, 1) and per.original[1] in (2, 3)
    assert sel.weight.shape == (48,)
    assert np.allclose(sel.weight, 2.0)
    assert sel.steps.tolist() == [per.original[p] * 24 + h for p in range(2) for h in range(24)]
    assert per.month_labels == ("2025-01",)


def test_a_store_carries_energy_from_sunny_to_dark_days():
    # Sunny day: 36 kWh surplus in hours 0-11, 12 kWh needed in hours 12-23; dark day: 24.
    # Over S S D D the surplus (72) equals the need (72): a store that starts and ends at 0
    # peaks at 24 + 36 = 60 kWh at noon of day 1. Each kWh of store costs 0.1 and saves at
    # least one imported kWh (0.3), so 60 kWh are built and nothing is imported: 6.0 EUR.
    # Without the link across days each typical day would be cyclic on its own: 12 kWh and
    # 48 kWh imported on dark days, 1.2 + 14.4 = 15.6 EUR.
    full = solve(build(inputs_of(sunny_then_dark())))
    assert full.objective == pytest.approx(6.0, abs=TOL)
    s = sunny_then_dark()
    s["aggregation"] = {"typical_periods": 2, "period_h": 24}
    run = run_inputs(inputs_of(s))
    agg = run.kpis["aggregation"]
    assert agg["typical_objective"] == pytest.approx(6.0, abs=TOL)
    assert agg["full_objective"] == pytest.approx(6.0, abs=TOL)
    assert agg["sizes"] == {"bat.energy_kwh": pytest.approx(60.0, abs=TOL)}
    assert agg["weight"] == [2.0, 2.0]
    assert run.kpis["capacities"]["bat"]["energy_kwh"] == pytest.approx(60.0, abs=TOL)
    assert run.kpis["horizon"]["steps"] == N  # the schedule is the whole horizon's


def test_the_store_level_read_back_is_the_real_one():
    s = sunny_then_dark()
    s["aggregation"] = {"typical_periods": 2, "period_h": 24}
    inp = inputs_of(s)
    c = inp.common
    sel = select(inp.tables, c.index, k=2, period_h=24, dt_h=1.0, timezone=c.timezone)
    from pecopt.ingest.district import to_inputs

    sol = solve(build(to_inputs(inp.scenario, inp.tables, None, selection=sel)))
    level = sol.results.storage
    soc = level[level.columns[level.columns.str.contains("kwh")][0]].to_numpy()
    # the sunny representative is day 0 or day 1: its noon level is 36 or 60 kWh, the dark
    # representative's start (day 2 or 3) 48 or 24 kWh, and no level leaves [0, 60]
    assert soc.min() >= -TOL and soc.max() <= 60 + TOL
    assert soc[11] == pytest.approx(36.0 if sel.periods.original[0] == 0 else 60.0, abs=TOL)


def test_power_fee_on_typical_periods():
    # A 30-kWh store at most: some import, billed at 5 EUR/kW for the month's peak, pro rata
    # 4/31 of January. The representatives are exact copies of the days they stand for, but
    # the two days of a cluster must then run alike: the typical optimum is an upper bound
    # of the whole horizon's; with the same size built, the re-solve finds the optimum.
    s = sunny_then_dark()
    s["assets"]["grid"]["tariff"]["network"] = {"power_fee_eur_per_kw_month": 5.0}
    s["assets"]["batteries"][0]["capacity_kwh"] = size(0.1, maximum=30.0)
    full = solve(build(inputs_of(s)))
    s["aggregation"] = {"typical_periods": 2, "period_h": 24}
    run = run_inputs(inputs_of(s))
    agg = run.kpis["aggregation"]
    assert agg["sizes"] == {"bat.energy_kwh": pytest.approx(30.0, abs=TOL)}
    assert agg["typical_objective"] >= full.objective - TOL
    assert agg["full_objective"] == pytest.approx(full.objective, abs=TOL)
    fee = run.results.cost_items_eur["electricity_power_fee"]
    peak = run.kpis["figures"]["grid.billing_peak_kw.2025-01"]
    assert peak > 0
    assert fee == pytest.approx(5.0 * peak * 4 / 31, abs=TOL)


def test_bad_aggregation_settings_name_the_field():
    s = sunny_then_dark()
    s["aggregation"] = {"typical_periods": 4, "period_h": 24}
    with pytest.raises(ScenarioError, match="aggregation.typical_periods"):
        run_inputs(inputs_of(s))
    s["aggregation"] = {"typical_periods": 1, "period_h": 72}
    with pytest.raises(ScenarioError, match="aggregation.period_h"):
        run_inputs(inputs_of(s))
    s = sunny_then_dark()
    s["assets"]["batteries"][0]["capacity_kwh"] = 10.0
    s["aggregation"] = {"typical_periods": 2, "period_h": 24}
    with pytest.raises(ScenarioError, match="nothing to size"):
        run_inputs(inputs_of(s))

"""Tiny districts whose optima are worked out by hand (see the comments)."""

from __future__ import annotations

import numpy as np
import pytest

from pecopt.errors import InfeasibleError
from pecopt.model.core import build_model
from pecopt.results.extract import extract
from pecopt.solver import solve
from pecopt.testing import assert_balanced, tiny_inputs

TOL = 1e-6


def run(inputs):
    dm = build_model(inputs)
    out = solve(dm.model, inputs.common.solver)
    res = extract(dm)
    assert_balanced(res.schedule)
    return dm, out, res


def flow(res, asset, carrier="electricity", role=None):
    df = res.schedule
    sel = df[(df.asset == asset) & (df.carrier == carrier)]
    if role is not None:
        sel = sel[sel.role == role]
    return sel.groupby("timestamp", sort=True)["flow_kw"].sum().to_numpy()


def grid_import(res):
    return flow(res, "grid", role="import")


def grid_export(res):
    return -flow(res, "grid", role="export")


def dh_import(res):
    return flow(res, "district_heat", "hot_water", role="import")


def heat_pump(name, capacity_kw_el, cop, **kw):
    return {
        "name": name,
        "capacity_kw_el": capacity_kw_el,
        "source": "series",
        "cop_series": cop,
        **kw,
    }


# --------------------------------------------------------------------- battery arbitrage


def test_battery_arbitrage_lossless():
    # Prices 0.1 / 0.3 / 0.2 EUR/kWh, export at the same price, no load, 10 kWh / 10 kW,
    # eta 1, start empty, end free. Buy 10 kWh in hour 0 (-1.0), sell all 10 kWh in hour 1
    # (+3.0); nothing else pays (hour 2 is the last, the end level is worth nothing).
    # Optimum = 1.0 - 3.0 = -2.0 EUR.
    bat = dict(
        name="b",
        capacity_kwh=10,
        power_kw=10,
        eta_charge=1.0,
        eta_discharge=1.0,
        soc_initial_kwh=0.0,
        end="free",
    )
    inputs = tiny_inputs(3, spot=[0.1, 0.3, 0.2], assets={"batteries": [bat]})
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(-2.0, abs=TOL)
    np.testing.assert_allclose(flow(res, "b"), [-10.0, 10.0, 0.0], atol=TOL)
    soc = res.storage[res.storage.asset == "b"]["soc_kwh"].to_numpy()
    np.testing.assert_allclose(soc, [10.0, 0.0, 0.0], atol=TOL)


def test_battery_arbitrage_lossy():
    # eta_c = eta_d = 0.9. Charging 10 kW for 1 h stores 9 kWh (< 10 kWh capacity); those
    # 9 kWh give 0.9 * 9 = 8.1 kWh at the bus in hour 1 (<= 10 kW). Each kWh bought at
    # 0.1 returns 0.81 kWh at 0.3 = 0.243 > 0.1, so charge fully.
    # Optimum = 10 * 0.1 - 8.1 * 0.3 = 1.0 - 2.43 = -1.43 EUR.
    bat = dict(
        name="b",
        capacity_kwh=10,
        power_kw=10,
        eta_charge=0.9,
        eta_discharge=0.9,
        soc_initial_kwh=0.0,
        end="free",
    )
    inputs = tiny_inputs(3, spot=[0.1, 0.3, 0.2], assets={"batteries": [bat]})
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(-1.43, abs=TOL)
    np.testing.assert_allclose(flow(res, "b"), [-10.0, 8.1, 0.0], atol=TOL)


# --------------------------------------------------------------------------------- EVs

EV_PRICES = [0.3, 0.1, 0.4, 0.2, 0.5, 0.5]
EV_PLUGGED = [[True, True, True, True, False, False]]
EV_DRIVE = [[0, 0, 0, 0, 15.0, 0]]


def test_ev_charges_in_cheapest_plugged_hours():
    # One car, plugged in hours 0-3 (prices 0.3, 0.1, 0.4, 0.2), drives 15 kWh in hour 4,
    # cyclic. Efficiency 0.8: it needs 15 / 0.8 = 18.75 kWh from the grid per cycle.
    # Cheapest first: 11 kWh in hour 1 (0.1) and 7.75 kWh in hour 3 (0.2).
    # Cost = 1.1 + 1.55 = 2.65 EUR.
    spec = dict(
        name="ev",
        charger_kw=11.0,
        efficiency=0.8,
        capacity_kwh=60.0,
        end="cyclic",
    )
    inputs = tiny_inputs(6, spot=EV_PRICES, ev_fleets=((spec, EV_PLUGGED, EV_DRIVE),))
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(2.65, abs=TOL)
    np.testing.assert_allclose(flow(res, "ev/v0"), [0, -11.0, 0, -7.75, 0, 0], atol=TOL)
    assert res.unmet_kwh.get("ev", 0.0) == pytest.approx(0.0, abs=TOL)
    assert -flow(res, "ev/v0").sum() == pytest.approx(18.75, abs=TOL)


def test_ev_shortfall_penalised():
    # Charger 3 kW, efficiency 1: at most 4 h x 3 kW = 12 kWh, the trip takes 15 kWh,
    # so 3 kWh are unmet at 1.0 EUR/kWh. The penalty (1.0) beats every price, so it charges
    # in all four plugged hours: 3 * (0.3 + 0.1 + 0.4 + 0.2) = 3.0 EUR; + 3 * 1.0 = 6.0 EUR.
    spec = dict(
        name="ev",
        charger_kw=3.0,
        efficiency=1.0,
        capacity_kwh=60.0,
        end="cyclic",
        shortfall_penalty_eur_per_kwh=1.0,
    )
    inputs = tiny_inputs(6, spot=EV_PRICES, ev_fleets=((spec, EV_PLUGGED, EV_DRIVE),))
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(6.0, abs=TOL)
    assert res.unmet_kwh["ev"] == pytest.approx(3.0, abs=TOL)
    assert res.cost_items_eur["ev_shortfall_penalty"] == pytest.approx(3.0, abs=TOL)
    np.testing.assert_allclose(flow(res, "ev/v0"), [-3, -3, -3, -3, 0, 0], atol=TOL)


def test_ev_shortfall_forbidden_is_infeasible():
    spec = dict(
        name="ev",
        charger_kw=3.0,
        efficiency=1.0,
        capacity_kwh=60.0,
        end="cyclic",
        shortfall_penalty_eur_per_kwh=None,
    )
    inputs = tiny_inputs(6, spot=EV_PRICES, ev_fleets=((spec, EV_PLUGGED, EV_DRIVE),))
    dm = build_model(inputs)
    with pytest.raises(InfeasibleError):
        solve(dm.model, inputs.common.solver)


# -------------------------------------------------------------- district-heat power fee


def _dh_inputs(with_store: bool):
    # 6 h, heat 60 kW in the last hour only; DH energy 0.05 EUR/kWh; fee 1460 EUR/kW/yr
    # on the highest 3-h average, times years = 6 / 8760 -> 1.0 EUR per kW of peak.
    tariff = dict(energy_eur_per_kwh=0.05, power_fee_eur_per_kw_yr=1460.0, peak_window_h=3)
    store = dict(
        name="tank",
        capacity_kwh=100,
        power_kw=100,
        eta_charge=1.0,
        eta_discharge=1.0,
        loss_per_h=0.0,
        end="cyclic",
    )
    return tiny_inputs(
        6,
        heat_kw=[0, 0, 0, 0, 0, 60.0],
        dh_price=0.05,
        district_heating={},
        dh_tariff=tariff,
        assets={"thermal_stores": [store]} if with_store else None,
    )


def test_dh_power_fee_without_store():
    # No store: import 60 kW in hour 5, the window 3-5 averages 20 kW.
    # Cost = 60 * 0.05 + 20 * 1.0 = 23.0 EUR.
    inputs = _dh_inputs(False)
    assert inputs.common.years == pytest.approx(6 / 8760)
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(23.0, abs=TOL)
    assert dm.model.district_heating.peak[0].value == pytest.approx(20.0, abs=TOL)


def test_dh_power_fee_makes_store_worth_using():
    # Lossless store: the two disjoint windows 0-2 and 3-5 hold all 60 kWh, so one of them
    # averages >= 10 kW: peak >= 10. Importing 10 kW every hour reaches it (store 50 kWh by
    # hour 4, emptied in hour 5). Energy unchanged: cost = 60 * 0.05 + 10 * 1.0 = 13.0 EUR.
    inputs = _dh_inputs(True)
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(13.0, abs=TOL)
    assert dm.model.district_heating.peak[0].value == pytest.approx(10.0, abs=TOL)
    assert res.cost_items_eur["dh_power_fee"] == pytest.approx(10.0, abs=TOL)
    assert res.cost_items_eur["dh_energy"] == pytest.approx(3.0, abs=TOL)
    assert flow(res, "tank", "hot_water")[-1] > 0  # discharges into the peak hour


# ------------------------------------------------------------------------ negative prices


def test_negative_export_price_curtails_pv():
    # PV 10 kW, load 2 kW, import 0.1, export -0.05 EUR/kWh: use 2 kW, curtail 8 kW,
    # export nothing. Cost 0.
    inputs = tiny_inputs(2, elec_kw=2.0, pv_kw=10.0, spot=0.1, export=-0.05)
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(0.0, abs=TOL)
    np.testing.assert_allclose(grid_export(res), 0.0, atol=TOL)
    np.testing.assert_allclose(grid_import(res), 0.0, atol=TOL)
    np.testing.assert_allclose(flow(res, "pv"), [2.0, 2.0], atol=TOL)


def test_negative_import_price_imports_more():
    # Import 0.1 / -0.05 / 0.2, export 0.01 below import; lossless 10 kWh / 10 kW battery,
    # start empty, end free, no load. Energy sold in hour 2 (at 0.19) comes best from
    # hour 1, where the district is paid 0.05 to take it: +0.5 + 10 * 0.19 = 2.4.
    # Optimum = -2.4 EUR. Battery exclusivity binaries (auto) only where the import price
    # is negative (hour 1); grid binaries none (export always below import).
    bat = dict(
        name="b",
        capacity_kwh=10,
        power_kw=10,
        eta_charge=1.0,
        eta_discharge=1.0,
        soc_initial_kwh=0.0,
        end="free",
    )
    spot = np.array([0.1, -0.05, 0.2])
    inputs = tiny_inputs(
        3, spot=spot, export=spot - 0.01, assets={"batteries": [bat]}, solver={"binaries": "auto"}
    )
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(-2.4, abs=TOL)
    np.testing.assert_allclose(grid_import(res), [0.0, 10.0, 0.0], atol=TOL)
    np.testing.assert_allclose(grid_export(res), [0.0, 0.0, 10.0], atol=TOL)
    assert out.size["binaries"] == 1


def test_no_negative_price_no_binaries():
    bat = dict(
        name="b",
        capacity_kwh=10,
        power_kw=10,
        eta_charge=1.0,
        eta_discharge=1.0,
        soc_initial_kwh=0.0,
        end="free",
    )
    spot = np.array([0.1, 0.05, 0.2])
    inputs = tiny_inputs(
        3, spot=spot, export=spot - 0.01, assets={"batteries": [bat]}, solver={"binaries": "auto"}
    )
    dm, out, res = run(inputs)
    assert out.size["binaries"] == 0
    # buy 10 at 0.05, sell 10 at 0.19
    assert out.objective == pytest.approx(0.5 - 1.9, abs=TOL)


# ---------------------------------------------------------------- heat pump vs DH


def test_heat_pump_vs_district_heat():
    # COP 3: HP heat costs spot / 3 = 0.04 (hour 0) or 0.06 (hour 1) vs DH 0.05.
    # Hour 0: HP makes 30 kW heat from 10 kW el = 1.2 EUR; hour 1: DH 30 * 0.05 = 1.5 EUR.
    # Optimum = 2.7 EUR.
    hp = heat_pump("hp", 20.0, 3.0)
    inputs = tiny_inputs(
        2,
        heat_kw=30.0,
        spot=[0.12, 0.18],
        export=0.0,
        assets={"heat_pumps": [hp]},
        district_heating={},
    )
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(2.7, abs=TOL)
    np.testing.assert_allclose(flow(res, "hp", "space_heat"), [30.0, 0.0], atol=TOL)
    np.testing.assert_allclose(dh_import(res), [0.0, 30.0], atol=TOL)


@pytest.mark.parametrize(
    "binaries,expected,hp_heat",
    [
        # min part load 0.5 of 20 kW el = 10 kW el = 30 kW heat when on; demand 15 kW and no
        # way to get rid of surplus heat: the HP must stay off, DH 15 * 0.05 = 0.75 EUR.
        ("always", 0.75, 0.0),
        # LP relaxation (no on/off binary): HP runs at 5 kW el, 15 kW heat, 5 * 0.12 = 0.6.
        ("never", 0.6, 15.0),
    ],
)
def test_heat_pump_min_part_load(binaries, expected, hp_heat):
    hp = heat_pump("hp", 20.0, 3.0, min_part_load=0.5)
    inputs = tiny_inputs(
        1,
        heat_kw=15.0,
        spot=0.12,
        export=0.0,
        assets={"heat_pumps": [hp]},
        district_heating={},
        solver={"binaries": binaries},
    )
    dm, out, res = run(inputs)
    assert out.objective == pytest.approx(expected, abs=TOL)
    np.testing.assert_allclose(flow(res, "hp", "space_heat"), [hp_heat], atol=TOL)
    if binaries == "always":
        assert out.size["binaries"] >= 1
    else:
        assert out.size["binaries"] == 0


# --------------------------------------------------------------------------- CO2


def _co2_inputs(objective):
    # Heat 30 kW for 2 h; HP COP 3 at spot 0.12 -> 0.04 EUR and 0.1 kg per kWh heat
    # (grid 0.3 kg/kWh); DH 0.05 EUR and 0.05 kg per kWh heat.
    hp = heat_pump("hp", 20.0, 3.0)
    return tiny_inputs(
        2,
        heat_kw=30.0,
        spot=0.12,
        export=0.0,
        grid_co2=0.3,
        dh_co2=0.05,
        assets={"heat_pumps": [hp]},
        district_heating={},
        objective=objective,
    )


def test_cost_objective_uses_heat_pump():
    # All heat from the HP: 2 * 10 * 0.12 = 2.4 EUR, emissions 2 * 10 * 0.3 = 6 kg.
    dm, out, res = run(_co2_inputs({}))
    assert out.objective == pytest.approx(2.4, abs=TOL)
    assert res.carbon["co2_kg"].sum() == pytest.approx(6.0, abs=TOL)


def test_co2_cap_binds():
    # Cap 4.5 kg: each kWh of heat moved from HP to DH saves 0.05 kg and costs 0.01 EUR;
    # 1.5 kg to save -> 30 kWh moved -> 2.4 + 0.3 = 2.7 EUR.
    dm, out, res = run(_co2_inputs({"kind": "cost_co2_cap", "co2_cap_kg": 4.5}))
    assert out.objective == pytest.approx(2.7, abs=TOL)
    assert res.carbon["co2_kg"].sum() == pytest.approx(4.5, abs=TOL)
    assert dh_import(res).sum() == pytest.approx(30.0, abs=TOL)


def test_emissions_objective():
    # Least emissions: all heat from DH, 60 kWh * 0.05 = 3.0 kg.
    dm, out, res = run(_co2_inputs({"kind": "emissions"}))
    assert out.objective == pytest.approx(3.0, abs=TOL)
    np.testing.assert_allclose(dh_import(res), [30.0, 30.0], atol=TOL)
    assert res.carbon["co2_kg"].sum() == pytest.approx(3.0, abs=TOL)


# ----------------------------------------------------------------- 15 min vs hourly


def _day(dt_h: float):
    rep = int(round(1 / dt_h))
    price = np.repeat([0.10, 0.30, 0.20, 0.15, 0.05, 0.25], rep)
    pv = np.repeat([0.0, 5.0, 8.0, 3.0, 0.0, 0.0], rep)
    load = np.repeat([2.0, 3.0, 4.0, 5.0, 1.0, 6.0], rep)
    bat = dict(
        name="b",
        capacity_kwh=10,
        power_kw=5,
        eta_charge=0.9,
        eta_discharge=0.95,
        loss_per_h=0.0,
        end="cyclic",
    )
    return tiny_inputs(
        price.size,
        dt_h=dt_h,
        elec_kw=load,
        pv_kw=pv,
        spot=price,
        export=price - 0.02,
        assets={"batteries": [bat]},
    )


def test_quarter_hour_equals_hourly_for_hour_constant_data():
    # Averaging a 15-min solution over each hour gives an hourly solution of equal cost,
    # and repeating an hourly solution is feasible at 15 min (lossless, linear), so the
    # optima are equal.
    hourly, quarter = _day(1.0), _day(0.25)
    _, o1, r1 = run(hourly)
    _, o4, r4 = run(quarter)
    assert o4.objective == pytest.approx(o1.objective, abs=TOL)
    for name in ("district_series",):
        e1 = flow(r1, name).sum() * 1.0
        e4 = flow(r4, name).sum() * 0.25
        assert e4 == pytest.approx(e1, abs=TOL)
    net1 = ((grid_import(r1) - grid_export(r1)) * 1.0).sum()
    net4 = ((grid_import(r4) - grid_export(r4)) * 0.25).sum()
    assert net4 == pytest.approx(net1, abs=1e-5)
    assert sum(r4.cost_items_eur.values()) == pytest.approx(
        sum(r1.cost_items_eur.values()), abs=TOL
    )


def test_ev_start_energy_per_vehicle_carries_last_nights_state():
    """Nightly dispatch: two vehicles start the day with different energy (carried from the
    night before), both must hold 5 kWh for a drive at step 3, prices 0.1 at steps 0-2.
    v0 starts with 5 kWh: buys nothing. v1 starts with 1 kWh: buys 4 kWh / 0.8 = 5 kWh of
    electricity at 0.1 -> cost 0.5."""
    spec = dict(
        name="ev",
        charger_kw=10,
        efficiency=0.8,
        capacity_kwh=40,
        soc_initial_kwh=0.0,
        initial_energy_kwh={"v0": 5.0, "v1": 1.0},
        end="free",
        shortfall_penalty_eur_per_kwh=None,
    )
    plugged = [[1, 1, 1, 0], [1, 1, 1, 0]]
    drive = [[0, 0, 0, 5.0], [0, 0, 0, 5.0]]
    inputs = tiny_inputs(4, spot=0.1, ev_fleets=((spec, plugged, drive),))
    out = solve(build_model(inputs).model, inputs.common.solver)
    assert out.objective == pytest.approx(0.5, abs=1e-9)

"""Design mode: sizes the optimiser chooses, targets as constraints, and objectives that
do not degenerate; optima worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pecopt.api import build, solve
from pecopt.errors import InfeasibleError
from pecopt.model.capacity import annuity_factor
from pecopt.testing import inputs_of, tiny_scenario

TOL = 1e-6
YEARS = 2 / 8760  # a two-hour horizon


def size(coef_per_unit: float, maximum: float = 100.0, **kw) -> dict:
    """A Size whose annualised cost over the 2-h horizon is ``coef_per_unit`` EUR per unit
    (discount rate 0, lifetime 1 year: capex = coef / years)."""
    return {"max": maximum, "capex_eur_per_unit": coef_per_unit / YEARS, "lifetime_yr": 1.0, **kw}


def _solve(scenario):
    scenario.setdefault("economics", {"discount_rate": 0.0})
    return solve(build(inputs_of(scenario)))


def _pv_battery(pv_coef=0.05, bat_coef=0.02, pv_max=100.0):
    s = tiny_scenario(2, elec_kw=5.0, spot=0.3, export=0.0)
    s["assets"]["pv_series"] = [{"name": "pv", "series": [0.5, 0.0], "kwp": size(pv_coef, pv_max)}]
    s["assets"]["batteries"] = [
        {
            "name": "bat", "eta_charge": 1.0, "eta_discharge": 1.0,
            "capacity_kwh": size(bat_coef), "power_kw": size(bat_coef),
        }
    ]  # fmt: skip
    return s


def test_annuity_factor_by_hand():
    assert annuity_factor(0.0, 20) == pytest.approx(1 / 20)
    # 4 %, 20 years: 0.04 * 1.04**20 / (1.04**20 - 1) = 0.0735818
    assert annuity_factor(0.04, 20) == pytest.approx(0.0735818, abs=1e-7)


def test_pv_and_battery_sizes_follow_from_the_prices():
    # Load 5 kW in both hours, grid at 0.3 EUR/kWh, export worth nothing. PV gives 0.5 kW per
    # kWp in hour 0 and costs 0.05 EUR per kWp over the horizon: 0.15 EUR saved per kWp
    # while self-consumed, so 10 kWp cover hour 0. Each further kWp puts 0.5 kWh into the
    # battery (0.02 EUR per kWh and per kW) for hour 1: 0.15 saved for 0.05 + 0.5 * 0.04;
    # up to 5 kWh: 10 more kWp, a 5 kWh / 5 kW battery, no grid at all.
    # Cost = 20 * 0.05 + 5 * 0.02 + 5 * 0.02 = 1.2 EUR (no battery: 10 * 0.05 + 1.5 = 2.0).
    sol = _solve(_pv_battery())
    assert sol.objective == pytest.approx(1.2, abs=TOL)
    caps = sol.kpis["capacities"]
    assert caps["pv"]["kwp"] == pytest.approx(20.0, abs=TOL)
    assert caps["bat"]["energy_kwh"] == pytest.approx(5.0, abs=TOL)
    assert caps["bat"]["power_kw"] == pytest.approx(5.0, abs=TOL)
    assert sol.results.cost_items_eur["investment"] == pytest.approx(1.2, abs=TOL)
    assert sol.outcome.size["binaries"] == 0  # an LP: sizes are continuous


def test_a_dear_battery_is_not_built():
    # the battery at 0.5 EUR per kWh and per kW: 1.0 > 0.15 / 0.5 kWh: not worth it
    sol = _solve(_pv_battery(bat_coef=0.5))
    assert sol.kpis["capacities"]["bat"]["energy_kwh"] == pytest.approx(0.0, abs=TOL)
    assert sol.objective == pytest.approx(10 * 0.05 + 5 * 0.3, abs=TOL)


def test_modules_are_whole():
    # batteries in 2-kWh modules: 5 kWh is not possible; 4 or 6. With 6 kWh / 5 kW the
    # extra kWh is idle (0.02); with 4 kWh the fifth kWh comes from the grid (0.3): 6 wins.
    s = _pv_battery()
    s["assets"]["batteries"][0]["capacity_kwh"] = size(0.02, unit_size=2.0)
    sol = _solve(s)
    assert sol.kpis["capacities"]["bat"]["energy_kwh"] == pytest.approx(6.0, abs=TOL)
    assert sol.objective == pytest.approx(1.2 + 0.02, abs=TOL)


def test_existing_capacity_is_a_free_lower_bound():
    # 3 kWh of battery already there: only 2 more are bought
    s = _pv_battery()
    for k in ("capacity_kwh", "power_kw"):
        s["assets"]["batteries"][0][k] = size(0.02, existing=3.0)
    sol = _solve(s)
    assert sol.kpis["capacities"]["bat"]["energy_kwh"] == pytest.approx(5.0, abs=TOL)
    assert sol.objective == pytest.approx(1.2 - 2 * 3 * 0.02, abs=TOL)


def _ped(penalty=None):
    # 10 kW of load for 2 h (20 kWh) and at most 10 kWp of PV giving 0.5 kW/kWp in hour 0
    # (5 kWh, exported at most): final-energy surplus <= 5 - 20 < 0.
    s = tiny_scenario(2, elec_kw=10.0, spot=0.3, export=0.1)
    s["assets"]["pv_series"] = [{"name": "pv", "series": [0.5, 0.0], "kwp": size(0.05, 10.0)}]
    s["targets"] = {"ped": [{"basis": "final_energy", "shortfall_penalty_eur_per_kwh": penalty}]}
    return s


def test_ped_target_infeasible_without_its_slack():
    with pytest.raises(InfeasibleError, match="ped_final_energy"):
        _solve(_ped())


def test_ped_target_with_a_slack_at_its_price():
    # surplus = export - import; PV 10 kWp (5 kWh) used on site: import 15 kWh. Every PV
    # kWp (0.05) saves 0.15 of import and 0.5 kWh of target shortfall (at 1 EUR/kWh): full
    # size. Shortfall 15 kWh. Cost = 10 * 0.05 + 15 * 0.3 + 15 * 1.0 = 20.0 EUR.
    sol = _solve(_ped(penalty=1.0))
    assert sol.objective == pytest.approx(20.0, abs=TOL)
    assert sol.kpis["unmet_kwh"]["target_ped_final_energy"] == pytest.approx(15.0, abs=TOL)
    assert sol.kpis["targets"]["ped_final_energy"]["met"] is False


def test_co2_cap_per_year():
    # heat 30 kW for 2 h from a heat pump (COP 3, grid 0.3 kg/kWh -> 0.1 kg/kWh heat,
    # 0.04 EUR) or district heat (0.05 kg, 0.05 EUR). Cap 4.5 kg over the horizon
    # = 4.5 / YEARS kg per year: 30 kWh moved to district heat: 2.4 + 0.3 = 2.7 EUR.
    s = tiny_scenario(
        2, heat_kw=30.0, spot=0.12, export=0.0, grid_co2=0.3, dh_co2=0.05, district_heating={},
        assets={"heat_pumps": [{"name": "hp", "capacity_kw_el": 20.0, "source": "series",
                                "cop_series": 3.0}]},
    )  # fmt: skip
    s["targets"] = {"co2_max_kg_per_yr": 4.5 / YEARS}
    sol = _solve(s)
    assert sol.objective == pytest.approx(2.7, abs=TOL)
    assert sol.kpis["co2_kg"]["net"] == pytest.approx(4.5, abs=TOL)


def test_emissions_objective_does_not_degenerate():
    # Grid 0.3 kg/kWh with export credit; an EV that must get 6 kWh; a district-heating
    # connection with a power fee but no heat demand; a free battery. The least-emitting
    # plan still charges the EV (its penalty comes first), never imports and exports at once,
    # and pays no power fee on heat that does not flow.
    s = tiny_scenario(
        4, elec_kw=2.0, spot=[0.1, 0.2, 0.3, 0.2], export=[0.05, 0.1, 0.2, 0.1], grid_co2=0.3,
        pv_kw=[0.0, 3.0, 5.0, 0.0], carbon={"export_credit": True},
        district_heating={}, dh_tariff={"energy_eur_per_kwh": 0.06,
                                        "power_fee_eur_per_kw_yr": 50.0},
        objective={"kind": "emissions"},
        assets={"batteries": [{"name": "bat", "capacity_kwh": 10, "power_kw": 5}]},
    )  # fmt: skip
    from pecopt.testing import tiny_inputs

    inputs = tiny_inputs(
        4,
        ev_fleets=(({"name": "ev", "charger_kw": 7, "capacity_kwh": 40, "end": "cyclic"},
                    [[1, 1, 0, 1]], [[0, 0, 6.0, 0]]),),
        **{k: v for k, v in _tiny_kwargs(s).items()},
    )  # fmt: skip
    sol = solve(build(inputs))
    k = sol.kpis
    assert k["unmet_kwh"]["ev"] == pytest.approx(0.0, abs=TOL)
    sched = sol.results.schedule
    grid = sched[sched.asset == "grid"].pivot_table(
        index="timestamp", columns="role", values="flow_kw"
    )
    assert (np.minimum(grid["import"], -grid["export"]) <= 1e-6).all()
    assert k["cost_eur"]["items"].get("dh_power_fee", 0.0) == pytest.approx(0.0, abs=TOL)
    stages = k["solver"]["stages"]
    assert list(stages) == ["penalties", "emissions", "cost"]
    assert sol.objective == pytest.approx(stages["emissions"])


def _tiny_kwargs(s: dict) -> dict:
    """tiny_scenario keyword arguments equivalent to the scenario dict ``s`` (test helper)."""
    a = s["assets"]
    return {
        "elec_kw": s["demand"]["elec"],
        "spot": a["grid"]["tariff"]["spot"]["series"],
        "export": a["grid"]["tariff"]["export_price"],
        "grid_co2": a["grid"]["co2"]["series"],
        "pv_kw": a["pv_series"][0]["series"],
        "carbon": s["carbon"],
        "district_heating": {},
        "dh_tariff": a["district_heating"]["tariff"],
        "objective": s["objective"],
        "assets": {"batteries": a["batteries"]},
    }


def test_sizing_lps_go_to_the_interior_point_method(monkeypatch):
    # A capacity the optimiser chooses couples every step: HiGHS' IPM (with crossover) is
    # then the method "choose" picks; the optimum is the same hand-worked 1.2 EUR, and a
    # size fixed through Pyomo (or a dispatch model) leaves the LP to the simplex.
    import pecopt.solver.highs as highs
    from pecopt.solver.compile import compile_model

    monkeypatch.setattr(highs, "IPM_MIN_COLUMNS", 0)
    picked = []
    real = highs.prefers_ipm
    monkeypatch.setattr(
        highs, "prefers_ipm", lambda lp, lay: picked.append(real(lp, lay)) or picked[-1]
    )
    built = build(inputs_of({**_pv_battery(), "economics": {"discount_rate": 0.0}}))
    assert highs.prefers_ipm(*compile_model(built.model))
    sol = solve(built)
    assert picked[-1] is True
    assert sol.objective == pytest.approx(1.2, abs=TOL)
    assert sol.kpis["capacities"]["pv"]["kwp"] == pytest.approx(20.0, abs=TOL)
    for var in built.model.component_objects(ctype=None, descend_into=True):
        if var.local_name.endswith("_new"):
            for v in var.values():
                v.fix(v.value)
    assert not highs.prefers_ipm(*compile_model(built.model))
    assert solve(built).objective == pytest.approx(1.2, abs=TOL)
    assert picked[-1] is False
    dispatch = tiny_scenario(2, elec_kw=5.0, spot=0.3, export=0.0)
    assert not highs.prefers_ipm(*compile_model(build(inputs_of(dispatch)).model))


def test_sized_capacities_in_kpis_and_the_solve_summary(tmp_path):
    # kpis["sized"] holds what the optimiser chose (not the given capacities); the
    # terminal summary of `pecopt solve` lists it with the annualised investment.
    import json

    import yaml
    from typer.testing import CliRunner

    from pecopt.cli.main import app

    sol = _solve(_pv_battery())
    assert sol.kpis["sized"] == {
        "pv": {"kwp": pytest.approx(20.0, abs=TOL)},
        "bat": {"energy_kwh": pytest.approx(5.0, abs=TOL), "power_kw": pytest.approx(5.0, abs=TOL)},
    }
    assert "grid" in sol.kpis["capacities"] and "grid" not in sol.kpis["sized"]
    f = tmp_path / "toy.yaml"
    f.write_text(yaml.safe_dump({**_pv_battery(), "economics": {"discount_rate": 0.0}}))
    r = CliRunner().invoke(app, ["solve", str(f), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "pv 20 kWp, bat 5 kWh, bat 5 kW" in r.output
    assert "of which investment" in r.output and "1.20 EUR" in r.output
    kpis = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert kpis["sized"]["pv"]["kwp"] == pytest.approx(20.0, abs=TOL)

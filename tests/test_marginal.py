"""Marginal values from the duals (:mod:`pecopt.results.marginal`): prices of one more kWh
of demand per carrier and step, and the value of one more unit of each capacity.

Tiny districts worked out by hand, each price and value then checked against a re-solve
with one more kWh (unit) and one less: where both differences agree the optimum is not
degenerate there, and the dual must be that difference (1e-6 relative).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pecopt.api import Solution, build, load_scenario, solve
from pecopt.model.capacity import annuity_factor
from pecopt.model.transforms import attach_duals
from pecopt.testing import constant_weather, inputs_of, tiny_scenario

RTOL = 1e-6
#: the demand key of each carrier in a tiny scenario
DEMAND = {"electricity": "elec", "space_heat": "heat", "hot_water": "hot_water"}
Scenario = dict[str, Any]


def solved(s: Scenario, weather: Any = None) -> Solution:
    built = build(inputs_of(s, weather=weather))
    attach_duals(built.district)
    return solve(built)


def cost(s: Scenario, weather: Any = None) -> float:
    return solve(build(inputs_of(s, weather=weather))).objective


def price(sol: Solution, carrier: str) -> np.ndarray:
    p = sol.results.prices
    return p[p["carrier"] == carrier]["eur_per_kwh"].to_numpy()


def more_demand(s: Scenario, carrier: str, t: int, kwh: float, dt_h: float = 1.0) -> Scenario:
    out = copy.deepcopy(s)
    key = DEMAND[carrier]
    n = len(out["demand"]["elec"])
    series = list(out["demand"].get(key) or [0.0] * n)
    series[t] += kwh / dt_h
    out["demand"][key] = series
    return out


def slope(f: Callable[[float], float], x: float, h: float = 1.0) -> tuple[float, float]:
    """The one-sided differences ``(f(x + h) - f(x)) / h`` and ``(f(x) - f(x - h)) / h``."""
    mid = f(x)
    return (f(x + h) - mid) / h, (mid - f(x - h)) / h


def assert_resolved(dual_value: float, up: float, down: float) -> None:
    """The dual equals a re-solve's difference where both sides agree (not degenerate)."""
    assert up == pytest.approx(down, rel=RTOL, abs=1e-9), "degenerate: choose another case"
    assert dual_value == pytest.approx(up, rel=RTOL, abs=1e-9)


def value(sol: Solution, asset: str, key: str) -> dict[str, Any]:
    entry: dict[str, Any] = sol.kpis["marginal_values"]["capacities"][asset][key]
    return entry


# ---------------------------------------------------------------- a battery and the grid


def battery_and_grid(dt_h: float = 1.0, power_kw: float = 1.0) -> Scenario:
    """Three steps, load 1, 2, 1 kW, import at 0.1, 0.3, 0.2 EUR/kWh (exports worth 0), a
    lossless battery of 2 kWh / ``power_kw`` that starts empty."""
    s = tiny_scenario(3, dt_h=dt_h, elec_kw=[1.0, 2.0, 1.0], spot=[0.1, 0.3, 0.2], export=0.0)
    s["assets"]["batteries"] = [
        {"name": "bat", "capacity_kwh": 2.0 * dt_h, "power_kw": power_kw, "eta_charge": 1.0,
         "eta_discharge": 1.0, "soc_initial_kwh": 0.0, "end": "free"}
    ]  # fmt: skip
    return s


@pytest.mark.parametrize("dt_h", [1.0, 0.25])
def test_prices_of_a_battery_against_the_grid_by_hand(dt_h):
    # The battery charges 1 kW at the cheap step 0 and gives it back at step 1 (it could
    # hold 2 kWh, but 1 kW is all it can take or give): the grid stays at the margin at
    # every step, so one more kWh costs that step's import price, whatever the step's
    # length. One more kW of battery power moves 1 kW more from 0.1 to 0.3 EUR/kWh.
    s = battery_and_grid(dt_h)
    sol = solved(s)
    np.testing.assert_allclose(price(sol, "electricity"), [0.1, 0.3, 0.2], rtol=1e-9)
    for t in range(3):
        more = lambda e, t=t: cost(more_demand(s, "electricity", t, e, dt_h))  # noqa: E731
        up, down = slope(more, 0.0, 0.5 * dt_h)
        assert_resolved(price(sol, "electricity")[t], up, down)
    years = 3 * dt_h / 8760
    assert value(sol, "bat", "power_kw")["value_eur_per_unit_yr"] == pytest.approx(
        0.2 * dt_h / years, rel=1e-9
    )
    assert value(sol, "bat", "energy_kwh")["value_eur_per_unit_yr"] == pytest.approx(0, abs=1e-9)
    assert not value(sol, "bat", "energy_kwh")["binding"]
    up, down = slope(lambda p: cost(battery_and_grid(dt_h, p)), 1.0, 0.5)
    assert_resolved(-value(sol, "bat", "power_kw")["value_eur_per_unit_yr"] * years, up, down)
    assert sol.kpis["marginal_values"]["prices"]["electricity"] == pytest.approx(
        {"mean_eur_per_kwh": 0.2, "min_eur_per_kwh": 0.1, "max_eur_per_kwh": 0.3}
    )


def test_prices_parquet_columns_and_timestamps():
    sol = solved(battery_and_grid())
    p = sol.results.prices
    assert list(p.columns) == ["timestamp", "carrier", "bus", "eur_per_kwh"]
    assert str(p["timestamp"].dt.tz) == "UTC"
    e = p[p["carrier"] == "electricity"]
    assert list(e["bus"].unique()) == ["balance_electricity"]
    assert (e["timestamp"].diff().dropna() == np.timedelta64(1, "h")).all()


def test_no_duals_no_prices():
    sol = solve(build(inputs_of(battery_and_grid())))
    assert sol.results.prices is None
    assert "marginal_values" not in sol.kpis


# ---------------------------------------------------------------- heat pump and district heat


def heat_pump_and_district_heat(kw_el: float = 2.0) -> Scenario:
    """Two steps of space heat, 4 then 12 kW, and 1 kW of electricity; a heat pump (COP 3,
    ``kw_el`` kW el) for space heat on power at 0.06 EUR/kWh; district heat at 0.09 EUR/kWh
    on the hot-water bus, reaching space heat through the cascade."""
    s = tiny_scenario(
        2, heat_kw=[4.0, 12.0], elec_kw=1.0, spot=0.06, export=0.0, dh_price=0.09,
        district_heating={},
        assets={"heat_pumps": [{"name": "hp", "source": "series", "cop_series": 3.0,
                                "capacity_kw_el": kw_el}]},
    )  # fmt: skip
    s["demand"]["hot_water"] = [1.0, 1.0]
    return s


def test_heat_pump_against_district_heat_by_hand():
    # Step 0: the pump covers the 4 kW (1.33 kW el), one more kWh of space heat costs
    # 0.06 / 3 = 0.02 EUR. Step 1: it runs at 2 kW el (6 kW heat), district heat gives the
    # other 6 kW: one more kWh costs 0.09. Hot water comes from district heat: 0.09 at
    # step 1 (at step 0 district heat serves hot water only and the cascade is idle, so
    # its price is one of several: not checked). One more kW el of pump saves
    # 3 x 0.09 - 0.06 = 0.21 EUR in step 1.
    s = heat_pump_and_district_heat()
    sol = solved(s)
    np.testing.assert_allclose(price(sol, "space_heat"), [0.02, 0.09], rtol=1e-9)
    np.testing.assert_allclose(price(sol, "electricity"), [0.06, 0.06], rtol=1e-9)
    assert price(sol, "hot_water")[1] == pytest.approx(0.09, rel=1e-9)
    for carrier, t in (("space_heat", 0), ("space_heat", 1), ("electricity", 0),
                       ("electricity", 1), ("hot_water", 1)):  # fmt: skip
        up, down = slope(lambda e, c=carrier, t=t: cost(more_demand(s, c, t, e)), 0.0, 0.5)
        assert_resolved(price(sol, carrier)[t], up, down)
    years = 2 / 8760
    v = value(sol, "hp", "power_kw_el")
    assert v["value_eur_per_unit_yr"] == pytest.approx(0.21 / years, rel=1e-9)
    assert v["binding"] and not v["sized"] and v["unit"] == "kW el"
    up, down = slope(lambda k: cost(heat_pump_and_district_heat(k)), 2.0, 0.5)
    assert_resolved(-v["value_eur_per_unit_yr"] * years, up, down)


def test_under_an_emissions_objective_the_prices_are_those_of_its_money_stage():
    # Heat 30 kW for 2 h from a heat pump (0.04 EUR and 0.1 kg per kWh of heat) or district
    # heat (0.05 EUR, 0.05 kg). The emissions optimum takes it all from district heat; the
    # last stage, money, keeps emissions within the tie tolerance (1e-3) of that optimum,
    # so the pump gives what the slack allows. With the kept row as it is, one more kWh of
    # heat comes from district heat (0.05 EUR) and its 0.05 kg must be made up by moving a
    # kWh from the pump to district heat (0.01 EUR): 0.06 EUR/kWh. (Re-running every stage
    # would also move the kept emissions up with the demand: 0.04999 EUR.)
    from pecopt.solver import solve as solve_model

    s = tiny_scenario(
        2, heat_kw=30.0, spot=0.12, export=0.0, grid_co2=0.3, dh_co2=0.05, district_heating={},
        assets={"heat_pumps": [{"name": "hp", "capacity_kw_el": 20.0, "source": "series",
                                "cop_series": 3.0}]},
        objective={"kind": "emissions", "tie_tolerance": 1e-3},
    )  # fmt: skip
    built = build(inputs_of(s))
    attach_duals(built.district)
    sol = solve(built)
    np.testing.assert_allclose(price(sol, "space_heat"), [0.06, 0.06], rtol=1e-6)
    con = built.district.balances["space_heat"]
    rm = con._pecopt

    def held(kwh: float) -> float:  # the model as the stages left it, 1 h steps
        con[1].set_value(con[1].body == rm.lo[1] + kwh / rm.scale)
        return solve_model(built.model, built.inputs.common.solver).objective

    # the slack holds 0.003 kg: up to 0.06 kWh of heat from the pump, so a step of 0.02
    up, down = slope(held, 0.0, 0.02)
    assert_resolved(price(sol, "space_heat")[1], up, down)


# ---------------------------------------------------------------- capacities by re-solve


def grid_with_lossy_battery(import_kw: float) -> Scenario:
    """Load 2 then 10 kW, a grid connection of ``import_kw`` below the peak, import at
    0.1 EUR/kWh, and a battery (90 % each way) that covers the rest of the peak."""
    s = tiny_scenario(2, elec_kw=[2.0, 10.0], spot=0.1, export=0.0,
                      grid={"import_max_kw": import_kw})  # fmt: skip
    s["assets"]["batteries"] = [
        {"name": "bat", "capacity_kwh": 10.0, "power_kw": 10.0, "eta_charge": 0.9,
         "eta_discharge": 0.9, "soc_initial_kwh": 0.0, "end": "free"}
    ]  # fmt: skip
    return s


def store_energy(kwh: float) -> Scenario:
    """Load 1 then 3 kW at 0.1 then 0.3 EUR/kWh; a lossless store of ``kwh`` (5 kW)."""
    s = tiny_scenario(2, elec_kw=[1.0, 3.0], spot=[0.1, 0.3], export=0.0)
    s["assets"]["batteries"] = [
        {"name": "bat", "capacity_kwh": kwh, "power_kw": 5.0, "eta_charge": 1.0,
         "eta_discharge": 1.0, "soc_initial_kwh": 0.0, "end": "free"}
    ]  # fmt: skip
    return s


def district_heat_connection(kw: float) -> Scenario:
    """Hot water 10 kW; district heat at 0.05 EUR/kWh through a ``kw`` connection, the rest
    from an electric boiler on power at 0.1 EUR/kWh."""
    boiler = {"name": "eb", "capacity_kw": 20.0}
    s = tiny_scenario(2, spot=0.1, export=0.0, dh_price=0.05,
                      district_heating={"import_max_kw": kw},
                      assets={"electric_boilers": [boiler]})  # fmt: skip
    s["demand"]["hot_water"] = [10.0, 10.0]
    return s


def borehole(length_m: float) -> Scenario:
    """10 kW of space heat from a ground-source pump whose field's annual energy binds
    (the power limit does not), district heat for the rest."""
    hp = {"name": "gshp", "source": "ground", "sinks": ["space_heat"], "capacity_kw_el": 10.0,
          "borehole": {"length_m": length_m, "max_w_per_m": 1000.0}}  # fmt: skip
    return tiny_scenario(2, heat_kw=10.0, spot=0.1, export=0.0, dh_price=0.08,
                         district_heating={}, assets={"heat_pumps": [hp]})  # fmt: skip


CASES = [
    # name, scenario(K), K, step, asset, key, expected value over the horizon per unit
    ("grid connection", grid_with_lossy_battery, 8.0, 1.0, "grid", "import_kw",
     0.1 * (1 / 0.81 - 1)),
    ("store kWh", store_energy, 1.0, 0.5, "bat", "energy_kwh", 0.2),
    ("district-heat connection", district_heat_connection, 6.0, 1.0, "district_heat",
     "import_kw", 2 * (0.1 / 0.99 - 0.05)),
    ("borehole metres", borehole, 50.0, 5.0, "gshp", "borehole_m", None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "make", "k", "h", "asset", "key", "by_hand"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_a_capacity_value_is_the_cost_of_one_more_unit(name, make, k, h, asset, key, by_hand):
    weather = constant_weather(2, 0.0)
    sol = solved(make(k), weather)
    v = value(sol, asset, key)
    years = 2 / 8760
    per_unit = v["value_eur_per_unit_yr"] * years  # EUR over the horizon
    assert v["binding"] and v["capacity"] == pytest.approx(k)
    if by_hand is not None:
        assert per_unit == pytest.approx(by_hand, rel=1e-9)
    up, down = slope(lambda x: cost(make(x), weather), k, h)
    assert_resolved(-per_unit, up, down)


def test_borehole_metre_by_hand():
    # One more metre gives 100 kWh/yr of ground heat, 2/8760 of it over the 2 h; each kWh
    # of ground heat lets the pump make COP/(COP-1) kWh of heat that district heat
    # (0.08 EUR/kWh) no longer delivers, for 1/(COP-1) kWh of power at 0.1 EUR/kWh.
    s = borehole(50.0)
    weather = constant_weather(2, 0.0)
    sol = solved(s, weather)
    cop = build(inputs_of(s, weather=weather)).inputs.data["heat_pumps"][0].cop[0, 0]
    per_ground_kwh = (0.08 * cop - 0.1) / (cop - 1.0)
    assert value(sol, "gshp", "borehole_m")["value_eur_per_unit_yr"] == pytest.approx(
        100.0 * per_ground_kwh, rel=1e-9
    )


# ---------------------------------------------------------------- sized capacities


def sized_store(existing: float, maximum: float, capex: float) -> Scenario:
    """:func:`store_energy` with a store the optimiser sizes (10 years, 4 %)."""
    s = store_energy(1.0)
    s["assets"]["batteries"][0]["capacity_kwh"] = {
        "existing": existing,
        "max": maximum,
        "capex_eur_per_unit": capex,
        "lifetime_yr": 10.0,
    }
    s["assets"]["batteries"][0]["soc_initial_kwh"] = 0.0
    return s


def per_horizon(capex: float) -> float:
    """Annualised capex over the 2-hour horizon [EUR per kWh]."""
    return annuity_factor(0.04, 10.0) * capex * 2 / 8760


def test_a_sized_store_at_its_max_values_its_max():
    # Each kWh stored at 0.1 and given back at 0.3 saves 0.2 EUR, more than its capex over
    # the horizon: the store (0.5 kWh there) is built to its max (1 kWh). Its max is worth
    # 0.2 EUR less the capex of the extra kWh; one more kWh for free (existing and max + 1)
    # is worth 0.2 EUR, so one more kWh would pay up to a capex of 0.2 EUR per 2 h,
    # annualised.
    capex = 1000.0  # EUR/kWh: 0.0563 EUR over the 2 h
    s = sized_store(0.5, 1.0, capex)
    sol = solved(s)
    v = value(sol, "bat", "energy_kwh")
    years = 2 / 8760
    assert v["sized"] and v["at_max"] and v["capacity"] == pytest.approx(1.0)
    assert v["value_eur_per_unit_yr"] * years == pytest.approx(0.2, rel=1e-9)
    assert v["max_value_eur_per_unit_yr"] * years == pytest.approx(
        0.2 - per_horizon(capex), rel=1e-9
    )
    assert v["break_even_capex_eur_per_unit"] == pytest.approx(
        0.2 / years / annuity_factor(0.04, 10.0), rel=1e-9
    )
    up, down = slope(lambda mx: cost(sized_store(0.5, mx, capex)), 1.0, 0.25)
    assert_resolved(-v["max_value_eur_per_unit_yr"] * years, up, down)
    up, down = slope(lambda e: cost(sized_store(0.5 + e, 1.0 + e, capex)), 0.0, 0.25)
    assert_resolved(-v["value_eur_per_unit_yr"] * years, up, down)


def test_a_store_not_built_breaks_even_at_its_value():
    # At a capex of 10,000 EUR/kWh (0.28 EUR over the 2 h) the 0.2 EUR a kWh saves does not
    # pay: nothing is built. The break-even capex is the one at which it would just pay:
    # a little below it the store is built, a little above it is not.
    s = sized_store(0.0, 1.0, 10000.0)
    sol = solved(s)
    v = value(sol, "bat", "energy_kwh")
    assert v["capacity"] == pytest.approx(0.0, abs=1e-9) and not v["at_max"]
    years = 2 / 8760
    assert v["value_eur_per_unit_yr"] * years == pytest.approx(0.2, rel=1e-9)
    up = (cost(sized_store(0.5, 1.5, 10000.0)) - sol.objective) / 0.5  # nothing less to build
    assert up == pytest.approx(-v["value_eur_per_unit_yr"] * years, rel=RTOL)
    even = v["break_even_capex_eur_per_unit"]
    assert even == pytest.approx(0.2 / years / annuity_factor(0.04, 10.0), rel=1e-9)
    below, above = (
        solved(sized_store(0.0, 1.0, 0.99 * even)),
        solved(sized_store(0, 1, 1.01 * even)),
    )
    assert value(below, "bat", "energy_kwh")["capacity"] == pytest.approx(1.0)
    assert value(above, "bat", "energy_kwh")["capacity"] == pytest.approx(0.0, abs=1e-9)


# ---------------------------------------------------------------- a week of Kera


@pytest.mark.slow
def test_kera_week_prices_and_values_by_resolve():
    # The cold-spell week of the Kera default: each checked price is the cost of one more
    # kWh of that carrier's demand at that step (one building's), re-solved, where one
    # more and one less agree; likewise one more metre of borehole and kWh of battery.
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.scenario.schema import Scenario as Schema

    root = Path(__file__).resolve().parents[1]
    s = load_scenario(root / "scenarios" / "kera.yaml",
                      horizon={"start": "2025-01-13", "end": "2025-01-20"})  # fmt: skip
    tables = ingest(s, "kera")
    built = build(to_inputs(s, tables, "kera"))
    attach_duals(built.district)
    sol = solve(built)

    def resolve(scenario: Schema, loads: Any = None) -> float:
        t = dict(tables) if loads is None else {**tables, "loads": loads}
        return solve(build(to_inputs(scenario, t, "kera"))).objective

    loads = tables["loads"]
    first = loads["building"] == loads["building"].iloc[0]
    column = {"electricity": "elec_kw", "space_heat": "space_heat_kw", "hot_water": "hot_water_kw"}
    for carrier, col in column.items():
        checked = 0
        for t in (10, 50, 100, 150):
            row = loads.index[first][t]

            def more(kwh: float, row: int = row, col: str = col) -> float:
                changed = loads.copy()
                changed.loc[row, col] += kwh  # hourly steps: kW = kWh
                return resolve(s, changed)

            up, down = slope(more, 0.0)
            if up != pytest.approx(down, rel=RTOL, abs=1e-9):
                continue  # degenerate at this step: one more and one less differ
            assert price(sol, carrier)[t] == pytest.approx(up, rel=RTOL, abs=1e-9), (carrier, t)
            checked += 1
        assert checked >= 2, carrier

    def with_asset(path: tuple[Any, ...], x: float) -> Schema:
        doc = s.model_dump()
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = x
        return Schema.model_validate(doc)

    years = 7 / 365
    gshp = [h.name for h in s.assets.heat_pumps].index("gshp")
    for path, asset, key, h in (
        (("assets", "heat_pumps", gshp, "borehole", "length_m"), "gshp", "borehole_m", 1.0),
        (("assets", "batteries", 0, "capacity_kwh"), "shared_battery", "energy_kwh", 1.0),
    ):
        v = value(sol, asset, key)
        up, down = slope(lambda x, p=path: resolve(with_asset(p, x)), v["capacity"], h)
        assert v["binding"]
        assert_resolved(-v["value_eur_per_unit_yr"] * years, up, down)

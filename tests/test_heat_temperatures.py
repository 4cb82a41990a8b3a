"""Heat at its temperatures: the space-heating supply curve, hot water at 58 degC, heat
pumps with a COP and a capacity per sink, air-source derating and cut-off, borehole limits,
and the cascade from hot water to space heat; optima worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pecopt.ingest.cop import capacity_factor, cop_carnot, supply_temperature_c
from pecopt.model.blocks.heat_pump import AIR_CAPACITY_CURVE
from pecopt.model.core import build_model
from pecopt.results.extract import extract
from pecopt.solver import solve
from pecopt.testing import assert_balanced, constant_weather, inputs_of, tiny_scenario

TOL = 1e-6
RADIATORS = ((-30.0, 60.0), (20.0, 20.0))


def test_supply_curve_by_hand():
    t = supply_temperature_c([-40.0, -30.0, -10.0, 0.0, 20.0, 25.0], RADIATORS)
    np.testing.assert_allclose(t, [60.0, 60.0, 44.0, 36.0, 20.0, 20.0])


def test_air_capacity_factor_by_hand():
    # between -20.6 (0.38) and -8.3 (0.64): at -10 degC 0.38 + 0.26 * 10.6 / 12.3
    f = capacity_factor([-30.0, -21.0, -10.0, 8.3, 30.0], AIR_CAPACITY_CURVE, -20.0)
    np.testing.assert_allclose(f, [0.0, 0.0, 0.38 + 0.26 * 10.6 / 12.3, 1.0, 1.4])


def _district(temp_air_c, heat_pump, space=5.0, dhw=3.0, n=2, dh_price=0.08):
    scenario = tiny_scenario(
        n, heat_kw=space, spot=0.1, export=0.0, dh_price=dh_price, district_heating={},
        assets={"heat_pumps": [heat_pump]},
    )  # fmt: skip
    scenario["demand"]["hot_water"] = [dhw] * n
    inputs = inputs_of(scenario, weather=constant_weather(n, temp_air_c))
    dm = build_model(inputs)
    out = solve(dm.model, inputs.common.solver)
    res = extract(dm)
    assert_balanced(res.schedule)
    return inputs, out, res


def _flow(res, asset, carrier):
    s = res.schedule
    return s[(s.asset == asset) & (s.carrier == carrier)]["flow_kw"].to_numpy()


def test_cop_and_capacity_per_sink_and_the_cascade():
    # -10 degC: space heat at 44 degC, hot water at 58 degC. Air source, Carnot 0.4:
    # COP_sh = 0.4 * 317.15 / 54, COP_dhw = 0.4 * 331.15 / 68. Rated heat 10 kW derated to
    # 10 f(-10). Heat-pump heat is cheaper than district heat (0.08) for both sinks
    # (0.1 / COP); the saving per kWh is larger for space heat, so the pump gives space
    # heat first (5 kW), the rest of its capacity to hot water; district heat covers the
    # remaining hot water. No district heat reaches space heat through the cascade.
    hp = {"name": "hp", "source": "air", "capacity_kw_heat": 10.0, "carnot_efficiency": 0.4}
    inputs, out, res = _district(-10.0, hp)
    cop_sh = 0.4 * (44 + 273.15) / 54
    cop_dhw = 0.4 * (58 + 273.15) / 68
    q = 10.0 * (0.38 + 0.26 * 10.6 / 12.3)
    data = inputs.data["heat_pumps"][0]
    np.testing.assert_allclose(data.cop[0], cop_sh)
    np.testing.assert_allclose(data.cop[1], cop_dhw)
    to_dhw = q - 5.0
    per_step = 0.1 * (5.0 / cop_sh + to_dhw / cop_dhw) + 0.08 * (3.0 - to_dhw)
    assert out.objective == pytest.approx(2 * per_step, abs=TOL)
    np.testing.assert_allclose(_flow(res, "hp", "space_heat"), 5.0, atol=TOL)
    np.testing.assert_allclose(_flow(res, "hp", "hot_water"), to_dhw, atol=TOL)
    np.testing.assert_allclose(_flow(res, "heat_cascade", "space_heat"), 0.0, atol=TOL)


def test_air_source_cut_off_in_the_cold():
    # -25 degC is below the default -20 degC cut-off: all heat from district heat, through
    # the cascade for space heat: 2 h x 8 kW x 0.08 = 1.28 EUR.
    hp = {"name": "hp", "source": "air", "capacity_kw_heat": 10.0}
    _, out, res = _district(-25.0, hp)
    assert out.objective == pytest.approx(1.28, abs=TOL)
    np.testing.assert_allclose(_flow(res, "heat_cascade", "space_heat"), 5.0, atol=TOL)
    np.testing.assert_allclose(_flow(res, "hp", "space_heat"), 0.0, atol=TOL)


def test_hot_water_beyond_the_pumps_reach():
    # max_sink_temp_c 55 < 58: the pump gives space heat only (1 sink usable).
    hp = {"name": "hp", "source": "ground", "capacity_kw_el": 10.0, "max_sink_temp_c": 55.0}
    _, out, res = _district(0.0, hp)
    np.testing.assert_allclose(_flow(res, "hp", "hot_water"), 0.0, atol=TOL)
    np.testing.assert_allclose(_flow(res, "hp", "space_heat"), 5.0, atol=TOL)


def test_borehole_power_limit():
    # Ground source (brine 2 degC), space heat only (at 0 degC outdoor: 36 degC supply):
    # COP = min(6, 0.45 * 309.15 / 34). A 50 m field at 40 W/m gives 2 kW of ground heat:
    # (COP - 1) p <= 2 -> the pump delivers 2 COP / (COP - 1) kW; district heat the rest.
    # (The annual energy limit is lifted here; on average it is the tighter one: 100 kWh/m/yr
    # is 11.4 W/m.)
    hp = {
        "name": "gshp", "source": "ground", "sinks": ["space_heat"], "capacity_kw_el": 10.0,
        "borehole": {"length_m": 50.0, "max_kwh_per_m_yr": 1e6},
    }  # fmt: skip
    _, out, res = _district(0.0, hp, space=10.0, dhw=0.0)
    cop = float(cop_carnot([2.0], 36.0, 0.45, 6.0)[0])
    heat = 2.0 * cop / (cop - 1.0)
    np.testing.assert_allclose(_flow(res, "gshp", "space_heat"), heat, atol=TOL)
    per_step = 0.1 * heat / cop + 0.08 * (10.0 - heat)
    assert out.objective == pytest.approx(2 * per_step, abs=TOL)


def test_borehole_energy_limit_over_the_horizon():
    # 100 kWh/m/yr x 50 m = 5,000 kWh/yr; over 2 h that is 5000 * 2 / 8760 = 1.1416 kWh of
    # ground heat in all (the power limit, 2 kW x 2 h = 4 kWh, does not bind).
    hp = {
        "name": "gshp", "source": "ground", "sinks": ["space_heat"], "capacity_kw_el": 10.0,
        "borehole": {"length_m": 50.0},
    }  # fmt: skip
    inputs, out, res = _district(0.0, hp, space=10.0, dhw=0.0)
    cop = inputs.data["heat_pumps"][0].cop[0, 0]
    budget = 100.0 * 50.0 * 2.0 / 8760.0
    heat = _flow(res, "gshp", "space_heat").sum()
    assert budget < 4.0
    assert heat * (cop - 1.0) / cop == pytest.approx(budget, abs=1e-6)

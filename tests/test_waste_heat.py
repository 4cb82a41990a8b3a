"""Waste heat: direct use when warm enough, a booster heat pump when not, the source's
availability as a limit; hand-worked optima."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.ingest.cop import cop_carnot
from pecopt.model.core import build_model
from pecopt.results.extract import extract
from pecopt.results.kpis import kpis
from pecopt.solver import solve
from pecopt.testing import assert_balanced, tiny_inputs

TOL = 1e-6
EXAMPLE = (
    Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "supermarket_waste_heat.yaml"
)


def _run(n, heat_kw, source, spot=0.1, dh_price=0.08):
    inputs = tiny_inputs(
        n,
        heat_kw=heat_kw,
        spot=spot,
        export=0.0,
        dh_price=dh_price,
        district_heating={},
        assets={"waste_heat": [source]},
    )
    dm = build_model(inputs)
    out = solve(dm.model, inputs.common.solver)
    res = extract(dm)
    assert_balanced(res.schedule)
    return dm, out, res


def _energy(res, asset, carrier="space_heat"):
    s = res.schedule
    return float(s[(s.asset == asset) & (s.carrier == carrier)]["flow_kw"].sum())


def test_warm_source_is_used_directly():
    # 60 degC >= 45 + 3: direct use. Demand 10 kW for 2 h; 6 kW of waste heat at 0.02
    # beats district heat at 0.08: cost = 2 * (6 * 0.02 + 4 * 0.08) = 0.88 EUR.
    src = {
        "name": "dc",
        "available_kw": 6.0,
        "temperature_c": 60.0,
        "price_eur_per_kwh": 0.02,
        "sink_temp_c": 45.0,
    }
    dm, out, res = _run(2, 10.0, src)
    assert out.objective == pytest.approx(0.88, abs=TOL)
    assert _energy(res, "dc") == pytest.approx(12.0, abs=TOL)
    assert res.cost_items_eur["waste_heat"] == pytest.approx(0.24, abs=TOL)


def test_cold_source_is_lifted_by_the_booster():
    # 25 degC < 45 degC: no direct use. COP = 0.5 * 318.15 / 20 = 7.95375 (cap 8).
    # Booster heat costs (0.1 + 0.01 (COP - 1)) / COP = 0.0213 EUR/kWh < DH 0.08, so all
    # 10 kW come from it: p = 10 / COP, cost = p (0.1 + 0.01 (COP - 1)).
    cop = float(cop_carnot([25.0], 45.0, 0.5, 8.0)[0])
    assert cop == pytest.approx(0.5 * 318.15 / 20)
    src = {
        "name": "shop",
        "available_kw": 20.0,
        "temperature_c": 25.0,
        "price_eur_per_kwh": 0.01,
        "booster_kw_el": 5.0,
        "carnot_efficiency": 0.5,
        "cop_max": 8.0,
        "sink_temp_c": 45.0,
    }
    dm, out, res = _run(1, 10.0, src)
    p = 10.0 / cop
    assert out.objective == pytest.approx(p * (0.1 + 0.01 * (cop - 1)), abs=TOL)
    assert _energy(res, "shop_booster", "electricity") == pytest.approx(-p, abs=TOL)
    assert _energy(res, "shop") == pytest.approx(10.0 - p, abs=TOL)  # source heat
    assert dm.model.waste_heat.shop.direct[0].value == pytest.approx(0.0, abs=TOL)


def test_availability_limits_the_source_heat():
    # Only 4 kW of source heat: (COP - 1) p <= 4 -> p = 4 / (COP - 1), heat COP p;
    # district heat the rest of 10 kW.
    cop = float(cop_carnot([25.0], 45.0, 0.5, 8.0)[0])
    src = {
        "name": "shop",
        "available_kw": 4.0,
        "temperature_c": 25.0,
        "price_eur_per_kwh": 0.01,
        "booster_kw_el": 5.0,
        "cop_max": 8.0,
        "sink_temp_c": 45.0,
    }
    dm, out, res = _run(1, 10.0, src)
    p = 4.0 / (cop - 1)
    expected = 0.1 * p + 0.01 * 4.0 + 0.08 * (10.0 - cop * p)
    assert out.objective == pytest.approx(expected, abs=TOL)
    assert _energy(res, "shop") == pytest.approx(4.0, abs=TOL)


def test_outside_source_is_an_import_in_the_ped_balance():
    src = {
        "name": "dc",
        "available_kw": 6.0,
        "temperature_c": 60.0,
        "price_eur_per_kwh": 0.02,
        "location": "outside",
        "ped_weight": 0.0,
        "sink_temp_c": 45.0,
    }
    dm, out, res = _run(2, 10.0, src)
    k = kpis(dm, res, out)
    ped = k["ped"]
    # imports: 8 kWh district heat + 12 kWh waste heat (final energy, unweighted)
    assert ped["final_energy"]["import_kwh"] == pytest.approx(20.0, abs=TOL)
    # weighted: district heat 0.5 x 8, waste heat 0 x 12
    assert ped["weighted_energy"]["surplus_kwh"] == pytest.approx(-4.0, abs=TOL)
    heat_import = sum(k["energy_kwh"][c]["import"]["supply"] for c in ("space_heat", "hot_water"))
    assert heat_import == pytest.approx(20.0, abs=TOL)


def test_example_scenario_runs(tmp_path):
    result = CliRunner().invoke(app, ["solve", str(EXAMPLE), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    import json

    k = json.loads((tmp_path / "o" / "kpis.json").read_text())
    used = k["energy_by_asset_kwh"]["supermarket_condensers"]["space_heat_generation_kwh"]
    assert 0 < used <= 110.0 * 168 + 1e-6

"""Solar thermal collectors: the collector equation by hand, a plausible Helsinki yield,
and stagnation (unused heat is not taken)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.ingest.pv import plane_of_array
from pecopt.ingest.weather import typical_year
from pecopt.model.blocks.solar_thermal import SolarThermal, collector_heat_w_m2
from pecopt.model.core import build_model
from pecopt.results.extract import extract
from pecopt.solver import solve
from pecopt.testing import assert_balanced, tiny_inputs

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "solar_thermal.yaml"
LAT, LON = 60.2166, 24.7103


def test_collector_equation_by_hand():
    # beam 600 W/m2 at normal incidence (K_b = 1), diffuse 200 (K_d = 0.9), Ta 20, Tm 50:
    # 0.775 * (600 + 180) - 3.75 * 30 - 0.02 * 900 = 604.5 - 112.5 - 18 = 474 W/m2.
    # At 60 deg incidence K_b = 1 - 0.1 (1 / cos 60 - 1) = 0.9: 0.775 * 720 - 130.5 = 427.5.
    spec = SolarThermal(name="c", area_m2=1.0)
    q = collector_heat_w_m2(
        np.array([600.0, 600.0, 0.0]),
        np.array([200.0, 200.0, 50.0]),
        np.array([0.0, 60.0, 0.0]),
        np.array([20.0, 20.0, -10.0]),
        spec,
    )
    np.testing.assert_allclose(q[:2], [474.0, 427.5], atol=1e-9)
    assert q[2] == 0.0  # 0.775 * 45 = 34.9 W/m2 absorbed, far below the 60 K losses


def test_helsinki_annual_yield_is_plausible():
    # FACTS: at most about 400 kWh/m2/yr for flat plates in Finland
    index = pd.date_range("2025-01-01", "2026-01-01", freq="1h", inclusive="left", tz="UTC")
    wx = typical_year(index, LAT, LON, 20.0)
    poa = plane_of_array(wx, LAT, LON, 20.0, 45.0, 180.0)
    spec = SolarThermal(name="c", area_m2=1.0)
    q = collector_heat_w_m2(
        poa["poa_direct_w_m2"].to_numpy(),
        poa["poa_diffuse_w_m2"].to_numpy(),
        poa["aoi_deg"].to_numpy(),
        wx["temp_air_c"].to_numpy(),
        spec,
    )
    kwh_m2 = q.sum() / 1000.0 * 0.9  # 10 % loop losses
    assert 200.0 <= kwh_m2 <= 450.0, kwh_m2
    monthly = pd.Series(q, index=index).groupby(index.tz_convert("Europe/Helsinki").month).sum()
    assert monthly[12] < 0.05 * monthly[6]  # nothing much in December


def test_stagnation_when_heat_is_not_needed():
    # A June day, 1000 m2 and only 5 kW of heat demand and no store: the collectors give
    # at most the demand, never more (the bus must balance without a sink).
    inputs = tiny_inputs(
        24,
        heat_kw=5.0,
        start=pd.Timestamp("2025-06-16T00:00:00+00:00"),
        district_heating={},
        dh_price=0.08,
        assets={"solar_thermal": [{"name": "st", "area_m2": 1000.0}]},
    )
    avail = inputs.data["solar_thermal"].heat_kw[0]
    assert avail.max() > 50.0
    dm = build_model(inputs)
    solve(dm.model, inputs.common.solver)
    res = extract(dm)
    assert_balanced(res.schedule)
    used = res.schedule.query("asset == 'st'")["flow_kw"].to_numpy()
    np.testing.assert_allclose(used, np.minimum(avail, 5.0), atol=1e-6)


def test_example_scenario_runs(tmp_path):
    result = CliRunner().invoke(app, ["solve", str(EXAMPLE), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    k = json.loads((tmp_path / "o" / "kpis.json").read_text())
    assert k["energy_by_asset_kwh"]["roof_collectors"]["hot_water_generation_kwh"] > 0
    assert k["energy_kwh"]["hot_water"]["generation"]["supply"] > 0

"""The default Kera scenario on a one-week horizon holding the 2025-03-30 DST change."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.scenario import load_scenario
from pecopt.testing import assert_balanced, extending
from pecopt.workflows.solve import run_scenario

pytestmark = pytest.mark.slow  # a week of Kera, hourly and at 15 minutes

KERA = Path(__file__).resolve().parents[1] / "scenarios" / "kera.yaml"
WEEK = {"start": "2025-03-24T00:00", "end": "2025-03-31T00:00"}


def _week(resolution: str = "1h"):
    s = load_scenario(KERA, overrides={"horizon": {**WEEK, "resolution": resolution}})
    run = run_scenario(s, str(KERA))
    return run


@pytest.fixture(scope="module")
def hourly():
    return _week("1h")


@pytest.fixture(scope="module")
def quarter():
    return _week("15min")


def test_week_length_across_dst(hourly):
    # 24-30 March local = 7 days minus the hour lost at the spring change
    assert hourly.inputs.n == 7 * 24 - 1
    assert str(hourly.inputs.index.tz) == "UTC"


def test_every_carrier_balances(hourly):
    sched = hourly.results.schedule
    assert set(sched["carrier"]) == {"electricity", "space_heat", "hot_water"}
    assert_balanced(sched)


def test_carbon_kpis_match_table(hourly):
    k, carbon = hourly.kpis, hourly.results.carbon
    assert k["co2_kg"]["net"] == pytest.approx(carbon["co2_kg"].sum(), rel=1e-9, abs=1e-6)
    gross = carbon.loc[carbon["co2_kg"] > 0, "co2_kg"].sum()
    assert k["co2_kg"]["gross"] == pytest.approx(gross, rel=1e-6, abs=1e-6)


def test_cost_total_is_sum_of_items(hourly):
    cost = hourly.kpis["cost_eur"]
    # items and total are rounded to 1e-6 EUR each in kpis.json
    tol = 1e-6 * (len(cost["items"]) + 1)
    assert cost["total"] == pytest.approx(sum(cost["items"].values()), abs=tol)
    assert cost["total"] == pytest.approx(sum(hourly.results.cost_items_eur.values()), abs=tol)
    # cost objective with carbon price 0: the optimum is the cost total
    assert cost["objective"] == pytest.approx(
        cost["total"] + cost["carbon_cost"], rel=1e-9, abs=1e-5
    )


def test_quarter_hour_week(hourly, quarter):
    assert quarter.inputs.n == 4 * hourly.inputs.n
    assert_balanced(quarter.results.schedule)
    # demand is hour-constant data resampled: the energy totals agree
    for attr in ("elec_kw", "space_heat_kw", "hot_water_kw"):
        e1 = getattr(hourly.inputs.data["demand"], attr).sum() * hourly.inputs.dt_h
        e4 = getattr(quarter.inputs.data["demand"], attr).sum() * quarter.inputs.dt_h
        assert e4 == pytest.approx(e1, rel=1e-3)
    # PV/weather vary within the hour at 15 min: only a loose agreement on totals
    pv1 = hourly.inputs.data["pv_series"].available_kw.sum() * hourly.inputs.dt_h
    pv4 = quarter.inputs.data["pv_series"].available_kw.sum() * quarter.inputs.dt_h
    assert pv4 == pytest.approx(pv1, rel=0.05)


def test_cli_writes_all_files(tmp_path):
    out = tmp_path / "out"
    yaml = extending(tmp_path / "kera_week.yaml", KERA, {"horizon": WEEK})
    result = CliRunner().invoke(app, ["solve", str(yaml), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    sched = pd.read_parquet(out / "schedule.parquet")
    assert list(sched.columns) == ["timestamp", "asset", "carrier", "role", "flow_kw"]
    assert str(sched["timestamp"].dt.tz) == "UTC"
    assert_balanced(sched)
    storage = pd.read_parquet(out / "storage.parquet")
    assert list(storage.columns) == ["timestamp", "asset", "soc_kwh"]
    carbon = pd.read_parquet(out / "carbon.parquet")
    assert list(carbon.columns) == ["timestamp", "source", "co2_kg"]
    kpis = json.loads((out / "kpis.json").read_text())
    assert {
        "cost_eur",
        "co2_kg",
        "ped",
        "self_sufficiency",
        "peak_import_kw",
        "solver",
    } <= set(kpis)
    assert kpis["co2_kg"]["net"] == pytest.approx(carbon["co2_kg"].sum(), rel=1e-6, abs=1e-6)
    # the reported residuals are the schedule's own: recompute them from the file
    sums = sched.groupby(["timestamp", "carrier"])["flow_kw"].sum().abs()
    for carrier, worst in sums.groupby(level="carrier").max().items():
        assert kpis["balance"][f"max_residual_{carrier}_kw"] == pytest.approx(worst, abs=1e-9)
        assert worst <= 1e-6 * kpis["balance"]["max_abs_flow_kw"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert {
        "pecopt",
        "python",
        "dependencies",
        "scenario",
        "input_files",
        "solver_options",
        "seconds",
        "model_size",
        "peak_memory_mb",
    } <= set(manifest)
    assert (out / "inputs").is_dir()
    assert np.isfinite(sched["flow_kw"]).all()

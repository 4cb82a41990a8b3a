"""``scenarios/kera_dispatch.yaml``, the whole Kera district as a nightly job: on a fresh
install (embedded stand-ins, flagged) for a day of 2025, and on real files from
``../shared/data`` (2024 day-ahead prices, Helsinki-Vantaa temperatures, IWEC irradiance
as the forecast) for two nights in a row."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.testing import assert_balanced

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "kera_dispatch.yaml"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SPOT = DATA / "spot_fi_npf" / "spot_fi_eur_per_mwh_ex_vat.csv"
EPW = DATA / "weather_helsinki_epw" / "FIN_Helsinki.029740_IWEC.epw"
runner = CliRunner()
OUTPUTS = {"schedule.parquet", "storage.parquet", "carbon.parquet", "kpis.json",
           "manifest.json", "setpoints.parquet", "setpoints.csv", "inputs"}  # fmt: skip


def _night(scenario: Path, day: str, state: Path, out: Path) -> dict:
    res = runner.invoke(
        app, ["dispatch", str(scenario), "--day", day, "--state", str(state), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert_balanced(pd.read_parquet(out / "schedule.parquet"))
    return json.loads((out / "manifest.json").read_text())["dispatch"]


def test_kera_dispatch_on_a_fresh_install(tmp_path: Path) -> None:
    info = _night(SCENARIO, "2025-07-15", tmp_path / "state", tmp_path / "out")
    assert info["plan"] == "optimal" and info["window_steps"] == 96
    stand_ins = [f["message"] for f in info["flags"] if f["code"] == "stand_in"]
    assert stand_ins == [
        "weather: the embedded typical year (no forecast given)",
        "spot prices: the embedded typical-year shape",
    ]
    sp = pd.read_parquet(tmp_path / "out" / "setpoints.parquet")
    per_asset = sp.groupby(["asset", "carrier", "role"]).size()
    assert (per_asset == 96).all()
    assets = set(sp["asset"])
    assert {"grid", "shared_battery", "gshp", "hot_water_store"} <= assets
    assert any(a.startswith("residents/") for a in assets)
    battery = sp[sp["asset"] == "shared_battery"]
    assert battery["soc_kwh"].between(0, 1000).all()


def test_stand_ins_not_allowed_make_the_night_degraded(tmp_path: Path) -> None:
    # an operator who forgot the price and weather files: a plan, but exit 10 every night
    scenario = tmp_path / "forgot.yaml"
    scenario.write_text(f"base: {SCENARIO}\ndispatch: {{stand_ins: degraded}}\n")
    res = runner.invoke(
        app, ["dispatch", str(scenario), "--day", "2025-07-15", "--state",
              str(tmp_path / "state"), "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert res.exit_code == 10, res.output
    info = json.loads((tmp_path / "out" / "manifest.json").read_text())["dispatch"]
    levels = {f["level"] for f in info["flags"] if f["code"] == "stand_in"}
    assert levels == {"degraded"} and info["status"] == "degraded"


@pytest.mark.slow
@pytest.mark.skipif(not SPOT.is_file() or not EPW.is_file(), reason=f"no real data in {DATA}")
def test_kera_dispatch_on_real_files(tmp_path: Path) -> None:
    from pecopt.ingest.weather import read_weather_file

    days = pd.date_range("2024-01-14", "2024-01-20", freq="15min", tz="UTC", inclusive="left")
    wx = read_weather_file(EPW, "epw", days)
    real = pd.read_csv(SPOT)
    temp = pd.Series(
        real["temp_helsinki_vantaa_c"].to_numpy(float),
        index=pd.DatetimeIndex(pd.to_datetime(real["timestamp_utc"], utc=True)),
    )
    forecast = pd.DataFrame(
        {
            "timestamp": days.strftime("%Y-%m-%dT%H:%MZ"),
            "GHI": wx["ghi_w_m2"].to_numpy(),
            "T": temp.reindex(days.floor("1h")).to_numpy(),
        }
    )  # a GHI-and-temperature forecast: DNI/DHI decomposed, wind from the typical year
    forecast.to_csv(tmp_path / "forecast.csv", index=False)
    doc = yaml.safe_load(SCENARIO.read_text())
    doc["weather"] = {"source": "forecast", "path": str(tmp_path / "forecast.csv"),
                      "columns": {"ghi_w_m2": "GHI", "temp_air_c": "T"}}  # fmt: skip
    doc["assets"]["grid"]["tariff"]["spot"] = {
        "source": "file", "path": str(SPOT), "column": "spot_eur_per_mwh",
        "time_column": "timestamp_utc", "unit": "eur_per_mwh",
    }  # fmt: skip
    scenario = tmp_path / "kera_real.yaml"
    scenario.write_text(yaml.safe_dump(doc, sort_keys=False))

    first = _night(scenario, "2024-01-15", tmp_path / "state", tmp_path / "d1")
    codes = [f["code"] for f in first["flags"]]
    assert "prices_filled" not in codes and "stand_in" not in codes
    assert any("no wind_speed_m_s column" in f["message"] for f in first["flags"])
    prices = pd.read_parquet(tmp_path / "d1" / "inputs" / "grid_prices.parquet")
    hour = pd.Timestamp("2024-01-14T22:00Z")  # 00:00 local on the 15th
    in_file = real.set_index(pd.to_datetime(real["timestamp_utc"], utc=True))["spot_eur_per_mwh"]
    at = prices[pd.DatetimeIndex(prices["timestamp"]) == hour]["spot_eur_per_kwh"].item()
    assert at == pytest.approx(in_file[hour] / 1000.0)
    second = _night(scenario, "2024-01-16", tmp_path / "state", tmp_path / "d2")
    st = pd.read_parquet(tmp_path / "d1" / "storage.parquet")
    boundary = pd.Timestamp("2024-01-15T21:45Z")
    levels = st[pd.DatetimeIndex(st["timestamp"]) == boundary].set_index("asset")["soc_kwh"]
    start = second["start_state"]["model"]  # what the solved model started from
    for asset in ("shared_battery", "hot_water_store"):
        assert abs(start[asset]["soc_kwh"] - max(levels[asset], 0.0)) <= 1e-6
    evs = sorted(a for a, q in start.items() if "/" in a and "soc_kwh" in q)
    assert len(evs) >= 30
    got = np.array([start[v]["soc_kwh"] for v in evs])
    want = np.array([max(levels[v], 0.0) for v in evs])
    assert np.abs(got - want).max() <= 1e-6
    peak = "district_heat", "billing_peak_kw"
    assert start[peak[0]][peak[1]] >= first["start_state"]["model"][peak[0]][peak[1]]
    assert max(start[v]["soc_kwh"] for v in evs) > 60.0  # fleets of copies: above one car

"""Nightly dispatch, night after night, on a reduced Kera district (3 buildings, a
battery, a hot-water store, a heat pump with minimum on/off times, district heat with a
power fee, 5 EVs), 15-minute steps, a 24-hour look-ahead.

Spring: seven consecutive nights, 27 March to 2 April 2025, with the change to summer
time (30 March: 92 quarter-hours), a night whose look-ahead has no prices yet, a night
whose own prices are partly missing (degraded, exit 10), a run killed while it writes
the state (the store stays intact and the next run succeeds) and a re-run of the same
day (the same plan). Autumn: seven nights, 23 to 29 October, with the change back
(26 October: 100 quarter-hours). Each night must start from the state the previous night left at the
delivery-day boundary (within 1e-6 kWh) and every step must balance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.state import StateStore
from pecopt.testing import assert_balanced

pytestmark = pytest.mark.slow  # seven nights of 15-minute dispatch, twice

TZ = "Europe/Helsinki"
runner = CliRunner()


def _district(folder: Path, first: str, last: str) -> Path:
    """Write the reduced district, its weather forecast and a price file covering
    ``first`` - 1 day to ``last`` + 2 days (hourly, EUR/MWh); return the scenario."""
    from pecopt.ingest.spot import typical_spot_eur_per_kwh
    from pecopt.ingest.weather import typical_year

    lo = pd.Timestamp(first).tz_localize(TZ) - pd.Timedelta(days=1)
    hi = pd.Timestamp(last).tz_localize(TZ) + pd.Timedelta(days=3)
    idx = pd.date_range(lo.tz_convert("UTC"), hi.tz_convert("UTC"), freq="15min", name="timestamp")
    wx = typical_year(idx, 60.2166, 24.7103, 20.0)
    wx.index = idx.strftime("%Y-%m-%dT%H:%MZ")
    wx.rename_axis("timestamp").to_csv(folder / "forecast.csv", float_format="%.3f")
    hours = pd.date_range(lo.tz_convert("UTC"), hi.tz_convert("UTC"), freq="1h")
    spot = typical_spot_eur_per_kwh(pd.DatetimeIndex(hours)).to_numpy() * 1000.0
    pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%MZ"), "eur_mwh": spot}).to_csv(
        folder / "all_prices.csv", index=False
    )
    arch = {"elec_kwh_m2_yr": 35, "space_heat_kwh_m2_yr": 55, "hot_water_kwh_m2_yr": 35}
    doc = {
        "site": {"name": "reduced Kera", "latitude": 60.2166, "longitude": 24.7103,
                 "altitude_m": 20, "timezone": TZ},
        "horizon": {"start": "2025-03-27T00:00", "end": "2025-03-28T00:00"},
        "dispatch": {"resolution": "15min", "lookahead_h": 24, "time_limit_s": 60,
                     "end_value_eur_per_kwh": {"electricity": 0.05, "heat": 0.02}},
        "weather": {"source": "forecast", "path": "forecast.csv"},
        "buildings": [
            {"name": "apt", "archetype": {"use": "apartment", "floor_area_m2": 6000, **arch},
             "pv": [{"name": "apt_pv", "kwp": 110, "tilt_deg": 15}]},
            {"name": "office", "archetype": {"use": "office", "floor_area_m2": 5000,
                                             "elec_kwh_m2_yr": 70, "space_heat_kwh_m2_yr": 45,
                                             "hot_water_kwh_m2_yr": 6}},
            {"name": "shop", "archetype": {"use": "retail", "floor_area_m2": 2000,
                                           "elec_kwh_m2_yr": 110, "space_heat_kwh_m2_yr": 40,
                                           "hot_water_kwh_m2_yr": 3},
             "pv": [{"name": "shop_pv", "kwp": 80, "tilt_deg": 10}]},
        ],
        "assets": {
            "grid": {"import_max_kw": 3000, "export_max_kw": 2000,
                     "tariff": {"spot": {"source": "file", "path": "prices.csv",
                                         "column": "eur_mwh", "unit": "eur_per_mwh"},
                                "retail_margin_eur_per_kwh": 0.005,
                                "network": {"default_eur_per_kwh": 0.035}}},
            "batteries": [{"name": "battery", "capacity_kwh": 200, "power_kw": 100,
                           "soc_initial_kwh": 100, "end": "value",
                           "end_value_eur_per_kwh": 0.05, "wear_eur_per_kwh": 0.01}],
            "heat_pumps": [{"name": "gshp", "source": "ground", "capacity_kw_el": 80,
                            "min_part_load": 0.3, "min_on_h": 1, "min_off_h": 1}],
            "thermal_stores": [{"name": "tank", "capacity_kwh": 2000, "power_kw": 400}],
            "district_heating": {"import_max_kw": 3000,
                                 "tariff": {"summer_eur_per_kwh": 0.036,
                                            "winter_eur_per_kwh": 0.068,
                                            "power_fee_eur_per_kw_yr": 48.0}},
            "ev_fleets": [{"name": "ev", "capacity_kwh": 60, "soc_initial_kwh": 30,
                           "end": "free",
                           "synthetic": {"vehicles": 5, "drive_kwh_per_day": 9, "seed": 1}}],
        },
        "solver": {"mip_rel_gap": 1e-6},
    }  # fmt: skip
    path = folder / "district.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _prices_until(folder: Path, end_local: str) -> None:
    """The day-ahead file as it is that evening: prices up to ``end_local`` (exclusive)."""
    allp = pd.read_csv(folder / "all_prices.csv")
    t = pd.DatetimeIndex(pd.to_datetime(allp["timestamp"], utc=True))
    end = pd.Timestamp(end_local).tz_localize(TZ).tz_convert("UTC")
    allp[t < end].to_csv(folder / "prices.csv", index=False)


def _night(folder: Path, day: str, out: str, code: int = 0) -> dict:
    res = runner.invoke(
        app,
        ["dispatch", str(folder / "district.yaml"), "--day", day, "--state",
         str(folder / "state"), "--out", str(folder / out)],
    )  # fmt: skip
    assert res.exit_code == code, res.output
    return json.loads((folder / out / "manifest.json").read_text())["dispatch"]


def _check_night(folder: Path, out: str, info: dict, steps: int) -> None:
    """The window, the balance, and that the model took the carried start state."""
    assert info["window_steps"] == steps
    sched = pd.read_parquet(folder / out / "schedule.parquet")
    assert_balanced(sched)
    scen = json.loads((folder / out / "inputs" / "scenario.json").read_text())
    start = info["start_state"]["state"]
    assert scen["assets"]["batteries"][0]["soc_initial_kwh"] == start["battery"]["soc_kwh"]
    assert scen["assets"]["thermal_stores"][0]["soc_initial_kwh"] == start["tank"]["soc_kwh"]
    assert scen["assets"]["thermal_stores"][0]["end"] == "value"  # cyclic in the file
    fleet = scen["assets"]["ev_fleets"][0]
    for v, e in fleet["initial_energy_kwh"].items():
        assert start[f"ev/{v}"]["soc_kwh"] == pytest.approx(e * fleet["copies"], abs=1e-9)


def _boundary(folder: Path, out: str, info: dict) -> dict[str, float]:
    """Levels at the end of the delivery window of a night [kWh], by asset."""
    st = pd.read_parquet(folder / out / "storage.parquet")
    last = pd.Timestamp(info["window_utc"][1]) - pd.Timedelta("15min")
    at = st[pd.DatetimeIndex(st["timestamp"]) == last]
    return dict(zip(at["asset"], at["soc_kwh"], strict=True))


def _continuous(before: dict[str, float], info: dict) -> None:
    """The next night's start state is the previous night's boundary, within 1e-6 kWh."""
    start = info["start_state"]["state"]
    got = {a: q["soc_kwh"] for a, q in start.items() if "soc_kwh" in q}
    assert set(got) == set(before)
    for asset, level in before.items():
        assert abs(got[asset] - min(max(level, 0.0), 1e9)) <= 1e-6, asset


def _kill_while_committing(folder: Path, day: str, out: str) -> None:
    """Run one night in a fresh process and SIGKILL it inside the state transaction."""
    code = (
        "import os, signal, sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from pecopt.workflows.dispatch import dispatch\n"
        "def progress(phase):\n"
        "    if phase == 'commit state':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        f"dispatch(Path({str(folder / 'district.yaml')!r}), Path({str(folder / out)!r}),\n"
        f"         Path({str(folder / 'state')!r}), day=date.fromisoformat({day!r}),\n"
        "         progress=progress)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={
        **os.environ, "XDG_STATE_HOME": str(folder / "xdg")})  # fmt: skip
    assert proc.returncode == -9, proc.stderr


def test_seven_spring_nights(tmp_path: Path) -> None:
    scenario = _district(tmp_path, "2025-03-27", "2025-04-02")
    assert scenario.is_file()
    days = pd.date_range("2025-03-27", "2025-04-02", freq="D").strftime("%Y-%m-%d")
    prev: tuple[str, dict] | None = None
    billing: list[tuple[str, float]] = []
    for k, day in enumerate(days):
        d = pd.Timestamp(day)
        nxt = (d + pd.Timedelta(days=2)).strftime("%Y-%m-%d")  # both days known
        code = 0
        if day == "2025-03-29":  # a run killed while writing the state
            _prices_until(tmp_path, nxt)
            before = StateStore(tmp_path / "state").runs()
            _kill_while_committing(tmp_path, day, f"night{k}")
            with StateStore(tmp_path / "state") as store:
                assert store.integrity() == "ok"
                assert len(store.runs()) == len(before)  # the killed run left nothing
        if day == "2025-03-30":  # the look-ahead's prices are not out yet
            nxt = (d + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        if day == "2025-04-01":  # this day's own prices end at noon: degraded
            nxt = f"{day}T12:00"
            code = 10
        _prices_until(tmp_path, nxt)
        info = _night(tmp_path, day, f"night{k}", code)
        _check_night(tmp_path, f"night{k}", info, 92 if day == "2025-03-30" else 96)
        codes = {f["code"] for f in info["flags"]}
        if day == "2025-03-30":
            assert "prices_filled" in codes and info["exit_code"] == 0
            prices = pd.read_parquet(tmp_path / f"night{k}" / "inputs" / "grid_prices.parquet")
            filled = prices["spot_filled"].to_numpy()
            assert not filled[:92].any() and filled[92:].all()  # the look-ahead only
        if day == "2025-04-01":
            assert info["status"] == "degraded"
            assert any(f["code"] == "prices_filled" and f["level"] == "degraded"
                       for f in info["flags"])  # fmt: skip
        if day == "2025-03-31":  # a re-run of the same day gives the same plan
            again = _night(tmp_path, day, f"night{k}_again", code)
            a = pd.read_parquet(tmp_path / f"night{k}" / "schedule.parquet")
            b = pd.read_parquet(tmp_path / f"night{k}_again" / "schedule.parquet")
            assert again["start_state"] == info["start_state"]
            assert np.abs(a["flow_kw"].to_numpy() - b["flow_kw"].to_numpy()).max() <= 1e-6
        if prev is not None:
            _continuous(_boundary(tmp_path, *prev), info)
            assert info["start_state"]["source"] == "exact"
        else:
            assert info["start_state"]["source"] == "none"
        prev = (f"night{k}", info)
        billing.append((day, info["start_state"]["state"]["district_heat"]["billing_peak_kw"]))
    with StateStore(tmp_path / "state") as store:
        runs = store.runs()
    assert [r.day for r in reversed(runs)] == [*days[:5], days[4], *days[5:]]
    assert [r.exit_code for r in reversed(runs)] == [0, 0, 0, 0, 0, 0, 10, 0]
    peaks = [peak for _, peak in billing]
    assert peaks == sorted(peaks)  # the billing peak so far never falls
    res = runner.invoke(app, ["runs", "list", "--state", str(tmp_path / "state")])
    assert res.exit_code == 0 and "2025-03-30" in res.output and "degraded" in res.output


def test_seven_autumn_nights(tmp_path: Path) -> None:
    _district(tmp_path, "2025-10-23", "2025-10-29")
    prev = None
    days = pd.date_range("2025-10-23", "2025-10-29", freq="D").strftime("%Y-%m-%d")
    for k, day in enumerate(days):
        _prices_until(tmp_path, (pd.Timestamp(day) + pd.Timedelta(days=2)).strftime("%Y-%m-%d"))
        info = _night(tmp_path, day, f"n{k}")
        _check_night(tmp_path, f"n{k}", info, 100 if day == "2025-10-26" else 96)
        if day == "2025-10-26":
            assert info["window_local"] == [
                "2025-10-26T00:00:00+03:00",
                "2025-10-27T00:00:00+02:00",
            ]
            sp = pd.read_csv(tmp_path / f"n{k}" / "setpoints.csv")
            battery = sp[sp["asset"] == "battery"]
            assert len(battery) == 100
            assert battery["local_time"].str.startswith("2025-10-26T03:").sum() == 8
        if prev is not None:
            _continuous(_boundary(tmp_path, *prev), info)
        prev = (f"n{k}", info)

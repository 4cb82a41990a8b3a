"""Forecast slips on Kera's nightly job (``scenarios/kera_dispatch.yaml``: 15-minute
steps, a 48-hour look-ahead, EV fleets of ``copies``): temperatures in kelvin or
Fahrenheit, irradiance 12 hours off and prices in EUR/MWh are planned on and flagged
degraded (exit 10), or refused under ``--strict`` (exit 2, nothing written, the state
store as it was); holes inside the delivery day are filled and flagged (exit 10); clean
forecasts, a daylight-saving day and a real winter month raise no flag. The rules'
thresholds are checked at their edges on values worked out by hand."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import DataError
from pecopt.ingest.forecast import Forecast, read_forecast
from pecopt.ingest.forecast_checks import price_findings, weather_findings
from pecopt.ingest.timeseries import read_series_file
from pecopt.ingest.weather import typical_year
from pecopt.testing import assert_balanced

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "kera_dispatch.yaml"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SPOT = DATA / "spot_fi_npf" / "spot_fi_eur_per_mwh_ex_vat.csv"
EPW = DATA / "weather_helsinki_epw" / "FIN_Helsinki.029740_IWEC.epw"
SITE = {"latitude": 60.2166, "longitude": 24.7103, "altitude": 20.0}
TZ = "Europe/Helsinki"
FLUX = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2")
runner = CliRunner()
Edit = Callable[[pd.DataFrame], pd.DataFrame]


def _utc(day: str, days: int = 0) -> pd.Timestamp:
    """Local time ``day`` (plus ``days`` local days) in UTC."""
    return (pd.Timestamp(day) + pd.Timedelta(days=days)).tz_localize(TZ).tz_convert("UTC")


def _kera(folder: Path, day: str, weather: Edit | None = None, prices: Edit | None = None) -> Path:
    """Kera's nightly job on a weather forecast (the embedded typical year, all five
    columns under a provider's names) and a price file in EUR/kWh (the embedded shape,
    the last 8 days up to the end of ``day``), each changed by ``weather``/``prices``."""
    folder.mkdir(parents=True, exist_ok=True)
    steps = pd.date_range(_utc(day), _utc(day, 3), freq="15min", inclusive="left", name="timestamp")
    wx = typical_year(steps, **SITE).rename(
        columns={"ghi_w_m2": "GHI", "dni_w_m2": "DNI", "dhi_w_m2": "DHI", "temp_air_c": "T2m"}
    )
    wx = weather(wx) if weather else wx
    wx.index = pd.DatetimeIndex(wx.index).strftime("%Y-%m-%dT%H:%MZ")
    wx.rename_axis("timestamp").to_csv(folder / "forecast.csv", float_format="%.4f")
    from pecopt.ingest.spot import typical_spot_eur_per_kwh

    hours = pd.date_range(_utc(day, -7), _utc(day, 1), freq="1h", inclusive="left")
    p = pd.DataFrame(
        {"price": typical_spot_eur_per_kwh(hours, tz=TZ).to_numpy()}, index=hours.rename("ts")
    )
    p = prices(p) if prices else p
    p.index = pd.DatetimeIndex(p.index).strftime("%Y-%m-%dT%H:%MZ")
    p.to_csv(folder / "prices.csv", float_format="%.6f")
    doc = yaml.safe_load(SCENARIO.read_text())
    doc["dispatch"].pop("stand_ins")  # real operation: forecast and price files
    doc["weather"] = {
        "source": "forecast", "path": str(folder / "forecast.csv"),
        "columns": {"ghi_w_m2": "GHI", "dni_w_m2": "DNI", "dhi_w_m2": "DHI", "temp_air_c": "T2m"},
    }  # fmt: skip
    doc["assets"]["grid"]["tariff"]["spot"] = {
        "source": "file", "path": str(folder / "prices.csv"), "column": "price",
        "time_column": "ts", "unit": "eur_per_kwh",
    }  # fmt: skip
    path = folder / "kera.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(scenario: Path, day: str, state: Path, out: Path, *more: str) -> tuple[int, str]:
    args = ["dispatch", str(scenario), "--day", day, "--state", str(state), "--out", str(out)]
    res = runner.invoke(app, [*args, *more])
    text = res.output + (res.stderr if res.stderr_bytes is not None else "")
    assert "Traceback" not in text
    return res.exit_code, text


def _flags(out: Path) -> list[dict[str, str]]:
    flags: list[dict[str, str]] = json.loads((out / "manifest.json").read_text())["dispatch"][
        "flags"
    ]
    return flags


def _bytes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "pecopt-state.lock"
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state store after a clean night of 9 March 2025 (exit 0, no flag but notices)."""
    folder = tmp_path_factory.mktemp("store")
    s = _kera(folder, "2025-03-09")
    code, text = _run(s, "2025-03-09", folder / "state", folder / "out")
    assert code == 0, text
    return folder / "state"


def _kelvin(w: pd.DataFrame) -> pd.DataFrame:
    return w.assign(T2m=w["T2m"] + 273.15)


def _fahrenheit(w: pd.DataFrame) -> pd.DataFrame:
    return w.assign(T2m=w["T2m"] * 1.8 + 32.0)


def _twelve_hours_off(w: pd.DataFrame) -> pd.DataFrame:
    return w.assign(**{c: np.roll(w[c].to_numpy(), 48) for c in ("GHI", "DNI", "DHI")})


def _day_in_eur_per_mwh(p: pd.DataFrame) -> pd.DataFrame:
    day = pd.DatetimeIndex(p.index) >= _utc("2025-03-10")
    return p.assign(price=np.where(day, p["price"] * 1000.0, p["price"]))


SLIPS = {
    "kelvin": (_kelvin, None, "forecast.csv", "T2m", "kelvin?"),
    "fahrenheit": (_fahrenheit, None, "forecast.csv", "T2m", "from the typical March"),
    "12h-off": (_twelve_hours_off, None, "forecast.csv", "GHI", "while the sun is down"),
    "eur-per-mwh": (None, _day_in_eur_per_mwh, "prices.csv", "price", "EUR/MWh or c/kWh"),
}


@pytest.mark.parametrize("slip", SLIPS, ids=list(SLIPS))
def test_a_slipped_forecast_is_flagged_or_refused_under_strict(tmp_path, store, slip):
    weather, prices, file, column, words = SLIPS[slip]
    state = tmp_path / "state"
    shutil.copytree(store, state)
    s = _kera(tmp_path, "2025-03-10", weather, prices)
    before = _bytes(state)

    code, text = _run(s, "2025-03-10", state, tmp_path / "strict", "--strict")
    assert code == 2, text
    line = text.replace("\n", "")
    assert line.startswith("error: ") and f"{tmp_path / file}: {column}: " in line, line
    assert words in line and "--strict" in line, line
    assert not (tmp_path / "strict").exists()  # nothing written
    assert _bytes(state) == before  # the state store as it was

    code, text = _run(s, "2025-03-10", state, tmp_path / "out")
    assert code == 10, text
    doubts = [f for f in _flags(tmp_path / "out") if f["code"] == "implausible_forecast"]
    assert doubts and all(f["level"] == "degraded" for f in doubts)
    assert any(f"{tmp_path / file}: {column}: " in f["message"] for f in doubts), doubts
    assert any(words in f["message"] for f in doubts), doubts
    assert_balanced(pd.read_parquet(tmp_path / "out" / "schedule.parquet"))
    listed = runner.invoke(app, ["runs", "list", "--state", str(state)]).output
    assert "implausible_forecast" in listed and "degraded" in listed, listed


def _six_hours_of_weather_missing(w: pd.DataFrame) -> pd.DataFrame:
    t = pd.DatetimeIndex(w.index)
    return w[(t < _utc("2025-03-10 09:00")) | (t >= _utc("2025-03-10 15:00"))]


def _six_hours_of_prices_missing(p: pd.DataFrame) -> pd.DataFrame:
    t = pd.DatetimeIndex(p.index)
    hole = (t >= _utc("2025-03-10 09:00")) & (t < _utc("2025-03-10 15:00"))
    return p.assign(price=np.where(hole, np.nan, p["price"]))  # empty cells


def test_six_hours_missing_inside_the_day_are_filled_and_flagged(tmp_path, store):
    state = tmp_path / "state"
    shutil.copytree(store, state)
    s = _kera(tmp_path, "2025-03-10", _six_hours_of_weather_missing, _six_hours_of_prices_missing)
    code, text = _run(s, "2025-03-10", state, tmp_path / "out")
    assert code == 10, text
    flags = _flags(tmp_path / "out")
    degraded = {f["code"] for f in flags if f["level"] == "degraded"}
    assert degraded == {"weather_filled", "prices_filled"}, flags
    weather_note = next(f["message"] for f in flags if f["code"] == "weather_filled")
    assert "missing for 24 steps inside the file" in weather_note, weather_note
    assert "interpolated linearly in time" in weather_note, weather_note

    inputs = tmp_path / "out" / "inputs"
    wx = pd.read_parquet(inputs / "weather.parquet").set_index("timestamp")["temp_air_c"]
    a, b = _utc("2025-03-10 08:45"), _utc("2025-03-10 15:00")  # the values either side
    t = _utc("2025-03-10 12:00")
    want = wx[a] + (wx[b] - wx[a]) * ((t - a) / (b - a))
    assert wx[t] == pytest.approx(want, abs=1e-9)
    grid = pd.read_parquet(inputs / "grid_prices.parquet").set_index("timestamp")
    day = (grid.index >= _utc("2025-03-10")) & (grid.index < _utc("2025-03-11"))
    filled = grid["spot_filled"].to_numpy(bool) & day
    assert filled.sum() == 24 and grid.index[filled][0] == _utc("2025-03-10 09:00")
    assert np.isfinite(grid["spot_eur_per_kwh"]).all()
    assert_balanced(pd.read_parquet(tmp_path / "out" / "schedule.parquet"))


@pytest.mark.parametrize("day", ["2025-03-10", "2025-03-30", "2025-10-26"])
def test_a_clean_forecast_raises_no_flag(tmp_path, day):
    # 30 March and 26 October 2025: the daylight-saving days (92 and 100 quarter-hours)
    s = _kera(tmp_path, day)
    code, text = _run(s, day, tmp_path / "state", tmp_path / "out")
    assert code == 0, text
    flags = _flags(tmp_path / "out")
    assert not [f for f in flags if f["level"] == "degraded"], flags
    assert "implausible_forecast" not in {f["code"] for f in flags}


# ------------------------------------------------- the rules on values worked out by hand


def _forecast(raw: pd.DataFrame) -> Forecast:
    n = len(raw)
    return Forecast(raw, np.zeros(n, bool), [], np.zeros(n, bool), raw, {c: c for c in raw})


def _day(day: str, **values: float) -> pd.DataFrame:
    index = pd.date_range(_utc(day), periods=96, freq="15min", name="timestamp")
    return pd.DataFrame(values, index=index)


def _weather(raw: pd.DataFrame) -> list[str]:
    return [f.problem for f in weather_findings(_forecast(raw), "fc.csv", **SITE, tz=TZ)]


@pytest.mark.parametrize(
    ("day", "mean", "doubt"),
    [
        # March: -1 degC, sigma 2.37 K: the band is max(5 x 2.37, 20) = 20 K
        ("2025-03-10", 18.9, False),
        ("2025-03-10", 19.1, True),
        ("2025-03-10", -20.9, False),
        ("2025-03-10", -21.1, True),
        # January: -3.9 degC, sigma 5.07 K: 5 x 5.07 = 25.35 K
        ("2025-01-15", -29.2, False),
        ("2025-01-15", -29.3, True),
        # the range: -60..50 degC
        ("2025-07-15", 49.9, True),  # far from July's 16.7 degC (band 20 K)
        ("2025-07-15", 50.1, True),
    ],
)
def test_the_typical_month_band(day, mean, doubt):
    found = _weather(_day(day, temp_air_c=mean))
    assert bool(found) == doubt, found
    if mean > 50:
        assert found == [
            "96 values outside -60..50 degC (from 50.1 to 50.1): Fahrenheit? "
            "(the median 50.1 F is 10.1 degC)"
        ]


def test_irradiance_while_the_sun_is_down():
    # 15 March, Espoo: the sun rises about 06:25 and sets about 18:15 local (UTC+2)
    raw = _day("2025-03-15", ghi_w_m2=0.0, temp_air_c=0.0)
    night = _utc("2025-03-15 02:00")  # 4 hours from either twilight
    dusk = _utc("2025-03-15 18:30")  # within the hour's margin of sunset
    raw.loc[night, "ghi_w_m2"] = 9.9
    raw.loc[dusk, "ghi_w_m2"] = 50.0
    assert _weather(raw) == []
    raw.loc[night, "ghi_w_m2"] = 10.1
    assert _weather(raw) == [
        "1 steps above 10 W/m2 while the sun is down (up to 10 W/m2 at 2025-03-15 02:00 "
        "+0200 local): shifted in time (a 12-hour clock, a time zone)?"
    ]


def test_the_sun_elevation_without_pvlib_is_pvlibs_within_a_degree():
    import pvlib

    from pecopt.ingest.forecast_checks import sun_elevation_deg

    t = pd.date_range("2025-01-01", "2026-01-01", freq="20min", tz="UTC")
    for lat, lon in ((60.2166, 24.7103), (69.0, 27.0), (40.0, -3.7)):
        ref = pvlib.solarposition.get_solarposition(t, lat, lon)["elevation"].to_numpy()
        assert np.abs(sun_elevation_deg(t, lat, lon) - ref).max() < 1.0


def test_the_price_level_against_the_recent_range():
    index = pd.date_range(_utc("2025-03-10"), periods=24, freq="1h")
    past = pd.date_range(_utc("2025-03-03"), _utc("2025-03-10"), freq="1h", inclusive="left")
    # daily means 0.04, 0.05, ..., 0.10 EUR/kWh: spread 0.06, band [-0.56, 0.70]
    level = 0.04 + 0.01 * ((past - past[0]) // pd.Timedelta(days=1))
    recent = pd.Series(np.asarray(level, dtype=float), index=past)

    def doubts(day_mean: float) -> list[str]:
        known = np.full(24, day_mean)
        return [f.problem for f in price_findings(index, known, recent, "p.csv", "price", tz=TZ)]

    assert doubts(0.699) == [] and doubts(-0.559) == []
    assert "outside the last 7 days' daily means 0.0400 to 0.1000" in doubts(0.701)[0]
    assert doubts(-0.561) != []
    flat = pd.Series(0.05, index=past)  # no spread: the floor of 0.03 EUR/kWh, band [-0.25, 0.35]
    found = price_findings(index, np.full(24, 0.351), flat, "p.csv", "price", tz=TZ)
    assert found and found[0].field == "price" and found[0].kind == "price"
    assert price_findings(index, np.full(24, 0.349), flat, "p.csv", "price", tz=TZ) == []
    # c/kWh read as EUR/MWh on a day like the last week's: 10 x
    assert price_findings(index, np.full(24, 0.5), flat, "p.csv", "price", tz=TZ) != []
    # a unit slip whatever the history: above 1 EUR/kWh
    slip = price_findings(index, np.full(24, 1.01), pd.Series(dtype=float), "p", "c", tz=TZ)
    assert "EUR/MWh or c/kWh read as EUR/kWh?" in slip[0].problem


def test_holes_in_a_file_are_nan_only_when_asked(tmp_path):
    t = pd.date_range("2025-03-10", periods=8, freq="1h", tz="UTC")
    frame = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%MZ"), "x": np.arange(8.0)})
    frame.loc[3, "x"] = np.nan  # an empty cell
    path = tmp_path / "x.csv"
    frame.drop(index=[5]).to_csv(path, index=False)  # a missing row
    index = pd.date_range(t[0], periods=8, freq="30min")
    with pytest.raises(DataError, match="missing or irregular timestamps"):
        read_series_file(path, {"x": "x"}, index)
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="missing value in line 5"):
        read_series_file(path, {"x": "x"}, index)
    frame.drop(index=[5]).to_csv(path, index=False)
    got = read_series_file(path, {"x": "x"}, index, holes=True)["x"].to_numpy()
    np.testing.assert_array_equal(got, [0, 0, 1, 1, 2, 2, np.nan, np.nan])
    frame["x"] = frame["x"].astype(object)
    frame.loc[1, "x"] = "n/a"  # text stays an error
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="not a number: 'n/a' in line 3"):
        read_series_file(path, {"x": "x"}, index, holes=True)


def test_a_long_hole_comes_from_the_typical_year(tmp_path):
    index = pd.date_range(_utc("2025-03-10"), periods=96 * 2, freq="15min", name="timestamp")
    wx = typical_year(index, **SITE) + 1.0
    t = pd.DatetimeIndex(wx.index)
    kept = wx[(t < _utc("2025-03-10 06:00")) | (t >= _utc("2025-03-10 19:00"))]  # 13 h out
    kept.index = pd.DatetimeIndex(kept.index).strftime("%Y-%m-%dT%H:%MZ")
    kept.rename_axis("timestamp").to_csv(tmp_path / "fc.csv")
    fc = read_forecast(tmp_path / "fc.csv", index, **SITE, fill=True)
    hole = (t >= _utc("2025-03-10 06:00")) & (t < _utc("2025-03-10 19:00"))
    assert (fc.missing == hole).all() and (fc.filled == hole).all()
    typical = typical_year(index, **SITE)
    np.testing.assert_allclose(fc.frame["temp_air_c"][hole], typical["temp_air_c"][hole])
    np.testing.assert_allclose(fc.frame["temp_air_c"][~hole], wx["temp_air_c"][~hole])
    assert "52 steps of longer ones from the typical year" in fc.notes[0], fc.notes


@pytest.mark.skipif(not SPOT.is_file() or not EPW.is_file(), reason=f"no real data in {DATA}")
def test_no_doubt_on_a_real_winter_month():
    """January 2024 (a cold spell to -19.6 K from the typical month on the 7th, the spot
    price's 0.89 EUR/kWh day on the 5th): IWEC irradiance, the Helsinki-Vantaa
    temperatures and the FI day-ahead prices, night by night as a dispatch reads them."""
    from pecopt.ingest.weather import read_weather_file

    real = pd.read_csv(SPOT)
    times = pd.DatetimeIndex(pd.to_datetime(real["timestamp_utc"], utc=True))
    price = pd.Series(real["spot_eur_per_mwh"].to_numpy(float) / 1000.0, index=times)
    temp = pd.Series(real["temp_helsinki_vantaa_c"].to_numpy(float), index=times)
    year = pd.date_range("2024-01-01", "2024-02-05", freq="15min", tz="UTC", inclusive="left")
    wx = read_weather_file(EPW, "epw", year)
    for day in pd.date_range("2024-01-01", "2024-01-31"):
        start = _utc(f"{day:%Y-%m-%d}")
        h = pd.date_range(start, periods=3 * 96, freq="15min", name="timestamp")
        raw = pd.DataFrame({c: wx[c].reindex(h).to_numpy() for c in FLUX}, index=h)
        raw["temp_air_c"] = temp.reindex(h.floor("1h")).to_numpy()
        assert _weather(raw) == [], day
        known = price.reindex(h.floor("1h")).to_numpy().copy()
        known[96:] = np.nan  # the look-ahead's prices are not out yet
        recent = price[(price.index >= start - pd.Timedelta(days=7)) & (price.index < start)]
        assert price_findings(h, known, recent, "p", "c", tz=TZ) == [], day


# ------------------------------------------------- replay --forecast DIR (issued files)


def _issued_truth() -> tuple[dict[str, pd.DataFrame], pd.DatetimeIndex]:
    """Three days from 2 March 2025 22:00 UTC: one PV array that follows the sun (clear
    sky, pvlib), a spot price of 0.05 EUR/kWh."""
    import pvlib

    idx = pd.date_range("2025-03-02T22:00Z", periods=3 * 96, freq="15min")
    sun = pvlib.solarposition.get_solarposition(idx + pd.Timedelta("7.5min"), 60.2166, 24.7103)
    pv = np.clip(np.sin(np.radians(sun["apparent_elevation"].to_numpy())), 0.0, None) * 0.8
    return {
        "pv_available": pd.DataFrame({"timestamp": idx, "array": "roof", "pv_ac_kw_per_kwp": pv}),
        "grid_prices": pd.DataFrame({"timestamp": idx, "spot_eur_per_kwh": 0.05}),
    }, idx


def _issue(folder: Path, truth: dict[str, pd.DataFrame], pv_shift: int, price: float) -> None:
    folder.mkdir(exist_ok=True)
    pv = truth["pv_available"]
    p = truth["grid_prices"]
    rows = pd.concat(
        [
            pd.DataFrame({"timestamp": pv["timestamp"],
                          "series": "pv_available/roof/pv_ac_kw_per_kwp",
                          "value": np.roll(pv["pv_ac_kw_per_kwp"].to_numpy(), pv_shift)}),
            pd.DataFrame({"timestamp": p["timestamp"], "series": "grid_prices/spot_eur_per_kwh",
                          "value": price}),
        ],
        ignore_index=True,
    )  # fmt: skip
    rows.to_parquet(folder / "2025-03-03T1200Z.parquet")


@pytest.mark.parametrize(
    ("shift", "price", "doubt"),
    [
        (0, 0.06, None),
        (48, 0.06, "series pv_available/roof/pv_ac_kw_per_kwp: "),
        (0, 60.0, "series grid_prices/spot_eur_per_kwh: "),
    ],
    ids=["clean", "pv-12h-off", "price-eur-per-mwh"],
)
def test_an_issued_forecast_is_checked(tmp_path, shift, price, doubt):
    from datetime import date

    from pecopt.ingest.forecasts import Forecaster, parse_mode

    truth, idx = _issued_truth()
    folder = tmp_path / "fc"
    _issue(folder, truth, shift, price)
    fc = Forecaster(parse_mode(str(folder)), truth, idx, pd.Timedelta("15min"), TZ,
                    site=(60.2166, 24.7103, 20.0))  # fmt: skip
    horizon = {k: v[pd.DatetimeIndex(v["timestamp"]) >= idx[96]] for k, v in truth.items()}
    fc.forecast(horizon, idx[96], idx[192], idx[-1] + pd.Timedelta("15min"), date(2025, 3, 3))
    found = [str(f) for f in fc.doubts]
    if doubt is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(f"{folder / '2025-03-03T1200Z.parquet'}: ")
        assert doubt in found[0], found


def test_replay_on_a_slipped_issued_forecast(tmp_path):
    """Kera's replay (``scenarios/kera_replay.yaml``) on an issued forecast whose look-ahead
    prices are in EUR/MWh: --strict stops it (exit 2, nothing written); without it the
    night is degraded (exit 10) and ``kpis.json`` says why."""
    folder = tmp_path / "issued"
    folder.mkdir()
    ts = pd.date_range("2025-03-02T22:00Z", periods=72 * 4, freq="15min")  # day + 48 h
    pd.DataFrame({"timestamp": ts, "series": "grid_prices/spot_eur_per_kwh",
                  "value": 80.0}).to_parquet(folder / "2025-03-02T1100Z.parquet")  # fmt: skip
    args = ["replay", str(REPO / "scenarios" / "kera_replay.yaml"), "--from", "2025-03-03",
            "--to", "2025-03-03", "--forecast", str(folder)]  # fmt: skip
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "strict"), "--strict"])
    line = res.output.replace("\n", "")
    assert res.exit_code == 2 and "Traceback" not in line, line
    assert "series grid_prices/spot_eur_per_kwh: the mean price of 2025-03-04" in line, line
    assert "EUR/MWh or c/kWh read as EUR/kWh?" in line and "--strict" in line, line
    assert not (tmp_path / "strict").exists()
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert res.exit_code == 10, res.output
    k = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert k["nights_degraded"] == 1
    assert len(k["forecast"]["doubts"]) == 1 and "EUR/MWh" in k["forecast"]["doubts"][0]

"""Tests for pecopt.ingest.weather (typical year, weather files) and pecopt.ingest.pv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from pecopt.errors import DataError
from pecopt.ingest.pv import pv_ac_kw, specific_yield_kwh_per_kwp
from pecopt.ingest.weather import (
    WEATHER_COLUMNS,
    load_monthly_defaults,
    read_weather_file,
    typical_year,
)

LAT, LON, ALT = 60.2, 24.65, 20.0  # Espoo (Kera)
EPW = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "weather_helsinki_epw"
    / "FIN_Helsinki.029740_IWEC.epw"
)
PVLIB_DATA = Path(pvlib.__file__).parent / "data"


def year_index(year: int, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(
        f"{year}-01-01", f"{year + 1}-01-01", freq=freq, tz="UTC", inclusive="left"
    )


def local_day(day: str) -> pd.DatetimeIndex:
    """UTC index of one Europe/Helsinki calendar day (23 or 25 h on DST days)."""
    start = pd.Timestamp(day, tz="Europe/Helsinki")
    stop = (start.tz_localize(None) + pd.Timedelta(days=1)).tz_localize("Europe/Helsinki")
    local = pd.date_range(start, stop, freq="1h", inclusive="left")
    return local.tz_convert("UTC")


def monthly_kwh_m2(frame: pd.DataFrame, column: str = "ghi_w_m2") -> np.ndarray:
    dt_h = (frame.index[1] - frame.index[0]) / pd.Timedelta(hours=1)
    return frame[column].groupby(frame.index.month).sum().to_numpy() * dt_h / 1000.0


@pytest.fixture(scope="module")
def epw_path() -> Path:
    if not EPW.is_file():
        pytest.skip(f"Helsinki IWEC EPW not found at {EPW} (sibling ../shared/data)")
    return EPW


@pytest.fixture(scope="module")
def ty_hourly() -> pd.DataFrame:
    return typical_year(year_index(2025, "1h"), LAT, LON, ALT)


@pytest.fixture(scope="module")
def epw_hourly(epw_path: Path) -> pd.DataFrame:
    return read_weather_file(epw_path, "epw", year_index(2025, "1h"))


# --- typical year ---------------------------------------------------------------------


@pytest.mark.parametrize("freq", ["1h", "15min"])
def test_typical_year_monthly_ghi_matches_table(freq: str) -> None:
    index = year_index(2025, freq)
    ty = typical_year(index, LAT, LON, ALT)
    assert list(ty.columns) == list(WEATHER_COLUMNS)
    assert ty.index.equals(index)
    assert not ty.isna().any().any()
    target = load_monthly_defaults()["ghi_kwh_m2"].to_numpy()
    np.testing.assert_allclose(monthly_kwh_m2(ty), target, rtol=0.005)


def test_typical_year_temperature_and_wind(ty_hourly: pd.DataFrame) -> None:
    table = load_monthly_defaults()
    means = ty_hourly["temp_air_c"].groupby(ty_hourly.index.month).mean().to_numpy()
    np.testing.assert_allclose(means, table["temp_air_c"].to_numpy(), atol=0.05)
    assert means[0] == pytest.approx(-3.9, abs=0.05)
    # July: afternoon (12 UTC = 14:38 solar time) warmer than night (0 UTC)
    july = ty_hourly[ty_hourly.index.month == 7]["temp_air_c"]
    assert july[july.index.hour == 12].mean() - july[july.index.hour == 0].mean() > 5.0
    wind = ty_hourly["wind_speed_m_s"].groupby(ty_hourly.index.month).mean().to_numpy()
    np.testing.assert_allclose(wind, table["wind_speed_m_s"].to_numpy(), atol=0.02)


def test_typical_year_night_is_zero_and_components_close(ty_hourly: pd.DataFrame) -> None:
    irr = ty_hourly[["ghi_w_m2", "dni_w_m2", "dhi_w_m2"]]
    # 21-24 UTC is 23-02 h (winter) or 00-03 h (summer) local: the sun is down all year at 60 N
    assert (irr[irr.index.hour >= 21] == 0).all().all()
    assert (irr.loc["2025-12-21 16:00":"2025-12-22 05:00"] == 0).all().all()
    assert (irr >= 0).all().all()
    # GHI = DHI + DNI cos(zenith) at the step mid-point
    mid = ty_hourly.index + pd.Timedelta(minutes=30)
    zen = pvlib.location.Location(LAT, LON, altitude=ALT).get_solarposition(mid)["zenith"]
    closure = irr["dhi_w_m2"] + irr["dni_w_m2"] * np.cos(np.radians(zen.to_numpy()))
    np.testing.assert_allclose(closure, irr["ghi_w_m2"], atol=0.5)


def test_typical_year_is_deterministic_and_horizon_independent(ty_hourly: pd.DataFrame) -> None:
    index = year_index(2025, "1h")
    pd.testing.assert_frame_equal(typical_year(index, LAT, LON, ALT), ty_hourly)
    part = typical_year(index[4000:4100], LAT, LON, ALT)
    pd.testing.assert_frame_equal(part, ty_hourly.iloc[4000:4100])


@pytest.mark.parametrize(("day", "hours"), [("2025-03-30", 23), ("2025-10-26", 25)])
def test_typical_year_dst_days(day: str, hours: int, ty_hourly: pd.DataFrame) -> None:
    index = local_day(day)
    assert len(index) == hours
    ty = typical_year(index, LAT, LON, ALT)
    pd.testing.assert_frame_equal(ty, ty_hourly.loc[index])
    same_local = typical_year(index.tz_convert("Europe/Helsinki"), LAT, LON, ALT)
    np.testing.assert_allclose(same_local.to_numpy(), ty.to_numpy())


def test_typical_year_rejects_bad_monthly_table() -> None:
    table = load_monthly_defaults().drop(columns="temp_air_c")
    with pytest.raises(DataError, match="temp_air_c: missing column"):
        typical_year(year_index(2025, "1h"), LAT, LON, ALT, monthly=table)
    table = load_monthly_defaults().iloc[:11]
    with pytest.raises(DataError, match="month"):
        typical_year(year_index(2025, "1h"), LAT, LON, ALT, monthly=table)


def test_monthly_table_matches_its_sources(epw_path: Path) -> None:
    table = load_monthly_defaults()
    raw, _ = pvlib.iotools.read_epw(epw_path)
    by_month = raw.groupby("month")
    np.testing.assert_allclose(by_month["ghi"].sum() / 1000, table["ghi_kwh_m2"], atol=0.051)
    np.testing.assert_allclose(by_month["temp_air"].mean(), table["temp_air_c"], atol=0.051)
    np.testing.assert_allclose(by_month["wind_speed"].mean(), table["wind_speed_m_s"], atol=0.051)
    mid_month = pd.date_range("2025-01-01", periods=12, freq="MS", tz="UTC") + pd.Timedelta(days=14)
    linke = pvlib.clearsky.lookup_linke_turbidity(mid_month, LAT, LON, interp_turbidity=False)
    np.testing.assert_allclose(linke.to_numpy(), table["linke_turbidity"], atol=0.001)


# --- weather files --------------------------------------------------------------------


@pytest.mark.parametrize(("freq", "rows"), [("1h", 8760), ("15min", 35040)])
def test_epw_reindexed_onto_2025(epw_path: Path, freq: str, rows: int) -> None:
    index = year_index(2025, freq)
    wx = read_weather_file(epw_path, "epw", index)
    assert len(wx) == rows
    assert wx.index.equals(index)
    assert list(wx.columns) == list(WEATHER_COLUMNS)
    assert not wx.isna().any().any()
    assert monthly_kwh_m2(wx).sum() == pytest.approx(946.9, rel=0.005)
    jan = wx["temp_air_c"][wx.index.month == 1].mean()
    assert jan == pytest.approx(-3.9, abs=0.1)


def test_epw_hour_convention_by_hand(epw_path: Path, epw_hourly: pd.DataFrame) -> None:
    raw, meta = pvlib.iotools.read_epw(epw_path)
    assert meta["TZ"] == 2.0
    rec = raw.set_index(["month", "day", "hour"])
    # UTC step [10:00, 11:00) on 15 June = [12:00, 13:00) UTC+2 = EPW hour-ending 13
    t = pd.Timestamp("2025-06-15 10:00", tz="UTC")
    assert epw_hourly.loc[t, "ghi_w_m2"] == rec.loc[(6, 15, 13), "ghi"]
    assert epw_hourly.loc[t, "dni_w_m2"] == rec.loc[(6, 15, 13), "dni"]
    # temperature is a value at the hour end: the step mean is the mean of 12:00 and 13:00
    expected = 0.5 * (rec.loc[(6, 15, 12), "temp_air"] + rec.loc[(6, 15, 13), "temp_air"])
    assert epw_hourly.loc[t, "temp_air_c"] == pytest.approx(expected)


def test_epw_15min_keeps_every_hour(epw_path: Path, epw_hourly: pd.DataFrame) -> None:
    quarter = read_weather_file(epw_path, "epw", year_index(2025, "15min"))
    irr = ["ghi_w_m2", "dni_w_m2", "dhi_w_m2"]
    hourly = quarter[irr].resample("1h").mean()
    np.testing.assert_allclose(hourly.to_numpy(), epw_hourly[irr].to_numpy(), atol=1e-9)
    assert (quarter[irr] >= 0).all().all()


def test_epw_year_boundary_and_leap_day(epw_path: Path, epw_hourly: pd.DataFrame) -> None:
    index = pd.date_range("2024-12-30", "2025-01-03", freq="1h", tz="UTC", inclusive="left")
    wx = read_weather_file(epw_path, "epw", index)
    np.testing.assert_allclose(wx.loc["2025-01-01":].to_numpy(), epw_hourly.loc[:"2025-01-02"])
    np.testing.assert_allclose(wx.loc["2024-12-31"].to_numpy(), epw_hourly.loc["2025-12-31"])
    leap = read_weather_file(epw_path, "epw", year_index(2024, "1h"))
    assert len(leap) == 8784
    feb28 = leap.loc["2024-02-28 00:00":"2024-02-28 20:00", "ghi_w_m2"].to_numpy()
    feb29 = leap.loc["2024-02-29 00:00":"2024-02-29 20:00", "ghi_w_m2"].to_numpy()
    np.testing.assert_array_equal(feb29, feb28)


@pytest.mark.parametrize(("day", "hours"), [("2025-03-30", 23), ("2025-10-26", 25)])
def test_epw_dst_days(epw_path: Path, epw_hourly: pd.DataFrame, day: str, hours: int) -> None:
    index = local_day(day)
    wx = read_weather_file(epw_path, "epw", index)
    assert len(wx) == hours
    pd.testing.assert_frame_equal(wx, epw_hourly.loc[index])


def test_missing_file_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.epw"
    with pytest.raises(DataError, match="file not found") as err:
        read_weather_file(path, "epw", year_index(2025, "1h"))
    assert str(path) in str(err.value)


def test_garbage_file_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.epw"
    path.write_text("this is not a weather file\n1,2,3\n")
    with pytest.raises(DataError) as err:
        read_weather_file(path, "epw", year_index(2025, "1h"))
    assert str(err.value).startswith(str(path))


def test_epw_missing_value_code_raises_data_error(epw_path: Path, tmp_path: Path) -> None:
    lines = epw_path.read_text().splitlines(keepends=True)
    fields = lines[8 + 4000].split(",")
    fields[13] = "9999"  # GHI field: EPW missing-value code
    lines[8 + 4000] = ",".join(fields)
    path = tmp_path / "bad.epw"
    path.write_text("".join(lines))
    with pytest.raises(DataError, match="ghi: value 9999.0 outside") as err:
        read_weather_file(path, "epw", year_index(2025, "1h"))
    assert str(path) in str(err.value)


def test_tmy3_file_with_leap_february(tmp_path: Path) -> None:
    src = PVLIB_DATA / "723170TYA.CSV"  # Greensboro NC, UTC-5, February taken from 1996
    if not src.is_file():
        pytest.skip(f"pvlib sample TMY3 file not installed at {src}")
    raw, meta = pvlib.iotools.read_tmy3(src, map_variables=True)
    wx = read_weather_file(src, "tmy3", year_index(2024, "1h"))
    assert len(wx) == 8784 and not wx.isna().any().any()
    # the row "07/01, 13:00" ends the hour [12:00, 13:00) UTC-5, i.e. [17:00, 18:00) UTC
    row = raw[(raw["Date (MM/DD/YYYY)"].str.startswith("07/01")) & (raw["Time (HH:MM)"] == "13:00")]
    assert wx.loc[pd.Timestamp("2024-07-01 17:00", tz="UTC"), "ghi_w_m2"] == row["ghi"].iloc[0]
    non_leap = read_weather_file(src, "tmy3", year_index(2025, "1h"))
    assert non_leap["ghi_w_m2"].sum() == pytest.approx(raw["ghi"].sum(), rel=1e-9)


def test_pvgis_csv_matches_the_same_data_as_epw(
    epw_path: Path, epw_hourly: pd.DataFrame, tmp_path: Path
) -> None:
    """A PVGIS TMY csv (UTC, hour-starting) written from the EPW reads back identically."""
    raw, _ = pvlib.iotools.read_epw(epw_path)
    starts_utc = raw.index.tz_convert("UTC")  # pvlib labels EPW records by their start
    header = ["Latitude (decimal degrees): 60.320", "Longitude (decimal degrees): 24.970"]
    header += ["Elevation (m): 56.0", "month,year"] + [f"{m},2000" for m in range(1, 13)]
    header.append("time(UTC),T2m,RH,G(h),Gb(n),Gd(h),IR(h),WS10m,WD10m,SP")
    rows = [
        f"{t:%Y%m%d:%H%M},{r.temp_air},{r.relative_humidity},{r.ghi},{r.dni},{r.dhi},"
        f"300.0,{r.wind_speed},{r.wind_direction},{r.atmospheric_pressure}"
        for t, r in zip(starts_utc, raw.itertuples(), strict=True)
    ]
    path = tmp_path / "tmy_60.320_24.970.csv"
    path.write_text("\r\n".join([*header, *rows, "T2m: 2-m air temperature (degree Celsius)"]))
    wx = read_weather_file(path, "pvgis", year_index(2025, "1h"))
    irr = ["ghi_w_m2", "dni_w_m2", "dhi_w_m2"]
    pd.testing.assert_frame_equal(wx[irr], epw_hourly[irr])
    # the same temperature is placed at the hour start (PVGIS), not at its end (EPW): the
    # PVGIS reading runs one hour ahead of the EPW one
    lag = wx["temp_air_c"].to_numpy()[:-2] - epw_hourly["temp_air_c"].to_numpy()[1:-1]
    assert np.abs(lag).max() < 1e-9


# --- PV -------------------------------------------------------------------------------


def test_pv_yield_on_helsinki_epw(epw_hourly: pd.DataFrame) -> None:
    ac = pv_ac_kw(epw_hourly, LAT, LON, ALT, kwp=1.0, tilt_deg=40, azimuth_deg=180)
    assert ac.name == "pv_ac_kw" and ac.index.equals(epw_hourly.index)
    annual = specific_yield_kwh_per_kwp(ac, 1.0)
    assert 800.0 <= annual <= 950.0  # FACTS: about 900 kWh/kWp


def test_pv_yield_on_typical_year(ty_hourly: pd.DataFrame) -> None:
    ac = pv_ac_kw(ty_hourly, LAT, LON, ALT, kwp=1.0, tilt_deg=40, azimuth_deg=180)
    assert 750.0 <= specific_yield_kwh_per_kwp(ac, 1.0) <= 1000.0


def one_step(**values: float) -> pd.DataFrame:
    index = pd.DatetimeIndex([pd.Timestamp("2025-06-21 09:45", tz="UTC")], freq="15min")
    base = {"ghi_w_m2": 0.0, "dni_w_m2": 0.0, "dhi_w_m2": 0.0}
    base |= {"temp_air_c": 10.0, "wind_speed_m_s": 2.0}
    return pd.DataFrame(base | values, index=index)


def test_pv_zero_irradiance_gives_zero_output() -> None:
    assert pv_ac_kw(one_step(), LAT, LON, ALT, 5.0, 40, 180).iloc[0] == 0.0


def test_pv_by_hand_horizontal_diffuse_light() -> None:
    """Horizontal array, 1000 W/m2 all diffuse, cell exactly at 25 degC.

    Sky diffuse on a horizontal plane = DHI, ground term 0, no beam (IAM irrelevant).
    Faiman: T_c = -15 + 1000 / (25 + 6.84 * 0) = 25 degC -> P_dc = 2 kWp x 1 x (1 - 0.14).
    PVWatts inverter: zeta = P_dc / (P_p / 0.96);
    eta = 0.96 / 0.9637 x (-0.0162 zeta - 0.0059 / zeta + 0.9858).
    """
    wx = one_step(ghi_w_m2=1000.0, dhi_w_m2=1000.0, temp_air_c=-15.0, wind_speed_m_s=0.0)
    pdc = 2.0 * 0.86
    zeta = pdc / (2.0 / 0.96)
    eta = 0.96 / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
    assert pv_ac_kw(wx, LAT, LON, ALT, 2.0, 0.0, 180.0).iloc[0] == pytest.approx(eta * pdc)


def test_pv_output_never_exceeds_kwp(ty_hourly: pd.DataFrame) -> None:
    bright = one_step(ghi_w_m2=1100.0, dni_w_m2=1000.0, dhi_w_m2=300.0, temp_air_c=-30.0)
    ac = pv_ac_kw(bright, LAT, LON, ALT, 3.0, 45, 180, losses_pct=0.0, inverter_eff=1.0)
    assert ac.iloc[0] == pytest.approx(3.0)  # clipped at the AC rating
    year = pv_ac_kw(ty_hourly, LAT, LON, ALT, 3.0, 40, 150)
    assert year.min() >= 0.0 and year.max() <= 3.0


def test_pv_missing_weather_column_raises_data_error() -> None:
    with pytest.raises(DataError, match="wind_speed_m_s: missing column"):
        pv_ac_kw(one_step().drop(columns="wind_speed_m_s"), LAT, LON, ALT, 1.0, 40, 180)

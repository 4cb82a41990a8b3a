"""The embedded typical year's variability (pecopt.ingest.typical_days, weather.typical_year).

Checks against the Helsinki IWEC EPW in ../shared/data (skipped when absent) and checks of
the year's own structure (cold spell, clear and overcast days, 15 min vs 1 h, leap years,
horizon independence of weather and archetype heat) that need no shared data.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib
import pytest
import yaml

from pecopt.ingest import typical_days
from pecopt.ingest.loads import HELSINKI_DEGREE_HOURS_17C, annual_degree_hours, archetype_profile
from pecopt.ingest.pv import pv_ac_kw
from pecopt.ingest.weather import load_monthly_defaults, read_weather_file, typical_year

ROOT = Path(__file__).resolve().parents[1]
EPW = ROOT.parent / "shared" / "data" / "weather_helsinki_epw" / "FIN_Helsinki.029740_IWEC.epw"
KERA: dict[str, Any] = yaml.safe_load((ROOT / "scenarios" / "kera.yaml").read_text())
SITE = KERA["site"]
LAT, LON, ALT = SITE["latitude"], SITE["longitude"], SITE["altitude_m"]
VANTAA = (60.32, 24.97, 56.0)  # the EPW's station


def year_index(year: int, freq: str = "1h") -> pd.DatetimeIndex:
    return pd.date_range(
        f"{year}-01-01", f"{year + 1}-01-01", freq=freq, tz="UTC", inclusive="left"
    )


def daily_means(frame: pd.DataFrame, column: str = "temp_air_c") -> pd.Series:
    """Means over UTC days (complete days on a UTC-year index)."""
    return frame[column].resample("D").mean()


def by_month(series: pd.Series, how: str) -> np.ndarray:
    grouped = series.groupby(pd.DatetimeIndex(series.index).month)
    if how == "std":  # population sd of the values in each month
        return grouped.std(ddof=0).to_numpy()
    return np.asarray(getattr(grouped, how)().to_numpy(), dtype=float)


def daily_clear_sky_index(frame: pd.DataFrame) -> pd.Series:
    """Daily GHI over daily Ineichen clear-sky GHI at the site [-] (days with sun only)."""
    mid = pd.DatetimeIndex(frame.index + pd.Timedelta(minutes=30))
    clear = pvlib.location.Location(LAT, LON, altitude=ALT).get_clearsky(mid, model="ineichen")
    cs = pd.Series(clear["ghi"].to_numpy(), index=frame.index).resample("D").sum()
    return (frame["ghi_w_m2"].resample("D").sum() / cs)[cs > 0]


def kera_pv_yield_kwh_per_kwp(weather: pd.DataFrame) -> float:
    energy = kwp = 0.0
    for building in KERA["buildings"]:
        for arr in building.get("pv", []):
            ac = pv_ac_kw(weather, LAT, LON, ALT, arr["kwp"], arr["tilt_deg"], arr["azimuth_deg"])
            energy += float(ac.sum())  # x 1 h
            kwp += arr["kwp"]
    return energy / kwp


def kera_heat_kw(weather: pd.DataFrame, reference: float | None = None) -> pd.Series:
    total = pd.Series(0.0, index=weather.index)
    for building in KERA["buildings"]:
        a = building["archetype"]
        total += archetype_profile(
            pd.DatetimeIndex(weather.index),
            weather["temp_air_c"],
            use=a["use"],
            floor_area_m2=a["floor_area_m2"],
            elec_kwh_m2_yr=a["elec_kwh_m2_yr"],
            space_heat_kwh_m2_yr=a["space_heat_kwh_m2_yr"],
            hot_water_kwh_m2_yr=a["hot_water_kwh_m2_yr"],
            reference_degree_hours_kh=reference,
        )["heat_kw"]
    return total


@pytest.fixture(scope="module")
def ty() -> pd.DataFrame:
    return typical_year(year_index(2025), LAT, LON, ALT)


@pytest.fixture(scope="module")
def epw() -> pd.DataFrame:
    if not EPW.is_file():
        pytest.skip(f"Helsinki IWEC EPW not found at {EPW} (sibling ../shared/data)")
    return read_weather_file(EPW, "epw", year_index(2025))


# --- against the Helsinki IWEC EPW ----------------------------------------------------


def test_monthly_mean_temperature_within_1c_of_epw(ty: pd.DataFrame, epw: pd.DataFrame) -> None:
    np.testing.assert_allclose(
        by_month(ty["temp_air_c"], "mean"), by_month(epw["temp_air_c"], "mean"), atol=1.0
    )


def test_spread_of_daily_means_within_30_percent_of_epw(
    ty: pd.DataFrame, epw: pd.DataFrame
) -> None:
    ours, theirs = daily_means(ty), daily_means(epw)
    assert ours.std(ddof=0) == pytest.approx(theirs.std(ddof=0), rel=0.3)  # whole year

    def anomalies(s: pd.Series) -> pd.Series:
        return s - s.groupby(pd.DatetimeIndex(s.index).month).transform("mean")

    assert anomalies(ours).std() == pytest.approx(anomalies(theirs).std(), rel=0.3)
    sd_ours, sd_theirs = by_month(ours, "std"), by_month(theirs, "std")
    # February-December month by month; January holds the design cold spell, a week near
    # -19 degC in a month whose mean stays the EPW's -3.9 degC: its spread is far larger.
    np.testing.assert_allclose(sd_ours[1:], sd_theirs[1:], rtol=0.3)
    assert sd_ours[0] > 1.3 * sd_theirs[0]


def test_monthly_ghi_within_10_percent_of_epw(ty: pd.DataFrame, epw: pd.DataFrame) -> None:
    np.testing.assert_allclose(
        by_month(ty["ghi_w_m2"], "sum"), by_month(epw["ghi_w_m2"], "sum"), rtol=0.1
    )


def test_kera_pv_yield_within_5_percent_of_epw(ty: pd.DataFrame, epw: pd.DataFrame) -> None:
    ours, theirs = kera_pv_yield_kwh_per_kwp(ty), kera_pv_yield_kwh_per_kwp(epw)
    assert ours == pytest.approx(theirs, rel=0.05)
    assert 750.0 < ours < 950.0  # FACTS: Nordic 800-950 kWh/kWp, 857 at 15 deg south (EPW)


def test_kera_heat_load_99th_percentile_not_below_epw(ty: pd.DataFrame, epw: pd.DataFrame) -> None:
    ours = kera_heat_kw(ty)  # the typical year's own constant
    theirs = kera_heat_kw(epw, annual_degree_hours(epw["temp_air_c"]))  # the file's year
    assert ours.sum() == pytest.approx(theirs.sum(), rel=1e-6)  # same declared kWh
    assert np.percentile(ours, 99) >= np.percentile(theirs, 99)
    assert ours.max() > theirs.max()


def test_variability_table_matches_its_sources() -> None:
    """The EPW-derived columns of typical_year_variability.csv recomputed from the EPW."""
    if not EPW.is_file():
        pytest.skip(f"Helsinki IWEC EPW not found at {EPW} (sibling ../shared/data)")
    raw, meta = pvlib.iotools.read_epw(EPW)
    location = pvlib.location.Location(
        meta["latitude"], meta["longitude"], altitude=meta["altitude"]
    )
    mid = pd.DatetimeIndex(raw.index + pd.Timedelta(minutes=30))  # records labelled by start
    raw["cs"] = location.get_clearsky(mid, model="ineichen")["ghi"].to_numpy()
    days = raw.groupby(["month", "day"]).agg(
        ghi=("ghi", "sum"), cs=("cs", "sum"), temp=("temp_air", "mean"), wind=("wind_speed", "mean")
    )
    months = days.groupby(level="month")
    table = typical_days.load_variability()
    np.testing.assert_allclose(months["temp"].std(ddof=0), table["temp_daily_sd_k"], atol=0.006)
    cv = months["wind"].std(ddof=0) / months["wind"].mean()
    np.testing.assert_allclose(cv, table["wind_daily_cv"], atol=0.006)
    kc = (days["ghi"] / days["cs"]).groupby(level="month")
    for p in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
        column = f"kc_p{round(p * 100):02d}"
        np.testing.assert_allclose(kc.quantile(p), table[column], atol=0.0006, err_msg=column)


# --- the year's own structure -----------------------------------------------------------


def test_january_design_cold_spell(ty: pd.DataFrame) -> None:
    temp = ty["temp_air_c"]
    coldest = temp.idxmin()
    assert -26.0 <= temp.min() <= -23.7  # between Finnish design (-26) and ASHRAE 99.6 %
    assert pd.Timestamp("2025-01-10", tz="UTC") <= coldest < pd.Timestamp("2025-01-19", tz="UTC")
    days = daily_means(ty)
    cold = (days < -15.0).to_numpy()
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, cold.astype(int), 0]) != 0))[::2]
    assert runs.max() == 7  # about a week of daily means below -15 degC (Jan 2024: 7 days)
    assert days.min() <= -22.0  # FACTS: coldest daily mean of 2024's spell -23.5 degC
    # a clear, calm spell: its days are the sunniest and the calmest of January
    spell = days.index[(days < -15.0).to_numpy()]
    jan = days.index[days.index.month == 1]
    kc = daily_clear_sky_index(ty)
    wind = daily_means(ty, "wind_speed_m_s")
    others = jan.difference(spell)
    assert kc[spell].mean() > kc[others].mean() + 0.2
    assert wind[spell].mean() < wind[others].mean() - 1.0


def test_clear_and_overcast_days(ty: pd.DataFrame) -> None:
    kc = daily_clear_sky_index(ty)
    for month in (4, 5, 6, 7, 8):
        k = kc[kc.index.month == month]
        assert k.max() > 0.85 and k.min() < 0.45, month
        assert k.std() > 0.08, month
    june = daily_means(ty, "ghi_w_m2")["2025-06"]
    assert june.max() > 1.8 * june.min()  # not every June day alike


def test_temperature_wind_and_clearness_hang_together(ty: pd.DataFrame) -> None:
    kc = daily_clear_sky_index(ty)
    days = daily_means(ty).reindex(kc.index)
    anomaly = days - days.groupby(days.index.month).transform("mean")
    winter = kc.index.month.isin([1, 2, 12])
    summer = kc.index.month.isin([5, 6, 7, 8])
    assert np.corrcoef(kc[winter], anomaly[winter])[0, 1] < -0.3  # clear winter days colder
    assert np.corrcoef(kc[summer], anomaly[summer])[0, 1] > 0.2  # clear summer days warmer
    temp = ty["temp_air_c"]
    span = (temp.resample("D").max() - temp.resample("D").min()).reindex(kc.index)
    warm = kc.index.month.isin([4, 5, 6, 7, 8, 9])
    clear, cloudy = kc[warm] > kc[warm].quantile(2 / 3), kc[warm] < kc[warm].quantile(1 / 3)
    assert span[warm][clear].mean() > span[warm][cloudy].mean() + 2.0  # K
    wind = daily_means(ty, "wind_speed_m_s").reindex(kc.index)
    assert np.corrcoef(kc, wind)[0, 1] < -0.1  # cloudy days windier
    assert (ty["wind_speed_m_s"] >= 0).all()


def test_record_spread_per_month_equals_the_table() -> None:
    table = typical_days.load_variability()
    record = typical_days.daily_record(load_monthly_defaults())
    sd = np.array([record.temp_mean_c[record.month == m].std() for m in range(1, 13)])
    np.testing.assert_allclose(sd[1:], table["temp_daily_sd_k"].to_numpy()[1:], rtol=1e-9)
    means = np.array([record.temp_mean_c[record.month == m].mean() for m in range(1, 13)])
    np.testing.assert_allclose(means, load_monthly_defaults()["temp_air_c"], atol=1e-9)


def test_deterministic_and_horizon_independent(ty: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(typical_year(year_index(2025), LAT, LON, ALT), ty)
    two_weeks = pd.date_range("2025-01-08", periods=14 * 24, freq="1h", tz="UTC")
    pd.testing.assert_frame_equal(typical_year(two_weeks, LAT, LON, ALT), ty.loc[two_weeks])


@pytest.mark.parametrize("day", ["2025-03-30", "2025-10-26"])
def test_quarter_hours_across_dst_days(day: str) -> None:
    start = pd.Timestamp(day, tz="Europe/Helsinki").tz_convert("UTC")
    index = pd.date_range(start, periods=4 * 30, freq="15min")  # the 23 h / 25 h local day
    week = pd.date_range(start - pd.Timedelta(days=3), periods=4 * 24 * 7, freq="15min")
    pd.testing.assert_frame_equal(
        typical_year(index, LAT, LON, ALT), typical_year(week, LAT, LON, ALT).loc[index]
    )


def test_quarter_hours_average_to_the_hourly_year(ty: pd.DataFrame) -> None:
    quarter = typical_year(year_index(2025, "15min"), LAT, LON, ALT)
    hourly = quarter.resample("1h").mean()
    irr = ["ghi_w_m2", "dni_w_m2", "dhi_w_m2"]
    np.testing.assert_allclose(hourly[irr].to_numpy(), ty[irr].to_numpy(), atol=1e-9)
    for col, worst in (("temp_air_c", 0.1), ("wind_speed_m_s", 0.1)):
        diff = (hourly[col] - ty[col]).abs()
        assert diff.max() < worst and diff.mean() < 0.01, col
    assert (quarter[irr] >= 0).all().all()


def test_leap_year_repeats_28_february(ty: pd.DataFrame) -> None:
    leap = typical_year(year_index(2024), LAT, LON, ALT)
    assert len(leap) == 8784 and not leap.isna().any().any()
    state = ["temp_air_c", "wind_speed_m_s"]
    # 29 February 2024 is 28 February again: the morning of 28 Feb 2024 (before solar noon,
    # 10:21 UTC) is that of 28 Feb 2025, the afternoon of 29 Feb 2024 that of 28 Feb 2025
    for leap_day, hours in (("2024-02-28", "00:00-09:00"), ("2024-02-29", "12:00-21:00")):
        first, last = hours.split("-")
        got = leap.loc[f"{leap_day} {first}" : f"{leap_day} {last}", state].to_numpy()
        want = ty.loc[f"2025-02-28 {first}" : f"2025-02-28 {last}", state].to_numpy()
        np.testing.assert_allclose(got, want)
    # from March on, a leap year's days are the non-leap year's days
    np.testing.assert_allclose(
        leap.loc["2024-03-02":"2024-12-30", state].to_numpy(),
        ty.loc["2025-03-02":"2025-12-30", state].to_numpy(),
    )
    target = load_monthly_defaults()["ghi_kwh_m2"].to_numpy()
    np.testing.assert_allclose(by_month(leap["ghi_w_m2"], "sum") / 1000.0, target, rtol=0.005)


def test_no_seam_at_the_year_end() -> None:
    index = pd.date_range("2025-12-28", "2026-01-04", freq="1h", tz="UTC", inclusive="left")
    temp = typical_year(index, LAT, LON, ALT)["temp_air_c"].to_numpy()
    assert np.abs(np.diff(temp)).max() < 1.0  # K per hour, as on any other winter night


def test_climate_day_by_hand() -> None:
    dates = pd.DatetimeIndex(["2025-01-01", "2025-03-01", "2024-02-28", "2024-02-29", "2024-03-01"])
    assert typical_days.climate_day(dates).tolist() == [0, 59, 58, 58, 59]
    assert typical_days.climate_day(pd.DatetimeIndex(["2024-12-31", "2025-12-31"])).tolist() == [
        364,
        364,
    ]


def test_noon_interpolation_keeps_daily_means() -> None:
    """Linear interpolation through the noon nodes has the daily means, day by day."""
    record = typical_days.daily_record(load_monthly_defaults())
    flat = replace(record, temp_range_k=np.zeros(365), wind_diurnal_rel=np.zeros(365))
    for day in (0, 16, 200, 364):  # 1 Jan, the spell's coldest day, July, 31 Dec
        minutes = (
            pd.Timestamp("2025-01-01")
            + pd.Timedelta(days=day)
            + pd.to_timedelta(np.arange(0.5, 1440), unit="min")
        )
        temp, wind = typical_days.temperature_and_wind(flat, pd.DatetimeIndex(minutes))
        assert temp.mean() == pytest.approx(record.temp_mean_c[day], abs=1e-6)
        assert wind.mean() == pytest.approx(record.wind_speed_m_s[day], abs=1e-6)


def test_skew_transform_by_sampling() -> None:
    z = np.random.default_rng(1).standard_normal(400_000)
    for target in (-1.0, -0.5, 0.0):
        y = typical_days._skewed(z, np.full(z.size, target))
        skew = np.mean((y - y.mean()) ** 3) / y.std() ** 3
        assert skew == pytest.approx(target, abs=0.05)
    assert np.all(np.diff(typical_days._skewed(np.sort(z), np.full(z.size, -1.0))) >= 0)


# --- archetype heat: horizon-independent, declared kWh on the full typical year ---------


def test_archetype_heat_of_two_weeks_equals_the_full_year(ty: pd.DataFrame) -> None:
    two_weeks = pd.date_range("2025-01-08", periods=14 * 24, freq="1h", tz="UTC")
    short = kera_heat_kw(typical_year(two_weeks, LAT, LON, ALT))
    np.testing.assert_allclose(short.to_numpy(), kera_heat_kw(ty).loc[two_weeks].to_numpy())


@pytest.mark.parametrize("freq", ["1h", "15min"])
def test_full_typical_year_gives_the_declared_space_heat(freq: str) -> None:
    start, end = (
        pd.Timestamp("2025-01-01", tz="Europe/Helsinki"),
        pd.Timestamp("2026-01-01", tz="Europe/Helsinki"),
    )
    index = pd.date_range(start, end, freq=freq, inclusive="left").tz_convert("UTC")
    wx = typical_year(index, LAT, LON, ALT)
    got = archetype_profile(
        index,
        wx["temp_air_c"],
        use="apartment",
        floor_area_m2=1000.0,
        elec_kwh_m2_yr=0.0,
        space_heat_kwh_m2_yr=55.0,
        hot_water_kwh_m2_yr=0.0,
    )
    dt_h = pd.Timedelta(freq) / pd.Timedelta("1h")
    assert got["space_heat_kw"].sum() * dt_h == pytest.approx(55_000.0, rel=1e-5)


def test_degree_hour_constant_is_the_typical_years() -> None:
    for lat, lon, alt in (VANTAA, (LAT, LON, ALT)):
        temp = typical_year(year_index(2026), lat, lon, alt)["temp_air_c"]
        assert annual_degree_hours(temp) == pytest.approx(HELSINKI_DEGREE_HOURS_17C, rel=1e-6)

"""Tests of pecopt.ingest.timeseries, .loads and .tariffs against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pecopt.errors import DataError
from pecopt.ingest.loads import (
    HELSINKI_DEGREE_HOURS_17C,
    annual_degree_hours,
    archetype_profile,
    heating_degree_hours,
    metered_profile,
)
from pecopt.ingest.spot import read_spot, typical_spot_eur_per_kwh
from pecopt.ingest.tariffs import (
    ELECTRICITY_TAX_EUR_PER_KWH,
    dh_energy_price,
    emission_factor_series,
    export_price_eur_per_kwh,
    finnish_electricity_vat,
    import_price_eur_per_kwh,
    night_tariff_bands,
    rolling_peak_kw,
    seasonal_tariff_bands,
    tou_network_fee,
)
from pecopt.ingest.timeseries import local_year_index, read_series_file

HEL = "Europe/Helsinki"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NPF_DUMP = SHARED_DATA / "spot_fi_npf" / "npf_dump_2023-01-01_2024-09-06.csv"
SPOT_CSV = Path(__file__).resolve().parents[1] / "pecopt" / "data" / "typical_spot_monthly.csv"


def utc_range(start: str, periods: int, freq: str = "1h") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=periods, freq=freq, tz="UTC")


def local_year(year: int, freq: str = "1h") -> pd.DatetimeIndex:
    """UTC index of one local Helsinki calendar year."""
    start = pd.Timestamp(f"{year}-01-01", tz=HEL)
    end = pd.Timestamp(f"{year + 1}-01-01", tz=HEL)
    return pd.date_range(start, end, freq=freq, inclusive="left").tz_convert("UTC")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def local_by_date(series: pd.Series) -> pd.Series:
    """Re-label a UTC series with Helsinki local times."""
    out = series.copy()
    out.index = pd.DatetimeIndex(series.index).tz_convert(HEL)
    return out


# --------------------------------------------------------------------------- reader


def test_hourly_file_on_15min_index_holds_within_the_hour(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "timestamp,load\n2025-01-01T00:00Z,2\n2025-01-01T01:00Z,6\n")
    index = utc_range("2025-01-01", 8, "15min")
    got = read_series_file(path, {"load": "elec_kw"}, index)
    assert got.index.equals(index)
    assert got["elec_kw"].tolist() == [2.0] * 4 + [6.0] * 4


def test_15min_energy_file_on_hourly_index_is_mean_power(tmp_path: Path) -> None:
    rows = "\n".join(
        f"2025-01-01 00:{m:02d},{e}" for m, e in zip((0, 15, 30, 45), (1, 2, 3, 4), strict=True)
    )
    path = write(tmp_path, "q.csv", "timestamp,kwh\n" + rows + "\n")
    got = read_series_file(path, {"kwh": "elec_kw"}, utc_range("2025-01-01", 1), kind="energy")
    # 10 kWh in one hour = 10 kW mean; each 15-min kWh x 4 = kW, mean of 4, 8, 12, 16.
    assert got["elec_kw"].tolist() == pytest.approx([10.0])


def test_offset_strings_resolve_the_fall_back_hour(tmp_path: Path) -> None:
    text = "timestamp,load\n2025-10-26 03:00+03:00,1\n2025-10-26 03:00+02:00,2\n"
    path = write(tmp_path, "off.csv", text)
    got = read_series_file(path, {"load": "elec_kw"}, utc_range("2025-10-26 00:00", 2), tz=HEL)
    assert got["elec_kw"].tolist() == [1.0, 2.0]


def test_naive_fall_back_hour_appearing_twice_is_inferred(tmp_path: Path) -> None:
    times = ["02:00", "03:00", "03:00", "04:00"]
    rows = "\n".join(f"2025-10-26 {t},{i}" for i, t in enumerate(times))
    path = write(tmp_path, "twice.csv", "timestamp,load\n" + rows + "\n")
    got = read_series_file(path, {"load": "elec_kw"}, utc_range("2025-10-25 23:00", 4), tz=HEL)
    assert got["elec_kw"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_parquet_with_tz_aware_timestamps(tmp_path: Path) -> None:
    stamps = pd.date_range("2025-06-01 03:00", periods=3, freq="1h", tz=HEL)
    path = tmp_path / "tz.parquet"
    pd.DataFrame({"timestamp": stamps, "p": [1.0, 2.0, 3.0]}).to_parquet(path)
    got = read_series_file(path, {"p": "elec_kw"}, utc_range("2025-06-01 00:00", 3))
    assert got["elec_kw"].tolist() == [1.0, 2.0, 3.0]


def test_parquet_with_naive_local_timestamps(tmp_path: Path) -> None:
    stamps = pd.date_range("2025-01-01 02:00", periods=2, freq="1h")
    path = tmp_path / "naive.parquet"
    pd.DataFrame({"t": stamps, "p": [4.0, 5.0]}).to_parquet(path)
    got = read_series_file(
        path, {"p": "elec_kw"}, utc_range("2025-01-01", 2), time_column="t", tz=HEL
    )
    assert got["elec_kw"].tolist() == [4.0, 5.0]


GOOD_HEADER = "timestamp,load\n"

BAD_FILES = {
    "missing column": ("timestamp,other\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,1\n", "load"),
    "nan load": (GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,\n", "load"),
    "inf load": (GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,inf\n", "load"),
    "negative load": (GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,-2\n", "load"),
    "text load": (GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,abc\n", "load"),
    "duplicated time": (
        GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,1\n2025-01-01T01:00Z,1\n",
        "timestamp",
    ),
    "missing time": (
        GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,1\n2025-01-01T03:00Z,1\n",
        "timestamp",
    ),
    "unparseable time": (GOOD_HEADER + "2025-01-01T00:00Z,1\nyesterday,1\n", "timestamp"),
    "mixed offsets and naive": (
        GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01 01:00,1\n",
        "timestamp",
    ),
    "empty time": (GOOD_HEADER + "2025-01-01T00:00Z,1\n,1\n", "timestamp"),
    "horizon outside data": (
        GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,1\n",
        "timestamp",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_csv_raises_data_error_naming_file_and_column(tmp_path: Path, case: str) -> None:
    text, column = BAD_FILES[case]
    path = write(tmp_path, "bad_" + case.replace(" ", "_") + ".csv", text)
    periods = 3 if case == "horizon outside data" else 2
    with pytest.raises(DataError) as err:
        read_series_file(path, {"load": "elec_kw"}, utc_range("2025-01-01", periods))
    assert path.name in str(err.value)
    assert column in str(err.value)


@pytest.mark.parametrize(
    ("tz", "clock", "word"),
    [
        (HEL, "2025-03-30 03:30", "non-existent"),  # 03:00 -> 04:00 EEST
        (HEL, "2025-10-26 03:30", "ambiguous"),  # 04:00 EEST -> 03:00 EET, appears once
        ("Europe/Stockholm", "2025-10-26 02:30", "ambiguous"),  # CET falls back 03 -> 02
    ],
)
def test_daylight_saving_local_times(tmp_path: Path, tz: str, clock: str, word: str) -> None:
    stamp = pd.Timestamp(clock)
    rows = [stamp - pd.Timedelta("1h"), stamp, stamp + pd.Timedelta("1h")]
    text = GOOD_HEADER + "".join(f"{t:%Y-%m-%d %H:%M},1\n" for t in rows)
    path = write(tmp_path, "dst.csv", text)
    with pytest.raises(DataError, match=word) as err:
        read_series_file(path, {"load": "elec_kw"}, utc_range("2025-03-30", 1), tz=tz)
    assert "dst.csv" in str(err.value) and "timestamp" in str(err.value)


def test_missing_unreadable_and_unsupported_files(tmp_path: Path) -> None:
    index = utc_range("2025-01-01", 2)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not a parquet file")
    (tmp_path / "loads.xlsx").write_text("x")
    (tmp_path / "empty.csv").write_text("")
    for name in ("nowhere.csv", "garbage.parquet", "loads.xlsx", "empty.csv"):
        with pytest.raises(DataError) as err:
            read_series_file(tmp_path / name, {"load": "elec_kw"}, index)
        assert name in str(err.value) and "load" in str(err.value)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("2025-01-01T00:00Z,1\n2025-01-01T00:40Z,1\n2025-01-01T01:20Z,1\n", "incompatible"),
        ("2025-01-01T00:30Z,1\n2025-01-01T01:30Z,1\n2025-01-01T02:30Z,1\n", "not aligned"),
        ("1.1.2025 00:00,1\n1.1.2025 01:00,1\n", "ISO 8601"),
    ],
)
def test_step_alignment_and_format_errors(tmp_path: Path, text: str, word: str) -> None:
    path = write(tmp_path, "grid.csv", GOOD_HEADER + text)
    with pytest.raises(DataError, match=word) as err:
        read_series_file(path, {"load": "elec_kw"}, utc_range("2025-01-01 01:00", 1))
    assert "grid.csv: timestamp:" in str(err.value)


def test_values_outside_the_horizon_are_not_checked(tmp_path: Path) -> None:
    text = GOOD_HEADER + "2025-01-01T00:00Z,1\n2025-01-01T01:00Z,2\n2025-01-01T02:00Z,\n"
    path = write(tmp_path, "tail.csv", text)
    got = read_series_file(path, {"load": "elec_kw"}, utc_range("2025-01-01", 2))
    assert got["elec_kw"].tolist() == [1.0, 2.0]


# --------------------------------------------------------------------------- loads


def test_archetype_shape_tables_have_24_hours() -> None:
    from pecopt.ingest import loads

    for use, carriers in loads._HOURLY.items():
        for carrier, (workday, weekend) in carriers.items():
            assert len(workday) == len(weekend) == 24, (use, carrier)
        assert len(loads._WEEKLY[use]) == 7


def test_degree_hours_by_hand() -> None:
    temp = pd.Series([10.0, 17.0, 20.5], index=utc_range("2025-01-01", 3))
    assert heating_degree_hours(temp).tolist() == [7.0, 0.0, 0.0]  # max(0, 17 - T) x 1 h
    temp15 = pd.Series([10.0, 17.0, 20.5], index=utc_range("2025-01-01", 3, "15min"))
    assert heating_degree_hours(temp15).tolist() == [1.75, 0.0, 0.0]  # x 0.25 h


def test_annual_degree_hours_by_hand() -> None:
    year = local_year(2025)  # 8,760 h
    assert annual_degree_hours(pd.Series(7.0, index=year)) == pytest.approx(10.0 * 8760)
    leap = local_year(2024)  # 8,784 h: still "per year"
    assert annual_degree_hours(pd.Series(7.0, index=leap)) == pytest.approx(10.0 * 8784)
    two = pd.date_range("2025-01-01", "2027-01-01", freq="1h", tz=HEL, inclusive="left")
    temp = pd.Series(np.where(two.year == 2025, 7.0, 12.0), index=two.tz_convert("UTC"))
    assert annual_degree_hours(temp) == pytest.approx((10.0 + 5.0) * 8760 / 2)
    assert annual_degree_hours(pd.Series(7.0, index=year), base_temp_c=15.0) == 8.0 * 8760
    with pytest.raises(ValueError, match="at least a year"):
        annual_degree_hours(pd.Series(7.0, index=year[:-1]))


def test_space_heat_of_an_hour_does_not_depend_on_the_horizon() -> None:
    year = local_year(2025)
    hours = np.arange(len(year))
    temp = pd.Series(5.0 - 12.0 * np.cos(2 * np.pi * hours / 8760.0), index=year)
    kwargs = dict(use="office", floor_area_m2=500.0, elec_kwh_m2_yr=0.0, hot_water_kwh_m2_yr=0.0)
    full = archetype_profile(year, temp, space_heat_kwh_m2_yr=60.0, **kwargs)  # type: ignore[arg-type]
    for part in (slice(0, 336), slice(5000, 5003)):  # two weeks in January, three hours
        short = archetype_profile(
            year[part],
            temp.iloc[part],
            space_heat_kwh_m2_yr=60.0,
            **kwargs,  # type: ignore[arg-type]
        )
        np.testing.assert_allclose(short["space_heat_kw"], full["space_heat_kw"].iloc[part])
    # 500 m2 x 60 kWh/m2 / D_ref x (17 - T) at the first hour, T = 5 - 12 = -7 degC
    assert full["space_heat_kw"].iloc[0] == pytest.approx(30_000 / HELSINKI_DEGREE_HOURS_17C * 24)
    with pytest.raises(ValueError, match="reference_degree_hours_kh"):
        archetype_profile(year, temp, space_heat_kwh_m2_yr=60.0, base_temp_c=15.0, **kwargs)  # type: ignore[arg-type]


def test_space_heat_without_a_reference_uses_the_typical_year_constant() -> None:
    index = utc_range("2025-01-01", 3)
    temp = pd.Series([10.0, 17.0, 20.5], index=index)
    got = archetype_profile(
        index,
        temp,
        use="apartment",
        floor_area_m2=100.0,
        elec_kwh_m2_yr=0.0,
        space_heat_kwh_m2_yr=50.0,
        hot_water_kwh_m2_yr=0.0,
    )
    assert HELSINKI_DEGREE_HOURS_17C == 105_934.5
    # 100 m2 x 50 kWh/m2 / 105,934.5 K h x 7 K = 0.330391... kW
    assert got["space_heat_kw"].tolist() == pytest.approx([5000 / 105_934.5 * 7, 0.0, 0.0])
    assert got["heat_kw"].tolist() == pytest.approx(got["space_heat_kw"].tolist())
    assert got["elec_kw"].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("freq", ["1h", "15min"])
@pytest.mark.parametrize("use", ["apartment", "office", "school", "retail"])
def test_archetype_full_year_totals_equal_annual_inputs(freq: str, use: str) -> None:
    index = local_year(2025, freq)
    dt_h = pd.Timedelta(freq) / pd.Timedelta("1h")
    hours = np.arange(len(index)) * dt_h
    temp = pd.Series(5.0 - 12.0 * np.cos(2 * np.pi * hours / 8760.0), index=index)
    got = archetype_profile(
        index,
        temp,
        use=use,  # type: ignore[arg-type]
        floor_area_m2=1000.0,
        elec_kwh_m2_yr=30.0,
        space_heat_kwh_m2_yr=80.0,
        hot_water_kwh_m2_yr=25.0,
        reference_degree_hours_kh=annual_degree_hours(temp),  # this year is the climate
    )
    energy = got.sum() * dt_h
    assert energy["elec_kw"] == pytest.approx(30_000.0, rel=1e-9)
    assert energy["space_heat_kw"] == pytest.approx(80_000.0, rel=1e-9)
    assert energy["hot_water_kw"] == pytest.approx(25_000.0, rel=1e-9)
    assert energy["heat_kw"] == pytest.approx(105_000.0, rel=1e-9)
    assert (got >= 0).all().all()


def _profile(index: pd.DatetimeIndex, use: str = "apartment") -> pd.DataFrame:
    temp = pd.Series(0.0, index=index)
    return archetype_profile(
        index,
        temp,
        use=use,  # type: ignore[arg-type]
        floor_area_m2=1000.0,
        elec_kwh_m2_yr=30.0,
        space_heat_kwh_m2_yr=80.0,
        hot_water_kwh_m2_yr=25.0,
    )


def test_15min_profile_is_the_hourly_profile_held_within_the_hour() -> None:
    hourly = _profile(utc_range("2025-03-01", 48), "office")
    quarter = _profile(utc_range("2025-03-01", 192, "15min"), "office")
    assert np.allclose(quarter["elec_kw"].to_numpy(), np.repeat(hourly["elec_kw"].to_numpy(), 4))


def test_independence_day_behaves_like_a_sunday() -> None:
    # 2025-12-06 (Independence Day) is a Saturday; retail: Saturday level 1.0, Sunday 0.9.
    local = pd.date_range("2025-11-29", "2025-12-08", freq="1h", tz=HEL, inclusive="left")
    elec = local_by_date(_profile(local.tz_convert("UTC"), "retail")["elec_kw"])
    day = {d: elec[d].to_numpy() for d in ("2025-11-29", "2025-12-06", "2025-12-07")}
    assert np.allclose(day["2025-12-06"], day["2025-12-07"])  # holiday == Sunday
    assert not np.allclose(day["2025-12-06"], day["2025-11-29"])  # != ordinary Saturday


def test_school_summer_holiday_uses_the_sunday_pattern() -> None:
    local = pd.date_range("2025-07-13", "2025-09-18", freq="1h", tz=HEL, inclusive="left")
    elec = local_by_date(_profile(local.tz_convert("UTC"), "school")["elec_kw"])
    assert np.allclose(elec["2025-07-16"].to_numpy(), elec["2025-07-13"].to_numpy())  # Wed==Sun
    assert elec["2025-09-17"].max() > 2 * elec["2025-07-16"].max()  # term-time Wednesday


def test_daylight_saving_days_have_23_and_25_local_hours() -> None:
    elec = local_by_date(_profile(local_year(2025))["elec_kw"])
    steps = elec.groupby(pd.DatetimeIndex(elec.index).date).size()
    assert steps[pd.Timestamp("2025-03-30").date()] == 23
    assert steps[pd.Timestamp("2025-10-26").date()] == 25
    assert steps[pd.Timestamp("2025-03-23").date()] == 24
    # Same Sunday pattern, one local hour (03) missing or repeated [kWh, dt = 1 h]:
    sunday = elec["2025-03-23"]
    assert elec["2025-03-30"].sum() == pytest.approx(sunday.sum() - sunday.iloc[3])
    autumn_sunday = elec["2025-10-19"]
    assert elec["2025-10-26"].sum() == pytest.approx(autumn_sunday.sum() + autumn_sunday.iloc[3])
    repeated = elec["2025-10-26"]
    assert list(repeated.index.hour[:5]) == [0, 1, 2, 3, 3]
    assert repeated.iloc[3] == repeated.iloc[4]


def test_metered_profile_kwh_per_15min(tmp_path: Path) -> None:
    rows = "".join(
        f"2025-01-01 00:{m:02d},{e}\n" for m, e in zip((0, 15, 30, 45), (1, 1, 2, 2), strict=True)
    )
    path = write(tmp_path, "meter.csv", "time,kwh\n" + rows)
    index = utc_range("2025-01-01", 4, "15min")
    got = metered_profile(path, index, column="kwh", unit="kwh", tz="UTC", time_column="time")
    assert got.name == "elec_kw"
    assert got.tolist() == [4.0, 4.0, 8.0, 8.0]  # kWh / 0.25 h
    hourly = metered_profile(
        path,
        utc_range("2025-01-01", 1),
        column="kwh",
        unit="kwh",
        time_column="time",
        name="heat_kw",
    )
    assert hourly.tolist() == [6.0]


def test_metered_profile_negative_is_data_error(tmp_path: Path) -> None:
    path = write(tmp_path, "neg.csv", "timestamp,heat\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,-1\n")
    with pytest.raises(DataError, match="neg.csv: heat: negative"):
        metered_profile(path, utc_range("2025-01-01", 2), column="heat", unit="kw")


# --------------------------------------------------------------------------- tariffs


def test_import_price_by_hand() -> None:
    spot = pd.Series([0.05, -0.01], index=utc_range("2025-01-01", 2))
    got = import_price_eur_per_kwh(
        spot, retail_margin=0.005, network_energy_fee=0.03, electricity_tax="I", vat=0.255
    )
    # (0.05 + 0.005 + 0.03 + 0.02253) x 1.255 and (-0.01 + 0.005 + 0.03 + 0.02253) x 1.255
    assert got.tolist() == pytest.approx([0.13495015, 0.05965015])
    assert got.name == "eur_per_kwh"


def test_import_price_tax_class_ii_without_vat() -> None:
    spot = pd.Series([0.05], index=utc_range("2025-01-01", 1))
    assert ELECTRICITY_TAX_EUR_PER_KWH == {"I": 0.02253, "II": 0.00063}
    assert import_price_eur_per_kwh(spot, electricity_tax="II").tolist() == pytest.approx([0.05063])


def test_export_price_negative_when_spot_negative() -> None:
    spot = pd.Series([-0.002, 0.04], index=utc_range("2025-01-01", 2))
    assert export_price_eur_per_kwh(spot, 0.003).tolist() == pytest.approx([-0.005, 0.037])


def test_night_tariff_hours_in_local_time_across_dst() -> None:
    fee = tou_network_fee(utc_range("2025-01-01", 1), night_tariff_bands(0.02), 0.05)
    assert fee.tolist() == [0.02]  # 02:00 EET
    # 04:00 UTC is 06:00 EET (night) in winter but 07:00 EEST (day) in summer.
    winter = tou_network_fee(utc_range("2025-01-15 04:00", 2), night_tariff_bands(0.02), 0.05)
    summer = tou_network_fee(utc_range("2025-07-15 04:00", 1), night_tariff_bands(0.02), 0.05)
    assert winter.tolist() == [0.02, 0.05] and summer.tolist() == [0.05]
    # Night 22-07 local holds 10 hourly steps on the 25-hour night, 8 on the 23-hour night.
    autumn = tou_network_fee(utc_range("2025-10-25 12:00", 24), night_tariff_bands(0.02), 0.05)
    spring = tou_network_fee(utc_range("2025-03-29 12:00", 24), night_tariff_bands(0.02), 0.05)
    normal = tou_network_fee(utc_range("2025-05-10 12:00", 24), night_tariff_bands(0.02), 0.05)
    assert [(f == 0.02).sum() for f in (autumn, spring, normal)] == [10, 8, 9]


def test_seasonal_tariff_band() -> None:
    local = pd.DatetimeIndex(
        [
            "2025-03-31 12:00",  # Monday, March: winter day
            "2025-04-01 12:00",  # April: other
            "2025-03-30 12:00",  # Sunday: other
            "2025-11-01 21:00",  # Saturday, November: winter day
            "2025-11-01 22:00",  # 22:00: other
            "2025-11-03 06:00",  # 06:00: other
        ]
    ).tz_localize(HEL)
    fee = tou_network_fee(local.tz_convert("UTC"), seasonal_tariff_bands(0.04), 0.025)
    assert fee.tolist() == [0.04, 0.025, 0.025, 0.04, 0.025, 0.025]


def test_dh_seasonal_price_switches_at_local_midnight() -> None:
    # 2025-03-31 23:00 EEST and 2025-04-01 00:00 EEST are both 31 March in UTC.
    index = utc_range("2025-03-31 20:00", 2)
    got = dh_energy_price(index, summer_winter=(0.045, 0.08435))
    assert got.tolist() == [0.08435, 0.045]
    monthly = dh_energy_price(index, monthly=[float(m) for m in range(1, 13)])
    assert monthly.tolist() == [3.0, 4.0]
    assert dh_energy_price(index, constant=0.06538).tolist() == [0.06538, 0.06538]
    with pytest.raises(ValueError):
        dh_energy_price(index, constant=0.06, summer_winter=(0.04, 0.08))


def test_rolling_peak_by_hand() -> None:
    heat = np.array([1.0, 5.0, 3.0, 4.0, 0.0])
    assert rolling_peak_kw(heat, 3) == pytest.approx(4.0)  # (5 + 3 + 4) / 3
    assert rolling_peak_kw(heat, 1) == 5.0
    assert rolling_peak_kw(heat, 5) == pytest.approx(2.6)


def test_vat_switches_at_the_local_date(tmp_path: Path) -> None:
    text = (
        "timestamp,price\n"
        "2023-04-30T20:00Z,11.0\n2023-04-30T21:00Z,12.4\n"  # 23:00 30 Apr / 00:00 1 May local
    )
    path = write(tmp_path, "vat.csv", text)
    index = utc_range("2023-04-30 20:00", 2)
    assert finnish_electricity_vat(index).tolist() == [0.10, 0.24]
    got = read_spot(path, index, unit="c_per_kwh", vat_included=True, column="price")
    assert got.tolist() == pytest.approx([0.10, 0.10])  # 11 / 1.10 and 12.4 / 1.24 c/kWh
    assert finnish_electricity_vat(utc_range("2024-08-31 20:00", 2)).tolist() == [0.24, 0.255]
    plain = read_spot(path, index, unit="eur_per_mwh", vat_included=False, column="price")
    assert plain.tolist() == pytest.approx([0.011, 0.0124])


def test_read_spot_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "spot.csv", "timestamp,x\n2023-01-01T00:00Z,1\n2023-01-01T01:00Z,1\n")
    with pytest.raises(DataError, match="spot.csv: Price_cpkWh: missing column"):
        read_spot(
            path,
            utc_range("2023-01-01", 2),
            unit="c_per_kwh",
            vat_included=True,
            column="Price_cpkWh",
        )


@pytest.mark.skipif(not NPF_DUMP.is_file(), reason=f"shared spot data not present: {NPF_DUMP}")
def test_real_spot_file_2023() -> None:
    # Local 2023 from the first hour in the file (02:00 EET) to 23:00 on 31 Dec: 8,758 h.
    index = pd.date_range("2023-01-01 00:00", "2023-12-31 21:00", freq="1h", tz="UTC")
    spot = read_spot(NPF_DUMP, index, unit="c_per_kwh", vat_included=True, column="Price_cpkWh")
    assert len(spot) == 8758
    assert spot.mean() * 1000 == pytest.approx(56.48, abs=0.005)
    assert int((spot < 0).sum()) == 467
    assert spot.min() * 1000 == pytest.approx(-500.0)


@pytest.mark.parametrize("year", [2024, 2025])
def test_typical_spot_year(year: int) -> None:
    index = local_year(year)
    spot = typical_spot_eur_per_kwh(index)
    assert 300 <= int((spot < 0).sum()) <= 500
    table = pd.read_csv(SPOT_CSV, comment="#").set_index("month")
    local = local_by_date(spot * 1000)
    monthly = local.groupby(pd.DatetimeIndex(local.index).month).mean()
    assert np.allclose(monthly.to_numpy(), table["mean_eur_per_mwh"].to_numpy(), rtol=0.01)
    assert np.isfinite(spot).all()


def test_typical_spot_is_independent_of_horizon_and_held_within_the_hour() -> None:
    year = typical_spot_eur_per_kwh(local_year(2025))
    week = typical_spot_eur_per_kwh(utc_range("2025-06-10", 7 * 24))
    assert np.array_equal(week.to_numpy(), year.loc[week.index].to_numpy())
    quarter = typical_spot_eur_per_kwh(utc_range("2025-06-10", 8, "15min"))
    assert np.array_equal(quarter.to_numpy(), np.repeat(week.to_numpy()[:2], 4))
    assert len(local_year_index(2024)) == 8784


def test_emission_factor_constant_and_file(tmp_path: Path) -> None:
    index = utc_range("2025-01-01", 2)
    assert emission_factor_series(index, constant=0.1078).tolist() == [0.1078, 0.1078]
    path = write(tmp_path, "co2.csv", "timestamp,g\n2025-01-01T00:00Z,100\n2025-01-01T01:00Z,50\n")
    got = emission_factor_series(index, path=path, column="g", unit="g_per_kwh")
    assert got.tolist() == pytest.approx([0.1, 0.05]) and got.name == "kg_per_kwh"
    bad = write(tmp_path, "co2_bad.csv", "timestamp,g\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,-5\n")
    with pytest.raises(DataError, match="co2_bad.csv: g: negative"):
        emission_factor_series(index, path=bad, column="g")


@pytest.mark.parametrize("resolution", ["15min", "1h"])
def test_a_price_file_across_the_15_minute_market_start_is_read_on_one_step(
    tmp_path: Path, resolution: str
) -> None:
    """Nordic day-ahead prices are hourly until 30 Sep 2025 and quarter-hourly from 1 Oct
    2025 (22:00 UTC on 30 Sep): a file that spans the change is read as it is meant, each
    hourly price holding over its four quarters, each quarter-hour kept (15-min index) or
    averaged (hourly index); a file whose step changes any other way stays an error."""
    hours = pd.date_range("2025-09-30T18:00Z", "2025-09-30T21:00Z", freq="1h")
    quarters = pd.date_range("2025-09-30T22:00Z", "2025-10-01T01:45Z", freq="15min")
    price = np.concatenate([[10.0, 20.0, 30.0, 40.0], np.arange(len(quarters), dtype=float)])
    f = tmp_path / "spot.csv"
    times = hours.append(quarters)
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%MZ"), "price": price}).to_csv(
        f, index=False
    )
    index = pd.date_range(
        "2025-09-30T18:00Z", "2025-10-01T02:00Z", freq=resolution, inclusive="left"
    )
    got = read_spot(f, index, unit="eur_per_mwh", vat_included=False, column="price").to_numpy()
    if resolution == "15min":
        want = np.concatenate([np.repeat([10.0, 20.0, 30.0, 40.0], 4), np.arange(16.0)]) / 1000
    else:  # the quarter-hours of each hour averaged: 1.5, 5.5, 9.5, 13.5
        want = np.array([10.0, 20.0, 30.0, 40.0, 1.5, 5.5, 9.5, 13.5]) / 1000
    np.testing.assert_allclose(got, want, atol=1e-12)
    # quarter-hours first, then hours: not how the market went; refused, naming the file
    later = quarters.append(quarters[-1] + pd.to_timedelta([1, 2, 3], "h"))
    back = pd.DataFrame({"timestamp": later.strftime("%Y-%m-%dT%H:%MZ"), "price": np.arange(19.0)})
    back.to_csv(f, index=False)
    with pytest.raises(DataError, match="spot.csv"):
        read_spot(f, quarters, unit="eur_per_mwh", vat_included=False, column="price")

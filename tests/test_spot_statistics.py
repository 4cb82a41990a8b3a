"""The embedded typical spot price against the stated statistics of the real FI area.

Targets: ``pecopt/data/spot_price_statistics.csv`` (year level) and
``pecopt/data/typical_spot_monthly.csv`` (per month). The embedded year must meet each
within 10 %; where ``../shared/data`` is present, the stated figures are recomputed from
the real series, so a wrong target fails too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pecopt.ingest.spot import (
    QUARTER_HOUR_MARKET_START,
    _month_prices,
    _spot_parameters,
    typical_spot_eur_per_kwh,
)
from pecopt.ingest.spot_statistics import (
    HOURLY_STATISTICS,
    load_spot_targets,
    monthly_spot_statistics,
    spot_statistics,
    typical_daily_temperature_c,
    within_hour_spread,
)
from pecopt.ingest.timeseries import local_year_index
from pecopt.ingest.typical_days import load_cold_spell

TZ = "Europe/Helsinki"
REAL = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "spot_fi_npf"
    / "spot_fi_eur_per_mwh_ex_vat.csv"
)
needs_real = pytest.mark.skipif(not REAL.is_file(), reason=f"shared spot data not present: {REAL}")


def embedded_year(year: int, freq: str = "1h") -> pd.Series:
    """The embedded price [EUR/MWh] over the local year on a ``freq`` UTC index."""
    index = local_year_index(year, TZ)
    if freq != "1h":
        index = pd.date_range(
            index[0], index[-1] + pd.Timedelta(hours=1), freq=freq, inclusive="left"
        )
    return typical_spot_eur_per_kwh(index) * 1000.0


def embedded_statistics(year: int) -> dict[str, float]:
    dates = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    temp = typical_daily_temperature_c(dates)
    return spot_statistics(embedded_year(year), daily_temp_c=temp)


def real_year(year: int) -> tuple[pd.Series, pd.Series]:
    """Real FI price [EUR/MWh] of the local year, and its daily mean temperature [degC]."""
    frame = pd.read_csv(REAL)
    times = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"], utc=True))
    frame.index = times
    frame = frame[np.asarray(times.tz_convert(TZ).year) == year]
    temp = frame["temp_helsinki_vantaa_c"].tz_convert(TZ)
    daily = temp.groupby(pd.DatetimeIndex(temp.index).tz_localize(None).normalize()).mean()
    return frame["spot_eur_per_mwh"], daily


# ---------------------------------------------------------------- statistics by hand


def test_statistics_of_a_hand_made_winter_series() -> None:
    # two local January days: day 1 = 0, 1, ..., 23; day 2 = -1 at 00 then 10 all day
    index = pd.date_range("2025-01-01", periods=48, freq="1h", tz=TZ)
    values = np.r_[np.arange(24.0), -1.0, np.full(23, 10.0)]
    temp = pd.Series([-5.0, 5.0], index=pd.DatetimeIndex(["2025-01-01", "2025-01-02"]))
    got = spot_statistics(pd.Series(values, index=index), daily_temp_c=temp)
    assert got["mean_daily_spread_eur_per_mwh"] == pytest.approx((23 + 11) / 2)
    assert got["negative_hours"] == 1
    # 48 winter hours: top round(0.48) -> at least 1 hour, the highest (23)
    assert got["winter_top1pct_mean_eur_per_mwh"] == pytest.approx(23.0)
    # p99 of 48 sorted values: between the two highest, 22 and 23, at 0.53 of the way
    assert got["winter_p99_eur_per_mwh"] == pytest.approx(22.0 + 0.99 * 47 - 46)
    # two days only: daily means 11.5 and (-1 + 230) / 24, colder day dearer -> -1
    assert got["winter_daily_temp_corr"] == pytest.approx(-1.0)
    flat = spot_statistics(pd.Series(np.tile([0.0, 1.0], 24), index=index))
    assert flat["autocorr_lag1"] == pytest.approx(-1.0)
    assert flat["autocorr_lag24"] == pytest.approx(1.0)
    assert np.isnan(flat["winter_daily_temp_corr"])


def test_within_hour_spread_by_hand() -> None:
    index = pd.date_range("2026-01-01", periods=8, freq="15min", tz="UTC")
    price = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 9.0], index=index)
    assert within_hour_spread(price) == pytest.approx((3.0 + 4.0) / 2)


def test_month_prices_by_hand() -> None:
    # x = 1, 2, 4 on one day; 1 negative hour at -1; mean 3 and spread 7 EUR/MWh:
    # a(2^v + 4^v) = 3 * 3 + 1 = 10 and a 4^v - (-1) = 7 -> a 4^v = 6, a 2^v = 4
    got = _month_prices(
        np.array([1.0, 2.0, 4.0]),
        np.array([-1.0, -5.0, -5.0]),
        np.array([0]),
        negative_hours=1,
        mean=3.0,
        spread=7.0,
    )
    np.testing.assert_allclose(got, [-1.0, 4.0, 6.0], atol=1e-9)


# ---------------------------------------------------------- the embedded year: hourly


@pytest.mark.parametrize("year", range(2019, 2031))
def test_embedded_year_meets_every_stated_statistic_within_10_percent(year: int) -> None:
    targets = load_spot_targets()["target"]
    got = embedded_statistics(year)
    assert set(HOURLY_STATISTICS) <= set(targets.index)
    off = {k: got[k] / targets[k] - 1.0 for k in HOURLY_STATISTICS}
    assert all(abs(v) <= 0.10 for v in off.values()), off


@pytest.mark.parametrize("year", [2024, 2025])
def test_embedded_months_meet_the_monthly_table(year: int) -> None:
    table = _spot_parameters()
    got = monthly_spot_statistics(embedded_year(year))
    np.testing.assert_allclose(got["mean_eur_per_mwh"], table["mean_eur_per_mwh"], rtol=1e-9)
    np.testing.assert_array_equal(got["negative_hours"], table["negative_hours"])
    np.testing.assert_allclose(
        got["daily_spread_eur_per_mwh"], table["daily_spread_eur_per_mwh"], rtol=0.005
    )


def test_the_cold_spell_is_dear() -> None:
    price = embedded_year(2025)
    local = pd.Series(price.to_numpy(), index=price.index.tz_convert(TZ))
    daily = local.groupby(pd.DatetimeIndex(local.index).tz_localize(None).normalize()).mean()
    spell = load_cold_spell()
    days = pd.DatetimeIndex([f"2025-{r.month:02d}-{r.day:02d}" for r in spell.itertuples()])
    cold = days[spell["clear"].to_numpy(bool)]
    january = daily[daily.index.month == 1]
    # about 1.6 times the month (1-7 Jan 2024: 2.3 times), 1.9 times the rest of it
    assert daily[cold].mean() > 1.5 * january.mean()
    assert daily[cold].mean() > 1.8 * january.drop(days).mean()
    # the spell's coldest day is among the four dearest days of the winter
    winter = daily[daily.index.month.isin([1, 2, 12])]
    assert pd.Timestamp("2025-01-17") in winter.nlargest(4).index


def test_dst_days_have_their_hours_and_finite_prices() -> None:
    for day, hours in (("2026-03-29", 23), ("2026-10-25", 25)):
        start = pd.Timestamp(day, tz=TZ)
        utc = start.tz_convert("UTC"), (start + pd.DateOffset(days=1)).tz_convert("UTC")
        index = pd.date_range(*utc, freq="1h", inclusive="left")
        assert len(index) == hours
        hourly = typical_spot_eur_per_kwh(index).to_numpy()
        quarters = pd.date_range(*utc, freq="15min", inclusive="left")
        quarter = typical_spot_eur_per_kwh(quarters).to_numpy()
        assert np.isfinite(hourly).all() and np.isfinite(quarter).all()
        np.testing.assert_allclose(quarter.reshape(-1, 4).mean(axis=1), hourly, atol=1e-12)
        # the day's statistics see all its hours
        got = spot_statistics(pd.Series(hourly, index=index))
        assert got["mean_daily_spread_eur_per_mwh"] == pytest.approx(np.ptp(hourly))
    # 25 Oct 2026: local 03:00 comes twice (00:00 and 01:00 UTC), one (climate day, hour)
    fall = typical_spot_eur_per_kwh(
        pd.date_range("2026-10-25 00:00", periods=2, freq="1h", tz="UTC")
    ).to_numpy()
    assert fall[0] == fall[1]


# ------------------------------------------------------- the embedded year: 15 minutes


def test_quarter_hours_meet_the_within_hour_spread_and_keep_the_hourly_statistics() -> None:
    target = load_spot_targets().loc["within_hour_spread_eur_per_mwh", "target"]
    assert pd.Timestamp(QUARTER_HOUR_MARKET_START) < pd.Timestamp("2026-01-01")
    quarters = embedded_year(2026, "15min")
    hourly = embedded_year(2026)
    assert within_hour_spread(quarters) == pytest.approx(target, rel=0.10)
    means = quarters.groupby(quarters.index.floor("1h")).mean()
    np.testing.assert_allclose(means.to_numpy(), hourly.to_numpy(), atol=1e-9)
    # the quarter-hour day is at least as wide as the hourly one
    q_spread = spot_statistics(quarters)["mean_daily_spread_eur_per_mwh"]
    assert q_spread > spot_statistics(hourly)["mean_daily_spread_eur_per_mwh"]
    # and before the 15-minute market, quarters hold the hour
    before = embedded_year(2025, "15min")
    before = before[before.index < pd.Timestamp(QUARTER_HOUR_MARKET_START, tz=TZ)]
    assert within_hour_spread(before) == 0.0


# ------------------------------------------------------------- the targets are right


@needs_real
@pytest.mark.parametrize("year, column", [(2023, "fi_2023"), (2024, "fi_2024")])
def test_stated_figures_are_the_real_series_recomputed(year: int, column: str) -> None:
    table = load_spot_targets()
    price, temp = real_year(year)
    got = spot_statistics(price, daily_temp_c=temp)
    for name in HOURLY_STATISTICS:
        assert got[name] == pytest.approx(table.loc[name, column], rel=1e-3, abs=6e-4), name
        if column == "fi_2023":  # the target is the 2023 figure, rounded
            assert table.loc[name, "target"] == pytest.approx(got[name], rel=2e-3), name


@needs_real
def test_within_hour_target_is_the_hourly_step_of_2023() -> None:
    price, _ = real_year(2023)
    step = float(np.abs(np.diff(price.to_numpy())).mean())
    assert step == pytest.approx(8.36, abs=0.005)
    target = load_spot_targets().loc["within_hour_spread_eur_per_mwh", "target"]
    assert target == pytest.approx(step, abs=0.05)


@needs_real
def test_monthly_table_is_the_real_2023_recomputed() -> None:
    price, _ = real_year(2023)
    got = monthly_spot_statistics(price)
    table = _spot_parameters()
    for column in ("mean_eur_per_mwh", "daily_spread_eur_per_mwh", "negative_hours"):
        np.testing.assert_allclose(got[column], table[column], atol=0.051, err_msg=column)

"""Tariff arithmetic: monthly power-fee windows and months (DST, month boundaries), the
date-dependent electricity tax, the Fortum-style monthly heat price, and the 15-minute
typical spot price; all against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pecopt.ingest.power_fee import billing_windows, monthly_power_fee
from pecopt.ingest.spot import typical_spot_eur_per_kwh
from pecopt.ingest.tariffs import (
    FORTUM_ESPOO_2025_MONTHLY_EXAMPLE_EUR_PER_KWH,
    finnish_electricity_tax,
    scale_monthly_prices,
)

HEL = "Europe/Helsinki"


def local_range(start: str, end: str, freq: str = "1h") -> pd.DatetimeIndex:
    """UTC steps from local ``start`` to local ``end`` (exclusive)."""
    a, b = pd.Timestamp(start, tz=HEL), pd.Timestamp(end, tz=HEL)
    return pd.date_range(a, b, freq=freq, inclusive="left").tz_convert("UTC")


# ------------------------------------------------------------------- power-fee windows


def test_two_months_each_pay_their_own_peak_pro_rata():
    # 31 Jan 00:00 -> 2 Feb 00:00 local, hourly: 24 h of January (744 h) and 24 h of
    # February (672 h). Import = step number 0..47 kW: January's peak 23, February's 47.
    index = local_range("2025-01-31", "2025-02-02")
    fee = monthly_power_fee(np.arange(48.0), index, 2.60)
    assert fee["month"].tolist() == ["2025-01", "2025-02"]
    assert fee["peak_kw"].tolist() == [23.0, 47.0]
    assert fee["share"].tolist() == pytest.approx([24 / 744, 24 / 672])
    assert fee["fee_eur"].tolist() == pytest.approx([2.60 * 23 * 24 / 744, 2.60 * 47 * 24 / 672])


def test_whole_months_pay_the_whole_fee():
    index = local_range("2025-01-01", "2025-03-01")
    load = np.zeros(len(index))
    load[10], load[800] = 5.0, 7.0  # one hour in January, one in February
    fee = monthly_power_fee(load, index, 1.72)
    assert fee["share"].tolist() == [1.0, 1.0]
    assert fee["fee_eur"].sum() == pytest.approx(1.72 * (5 + 7))


@pytest.mark.parametrize(
    ("day", "hours", "month_hours"),
    [("2025-03-30", 23, 743), ("2025-10-26", 25, 745), ("2025-05-12", 24, 744)],
)
def test_dst_days_count_their_real_hours(day, hours, month_hours):
    end = str((pd.Timestamp(day) + pd.Timedelta(days=1)).date())
    index = local_range(day, end)
    bw = billing_windows(index, 1.0, tz=HEL)
    assert len(index) == hours
    assert bw.month_share.tolist() == pytest.approx([hours / month_hours])


def test_month_boundary_in_local_time_not_utc():
    # 31 Mar 22:00 local (EEST, 19:00 UTC) .. 1 Apr 02:00 local: 21:00 UTC is April locally.
    index = local_range("2025-03-31 22:00", "2025-04-01 02:00")
    assert index[2] == pd.Timestamp("2025-03-31 21:00", tz="UTC")
    bw = billing_windows(index, 1.0, tz=HEL)
    assert bw.months == ("2025-03", "2025-04")
    assert bw.window_month.tolist() == [0, 0, 1, 1]
    assert bw.month_share.tolist() == pytest.approx([2 / 743, 2 / 720])


def test_quarter_hours_in_a_60_minute_window():
    # Four 15-min steps per window: the fee is on the hourly mean, not the quarter peak.
    index = local_range("2025-01-15 10:00", "2025-01-15 12:00", "15min")
    load = np.array([40.0, 0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 10.0])
    fee = monthly_power_fee(load, index, 1.0, window_h=1.0)
    assert fee["peak_kw"].tolist() == [10.0]  # hour 1 averages 10, hour 0 averages 10 too
    assert monthly_power_fee(load, index, 1.0, window_h=0.25)["peak_kw"].tolist() == [40.0]
    assert monthly_power_fee(load, index, 1.0, window_h=0.5)["peak_kw"].tolist() == [20.0]
    # on an hourly model a 15-min window is the step: the hourly mean
    hourly = local_range("2025-01-15 10:00", "2025-01-15 12:00")
    assert billing_windows(hourly, 0.25, tz=HEL).window_size.tolist() == [1, 1]


def test_a_window_cut_by_the_horizon_averages_the_steps_inside():
    index = pd.date_range("2025-01-15 08:30", periods=4, freq="15min", tz="UTC")
    bw = billing_windows(index, 1.0, tz=HEL)
    assert bw.window_size.tolist() == [2, 2]  # 08:30, 08:45 | 09:00, 09:15
    fee = monthly_power_fee(np.array([4.0, 2.0, 1.0, 1.0]), index, 1.0)
    assert fee["peak_kw"].tolist() == [3.0]


def test_window_must_be_whole_steps():
    index = pd.date_range("2025-01-15", periods=4, freq="1h", tz="UTC")
    with pytest.raises(ValueError, match="whole number"):
        billing_windows(index, 1.5)


# ------------------------------------------------------------------------ electricity tax


def test_electricity_tax_changes_at_local_midnight_1_april_2026():
    # 31 Mar 2026 23:00 local (EEST) = 20:00 UTC; 1 Apr 00:00 local = 21:00 UTC.
    index = pd.date_range("2026-03-31 20:00", periods=2, freq="1h", tz="UTC")
    assert finnish_electricity_tax(index, "I").tolist() == [0.02253, 0.02325]
    assert finnish_electricity_tax(index, "II").tolist() == [0.00063, 0.00135]
    assert finnish_electricity_tax(index, "none").tolist() == [0.0, 0.0]


def test_electricity_tax_class_ii_before_2021():
    # 31 Dec 2020 23:00 local (EET) = 21:00 UTC; 1 Jan 2021 00:00 local = 22:00 UTC.
    index = pd.date_range("2020-12-31 21:00", periods=2, freq="1h", tz="UTC")
    assert finnish_electricity_tax(index, "II").tolist() == [0.00703, 0.00063]
    assert finnish_electricity_tax(index, "I").tolist() == [0.02253, 0.02253]
    early = pd.date_range("2015-06-01", periods=1, freq="1h", tz="UTC")
    assert finnish_electricity_tax(early, "II").tolist() == [0.00703]  # the 2019 row
    with pytest.raises(ValueError, match="tax class"):
        finnish_electricity_tax(index, "III")  # type: ignore[arg-type]


# ---------------------------------------------------------------- district-heat prices


def test_scale_monthly_prices_by_hand():
    # shape 2, 1 with weights 3, 1: weighted mean of the shape 7/4; scaled to 0.07 -> 0.08, 0.04
    got = scale_monthly_prices([2.0, 1.0], [3.0, 1.0], 0.07)
    assert got.tolist() == pytest.approx([0.08, 0.04])
    with pytest.raises(ValueError):
        scale_monthly_prices([1.0, 2.0], [0.0, 0.0], 0.07)


def test_fortum_example_table_is_its_documented_derivation():
    # the docstring: a cosine through Helen 2025 (Jan 121.75, Jul 40.60, Dec 109.95 EUR/MWh),
    # scaled to 65.38 EUR/MWh incl. 25.5 % VAT, weighted by an apartment block's heat
    m = np.arange(12)
    helen = 81.175 + 42.524 * np.cos(2 * np.pi * m / 12 - 0.30397)
    assert helen[[0, 6, 11]] == pytest.approx([121.75, 40.60, 109.95], abs=0.01)
    temp = np.array([-3.9, -5.7, -1.0, 3.7, 9.9, 14.0, 16.7, 15.8, 10.2, 5.9, -1.3, -3.0])
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    degree_days = np.maximum(17 - temp, 0) * days
    weights = 55 * degree_days / degree_days.sum() + 35 * days / days.sum()
    want = scale_monthly_prices(helen, weights, 65.38 / 1.255 / 1000)
    table = np.array(FORTUM_ESPOO_2025_MONTHLY_EXAMPLE_EUR_PER_KWH)
    np.testing.assert_allclose(table, want, atol=5e-5)
    assert float(table @ weights / weights.sum()) == pytest.approx(0.05210, abs=5e-5)
    assert table.argmax() in (0, 1) and table.argmin() in (6, 7)  # winter high, summer low


# --------------------------------------------------------------- 15-minute spot market


def test_typical_spot_quarters_vary_from_1_october_2025_with_the_hourly_mean():
    quarters = local_range("2025-09-30 22:00", "2025-10-01 04:00", "15min")
    hours = local_range("2025-09-30 22:00", "2025-10-01 04:00")
    q = typical_spot_eur_per_kwh(quarters).to_numpy().reshape(-1, 4)
    h = typical_spot_eur_per_kwh(hours).to_numpy()
    np.testing.assert_allclose(q.mean(axis=1), h, rtol=0, atol=1e-12)
    # 30 Sep (hourly market): held within the hour; 1 Oct on: four different quarters
    assert (q[:2] == q[:2, :1]).all()
    assert all(len(set(row)) == 4 for row in q[2:])


def test_typical_spot_quarters_are_independent_of_the_horizon():
    day = typical_spot_eur_per_kwh(local_range("2025-11-12", "2025-11-13", "15min"))
    week = typical_spot_eur_per_kwh(local_range("2025-11-10", "2025-11-17", "15min"))
    assert np.array_equal(day.to_numpy(), week.loc[day.index].to_numpy())
    # the year's last hour uses the next year's first hour as its neighbour
    edge = typical_spot_eur_per_kwh(local_range("2025-12-31 23:00", "2026-01-01 01:00", "15min"))
    hourly = typical_spot_eur_per_kwh(local_range("2025-12-31 23:00", "2026-01-01 01:00"))
    np.testing.assert_allclose(edge.to_numpy().reshape(2, 4).mean(1), hourly.to_numpy())

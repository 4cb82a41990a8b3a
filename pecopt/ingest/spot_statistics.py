"""Statistics of a spot price year, and the targets the embedded typical year must meet.

The targets are stated in ``pecopt/data/spot_price_statistics.csv`` (with their 2023 and
2024 values and sources; see ``data/README.md``, "Spot price statistics"). The same pure
functions compute them from a real series and from
:func:`pecopt.ingest.spot.typical_spot_eur_per_kwh`, so a test can hold both to the
stated figures.

Definitions, for hourly prices :math:`p_t` [EUR/MWh] of one local (Europe/Helsinki)
calendar year in time order:

* ``mean_daily_spread_eur_per_mwh``: :math:`\\frac{1}{|D|}\\sum_{d \\in D}
  (\\max_{t \\in d} p_t - \\min_{t \\in d} p_t)` over the local days :math:`D`;
* ``negative_hours``: :math:`|\\{t: p_t < 0\\}|` [h];
* ``winter_p99_eur_per_mwh``: the 99th percentile (linear interpolation) of the hours
  of January, February and December;
* ``winter_top1pct_mean_eur_per_mwh``: the mean of the highest
  :math:`\\mathrm{round}(0.01 n_w)` of those :math:`n_w` hours;
* ``autocorr_lag1``, ``autocorr_lag24``: Pearson correlation of :math:`p_t` with
  :math:`p_{t-k}`, :math:`k` = 1 and 24 h, over the year's pairs;
* ``winter_daily_temp_corr``: Pearson correlation, over the local days of January,
  February and December, of the daily mean price with the daily mean air temperature;
* ``within_hour_spread_eur_per_mwh`` (quarter-hour prices): the mean over hours of the
  hour's highest minus lowest quarter-hour price.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from pecopt.ingest import typical_days
from pecopt.ingest.weather import load_monthly_defaults

__all__ = [
    "HOURLY_STATISTICS",
    "load_spot_targets",
    "monthly_spot_statistics",
    "spot_statistics",
    "typical_daily_temperature_c",
    "within_hour_spread",
]

_TARGETS_CSV: Final = Path(__file__).resolve().parents[1] / "data" / "spot_price_statistics.csv"

#: The statistics of an hourly year, in the order of the targets file.
HOURLY_STATISTICS: Final = (
    "mean_daily_spread_eur_per_mwh",
    "negative_hours",
    "winter_p99_eur_per_mwh",
    "winter_top1pct_mean_eur_per_mwh",
    "autocorr_lag1",
    "autocorr_lag24",
    "winter_daily_temp_corr",
)

_WINTER: Final = (12, 1, 2)


def load_spot_targets() -> pd.DataFrame:
    """Read ``pecopt/data/spot_price_statistics.csv``, indexed by ``statistic``.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit``, ``target`` (what the embedded year must meet within 10 %),
        ``fi_2023`` and ``fi_2024`` (the real FI area; NaN where not measured) and
        ``source``.
    """
    return pd.read_csv(_TARGETS_CSV, comment="#").set_index("statistic")


def _local(price: pd.Series, tz: str) -> pd.Series:
    index = pd.DatetimeIndex(price.index)
    return pd.Series(price.to_numpy(float), index=index.tz_convert(tz)).sort_index()


def spot_statistics(
    price: pd.Series,
    *,
    daily_temp_c: pd.Series | None = None,
    tz: str = "Europe/Helsinki",
) -> dict[str, float]:
    """The hourly statistics (module docstring) of one local year of prices.

    Parameters
    ----------
    price : pandas.Series
        Hourly price [EUR/MWh] on a tz-aware index covering (part of) one local year,
        without gaps.
    daily_temp_c : pandas.Series, optional
        Daily mean air temperature [degC] indexed by naive local dates; without it
        ``winter_daily_temp_corr`` is NaN.
    tz : str
        Zone of the local days and months (default Europe/Helsinki).

    Returns
    -------
    dict
        Statistic name -> value, for the names in :data:`HOURLY_STATISTICS`; the winter
        ones are NaN without winter hours (or, for the correlation, two winter days).
    """
    p = _local(price, tz)
    local = pd.DatetimeIndex(p.index)
    dates = local.tz_localize(None).normalize()
    by_day = p.groupby(dates)
    winter = np.asarray(local.month.isin(_WINTER))
    w = np.sort(p.to_numpy()[winter])
    top = max(int(round(0.01 * len(w))), 1)
    nan = float("nan")
    out = {
        "mean_daily_spread_eur_per_mwh": float((by_day.max() - by_day.min()).mean()),
        "negative_hours": float((p < 0).sum()),
        "winter_p99_eur_per_mwh": float(np.percentile(w, 99)) if len(w) else nan,
        "winter_top1pct_mean_eur_per_mwh": float(w[-top:].mean()) if len(w) else nan,
        "autocorr_lag1": float(p.autocorr(1)) if len(p) > 3 else nan,
        "autocorr_lag24": float(p.autocorr(24)) if len(p) > 26 else nan,
        "winter_daily_temp_corr": nan,
    }
    if daily_temp_c is not None:
        daily = by_day.mean()
        days = pd.DatetimeIndex(daily.index)
        temp = daily_temp_c.reindex(days).to_numpy(float)
        keep = np.asarray(days.month.isin(_WINTER)) & np.isfinite(temp)
        if keep.sum() >= 2:
            daily_price = daily.to_numpy()[keep]
            out["winter_daily_temp_corr"] = float(np.corrcoef(daily_price, temp[keep])[0, 1])
    return out


def monthly_spot_statistics(price: pd.Series, *, tz: str = "Europe/Helsinki") -> pd.DataFrame:
    """Mean price, mean daily max-min spread and negative hours per local month.

    Parameters
    ----------
    price : pandas.Series
        Hourly price [EUR/MWh] on a tz-aware index.
    tz : str
        Zone of the local days and months.

    Returns
    -------
    pandas.DataFrame
        Indexed by month 1-12 present, columns ``mean_eur_per_mwh``,
        ``daily_spread_eur_per_mwh`` [EUR/MWh] and ``negative_hours`` [h], as in
        ``pecopt/data/typical_spot_monthly.csv``.
    """
    p = _local(price, tz)
    local = pd.DatetimeIndex(p.index)
    month = np.asarray(local.month)
    by_day = p.groupby(local.tz_localize(None).normalize())
    spread = by_day.max() - by_day.min()
    return pd.DataFrame(
        {
            "mean_eur_per_mwh": p.groupby(month).mean(),
            "daily_spread_eur_per_mwh": spread.groupby(
                np.asarray(pd.DatetimeIndex(spread.index).month)
            ).mean(),
            "negative_hours": (p < 0).groupby(month).sum().astype(float),
        }
    ).rename_axis("month")


def within_hour_spread(price: pd.Series) -> float:
    """Mean over hours of the hour's max - min sub-hourly price [EUR/MWh].

    Parameters
    ----------
    price : pandas.Series
        Sub-hourly (e.g. 15-min) prices [EUR/MWh] on a tz-aware index of whole hours.

    Returns
    -------
    float
    """
    hour = pd.DatetimeIndex(price.index).floor("1h")
    by_hour = price.groupby(hour)
    return float((by_hour.max() - by_hour.min()).mean())


def typical_daily_temperature_c(dates: pd.DatetimeIndex) -> pd.Series:
    """Daily mean air temperature [degC] of the embedded typical weather on naive dates.

    The record :func:`pecopt.ingest.typical_days.daily_record` that
    :func:`pecopt.ingest.weather.typical_year` and the typical spot price are built from;
    dates map onto its climate days (29 February -> 28 February).

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Naive local dates.

    Returns
    -------
    pandas.Series
        Daily mean temperature [degC] indexed by ``dates``.
    """
    record = typical_days.daily_record(load_monthly_defaults())
    temp = record.temp_mean_c[typical_days.climate_day(dates)]
    return pd.Series(temp, index=dates, name="temp_air_c")

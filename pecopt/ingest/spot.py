"""The day-ahead spot price: pecopt's embedded typical year, price files, and prices a
nightly plan does not know yet.

* :func:`typical_spot_eur_per_kwh`: the embedded stand-in year (the Finnish area's 2023
  monthly means, daily spreads and negative hours, dear and cheap days following the
  embedded weather; quarter-hours within the hour from the 15-minute market start on
  1 Oct 2025), whose statistics :mod:`pecopt.ingest.spot_statistics` states and checks;
* :func:`read_spot`: a price file onto the horizon, in EUR/kWh ex VAT;
* :func:`read_spot_known` and :func:`fill_missing_prices`: what a file holds up to now,
  and the rest forecast from the recent level on the embedded shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest import typical_days
from pecopt.ingest.tariffs import _in_force, finnish_electricity_vat
from pecopt.ingest.timeseries import (
    effective_weekday,
    local_year_index,
    parse_times,
    read_series_file,
    read_table,
    step_of,
    zone_for,
)
from pecopt.ingest.typical_days import _periodic_ar1
from pecopt.ingest.weather import load_monthly_defaults

__all__ = [
    "QUARTER_HOUR_MARKET_START",
    "fill_missing_prices",
    "read_spot",
    "read_spot_known",
    "typical_spot_eur_per_kwh",
]

_NAME: Final = "eur_per_kwh"


#: First local delivery day of the 15-minute day-ahead market (SDAC MTU, FACTS: 15-minute
#: time resolution); from it the embedded typical spot price varies within the hour.
QUARTER_HOUR_MARKET_START: Final = "2025-10-01"


_SPOT_CSV: Final = Path(__file__).resolve().parents[1] / "data" / "typical_spot_monthly.csv"


def read_spot(
    path: str | Path,
    index: pd.DatetimeIndex,
    *,
    unit: Literal["eur_per_mwh", "c_per_kwh"],
    vat_included: bool,
    column: str,
    time_column: str = "timestamp",
    tz: str = "UTC",
    holes: bool = False,
) -> pd.Series:
    """Read a spot price file onto ``index``, in EUR/kWh excluding VAT.

    .. math:: p_t = \\frac{x_t \\cdot u}{1 + v(d_t)}

    with :math:`x_t` the file value, :math:`u` = 1/1000 (EUR/MWh) or 1/100 (c/kWh), and
    :math:`v(d_t)` the Finnish VAT at the local Helsinki date :math:`d_t` when
    ``vat_included`` (else 0). VAT also scales negative prices (sahkotin.fi convention).
    Hourly prices on a 15-min index hold within the hour; 15-min prices on an hourly index
    are averaged.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV or Parquet file.
    index : pandas.DatetimeIndex
        Canonical UTC index.
    unit : {"eur_per_mwh", "c_per_kwh"}
        Unit of ``column``.
    vat_included : bool
        Whether the file's prices include Finnish VAT.
    column, time_column : str
        Price and timestamp columns.
    tz : str
        Zone of naive timestamps (default UTC).
    holes : bool
        Rows missing inside the file and empty cells give NaN, not an error
        (:func:`pecopt.ingest.timeseries.read_series_file`).

    Returns
    -------
    pandas.Series
        Spot price [EUR/kWh] ex VAT, named ``eur_per_kwh``.
    """
    scale = {"eur_per_mwh": 1e-3, "c_per_kwh": 1e-2}
    if unit not in scale:
        raise ValueError(f"unit must be one of {sorted(scale)}, got {unit!r}")
    frame = read_series_file(
        path, {column: _NAME}, index, time_column=time_column, tz=tz, allow_negative=True,
        holes=holes,
    )  # fmt: skip
    price = frame[_NAME] * scale[unit]
    if vat_included:
        price = price / (1.0 + finnish_electricity_vat(index))
    return price.rename(_NAME)


def typical_spot_eur_per_kwh(index: pd.DatetimeIndex, *, tz: str = "Europe/Helsinki") -> pd.Series:
    """A deterministic typical-year Finnish day-ahead spot price [EUR/kWh] ex VAT.

    Built hourly for each local calendar year, then looked up per step (constant within the
    hour on a 15-min index before 1 Oct 2025). Every local month has exactly its 2023
    mean price :math:`\\bar p_m`, exactly its 2023 count of negative hours :math:`n_m`, and
    its 2023 mean daily max-min spread :math:`S_m` (within 0.5 %), all from
    ``pecopt/data/typical_spot_monthly.csv``; which days and hours are dear or cheap
    follows the embedded weather (:mod:`pecopt.ingest.typical_days`). The year-level
    statistics this gives (daily spread, negative hours, winter peaks, autocorrelations,
    link to the temperature) are stated in ``pecopt/data/spot_price_statistics.csv`` with
    their 2023 values and checked by :func:`pecopt.ingest.spot_statistics.spot_statistics`.

    **Drivers.** For climate day :math:`d` (:func:`~pecopt.ingest.typical_days.climate_day`
    of the local date) let :math:`\\hat T_d` and :math:`\\hat W_d` be the embedded
    weather's daily mean temperature and log daily mean wind speed, standardised within
    their month, and :math:`E_d` a circular AR(1) series (lag-1 correlation
    :math:`\\rho_D`, unit variance: multi-day price regimes). The daily level is

    .. math::

        z_d = -\\alpha_T \\hat T_d - \\alpha_W \\hat W_d
              + \\sqrt{1 - \\alpha_T^2 - \\alpha_W^2}\\, E_d

    (cold, calm days dear: the January cold spell averages about 1.6 times the month's
    mean). With :math:`H_t` a circular AR(1) series over the (climate day, local hour)
    keys (lag-1 correlation :math:`\\rho_H`: wind and load within the day), local hour
    :math:`h`, month :math:`m` and effective weekday :math:`k` (holidays = Sunday), the
    pre-price is

    .. math::

        x_t = e^{\\sigma_D z_d + \\sigma_H H_t}\\, w_k\\,
              \\max\\bigl(0.05,\\; 1 + A\\,[0.20 g(h; 8, 1.5) + 0.25 g(h; 18.5, 1.8)
              - 0.30 g(h; 3, 2.2)] - \\delta_m g(h; 13, 2.5)\\bigr)

    with Gaussian bumps :math:`g(h;\\mu,\\sigma)=e^{-(h-\\mu)^2/2\\sigma^2}` (morning and
    evening peaks, night trough, midday solar dip of depth :math:`\\delta_m`) and weekly
    level :math:`w` = 1.05 Mon-Fri, 0.92 Sat, 0.85 Sun.

    **Month by month.** The :math:`n_m` hours of the month with the lowest :math:`x_t`
    (windy nights, sunny middays of cheap days) get :math:`p_t = -(0.01 + X_t)` EUR/MWh,
    :math:`X_t \\sim \\mathrm{Exp}` with mean :data:`NEGATIVE_DEPTH_EUR_PER_MWH`; the others

    .. math:: p_t = a_m\\, x_t^{\\,v_m}

    where :math:`a_m` makes the month's mean exactly :math:`\\bar p_m` and :math:`v_m` (by
    bisection on [0.05, 8]) makes its mean daily max-min spread :math:`S_m`. As
    :math:`x^{v}` keeps the order of :math:`x`, the negative hours do not depend on
    :math:`v_m`. :math:`\\alpha_T, \\alpha_W, \\rho_D, \\rho_H, \\sigma_D, \\sigma_H, A`
    are :data:`SPOT_PROCESS` [assumption: tuned so that the year's statistics meet
    ``spot_price_statistics.csv``].

    Random draws come from ``numpy.random.default_rng(2023)`` keyed by climate day and
    local hour, so a date's price does not depend on the horizon start (a leap year's
    29 February repeats 28 February, as the weather does).

    **Quarter hours.** The FI day-ahead market has cleared in 15-minute units since the
    delivery day 1 Oct 2025 (:data:`QUARTER_HOUR_MARKET_START`; FACTS: 15-minute time
    resolution). On a sub-hourly index, steps on local dates from then on vary within the
    hour by a deterministic shape [assumption: no 15-min FI price data in the repository;
    the shape imitates the intra-hour ramps and saw-tooth of a quarter-hour market]:
    quarter :math:`q = 0..3` of hour :math:`h` gets

    .. math::

        p_{h,q} = p_h + \\frac{p_{h+1} - p_{h-1}}{2}\\, c_q
                  + \\kappa\\,|p_h|\\,\\eta_{d,h,q},
        \\qquad c = (-3, -1, 1, 3) / 8

    a straight line through the hour with the slope of its neighbours (quarter centres at
    -3/8 ... 3/8 h from mid-hour) plus noise :math:`\\eta` (standard normal, seed 2025,
    keyed by local day of year, hour and quarter, de-meaned over the four quarters) of
    relative size :math:`\\kappa` = :data:`QUARTER_NOISE`. Both terms sum to zero over the
    hour, so **the hourly mean is** :math:`p_h`: an hourly run, and every monthly mean,
    are unchanged. Before 1 Oct 2025 (hourly market) quarters hold the hour's price. A
    30-minute step takes the mean of its two quarters.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index.
    tz : str
        Local zone (default Europe/Helsinki).

    Returns
    -------
    pandas.Series
        Spot price [EUR/kWh] ex VAT, named ``eur_per_kwh``.
    """
    years = np.unique(np.asarray(index.tz_convert(tz).year))
    step = step_of(index) if len(index) > 1 or index.freq is not None else pd.Timedelta(hours=1)
    quarter = pd.Timedelta(minutes=15)
    if step >= pd.Timedelta(hours=1) or step % quarter != pd.Timedelta(0):
        hourly = pd.concat([_typical_spot_year(int(y), tz) for y in years])
        values = hourly.reindex(index.floor("1h")).to_numpy()
        return pd.Series(values / 1000.0, index=index, name=_NAME)
    # neighbouring hours at the year's edges come from the adjacent years
    span = range(int(years.min()) - 1, int(years.max()) + 2)
    hourly = pd.concat([_typical_spot_year(y, tz) for y in span])
    k = int(step // quarter)
    quarters = index.repeat(k) + pd.TimedeltaIndex(np.tile(np.arange(k), len(index)) * quarter)
    values = _quarter_hour_prices(quarters, hourly, tz).reshape(len(index), k).mean(axis=1)
    return pd.Series(values / 1000.0, index=index, name=_NAME)


#: Intra-hour ramp weights of the four quarters (centres at -3/8, -1/8, 1/8, 3/8 h).
_RAMP: Final = np.array([-3.0, -1.0, 1.0, 3.0]) / 8.0

#: Relative size of the quarter-hour noise :math:`\\kappa` [-]; with the ramp it gives
#: the stated mean within-hour spread of ``spot_price_statistics.csv`` [assumption].
QUARTER_NOISE: Final = 0.043


@lru_cache(maxsize=1)
def _quarter_draws() -> np.ndarray:
    """Fixed-seed noise keyed by (day of year, local hour, quarter), zero mean per hour."""
    eta = np.random.default_rng(2025).normal(0.0, 1.0, (367, 24, 4))
    out: np.ndarray = eta - eta.mean(axis=2, keepdims=True)
    return out


def _quarter_hour_prices(quarters: pd.DatetimeIndex, hourly: pd.Series, tz: str) -> np.ndarray:
    """The typical spot price [EUR/MWh] at each quarter-hour start (see
    :func:`typical_spot_eur_per_kwh`)."""
    one = pd.Timedelta(hours=1)
    hour = quarters.floor("1h")
    base = hourly.reindex(hour).to_numpy()
    before = hourly.reindex(hour - one).to_numpy()
    after = hourly.reindex(hour + one).to_numpy()
    before = np.where(np.isnan(before), base, before)
    after = np.where(np.isnan(after), base, after)
    q = np.asarray((quarters - hour) // pd.Timedelta(minutes=15), dtype=np.int64)
    local = quarters.tz_convert(tz)
    doy, hod = np.asarray(local.day_of_year), np.asarray(local.hour)
    noise = QUARTER_NOISE * np.abs(base) * _quarter_draws()[doy, hod, q]
    shape = (after - before) / 2.0 * _RAMP[q] + noise
    live = _in_force(quarters, [QUARTER_HOUR_MARKET_START], tz) >= 0
    out: np.ndarray = base + np.where(live, shape, 0.0)
    return out


@dataclass(frozen=True)
class SpotProcess:
    """Parameters of the typical spot price's random process (see
    :func:`typical_spot_eur_per_kwh`).

    Attributes
    ----------
    temp_weight, wind_weight : float
        :math:`\\alpha_T, \\alpha_W` [-]: weights of the standardised daily temperature and
        log wind speed in the daily level (:math:`\\alpha_T^2 + \\alpha_W^2 < 1`).
    daily_rho, hourly_rho : float
        :math:`\\rho_D, \\rho_H` [-]: lag-1 correlations of the daily regime (per day) and
        the hourly noise (per hour).
    daily_sigma, hourly_sigma : float
        :math:`\\sigma_D, \\sigma_H` [-]: log-scale of the daily level and hourly noise
        (before the monthly exponent :math:`v_m`).
    shape_amplitude : float
        :math:`A` [-]: amplitude of the morning and evening peaks and the night trough.
    """

    temp_weight: float
    wind_weight: float
    daily_rho: float
    hourly_rho: float
    daily_sigma: float
    hourly_sigma: float
    shape_amplitude: float


#: The typical spot price's process [assumption]: tuned (Nelder-Mead, typical years 2021,
#: 2025, 2026 and 2028) to the statistics of ``spot_price_statistics.csv``, with the
#: January cold spell at about 1.6 times the month's mean (1-7 Jan 2024: 2.3 times, see
#: the file) and, at a low weight, the hourly standard deviation of 2023 without its
#: bidding-error hours (53.5 EUR/MWh). The typical years 2019-2030 then meet every stated
#: statistic within 6.1 %; their standard deviation is about 49 EUR/MWh (2023: 56.7).
SPOT_PROCESS: Final = SpotProcess(
    temp_weight=0.24,
    wind_weight=0.86,
    daily_rho=0.85,
    hourly_rho=0.86,
    daily_sigma=0.53,
    hourly_sigma=0.33,
    shape_amplitude=1.98,
)

#: Mean depth of a negative price below -0.01 EUR/MWh [EUR/MWh]: FI 2023's negative hours
#: other than the ten bidding-error hours of 24 Nov (-500) averaged -2.70 EUR/MWh (median
#: -1.80), from ``../shared/data/spot_fi_npf/spot_fi_eur_per_mwh_ex_vat.csv``.
NEGATIVE_DEPTH_EUR_PER_MWH: Final = 2.7

#: Bounds of the monthly exponent :math:`v_m` searched by bisection [-].
_EXPONENT_BOUNDS: Final = (0.05, 8.0)


@lru_cache(maxsize=1)
def _spot_parameters() -> pd.DataFrame:
    """The monthly parameters of the typical spot price, indexed by month 1..12."""
    table = pd.read_csv(_SPOT_CSV, comment="#").set_index("month")
    return table


@lru_cache(maxsize=1)
def _spot_draws() -> dict[str, np.ndarray]:
    """Fixed-seed random draws keyed by climate day (0..364) and local hour.

    ``daily`` (365,) and ``hourly`` (365 * 24,) are circular unit-variance AR(1) series;
    ``depth`` (365 * 24,) the exponential depths of negative prices [EUR/MWh].
    """
    rng = np.random.default_rng(2023)
    proc = SPOT_PROCESS
    return {
        "daily": _periodic_ar1(rng, typical_days.DAYS, proc.daily_rho),
        "hourly": _periodic_ar1(rng, typical_days.DAYS * 24, proc.hourly_rho),
        "depth": rng.exponential(NEGATIVE_DEPTH_EUR_PER_MWH, typical_days.DAYS * 24),
    }


@lru_cache(maxsize=1)
def _daily_level() -> np.ndarray:
    """The daily level :math:`z_d` [-] per climate day, from the embedded weather."""
    record = typical_days.daily_record(load_monthly_defaults())

    def standardised(x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        for month in range(1, 13):
            days = record.month == month
            out[days] = (x[days] - x[days].mean()) / x[days].std()
        return out

    proc = SPOT_PROCESS
    rest = np.sqrt(1.0 - proc.temp_weight**2 - proc.wind_weight**2)
    out: np.ndarray = (
        -proc.temp_weight * standardised(record.temp_mean_c)
        - proc.wind_weight * standardised(np.log(record.wind_speed_m_s))
        + rest * _spot_draws()["daily"]
    )
    return out


def _bump(h: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((h - mu) / sigma) ** 2)


def _mean_daily_spread(price: np.ndarray, day_start: np.ndarray) -> float:
    """Mean over days of the day's max - min; ``day_start`` are the first rows of the days."""
    spread = np.maximum.reduceat(price, day_start) - np.minimum.reduceat(price, day_start)
    return float(spread.mean())


def _month_prices(
    x: np.ndarray,
    negative: np.ndarray,
    day_start: np.ndarray,
    *,
    negative_hours: int,
    mean: float,
    spread: float,
) -> np.ndarray:
    """One month's prices [EUR/MWh] (see :func:`typical_spot_eur_per_kwh`).

    Parameters
    ----------
    x : numpy.ndarray
        Pre-prices :math:`x_t > 0` of the month's hours in time order [-].
    negative : numpy.ndarray
        The negative price each hour would take [EUR/MWh].
    day_start : numpy.ndarray
        Positions of the first hour of each local day.
    negative_hours : int
        :math:`n_m`: hours to make negative (those of lowest :math:`x`).
    mean, spread : float
        :math:`\bar p_m` [EUR/MWh], the month's mean, exact; :math:`S_m` [EUR/MWh], its
        mean daily max-min spread, met by bisection on :math:`v` (to the bounds'
        resolution if out of reach).

    Returns
    -------
    numpy.ndarray
        :math:`p_t` [EUR/MWh]: ``negative`` on the lowest hours, :math:`a x^v` elsewhere.
    """
    order = np.argsort(x, kind="stable")
    low, high = order[:negative_hours], order[negative_hours:]
    price = np.empty(len(x))
    price[low] = negative[low]
    rest = mean * len(x) - price[low].sum()

    def fill(v: float) -> np.ndarray:
        y = x[high] ** v
        price[high] = rest / y.sum() * y
        return price

    lo, hi = _EXPONENT_BOUNDS
    for _ in range(50):
        v = 0.5 * (lo + hi)
        if _mean_daily_spread(fill(v), day_start) < spread:
            lo = v
        else:
            hi = v
    return fill(0.5 * (lo + hi)).copy()


@lru_cache(maxsize=16)
def _typical_spot_year(year: int, tz: str) -> pd.Series:
    """Hourly typical spot price [EUR/MWh] of the local calendar year on its UTC index."""
    par = _spot_parameters()
    draw = _spot_draws()
    proc = SPOT_PROCESS
    idx = local_year_index(year, tz)
    local = idx.tz_convert(tz)
    day = typical_days.climate_day(pd.DatetimeIndex(local.tz_localize(None)))
    hour = np.asarray(local.hour)
    month = np.asarray(local.month)
    weekday = effective_weekday(idx, tz=tz)
    key = day * 24 + hour

    h = hour.astype(float)
    dip = par["midday_dip"].to_numpy()[month - 1]
    peaks = 0.20 * _bump(h, 8.0, 1.5) + 0.25 * _bump(h, 18.5, 1.8) - 0.30 * _bump(h, 3.0, 2.2)
    daily = np.maximum(1.0 + proc.shape_amplitude * peaks - dip * _bump(h, 13.0, 2.5), 0.05)
    weekly = np.array([1.05] * 5 + [0.92, 0.85])[weekday]
    noise = proc.daily_sigma * _daily_level()[day] + proc.hourly_sigma * draw["hourly"][key]
    x = np.exp(noise) * weekly * daily
    negative = -(0.01 + draw["depth"][key])

    price = np.empty(len(idx))
    date = np.asarray(local.day_of_year)
    means = par["mean_eur_per_mwh"].to_numpy(float)
    spreads = par["daily_spread_eur_per_mwh"].to_numpy(float)
    neg_hours = par["negative_hours"].to_numpy(int)
    for m in range(1, 13):
        rows = np.flatnonzero(month == m)
        starts = np.flatnonzero(np.r_[True, np.diff(date[rows]) != 0])
        price[rows] = _month_prices(
            x[rows],
            negative[rows],
            starts,
            negative_hours=int(neg_hours[m - 1]),
            mean=float(means[m - 1]),
            spread=float(spreads[m - 1]),
        )
    return pd.Series(price, index=idx, name="eur_per_mwh")


def read_spot_known(
    path: str | Path,
    index: pd.DatetimeIndex,
    *,
    unit: Literal["eur_per_mwh", "c_per_kwh", "eur_per_kwh"],
    vat_included: bool,
    column: str,
    time_column: str = "timestamp",
    tz: str = "UTC",
    history_days: int = 7,
) -> tuple[np.ndarray, pd.Series]:
    """The spot prices a file holds for a horizon, and the recent ones before it.

    The day-ahead prices of the day after tomorrow are never out when a nightly plan is
    made: the file covers only part of the horizon. Its rows are those with a price (rows
    after the last price, e.g. empty cells of a dump, do not count); inside that span the
    file is read and checked as :func:`read_spot` does, except that holes (rows missing
    from its step grid, empty cells) are NaN: prices to fill like the look-ahead's.

    Parameters
    ----------
    path, unit, vat_included, column, time_column, tz
        As in :func:`read_spot` (``unit`` may also be ``eur_per_kwh``).
    index : pandas.DatetimeIndex
        Canonical UTC index of the horizon.
    history_days : int
        Days before the horizon start to return as the recent history.

    Returns
    -------
    (numpy.ndarray, pandas.Series)
        Spot price [EUR/kWh] ex VAT per horizon step, NaN where the file has none; and
        the known prices [EUR/kWh] from ``history_days`` before the horizon start to its
        end (on the horizon's step), as a Series on their UTC times.
    """
    path = Path(path)
    head = read_table(path, f"{time_column}, {column}")
    for col in (time_column, column):
        if col not in head.columns:
            found = ", ".join(map(str, head.columns))
            raise DataError(path, col, f"missing column (found: {found})")
    step = step_of(index)
    empty = (np.full(len(index), np.nan), pd.Series(dtype=float))
    if len(head) < 2:
        return empty
    times = parse_times(head[time_column], path, time_column, zone_for(tz, path, time_column))
    has = np.asarray(pd.to_numeric(head[column], errors="coerce").notna())
    if not has.any():
        return empty
    st = times.sort_values()
    gaps = st[1:] - st[:-1]
    fstep = pd.Timedelta(gaps[gaps > pd.Timedelta(0)].min())
    first, end = times[has].min(), times[has].max() + fstep
    lo = max(first, index[0] - pd.Timedelta(days=history_days))
    lo = index[0] - ((index[0] - lo) // step) * step  # on the horizon's grid
    hi = min(end, index[-1] + step)
    if hi <= lo:
        return empty
    span = pd.date_range(lo, hi, freq=step, inclusive="left", name="timestamp")
    span = span[span + step <= end]
    if len(span) == 0:
        return empty
    span = pd.DatetimeIndex(span, freq=pd.tseries.frequencies.to_offset(step))
    if unit == "eur_per_kwh":
        frame = read_series_file(
            path, {column: _NAME}, span, time_column=time_column, tz=tz, allow_negative=True,
            holes=True,
        )  # fmt: skip
        known = frame[_NAME]  # as the grid reads an eur_per_kwh file: taken as it is
    else:
        known = read_spot(
            path, span, unit=unit, vat_included=vat_included, column=column,
            time_column=time_column, tz=tz, holes=True,
        )  # fmt: skip
    values = known.reindex(index).to_numpy(float)
    return values, known.rename(_NAME)


def fill_missing_prices(
    index: pd.DatetimeIndex,
    spot: np.ndarray,
    recent: pd.Series,
    *,
    tz: str = "Europe/Helsinki",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Forecast missing spot prices from the recent level on the embedded shape.

    With :math:`s_t` the embedded typical-year shape (:func:`typical_spot_eur_per_kwh`),
    :math:`R` the steps with a known recent price :math:`p_r` and the means
    :math:`\bar p = \frac{1}{|R|}\sum_R p_r`, :math:`\bar s = \frac{1}{|R|}\sum_R s_r`,
    a missing price is

    .. math::

        \hat p_t = \begin{cases}
            s_t\,\bar p / \bar s & \bar p > 0.001 \text{ and } \bar s > 0.001
                                     \text{ EUR/kWh} \\
            s_t + \bar p - \bar s & \text{otherwise (a level near or below zero)}
        \end{cases}

    i.e. the shape (daily and weekly profile, negative-price hours) at the recent level;
    with no recent price at all, the shape itself.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index of the horizon.
    spot : numpy.ndarray
        Spot price per step [EUR/kWh], NaN where missing.
    recent : pandas.Series
        Known prices [EUR/kWh] on their UTC times (e.g. the last week's and the
        horizon's known part, from :func:`read_spot_known`); NaN (a hole) is not known.
    tz : str
        Local zone of the shape.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The completed prices [EUR/kWh] and the mask of the filled steps.
    """
    price = np.asarray(spot, dtype=float).copy()
    missing = np.isnan(price)
    if not missing.any():
        return price, missing
    shape = typical_spot_eur_per_kwh(index, tz=tz).to_numpy(float)
    ok = np.asarray(recent.notna())
    if ok.any():  # recent: on a regular grid, NaN in a file's holes
        times = pd.DatetimeIndex(recent.index)
        shape_known = typical_spot_eur_per_kwh(times, tz=tz).to_numpy(float)[ok]
        p_bar, s_bar = float(recent[ok].mean()), float(shape_known.mean())
        if p_bar > 1e-3 and s_bar > 1e-3:
            guess = shape * (p_bar / s_bar)
        else:
            guess = shape + (p_bar - s_bar)
    else:
        guess = shape
    price[missing] = guess[missing]
    return price, missing

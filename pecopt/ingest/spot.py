"""The day-ahead spot price: pecopt's embedded typical year, price files, and prices a
nightly plan does not know yet.

* :func:`typical_spot_eur_per_kwh`: the embedded stand-in year (monthly means of the
  Finnish area, a daily shape, negative hours; quarter-hours within the hour from the
  15-minute market start on 1 Oct 2025);
* :func:`read_spot`: a price file onto the horizon, in EUR/kWh ex VAT;
* :func:`read_spot_known` and :func:`fill_missing_prices`: what a file holds up to now,
  and the rest forecast from the recent level on the embedded shape.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from pecopt.errors import DataError
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

    For each local calendar year the price is built hourly and then looked up per step
    (constant within the hour on a 15-min index). With local day of year :math:`d`, hour
    :math:`h`, month :math:`m` and effective weekday :math:`k` (holidays = Sunday):

    .. math::

        s_{d,h} = L_d\\, w_k \\bigl(1 + 0.20 g(h; 8, 1.5) + 0.25 g(h; 18.5, 1.8)
                  - 0.30 g(h; 3, 2.2) - \\delta_m g(h; 13, 2.5)\\bigr)(1 + \\epsilon_{d,h})

    with Gaussian bumps :math:`g(h;\\mu,\\sigma)=e^{-(h-\\mu)^2/2\\sigma^2}` (morning and
    evening peaks, night trough, midday solar dip of depth :math:`\\delta_m`), weekly level
    :math:`w` = 1.05 Mon–Fri, 0.92 Sat, 0.85 Sun, a daily lognormal level :math:`L_d`
    (sigma 0.3) and hourly noise :math:`\\epsilon` (sigma 0.08). Negative hours: a day
    holds a block of negative prices with probability :math:`q_m` (×1.5 at weekends):
    at 10–17 local (sunny middays) on April–September weekends (and 30 % of such
    weekdays), else at night 0–8 (windy nights); block length 3–7 h; price
    :math:`-(0.01 + X)` EUR/MWh, :math:`X \\sim \\mathrm{Exp}(3)`. The other hours are
    scaled, :math:`p = a_m s`, so that each local month's mean equals the 2023 mean
    :math:`\\bar p_m` exactly: :math:`a_m = (\\bar p_m n_m - \\sum_{neg} p)/\\sum_{pos} s`.

    Random draws come from ``numpy.random.default_rng(2023)`` keyed by (day of year,
    hour), so a date's price does not depend on the horizon start. Parameters are in
    ``pecopt/data/typical_spot_monthly.csv``. About 400 negative hours a year (467 in 2023).

    **Quarter hours.** The FI day-ahead market has cleared in 15-minute units since the
    delivery day 1 Oct 2025 (:data:`QUARTER_HOUR_MARKET_START`; FACTS: 15-minute time
    resolution). On a sub-hourly index, steps on local dates from then on vary within the
    hour by a deterministic shape [assumption: no 15-min FI price data in the repository;
    the shape imitates the intra-hour ramps of a quarter-hour market]: quarter
    :math:`q = 0..3` of hour :math:`h` gets

    .. math::

        p_{h,q} = p_h + \\frac{p_{h+1} - p_{h-1}}{2}\\, c_q + 0.05\\,|p_h|\\,\\eta_{d,h,q},
        \\qquad c = (-3, -1, 1, 3) / 8

    a straight line through the hour with the slope of its neighbours (quarter centres at
    -3/8 ... 3/8 h from mid-hour) plus noise :math:`\\eta` (standard normal, seed 2025,
    keyed by local day of year, hour and quarter, de-meaned over the four quarters). Both
    terms sum to zero over the hour, so **the hourly mean is** :math:`p_h`: an hourly run,
    and every monthly mean, are unchanged. Before 1 Oct 2025 (hourly market) quarters hold
    the hour's price. A 30-minute step takes the mean of its two quarters.

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
    shape = (after - before) / 2.0 * _RAMP[q] + 0.05 * np.abs(base) * _quarter_draws()[doy, hod, q]
    live = _in_force(quarters, [QUARTER_HOUR_MARKET_START], tz) >= 0
    out: np.ndarray = base + np.where(live, shape, 0.0)
    return out


@lru_cache(maxsize=1)
def _spot_parameters() -> pd.DataFrame:
    """The monthly parameters of the typical spot price, indexed by month 1..12."""
    table = pd.read_csv(_SPOT_CSV, comment="#").set_index("month")
    return table


@lru_cache(maxsize=1)
def _spot_draws() -> dict[str, np.ndarray]:
    """Fixed-seed random draws keyed by day of year (1..366) and local hour."""
    rng = np.random.default_rng(2023)
    return {
        "level": rng.lognormal(0.0, 0.3, 367),
        "noise": rng.normal(0.0, 0.08, (367, 24)),
        "negative_day": rng.uniform(size=367),
        "midday_weekday": rng.uniform(size=367),
        "start": rng.uniform(size=367),
        "length": rng.uniform(size=367),
        "depth": rng.exponential(3.0, (367, 24)),
    }


def _bump(h: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((h - mu) / sigma) ** 2)


@lru_cache(maxsize=16)
def _typical_spot_year(year: int, tz: str) -> pd.Series:
    """Hourly typical spot price [EUR/MWh] of the local calendar year on its UTC index."""
    par = _spot_parameters()
    draw = _spot_draws()
    idx = local_year_index(year, tz)
    local = idx.tz_convert(tz)
    doy = np.asarray(local.day_of_year)
    hour = np.asarray(local.hour)
    month = np.asarray(local.month)
    weekday = effective_weekday(idx, tz=tz)
    weekend = weekday >= 5

    dip = par["midday_dip"].to_numpy()[month - 1]
    h = hour.astype(float)
    daily = (
        1.0
        + 0.20 * _bump(h, 8.0, 1.5)
        + 0.25 * _bump(h, 18.5, 1.8)
        - 0.30 * _bump(h, 3.0, 2.2)
        - dip * _bump(h, 13.0, 2.5)
    )
    weekly = np.array([1.05] * 5 + [0.92, 0.85])[weekday]
    shape = draw["level"][doy] * weekly * daily * (1.0 + draw["noise"][doy, hour])
    shape = np.maximum(shape, 0.05)

    q = par["negative_day_probability"].to_numpy()[month - 1] * np.where(weekend, 1.5, 1.0)
    negative_day = draw["negative_day"][doy] < q
    sunny = (month >= 4) & (month <= 9) & (weekend | (draw["midday_weekday"][doy] < 0.3))
    start = np.where(sunny, 10, 0) + np.floor(draw["start"][doy] * 3)
    length = 3 + np.floor(draw["length"][doy] * 5)
    negative = negative_day & (h >= start) & (h < start + length)
    neg_price = -(0.01 + draw["depth"][doy, hour])

    price = np.empty(len(idx))
    target = par["mean_eur_per_mwh"].to_numpy()
    for m in range(1, 13):
        in_m = month == m
        neg_m, pos_m = in_m & negative, in_m & ~negative
        scale = (target[m - 1] * in_m.sum() - neg_price[neg_m].sum()) / shape[pos_m].sum()
        price[pos_m] = scale * shape[pos_m]
        price[neg_m] = neg_price[neg_m]
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

"""Daily weather of pecopt's embedded typical year: 365 seeded climate days.

:func:`pecopt.ingest.weather.typical_year` is built in two layers. This module is the
first, pure numpy and pandas: a record of 365 *climate days* (1 January to 31 December of
a non-leap year) with, for each day,

* the daily mean air temperature [degC] and the peak-to-peak range of its diurnal cycle [K];
* the daily clear-sky index [-] (daily GHI over daily clear-sky GHI);
* the daily mean wind speed [m/s];

plus a unit-variance hourly noise that breaks each day's clear-sky index into hours. The
record is deterministic (one fixed seed) and periodic: 31 December runs smoothly into
1 January, so a horizon across a year end sees no seam. Calendar dates map onto climate
days by their day of the year; a leap year's 29 February repeats 28 February, as the
weather-file reader does. :func:`temperature_and_wind` evaluates temperature and wind at
any instants; ``weather.py`` adds the sun (pvlib) and the irradiance.

Monthly targets come from ``typical_year_monthly.csv`` (means), day-to-day variability
from ``typical_year_variability.csv`` and the January design cold spell from
``typical_year_cold_spell.csv`` (all in ``pecopt/data``, each with its sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Final

import numpy as np
import pandas as pd

from pecopt.errors import DataError

__all__ = [
    "DAYS",
    "SEED",
    "TEMP_PEAK_SOLAR_HOUR",
    "DailyRecord",
    "climate_day",
    "daily_record",
    "hourly_clear_sky_index",
    "load_cold_spell",
    "load_monthly",
    "load_variability",
    "temperature_and_wind",
]

#: Climate days in the record (a non-leap year).
DAYS: Final = 365
#: Seed of the record's random draws; fixed, so the typical year never changes silently.
SEED: Final = 2025

#: Local mean solar time of the daily temperature maximum [h]; the IWEC Helsinki file's
#: mean daily cycles peak at 14.5-15.1 h local standard time (UTC+2), i.e. about 14.5 h
#: solar time at 24.97 E.
TEMP_PEAK_SOLAR_HOUR: Final = 14.5
#: Local mean solar time of the daily wind maximum [h] (IWEC Helsinki: 12.4-15.4 h by month).
WIND_PEAK_SOLAR_HOUR: Final = 13.5

#: Lag-1 autocorrelations of the daily processes [-]. From the IWEC Helsinki file: daily mean
#: temperature anomalies 0.49-0.86 by month (0.67 pooled); daily clear-sky index -0.33 to
#: 0.58 (mean about 0.3); daily log wind speed 0.52; hourly clear-sky index within a day 0.81.
RHO_TEMP: Final = 0.7
RHO_CLEAR: Final = 0.3
RHO_WIND: Final = 0.5
RHO_HOURLY: Final = 0.8
#: Standard deviation of an hour's clear-sky index around its day's, as a multiple of
#: :math:`k(1-k)` [-]: 0.55 x 0.23 = 0.13 for a day at 0.65, 0.05 for a clear day at 0.9
#: (IWEC Helsinki: 0.11-0.13 for days at 0.4-0.8, 0.07 above 0.9).
HOURLY_SPREAD: Final = 0.55
#: Bounds of an hour's clear-sky index [-] before the monthly scaling.
HOURLY_BOUNDS: Final = (0.03, 1.2)
#: Correlation of the daily log wind speed with the daily clear-sky index [-] (IWEC
#: Helsinki: -0.45 to 0.14 by month, median about -0.27): cloudy days are windier.
WIND_CLEAR_CORR: Final = -0.25
#: Daily clear-sky index at which the diurnal temperature cycle vanishes [-]: the IWEC
#: Helsinki day-by-day amplitudes grow linearly with the index from about 0.25 (0.06-0.32 by
#: month, February to October).
CLEAR_NO_CYCLE: Final = 0.25
#: Bounds of a day's diurnal range relative to its month's mean range [-].
RANGE_BOUNDS: Final = (0.2, 2.5)
#: Shifts of the standard-normal draws on the clear days of the cold spell: the clearest
#: ranks of the month, and calm.
SPELL_CLEAR_SHIFT: Final = 3.0
SPELL_CALM_SHIFT: Final = -1.5

_VARIABILITY: Final = "typical_year_variability.csv"
_SPELL: Final = "typical_year_cold_spell.csv"
_PROBS: Final = (0.0, 0.10, 0.25, 0.50, 0.75, 0.90, 1.0)
_KC: Final = tuple(f"kc_p{round(p * 100):02d}" for p in _PROBS)
_VARIABILITY_COLUMNS: Final = (
    "month",
    "temp_daily_sd_k",
    "temp_daily_skew",
    "temp_clearness_corr",
    "wind_daily_cv",
    "wind_temp_corr",
    "wind_diurnal_rel",
    *_KC,
)
_SPELL_COLUMNS: Final = ("month", "day", "temp_anomaly_k", "temp_diurnal_range_k", "clear")
_DATES: Final = pd.date_range("2025-01-01", periods=DAYS, freq="D")  # any non-leap year
_MONTH: Final = np.asarray(_DATES.month)
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class DailyRecord:
    """The 365 climate days of the typical year (arrays of shape ``(365,)`` unless noted).

    Attributes
    ----------
    month : numpy.ndarray
        Calendar month 1-12 of each climate day.
    temp_mean_c : numpy.ndarray
        Daily mean air temperature [degC].
    temp_node_c : numpy.ndarray
        Temperature at solar noon before the diurnal cycle [degC]: linear interpolation
        between consecutive noons has exactly the daily means ``temp_mean_c``.
    temp_range_k : numpy.ndarray
        Peak-to-peak range of the day's diurnal temperature cycle [K].
    clear_sky_index : numpy.ndarray
        Daily clear-sky index [-] before the monthly irradiation scaling.
    wind_speed_m_s : numpy.ndarray
        Daily mean wind speed [m/s].
    wind_node_m_s : numpy.ndarray
        Wind speed at solar noon before the diurnal cycle [m/s], like ``temp_node_c``
        (floored at 0).
    wind_diurnal_rel : numpy.ndarray
        Amplitude of the diurnal wind cycle relative to the daily mean [-].
    hourly_noise : numpy.ndarray
        Unit-variance hourly noise, shape ``(365 * 24,)``, by climate day and solar hour.
    """

    month: np.ndarray
    temp_mean_c: np.ndarray
    temp_node_c: np.ndarray
    temp_range_k: np.ndarray
    clear_sky_index: np.ndarray
    wind_speed_m_s: np.ndarray
    wind_node_m_s: np.ndarray
    wind_diurnal_rel: np.ndarray
    hourly_noise: np.ndarray


def load_monthly() -> pd.DataFrame:
    """Read ``pecopt/data/typical_year_monthly.csv`` as it is (the columns are described by
    :func:`pecopt.ingest.weather.load_monthly_defaults`); pandas alone, no pvlib."""
    return _read("typical_year_monthly.csv")


def load_variability() -> pd.DataFrame:
    """Read ``pecopt/data/typical_year_variability.csv`` (12 rows, see its header)."""
    return _checked(_read(_VARIABILITY), _VARIABILITY, _VARIABILITY_COLUMNS)


def load_cold_spell() -> pd.DataFrame:
    """Read ``pecopt/data/typical_year_cold_spell.csv`` (one row per day, see its header)."""
    return _checked(_read(_SPELL), _SPELL, _SPELL_COLUMNS)


def climate_day(dates: pd.DatetimeIndex) -> np.ndarray:
    """Climate day 0-364 of each (naive) date: day of the year, 29 February -> 28 February.

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Naive dates (time of day ignored).

    Returns
    -------
    numpy.ndarray
        Integer climate days.
    """
    doy = np.asarray(dates.day_of_year, dtype=np.int64)
    leap = np.asarray(dates.is_leap_year)
    return doy - 1 - (leap & (doy > 59)).astype(np.int64)


def daily_record(
    monthly: pd.DataFrame,
    variability: pd.DataFrame | None = None,
    spell: pd.DataFrame | None = None,
    seed: int = SEED,
) -> DailyRecord:
    """Draw the 365 climate days of the typical year.

    Four periodic Gaussian AR(1) series of unit variance are drawn (:math:`z_T, z_K, z_W`
    daily with lag-1 correlations :data:`RHO_TEMP`, :data:`RHO_CLEAR`, :data:`RHO_WIND`;
    an hourly one with :data:`RHO_HOURLY`). With :math:`m(d)` the month of day :math:`d`:

    * **clear-sky index**: within each month the days are ranked by :math:`z_K` and day
      of rank :math:`i` of :math:`n` gets the month's quantile at :math:`(i + 1/2)/n`
      (piecewise linear between the ``kc_pNN`` percentiles): each month has exactly the
      tabulated distribution, its clear and overcast days, and :math:`z_K` decides which.
    * **temperature**: anomaly :math:`a_d = \\sigma(d)\\,(r_m z_K + \\sqrt{1-r_m^2}\\,z_T)`
      with :math:`\\sigma` the ``temp_daily_sd_k`` interpolated between mid-months and
      :math:`r_m` = ``temp_clearness_corr`` (clear winter days colder, clear summer days
      warmer), skewed towards cold by ``temp_daily_skew``; a smooth 12-term Fourier
      curve removes each month's mean anomaly. The daily mean is :math:`T_d = S_d + c_m
      a_d`, where the Fourier curve :math:`S` has the month's ``temp_air_c`` as its mean
      over each month's days and :math:`c_m` makes the standard deviation of the month's
      daily means (seasonal slope included) equal ``temp_daily_sd_k`` exactly.
    * **cold spell**: the spell's days get :math:`T_d = \\bar T_{m} + \\Delta_d` (January
      mean plus the tabulated anomaly); the month's other days are shifted equally so the
      monthly mean is kept (with the default tables they average +1.6 degC: a week near
      -19 degC in a month whose mean is -3.9 degC leaves the rest of it mild). Its clear
      days get the month's highest clear-sky indices (:math:`z_K` +
      :data:`SPELL_CLEAR_SHIFT`) and low wind.
    * **diurnal range**: :math:`R_d = \\bar R(d)\\,\\mathrm{clip}\\bigl((k_d - k_0) /
      (\\bar k_m - k_0), 0.2, 2.5\\bigr)` with :math:`\\bar R` the monthly
      ``temp_diurnal_range_k`` interpolated between mid-months, :math:`k_0` =
      :data:`CLEAR_NO_CYCLE` and :math:`\\bar k_m` the month's mean index; at least the
      spell's range on spell days.
    * **wind**: :math:`W_d \\propto \\exp(s_m z)`, :math:`s_m^2 = \\ln(1 + c_m^2)` with
      :math:`c_m` = ``wind_daily_cv`` and :math:`z = \\alpha_m \\hat a_d + \\beta z_K +
      \\gamma z_W` (:math:`\\alpha_m` = ``wind_temp_corr``, :math:`\\beta` =
      :data:`WIND_CLEAR_CORR`, :math:`\\hat a` the standardised temperature anomaly,
      :math:`\\gamma` giving unit variance), scaled to the month's mean
      ``wind_speed_m_s`` exactly.

    Parameters
    ----------
    monthly : pandas.DataFrame
        Checked monthly table sorted by month, columns ``temp_air_c`` [degC],
        ``temp_diurnal_range_k`` [K] and ``wind_speed_m_s`` [m/s].
    variability : pandas.DataFrame, optional
        Default :func:`load_variability`.
    spell : pandas.DataFrame, optional
        Default :func:`load_cold_spell`; an empty frame for no spell.
    seed : int
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    DailyRecord
    """
    var = load_variability() if variability is None else variability
    spell = load_cold_spell() if spell is None else spell
    rng = np.random.default_rng(seed)
    z_temp, z_clear, z_wind = (
        _periodic_ar1(rng, DAYS, rho) for rho in (RHO_TEMP, RHO_CLEAR, RHO_WIND)
    )
    hourly = _periodic_ar1(rng, DAYS * 24, RHO_HOURLY)
    m = _MONTH - 1

    days = climate_day(
        pd.DatetimeIndex([f"2025-{r.month:02d}-{r.day:02d}" for r in spell.itertuples()])
    )
    clear_days = days[spell["clear"].to_numpy(dtype=bool)] if len(spell) else days

    # clear-sky index: the month's quantiles, ordered by z_K
    rank_key = z_clear.copy()
    rank_key[clear_days] += SPELL_CLEAR_SHIFT
    u = _ranks_within_months(rank_key)
    quantiles = var.loc[:, list(_KC)].to_numpy(float)
    kc = np.array([np.interp(u[d], _PROBS, quantiles[m[d]]) for d in range(DAYS)])

    # temperature anomaly: coupled to the clear-sky index, zero mean and the sd per month
    r = var["temp_clearness_corr"].to_numpy(float)[m]
    unit = r * z_clear + np.sqrt(1.0 - r**2) * z_temp
    unit = _skewed(unit, var["temp_daily_skew"].to_numpy(float)[m])
    sd_target = var["temp_daily_sd_k"].to_numpy(float)
    anomaly = unit * _mid_month_interp(sd_target)
    anomaly -= _monthly_mean_curve(_month_means(anomaly))
    means = monthly["temp_air_c"].to_numpy(float)
    seasonal = _monthly_mean_curve(means)
    anomaly *= _spread_factors(seasonal, anomaly, sd_target)[m]
    standardised = anomaly / np.maximum(_month_sd(anomaly), 1e-9)[m]
    temp = seasonal + anomaly
    for month in np.unique(_MONTH[days]):
        in_month = days[_MONTH[days] == month]
        rows = spell[spell["month"].to_numpy() == month]
        new = means[month - 1] + rows["temp_anomaly_k"].to_numpy(float)
        others = np.setdiff1d(np.flatnonzero(_MONTH == month), in_month)
        temp[others] += (temp[in_month].sum() - new.sum()) / len(others)
        temp[in_month] = new

    # diurnal range from the day's clearness
    k_mean = _month_means(kc)[m]
    ratio = (kc - CLEAR_NO_CYCLE) / np.maximum(k_mean - CLEAR_NO_CYCLE, 0.05)
    span = _mid_month_interp(monthly["temp_diurnal_range_k"].to_numpy(float))
    span = span * np.clip(ratio, *RANGE_BOUNDS)
    span[days] = np.maximum(span[days], spell["temp_diurnal_range_k"].to_numpy(float))

    # wind: lognormal, windier on mild winter days and on cloudy days, calm in the spell
    alpha = var["wind_temp_corr"].to_numpy(float)[m]
    beta = WIND_CLEAR_CORR
    explained = alpha**2 + beta**2 + 2 * alpha * beta * r
    z = alpha * standardised + beta * z_clear + np.sqrt(np.clip(1.0 - explained, 0, None)) * z_wind
    z[clear_days] += SPELL_CALM_SHIFT
    s = np.sqrt(np.log1p(var["wind_daily_cv"].to_numpy(float) ** 2))[m]
    wind = np.exp(s * z)
    wind *= (monthly["wind_speed_m_s"].to_numpy(float) / _month_means(wind))[m]

    return DailyRecord(
        month=_MONTH.copy(),
        temp_mean_c=temp,
        temp_node_c=_noon_nodes(temp),
        temp_range_k=span,
        clear_sky_index=kc,
        wind_speed_m_s=wind,
        wind_node_m_s=np.maximum(_noon_nodes(wind), 0.0),
        wind_diurnal_rel=_mid_month_interp(var["wind_diurnal_rel"].to_numpy(float)),
        hourly_noise=hourly,
    )


def hourly_clear_sky_index(record: DailyRecord, day: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Clear-sky index of hours [-]: the day's index plus the hourly noise.

    .. math:: k_h = \\mathrm{clip}\\bigl(k_d + 0.55\\,\\tilde k_d (1 - \\tilde k_d)\\,
              \\varepsilon_h,\\ 0.03,\\ 1.2\\bigr), \\qquad \\tilde k_d = \\min(k_d, 1)

    Parameters
    ----------
    record : DailyRecord
    day : numpy.ndarray
        Climate day 0-364 of each hour.
    hour : numpy.ndarray
        Local mean solar hour 0-23 (integer part) of each hour's mid-point.

    Returns
    -------
    numpy.ndarray
        :math:`k_h` [-].
    """
    k = record.clear_sky_index[day]
    bounded = np.clip(k, 0.0, 1.0)
    noise = record.hourly_noise[day * 24 + hour]
    return np.clip(k + HOURLY_SPREAD * bounded * (1.0 - bounded) * noise, *HOURLY_BOUNDS)


def temperature_and_wind(
    record: DailyRecord, solar: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray]:
    """Air temperature [degC] and wind speed [m/s] at instants given in local mean solar time.

    With :math:`x_d` a daily value placed at the solar noon of day :math:`d` and
    :math:`\\lambda` the linear interpolation between consecutive noons:

    .. math::

        T(t) &= \\lambda(T^{noon})(t) + \\tfrac12 \\lambda(R)(t)\\,
                \\cos\\bigl(2\\pi (h(t) - 14.5)/24\\bigr) \\\\
        W(t) &= \\lambda(W^{noon})(t)\\,\\bigl(1 + \\lambda(A_W)(t)\\,
                \\cos(2\\pi (h(t) - 13.5)/24)\\bigr)

    :math:`T^{noon}` and :math:`W^{noon}` are the noon nodes whose interpolation has exactly
    the daily means,
    :math:`R` the diurnal range, :math:`A_W` the relative diurnal wind amplitude and
    :math:`h` the solar hour.

    Parameters
    ----------
    record : DailyRecord
    solar : pandas.DatetimeIndex
        Naive local mean solar times.

    Returns
    -------
    tuple of numpy.ndarray
        ``(temp_air_c, wind_speed_m_s)``.
    """
    noon_before = (solar - pd.Timedelta(hours=12)).normalize()
    weight = np.asarray((solar - noon_before - pd.Timedelta(hours=12)) / _DAY, dtype=float)
    left = climate_day(noon_before)
    right = climate_day(pd.DatetimeIndex(noon_before + _DAY))

    def lerp(x: np.ndarray) -> np.ndarray:
        return x[left] + weight * (x[right] - x[left])

    hour = np.asarray((solar - solar.normalize()) / pd.Timedelta(hours=1), dtype=float)
    cycle_t = np.cos(2 * np.pi * (hour - TEMP_PEAK_SOLAR_HOUR) / 24.0)
    cycle_w = np.cos(2 * np.pi * (hour - WIND_PEAK_SOLAR_HOUR) / 24.0)
    temp = lerp(record.temp_node_c) + 0.5 * lerp(record.temp_range_k) * cycle_t
    wind = lerp(record.wind_node_m_s) * (1.0 + lerp(record.wind_diurnal_rel) * cycle_w)
    return temp, wind


# --- helpers --------------------------------------------------------------------------


def _read(name: str) -> pd.DataFrame:
    source = resources.files("pecopt").joinpath("data", name)
    with resources.as_file(source) as path:
        return pd.read_csv(path, comment="#")


def _checked(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    source = f"pecopt/data/{name}"
    for col in columns:
        if col not in table.columns:
            raise DataError(source, col, "missing column")
    frame = table.loc[:, list(columns)]
    if frame.isna().any().any():
        raise DataError(source, str(frame.columns[np.asarray(frame.isna().any())][0]), "NaN")
    if name == _VARIABILITY and frame["month"].tolist() != list(range(1, 13)):
        raise DataError(source, "month", "needs one row for each month 1-12, in order")
    return frame.reset_index(drop=True)


def _periodic_ar1(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    """A circular AR(1) series of ``n`` values, standardised to mean 0 and sd 1.

    White noise filtered in the frequency domain by :math:`1/(1 - \\rho e^{-i\\omega})`,
    so the last value runs into the first like any two neighbours.
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    omega = 2 * np.pi * np.arange(len(spectrum)) / n
    x = np.fft.irfft(spectrum / (1.0 - rho * np.exp(-1j * omega)), n)
    return (x - x.mean()) / x.std()


def _skewed(z: np.ndarray, skew: np.ndarray) -> np.ndarray:
    """Monotone transform of standard-normal ``z`` to the given skewness (mean and sd follow).

    :math:`y = (1 - e^{-\\lambda z})/\\lambda` is a mirrored lognormal whose skewness is
    :math:`-\\mathrm{sign}(\\lambda)(e^{\\lambda^2} + 2)\\sqrt{e^{\\lambda^2} - 1}`;
    :math:`\\lambda > 0` gives a long lower (cold) tail, :math:`\\lambda = 0` is ``z``.
    """
    grid = np.linspace(0.0, 1.0, 401)
    gamma = (np.exp(grid**2) + 2.0) * np.sqrt(np.expm1(grid**2))
    lam = -np.sign(skew) * np.interp(np.abs(skew), gamma, grid)
    safe = np.where(lam == 0, 1.0, lam)
    return np.where(lam == 0, z, -np.expm1(-lam * z) / safe)


def _ranks_within_months(key: np.ndarray) -> np.ndarray:
    """Plotting position :math:`(i + 1/2)/n` of each day's ``key`` within its month."""
    u = np.empty(DAYS)
    for month in range(1, 13):
        idx = np.flatnonzero(_MONTH == month)
        order = np.argsort(np.argsort(key[idx], kind="stable"), kind="stable")
        u[idx] = (order + 0.5) / len(idx)
    return u


def _month_means(x: np.ndarray) -> np.ndarray:
    return np.bincount(_MONTH - 1, weights=x, minlength=12) / np.bincount(_MONTH - 1, minlength=12)


def _month_sd(x: np.ndarray) -> np.ndarray:
    return np.array([x[_MONTH == k].std() for k in range(1, 13)])


def _spread_factors(seasonal: np.ndarray, anomaly: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Per-month factors :math:`c \\ge 0` giving :math:`\\mathrm{sd}(S + c\\,a) = \\sigma`.

    The daily means' spread within a month includes the seasonal slope :math:`S`; the
    positive root of :math:`c^2 V_a + 2c\\,C_{Sa} + V_S - \\sigma^2 = 0` (0 if the slope
    alone exceeds :math:`\\sigma`).
    """
    out = np.zeros(12)
    for k in range(12):
        s, a = seasonal[_MONTH == k + 1], anomaly[_MONTH == k + 1]
        v_a, v_s = a.var(), s.var()
        c_sa = float(np.mean((s - s.mean()) * (a - a.mean())))
        disc = c_sa**2 - v_a * (v_s - sd[k] ** 2)
        if v_a > 0 and disc >= 0:
            out[k] = max(0.0, (-c_sa + np.sqrt(disc)) / v_a)
    return out


def _fourier_basis() -> np.ndarray:
    """Periodic basis at the day centres: 1, cos/sin of orders 1-5, sin of order 6."""
    tau = (np.arange(DAYS) + 0.5) / DAYS
    cols = [np.ones(DAYS)]
    for n in range(1, 7):
        if n < 6:
            cols.append(np.cos(2 * np.pi * n * tau))
        cols.append(np.sin(2 * np.pi * n * tau))
    return np.column_stack(cols)


def _monthly_mean_curve(means: np.ndarray) -> np.ndarray:
    """Smooth periodic daily curve whose mean over each month's days equals ``means``.

    12 Fourier coefficients solve the 12 linear equations "mean over the days of month m
    = means[m]"; the sine of order 6 (not a cosine) keeps the system regular.
    """
    basis = _fourier_basis()
    by_month = np.vstack([basis[_MONTH == k].mean(axis=0) for k in range(1, 13)])
    return basis @ np.linalg.solve(by_month, means)


def _mid_month_interp(values: np.ndarray) -> np.ndarray:
    """Interpolate 12 monthly values placed at mid-months, linearly and periodically."""
    mid = np.array([np.flatnonzero(_MONTH == k).mean() for k in range(1, 13)])
    x = np.concatenate([[mid[-1] - DAYS], mid, [mid[0] + DAYS]])
    v = np.concatenate([[values[-1]], values, [values[0]]])
    return np.interp(np.arange(DAYS, dtype=float), x, v)


def _noon_nodes(means: np.ndarray) -> np.ndarray:
    """Noon values whose linear interpolation has the given daily means (periodic).

    The mean over day :math:`d` of the line through the noons is
    :math:`(x_{d-1} + 6 x_d + x_{d+1})/8`; the circulant system is solved by FFT (its
    eigenvalues :math:`(6 + 2\\cos\\omega)/8` lie in [0.5, 1]).
    """
    spectrum = np.fft.rfft(means)
    omega = 2 * np.pi * np.arange(len(spectrum)) / DAYS
    return np.fft.irfft(spectrum / ((6.0 + 2.0 * np.cos(omega)) / 8.0), DAYS)

"""Plausibility of the forecast a nightly plan is made on: unit and clock slips.

A forecast file can be well formed and still wrong: temperatures in kelvin or
Fahrenheit, irradiance 12 hours off (a 12-hour clock, a time zone), prices in EUR/MWh in a
EUR/kWh column. Read as they are, they move a night's planned cost by a third and pass
silently. The rules, on the file's own values (not on what was filled in):

==================  ===========================================================  ========
column              suspicious when                                              kind
==================  ===========================================================  ========
``temp_air_c``      a value outside :data:`TEMP_RANGE_C` (-60..50 degC)           range
``temp_air_c``      a local day's mean (over at least :data:`MIN_DAY_H` h of      climate
                    values) farther from the embedded typical month's mean than
                    :math:`\\max(k\\,\\sigma_m, B)`, with :math:`\\sigma_m` the
                    standard deviation of the month's daily means,
                    :math:`k` = :data:`CLIMATE_SD` and :math:`B` =
                    :data:`CLIMATE_MIN_BAND_K`
``ghi_w_m2``,       above :data:`DARK_IRRADIANCE_W_M2` in a step when the sun     irradiance
``dni_w_m2``,       stays below the horizon (:func:`sun_elevation_deg`) from
``dhi_w_m2``        :data:`DARK_MARGIN_H` before the step to as long after it
PV available        above :data:`DARK_IRRADIANCE_W_M2` / 1000 W/m2 (0.01 kW/kWp)  pv
[kW/kWp]            while the sun is down, as for irradiance (``replay``'s
                    issued forecasts)
spot price          a local day's mean of the known prices above                 price
                    :data:`~pecopt.scenario.plausibility.MAX_PRICE_EUR_PER_KWH`
                    (1 EUR/kWh: EUR/MWh or c/kWh read as EUR/kWh?), or outside
                    :math:`[\\min - m\\,s, \\max + m\\,s]` of the daily means of
                    the last ``history_days`` days before the horizon, with
                    :math:`s = \\max(\\max - \\min, s_0)`, :math:`m` =
                    :data:`PRICE_SPREAD_FACTOR`, :math:`s_0` =
                    :data:`MIN_PRICE_SPREAD_EUR_PER_KWH`
==================  ===========================================================  ========

Kelvin (about 250-300) fails the range at once; Fahrenheit fails the range on warm days
and the typical month on most others (it is not caught on cold winter days, where
:math:`F - C = 0.8\\,C + 32` is small against the winter band). The typical month is
the embedded climate of Helsinki-Vantaa (``pecopt/data/typical_year_monthly.csv``,
``typical_year_variability.csv``, ASHRAE IWEC), so the check is meant for Finnish sites.

Thresholds, checked on real data in ``../shared/data`` (2023 to September 2024): the
Helsinki-Vantaa daily means lie within 3.9 sigma of the typical month (-19.6 K on
7 Jan 2024, +11.3 K on 29 May 2024), so the band of max(5 sigma, 20 K) leaves room for
colder spells than those [assumption]. Day-ahead daily means jump: against the previous
2 to 7 days (a nightly job's history may be that short) the FI means of 2023-2024 lie at
most 7.6 spreads :math:`s` (with :math:`s_0` = 0.03 EUR/kWh) outside the range (-0.18
EUR/kWh on 24 Nov 2023, a bidding error; 0.89 EUR/kWh on 5 Jan 2024: 5.3), and the
embedded typical years 2019-2030 at most 6.6, so m = 10 flags none of them, while a
price file in c/kWh read as EUR/MWh (10 x) on a day of 0.05 EUR/kWh is caught. The
night tolerance of 10 W/m2 and the one-hour margin allow for twilight and an hour-ending
label [assumption].
"""

from __future__ import annotations

import calendar
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from pecopt.ingest.forecast import Forecast
from pecopt.ingest.timeseries import step_of
from pecopt.scenario.plausibility import MAX_PRICE_EUR_PER_KWH, Finding

__all__ = [
    "CLIMATE_MIN_BAND_K",
    "CLIMATE_SD",
    "DARK_IRRADIANCE_W_M2",
    "DARK_MARGIN_H",
    "MIN_DAY_H",
    "MIN_PRICE_SPREAD_EUR_PER_KWH",
    "PRICE_SPREAD_FACTOR",
    "TEMP_RANGE_C",
    "price_findings",
    "pv_findings",
    "sun_elevation_deg",
    "weather_findings",
]

#: air temperatures outside this range [degC] are not of this planet's surface
TEMP_RANGE_C: Final = (-60.0, 50.0)
#: a day's mean farther than max(CLIMATE_SD x sigma_m, CLIMATE_MIN_BAND_K) from the month's
CLIMATE_SD: Final = 5.0
CLIMATE_MIN_BAND_K: Final = 20.0
#: a local day needs this many hours of forecast values for its mean to be checked [h]
MIN_DAY_H: Final = 6.0
#: irradiance above this [W/m2] while the sun is down is suspicious
DARK_IRRADIANCE_W_M2: Final = 10.0
#: the sun must stay down from this long before a step to as long after it [h]
DARK_MARGIN_H: Final = 1.0
#: the geometric elevation of sunrise and sunset [deg]: refraction and the sun's radius
SUNSET_ELEVATION_DEG: Final = -0.833
#: a day's price level outside the recent range by more than this many spreads
PRICE_SPREAD_FACTOR: Final = 10.0
#: the smallest spread of the recent daily means used [EUR/kWh]
MIN_PRICE_SPREAD_EUR_PER_KWH: Final = 0.03
_FLUX: Final = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2")


def weather_findings(
    fc: Forecast,
    file: str | Path,
    *,
    latitude: float,
    longitude: float,
    altitude: float,
    tz: str,
) -> list[Finding]:
    """The doubts about a weather forecast's own values (see the module table).

    Parameters
    ----------
    fc
        The forecast as read (:func:`pecopt.ingest.forecast.read_forecast`): its ``raw``
        values [degC, W/m2] on the canonical UTC index, NaN where the file has none.
    file
        The forecast file, for the findings.
    latitude, longitude : float
        Site [deg], for the sun's position.
    altitude : float
        Site altitude [m].
    tz : str
        The site's zone: local days of the typical-month check, times in the messages.
    """
    raw, where = fc.raw, str(file)
    found: list[Finding] = []
    if "temp_air_c" in raw and raw["temp_air_c"].notna().any():
        col = fc.columns["temp_air_c"]
        found += [
            Finding(where, col, p, kind="temperature") for p in _temperature(raw["temp_air_c"], tz)
        ]
    flux = [c for c in _FLUX if c in raw and raw[c].notna().any()]
    if flux:
        dark = _dark(pd.DatetimeIndex(raw.index), latitude, longitude, altitude)
        for c in flux:
            x = raw[c].to_numpy(float)
            bad = dark & (x > DARK_IRRADIANCE_W_M2)
            if bad.any():
                i = int(np.argmax(np.where(bad, x, -np.inf)))
                at = raw.index[i].tz_convert(tz)
                found.append(
                    Finding(
                        where,
                        fc.columns[c],
                        (
                            f"{int(bad.sum())} steps above {DARK_IRRADIANCE_W_M2:g} W/m2 while "
                            f"the sun is down (up to {x[i]:.0f} W/m2 at {at:%Y-%m-%d %H:%M %z} "
                            "local): shifted in time (a 12-hour clock, a time zone)?"
                        ),
                        kind="irradiance",
                    )
                )
    return found


def pv_findings(
    index: pd.DatetimeIndex,
    kw_per_kwp: np.ndarray,
    file: str | Path,
    field: str,
    *,
    latitude: float,
    longitude: float,
    altitude: float,
    tz: str,
) -> list[Finding]:
    """PV available [kW/kWp] on a regular UTC ``index`` (NaN: no value) above
    :data:`DARK_IRRADIANCE_W_M2` / 1000 W/m2 at standard test conditions while the sun is
    down (the irradiance rule of the module table, on a PV forecast)."""
    x = np.asarray(kw_per_kwp, dtype=float)
    limit = DARK_IRRADIANCE_W_M2 / 1000.0
    if not np.any(x > limit):
        return []
    bad = _dark(index, latitude, longitude, altitude) & (x > limit)
    if not bad.any():
        return []
    i = int(np.argmax(np.where(bad, x, -np.inf)))
    at = index[i].tz_convert(tz)
    return [
        Finding(
            str(file),
            field,
            (
                f"{int(bad.sum())} steps above {limit:g} kW/kWp while the sun is down (up to "
                f"{x[i]:.3f} kW/kWp at {at:%Y-%m-%d %H:%M %z} local): shifted in time (a "
                "12-hour clock, a time zone)?"
            ),
            kind="pv",
        )
    ]


def _temperature(t: pd.Series, tz: str) -> list[str]:
    """The range rule, else the typical-month rule, on air temperatures [degC]."""
    x = t.to_numpy(float)
    lo, hi = TEMP_RANGE_C
    out = (x < lo) | (x > hi)
    if out.any():
        mid = float(np.nanmedian(x))
        if 180.0 <= mid <= 340.0:
            hint = f"kelvin? (the median {mid:.1f} is {mid - 273.15:.1f} degC)"
        elif hi < float(np.nanmax(x)) <= 140.0:
            hint = f"Fahrenheit? (the median {mid:.1f} F is {(mid - 32.0) / 1.8:.1f} degC)"
        else:
            hint = "another unit?"
        return [
            f"{int(out.sum())} values outside {lo:g}..{hi:g} degC "
            f"(from {np.nanmin(x):.1f} to {np.nanmax(x):.1f}): {hint}"
        ]
    from pecopt.ingest.typical_days import load_monthly, load_variability

    mean = load_monthly().set_index("month")["temp_air_c"]
    sd = load_variability().set_index("month")["temp_daily_sd_k"]
    index = pd.DatetimeIndex(t.index)
    step_h = step_of(index) / pd.Timedelta(hours=1)
    days = index.tz_convert(tz).normalize().tz_localize(None)
    daily = t.groupby(days).agg(["mean", "count"])
    daily = daily[daily["count"] * step_h >= MIN_DAY_H]
    problems = []
    means = daily["mean"].to_numpy(float)
    for day, level in zip(pd.DatetimeIndex(daily.index), means, strict=True):
        m = day.month
        mu, sigma = float(mean[m]), float(sd[m])
        band = max(CLIMATE_SD * sigma, CLIMATE_MIN_BAND_K)
        dev = float(level) - mu
        if abs(dev) > band:
            problems.append(
                f"the mean of {day:%Y-%m-%d} is {level:.1f} degC, "
                f"{dev:+.1f} K from the typical {calendar.month_name[m]} ({mu:g} degC; "
                f"more than max({CLIMATE_SD:g} x {sigma:g} K, {CLIMATE_MIN_BAND_K:g} K)): "
                "Fahrenheit, or another place's forecast?"
            )
    return problems[:1]


def _dark(
    index: pd.DatetimeIndex, latitude: float, longitude: float, altitude: float
) -> np.ndarray:
    """Steps [t, t + step) with the sun below the horizon (elevation under
    :data:`SUNSET_ELEVATION_DEG`) from :data:`DARK_MARGIN_H` before t to as long after the
    step's end (sampled every 5 min). ``altitude`` is not needed at this accuracy."""
    step = step_of(index)
    fine = pd.Timedelta("5min")
    margin = pd.Timedelta(hours=DARK_MARGIN_H)
    grid = pd.date_range(index[0] - margin, index[-1] + step + margin, freq=fine)
    up = sun_elevation_deg(grid, latitude, longitude) >= SUNSET_ELEVATION_DEG
    width = int((step + 2 * margin) / fine) + 1
    first = np.asarray((index - index[0]) // fine, dtype=np.int64)  # window from t - margin
    windows = np.lib.stride_tricks.sliding_window_view(up, width)
    return np.asarray(~windows[first].any(axis=1), dtype=bool)


def sun_elevation_deg(times: pd.DatetimeIndex, latitude: float, longitude: float) -> np.ndarray:
    r"""The sun's geometric elevation [deg] at UTC ``times``, from Spencer's (1971) Fourier
    series for the declination :math:`\delta` and the equation of time :math:`E` [min]:

    .. math::

        \sin e = \sin\varphi \sin\delta + \cos\varphi \cos\delta \cos h, \qquad
        h = 15^\circ (t_{UTC} + \lambda / 15^\circ + E / 60 - 12)

    with :math:`\varphi` the latitude, :math:`\lambda` the longitude (east positive),
    :math:`t_{UTC}` in hours (as pvlib's ``declination_spencer71``,
    ``equation_of_time_spencer71`` and ``hour_angle``; within 0.75 deg of its
    ephemeris at 60 N, far inside the hour's margin). Written out so that a forecast with
    every column is checked without importing pvlib (its import costs a nightly run
    seconds)."""
    t = pd.DatetimeIndex(times).tz_convert("UTC")
    g = 2.0 * np.pi * (np.asarray(t.dayofyear, dtype=float) - 1.0) / 365.0
    decl = (
        0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
        + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g)
    )  # fmt: skip
    eot_min = 229.18 * (
        0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
        - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g)
    )  # fmt: skip
    hours = np.asarray(t.hour + t.minute / 60.0 + t.second / 3600.0, dtype=float)
    h = np.radians(15.0 * (hours + longitude / 15.0 + eot_min / 60.0 - 12.0))
    lat = np.radians(latitude)
    sin_e = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(h)
    return np.asarray(np.degrees(np.arcsin(np.clip(sin_e, -1.0, 1.0))), dtype=float)


def price_findings(
    index: pd.DatetimeIndex,
    known: np.ndarray,
    recent: pd.Series,
    file: str | Path,
    column: str,
    *,
    tz: str,
) -> list[Finding]:
    """The doubts about a price file's known prices on a horizon (see the module table).

    Parameters
    ----------
    index
        Canonical UTC index of the horizon.
    known
        Spot price per step [EUR/kWh] ex VAT as read from the file, NaN where it has none
        (:func:`pecopt.ingest.spot.read_spot_known`).
    recent
        Known prices [EUR/kWh] on their UTC times, from some days before the horizon
        (the same function's history); those before ``index[0]`` are the recent range.
    file, column
        The price file and its price column, for the findings.
    tz
        The site's zone: local days.
    """
    x = pd.Series(np.asarray(known, dtype=float), index=index).dropna()
    if x.empty:
        return []
    local = lambda s: pd.DatetimeIndex(s.index).tz_convert(tz).normalize()  # noqa: E731
    days = x.groupby(local(x)).mean()
    past = recent.dropna()
    past = past[pd.DatetimeIndex(past.index) < index[0]] if len(past) else past
    before = past.groupby(local(past)).mean() if len(past) else pd.Series(dtype=float)
    band = None
    if len(before) >= 2:
        lo, hi = float(before.min()), float(before.max())
        s = max(hi - lo, MIN_PRICE_SPREAD_EUR_PER_KWH)
        band = (lo - PRICE_SPREAD_FACTOR * s, hi + PRICE_SPREAD_FACTOR * s)
    where = str(file)
    for day, level in zip(pd.DatetimeIndex(days.index), days.to_numpy(float), strict=True):
        when = f"{day:%Y-%m-%d}"
        if level > MAX_PRICE_EUR_PER_KWH:
            problem = (
                f"the mean price of {when} is {level:g} EUR/kWh, above "
                f"{MAX_PRICE_EUR_PER_KWH:g} EUR/kWh: EUR/MWh or c/kWh read as EUR/kWh?"
            )
        elif band is not None and not band[0] <= level <= band[1]:
            problem = (
                f"the mean price of {when} is {level:.4f} EUR/kWh, outside the last "
                f"{len(before)} days' daily means {lo:.4f} to {hi:.4f} EUR/kWh by more than "
                f"{PRICE_SPREAD_FACTOR:g} x their spread {s:.4f}: a unit or a file slip?"
            )
        else:
            continue
        return [Finding(where, column, problem, kind="price")]
    return []

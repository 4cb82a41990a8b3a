"""Building loads: archetype profiles from annual figures, and metered profiles from files.

An archetype profile spreads annual energy figures [kWh/m2/yr] over the time index:

* **electricity** and **domestic hot water** follow a calendar shape: 24 hourly factors for
  a workday and for a weekend/holiday day, per use type, times a weekly level per weekday
  (Finnish public holidays count as Sundays; schools also use the Sunday pattern in their
  holidays);
* **space heat** follows heating degree-hours :math:`\\max(0, T_b - T)`.

All shapes below are **assumptions** of this module, chosen to look like common published
load shapes (residential morning and evening peaks; office and school occupancy 8–16;
grocery opening hours 7–21 on workdays, 9–19 at weekends; Finnish shops may open on
Sundays since 2016). No Finnish measured archetype profiles were available
(see ``/work/shared/data/README.md``); replace them with metered data where it exists.
"""

from __future__ import annotations

import calendar
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest.timeseries import (
    effective_weekday,
    local_year_index,
    read_series_file,
    step_hours,
)

__all__ = [
    "HELSINKI_DEGREE_HOURS_17C",
    "USES",
    "annual_degree_hours",
    "archetype_profile",
    "heating_degree_hours",
    "metered_profile",
]

Use = Literal["apartment", "office", "school", "retail"]
USES: Final = ("apartment", "office", "school", "retail")

#: Annual heating degree-hours, base 17 degC [K h], of pecopt's embedded typical year
#: (:func:`pecopt.ingest.weather.typical_year`) for Helsinki: the sum of
#: :math:`\max(0, 17 - T_t)\cdot 1\,\mathrm{h}` over any non-leap year, at Helsinki-Vantaa or
#: Kera alike (the site only shifts the diurnal cycle by minutes). The Helsinki-Vantaa IWEC
#: EPW gives 106,098 K h; a leap typical year (28 February twice) 106,448 K h.
HELSINKI_DEGREE_HOURS_17C: Final = 105_934.5

_F = tuple[float, ...]


def _flat(value: float) -> _F:
    return (value,) * 24


# fmt: off
#: Relative power by local hour 0..23: {use: {carrier: (workday, weekend_or_holiday)}}.
_HOURLY: Final[dict[str, dict[str, tuple[_F, _F]]]] = {
    "apartment": {
        "elec": (
            (0.55, 0.48, 0.45, 0.44, 0.44, 0.50, 0.70, 0.95, 0.90, 0.75, 0.70, 0.70,
             0.72, 0.72, 0.74, 0.80, 0.95, 1.20, 1.40, 1.45, 1.40, 1.25, 1.00, 0.75),
            (0.62, 0.52, 0.47, 0.45, 0.44, 0.45, 0.50, 0.62, 0.82, 0.98, 1.05, 1.08,
             1.05, 0.98, 0.92, 0.92, 1.02, 1.20, 1.35, 1.40, 1.35, 1.22, 1.02, 0.80),
        ),
        "dhw": (
            (0.15, 0.10, 0.08, 0.08, 0.10, 0.30, 1.20, 1.90, 1.50, 0.90, 0.70, 0.70,
             0.80, 0.70, 0.60, 0.70, 0.90, 1.30, 1.60, 1.70, 1.60, 1.40, 1.00, 0.50),
            (0.20, 0.12, 0.08, 0.08, 0.08, 0.12, 0.35, 0.90, 1.50, 1.80, 1.60, 1.30,
             1.10, 0.90, 0.80, 0.80, 0.90, 1.20, 1.50, 1.60, 1.50, 1.30, 1.00, 0.55),
        ),
    },
    "office": {
        "elec": (
            (0.35, 0.35, 0.35, 0.35, 0.35, 0.40, 0.55, 0.80, 1.00, 1.05, 1.05, 1.00,
             0.98, 1.03, 1.03, 1.00, 0.90, 0.70, 0.55, 0.45, 0.40, 0.38, 0.36, 0.35),
            (0.35,) * 8 + (0.40,) * 10 + (0.35,) * 6,
        ),
        "dhw": (
            (0.05,) * 6 + (0.30, 0.80, 1.20, 1.00, 0.90, 1.40, 1.30, 0.90, 0.80, 0.80,
                           0.70, 0.40, 0.15, 0.10) + (0.05,) * 4,
            _flat(0.05),
        ),
    },
    "school": {
        "elec": (
            (0.30,) * 6 + (0.45, 0.80, 1.00, 1.05, 1.05, 1.10, 1.05, 1.00, 0.85, 0.60,
                           0.50, 0.50, 0.45, 0.40, 0.35, 0.32, 0.30, 0.30),
            (0.30,) * 8 + (0.35,) * 10 + (0.30,) * 6,
        ),
        "dhw": (
            (0.02,) * 6 + (0.10, 0.40, 0.70, 0.90, 1.30, 1.60, 1.20, 0.80, 0.60, 0.40,
                           0.30, 0.20, 0.10, 0.05) + (0.02,) * 4,
            _flat(0.02),
        ),
    },
    "retail": {
        "elec": (
            (0.55,) * 6 + (0.75, 0.95) + (1.00,) * 12 + (0.95, 0.75, 0.60, 0.55),
            (0.55,) * 8 + (0.75, 0.95) + (1.00,) * 7 + (0.95, 0.75, 0.65) + (0.55,) * 4,
        ),
        "dhw": (
            (0.10,) * 7 + (0.60,) * 14 + (0.10,) * 3,
            (0.10,) * 9 + (0.60,) * 9 + (0.10,) * 6,
        ),
    },
}

# fmt: on

#: Weekly level by effective weekday Mon..Sun (Sunday also = public holiday).
_WEEKLY: Final[dict[str, _F]] = {
    "apartment": (1.0, 1.0, 1.0, 1.0, 1.0, 1.03, 1.03),
    "office": (1.0,) * 7,
    "school": (1.0,) * 7,
    "retail": (1.0,) * 6 + (0.9,),
}


def heating_degree_hours(temp_air_c: pd.Series, *, base_temp_c: float = 17.0) -> pd.Series:
    """Heating degree-hours of each step.

    .. math:: D_t = \\max(0,\\ T_b - T_t)\\,\\Delta t

    Parameters
    ----------
    temp_air_c : pandas.Series
        Outdoor air temperature :math:`T_t` [degC] on a regular tz-aware index.
    base_temp_c : float
        Base (balance) temperature :math:`T_b` [degC], default 17 (Finnish convention).

    Returns
    -------
    pandas.Series
        :math:`D_t` [K h] per step, named ``degree_hours_kh``.
    """
    dt_h = step_hours(pd.DatetimeIndex(temp_air_c.index))
    d = np.maximum(0.0, base_temp_c - temp_air_c.to_numpy(dtype=float)) * dt_h
    return pd.Series(d, index=temp_air_c.index, name="degree_hours_kh")


def annual_degree_hours(
    temp_air_c: pd.Series, *, base_temp_c: float = 17.0, tz: str = "Europe/Helsinki"
) -> float:
    """Heating degree-hours per calendar year of a weather record spanning whole years.

    .. math:: D_{ref} = \\frac{1}{n} \\sum_t \\max(0, T_b - T_t)\\,\\Delta t, \\qquad
              n = \\sum_t \\frac{\\Delta t}{H(y_t)}

    with :math:`H(y)` = 8,760 or 8,784 h, the length of the local calendar year of step
    :math:`t`. This is the climate constant :func:`archetype_profile` divides by: compute it
    once from the *whole* year of the weather source (the embedded typical year, or the
    whole year of a weather file), never from a shorter horizon.

    Parameters
    ----------
    temp_air_c : pandas.Series
        Outdoor temperature [degC] on a regular tz-aware index covering at least one year.
    base_temp_c : float
        Base temperature :math:`T_b` [degC].
    tz : str
        Zone of the calendar years.

    Returns
    -------
    float
        :math:`D_{ref}` [K h per year].

    Raises
    ------
    ValueError
        If the record spans less than one year.
    """
    index = pd.DatetimeIndex(temp_air_c.index)
    n_years = _calendar_years(index, tz)
    if n_years < 1.0 - 1e-9:
        raise ValueError(f"annual degree-hours need at least a year of weather, got {n_years:.3f}")
    return float(heating_degree_hours(temp_air_c, base_temp_c=base_temp_c).sum()) / n_years


def archetype_profile(
    index: pd.DatetimeIndex,
    temp_air_c: pd.Series,
    *,
    use: Use,
    floor_area_m2: float,
    elec_kwh_m2_yr: float,
    space_heat_kwh_m2_yr: float,
    hot_water_kwh_m2_yr: float,
    tz: str = "Europe/Helsinki",
    base_temp_c: float = 17.0,
    reference_degree_hours_kh: float | None = None,
) -> pd.DataFrame:
    """Electricity and heat demand of a building archetype from annual figures.

    **Electricity and hot water** (carrier :math:`c`):

    .. math:: P_t = A\\,e_c\\,\\frac{f_c(t)}{W_c(y_t)},\\qquad
              W_c(y) = \\sum_{h \\in y} f_c(h)\\cdot 1\\,\\mathrm{h}

    with :math:`f_c(t) = s_{c,d(t)}(\\text{hour}_t)\\,w_{c}(\\text{weekday}_t)` the hourly
    factor :math:`s` (workday or weekend/holiday table) times the weekly level :math:`w`,
    read in local time ``tz`` (so DST days have 23 or 25 local hours), and :math:`W_c(y)`
    the sum of :math:`f_c` over the hours of the local calendar year :math:`y_t` of step
    :math:`t`. Hence a full local calendar year, hourly or 15-min, gets exactly
    :math:`A e_c` (the annual figure is per calendar year, leap or not); a shorter
    horizon gets its calendar share. Within an hour the power is constant.

    **Space heat**:

    .. math:: P_t = \\frac{A\\,e_{sh}}{D_{ref}}\\max(0, T_b - T_t)

    where :math:`D_{ref}` [K h] is the annual heating degree-hours of the *climate* the
    weather comes from, never of the horizon: ``reference_degree_hours_kh`` if given,
    otherwise :data:`HELSINKI_DEGREE_HOURS_17C` (the embedded typical year; only for
    ``base_temp_c == 17``). Rule: for the embedded typical year leave it out; for a weather
    file pass :func:`annual_degree_hours` of the file's whole year (e.g.
    ``read_weather_file(path, kind, local_year_index(year))``). A building's power at an
    hour then depends only on that hour's temperature, so a two-week run and a full-year run
    agree hour by hour, and the whole reference year gets exactly :math:`A e_{sh}` (a
    colder or warmer year, or a leap year, gets more or less). Heat demand = space heat +
    hot water.

    School holidays (Sunday pattern): 1 Jun–14 Aug, 22 Dec–6 Jan, ISO weeks 8 (winter
    holiday in Uusimaa) and 42 (autumn holiday); dates are assumptions from the usual
    Finnish school year.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index (``1h`` or ``15min``).
    temp_air_c : pandas.Series
        Outdoor temperature [degC] on ``index``.
    use : {"apartment", "office", "school", "retail"}
        Use type, choosing the hourly and weekly shapes.
    floor_area_m2 : float
        Heated floor area :math:`A` [m2].
    elec_kwh_m2_yr, space_heat_kwh_m2_yr, hot_water_kwh_m2_yr : float
        Annual specific demands :math:`e_{el}, e_{sh}, e_{dhw}` [kWh/m2/yr].
    tz : str
        Zone for local calendar logic (default Europe/Helsinki).
    base_temp_c : float
        Heating base temperature :math:`T_b` [degC], default 17.
    reference_degree_hours_kh : float, optional
        Annual degree-hours :math:`D_{ref}` [K h] of the weather source's whole year, that
        the annual space heat refers to (see :func:`annual_degree_hours`).

    Returns
    -------
    pandas.DataFrame
        Columns ``elec_kw``, ``heat_kw``, ``space_heat_kw``, ``hot_water_kw`` [kW], mean
        power over each step, indexed by ``index``.
    """
    if use not in _HOURLY:
        raise ValueError(f"use must be one of {USES}, got {use!r}")
    if floor_area_m2 <= 0:
        raise ValueError("floor_area_m2 must be positive")
    for name, v in [
        ("elec_kwh_m2_yr", elec_kwh_m2_yr),
        ("space_heat_kwh_m2_yr", space_heat_kwh_m2_yr),
        ("hot_water_kwh_m2_yr", hot_water_kwh_m2_yr),
    ]:
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {v}")

    temp = temp_air_c.reindex(index)
    if temp.isna().any():
        raise DataError(None, "temp_air_c", "temperature missing for part of the horizon")
    elec = _calendar_power(index, use, "elec", floor_area_m2 * elec_kwh_m2_yr, tz)
    dhw = _calendar_power(index, use, "dhw", floor_area_m2 * hot_water_kwh_m2_yr, tz)

    dh = heating_degree_hours(temp, base_temp_c=base_temp_c).to_numpy()
    dt_h = step_hours(index)
    if reference_degree_hours_kh is None:
        if base_temp_c != 17.0:
            raise ValueError(
                "base_temp_c != 17: give reference_degree_hours_kh (see annual_degree_hours)"
            )
        reference_degree_hours_kh = HELSINKI_DEGREE_HOURS_17C
    if reference_degree_hours_kh <= 0:
        raise ValueError("the reference degree-hours must be positive")
    space = floor_area_m2 * space_heat_kwh_m2_yr / reference_degree_hours_kh * dh / dt_h

    return pd.DataFrame(
        {"elec_kw": elec, "heat_kw": space + dhw, "space_heat_kw": space, "hot_water_kw": dhw},
        index=index,
    )


def metered_profile(
    path: str | Path,
    index: pd.DatetimeIndex,
    *,
    column: str,
    unit: Literal["kw", "kwh"],
    tz: str = "UTC",
    time_column: str = "timestamp",
    name: str = "elec_kw",
) -> pd.Series:
    """Read a metered load from a CSV or Parquet file onto ``index``.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; see :func:`pecopt.ingest.timeseries.read_series_file` for the checks.
    index : pandas.DatetimeIndex
        Canonical UTC index.
    column : str
        Source column with the load.
    unit : {"kw", "kwh"}
        ``kw``: mean power over the step [kW]; ``kwh``: energy per step [kWh], converted
        with :math:`P = E/\\Delta t`.
    tz : str
        Zone of naive timestamps in the file (default UTC).
    time_column : str
        Name of the timestamp column.
    name : str
        Canonical name of the result (``elec_kw`` or ``heat_kw``).

    Returns
    -------
    pandas.Series
        Mean power [kW] per step of ``index``.

    Raises
    ------
    pecopt.errors.DataError
        Missing file or column, bad timestamps, NaN/infinite/negative loads, horizon not
        covered.
    """
    kind: Literal["power", "energy"] = "power" if unit == "kw" else "energy"
    if unit not in ("kw", "kwh"):
        raise ValueError(f"unit must be 'kw' or 'kwh', got {unit!r}")
    frame = read_series_file(path, {column: name}, index, time_column=time_column, tz=tz, kind=kind)
    return frame[name]


def _calendar_factor(index: pd.DatetimeIndex, use: str, carrier: str, tz: str) -> np.ndarray:
    """Relative power :math:`f_c(t)` of each step from the local calendar (see above)."""
    local = index.tz_convert(tz)
    hour = np.asarray(local.hour, dtype=np.int64)
    weekday = effective_weekday(index, tz=tz)
    if use == "school":
        weekday[_school_holiday(local)] = 6
    workday_shape, weekend_shape = (np.asarray(s) for s in _HOURLY[use][carrier])
    shape = np.where(weekday >= 5, weekend_shape[hour], workday_shape[hour])
    return shape * np.asarray(_WEEKLY[use])[weekday]


def _calendar_power(
    index: pd.DatetimeIndex, use: str, carrier: str, annual_kwh: float, tz: str
) -> np.ndarray:
    """Mean power [kW] per step: annual energy spread by the calendar factor per local year."""
    factor = _calendar_factor(index, use, carrier, tz)
    years = np.asarray(index.tz_convert(tz).year, dtype=np.int64)
    norm = np.empty(len(index))
    for year in np.unique(years):
        norm[years == year] = _year_factor_sum(int(year), use, carrier, tz)
    return annual_kwh * factor / norm


@lru_cache(maxsize=256)
def _year_factor_sum(year: int, use: str, carrier: str, tz: str) -> float:
    """:math:`W_c(y)`: the calendar factor summed over the hours of local year ``y`` (x 1 h)."""
    return float(_calendar_factor(local_year_index(year, tz), use, carrier, tz).sum())


def _calendar_years(index: pd.DatetimeIndex, tz: str) -> float:
    """Number of local calendar years spanned, :math:`\\sum_t \\Delta t / H(y_t)` [-]."""
    years = np.asarray(index.tz_convert(tz).year, dtype=np.int64)
    hours_in_year = np.where(
        [calendar.isleap(int(y)) for y in range(years.min(), years.max() + 1)], 8784.0, 8760.0
    )
    return float(np.sum(step_hours(index) / hours_in_year[years - years.min()]))


def _school_holiday(local: pd.DatetimeIndex) -> np.ndarray:
    """Mask of assumed Finnish school holiday days (see :func:`archetype_profile`)."""
    month = np.asarray(local.month)
    day = np.asarray(local.day)
    week = np.asarray(local.isocalendar().week, dtype=np.int64)
    summer = (month == 6) | (month == 7) | ((month == 8) & (day <= 14))
    christmas = ((month == 12) & (day >= 22)) | ((month == 1) & (day <= 6))
    return summer | christmas | (week == 8) | (week == 42)

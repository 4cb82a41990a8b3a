"""Weather on the canonical time index: an embedded typical year, and typical-year files.

Both entry points return a frame indexed exactly by the given index with the columns
:data:`WEATHER_COLUMNS`:

==================  ======  ====================================================
column              unit    meaning (mean over the step starting at the label)
==================  ======  ====================================================
``ghi_w_m2``        W/m2    global horizontal irradiance
``dni_w_m2``        W/m2    direct normal irradiance
``dhi_w_m2``        W/m2    diffuse horizontal irradiance
``temp_air_c``      degC    dry-bulb air temperature
``wind_speed_m_s``  m/s     wind speed (10 m)
==================  ======  ====================================================

* :func:`typical_year` is the default: a synthetic Helsinki-Vantaa year with day-to-day
  variability and a January design cold spell, deterministic, no files outside the
  package and no network (daily layer in :mod:`pecopt.ingest.typical_days`).
* :func:`read_weather_file` re-indexes an EPW, TMY3 or PVGIS typical-year file onto any
  horizon (any year, 1 h or 15 min, across year ends and leap days).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest import typical_days
from pecopt.ingest.timeseries import step_of
from pecopt.ingest.typical_days import TEMP_PEAK_SOLAR_HOUR

__all__ = [
    "TEMP_PEAK_SOLAR_HOUR",
    "WEATHER_COLUMNS",
    "load_monthly_defaults",
    "read_weather_file",
    "step_midpoints",
    "typical_year",
]

WEATHER_COLUMNS: Final = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2", "temp_air_c", "wind_speed_m_s")

_MONTHLY_RESOURCE: Final = "typical_year_monthly.csv"
_MONTHLY_COLUMNS: Final = (
    "month",
    "ghi_kwh_m2",
    "temp_air_c",
    "temp_diurnal_range_k",
    "wind_speed_m_s",
)
_HOUR: Final = pd.Timedelta(hours=1)
_FLUX: Final = ("ghi", "dni", "dhi")  # pvlib names, step means
_STATE: Final = ("temp_air", "wind_speed")  # pvlib names, point values
#: Plausible ranges; EPW missing-value codes (9999 W/m2, 99.9 degC, 999 m/s) fall outside.
_RANGES: Final = {
    "ghi": (0.0, 1500.0),
    "dni": (0.0, 1500.0),
    "dhi": (0.0, 1500.0),
    "temp_air": (-90.0, 65.0),
    "wind_speed": (0.0, 75.0),
}


def step_midpoints(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Return the mid-point of every step, ``label + step/2``, in UTC.

    Solar geometry evaluated there is the usual one-point estimate of the step mean.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware regular index of step starts.

    Returns
    -------
    pandas.DatetimeIndex
        UTC mid-points, same length as ``index``.
    """
    return pd.DatetimeIndex(index.tz_convert("UTC") + step_of(index) / 2)


def load_monthly_defaults() -> pd.DataFrame:
    """Read the packaged monthly climate table ``pecopt/data/typical_year_monthly.csv``.

    Returns
    -------
    pandas.DataFrame
        12 rows, columns ``month`` (1-12), ``ghi_kwh_m2`` [kWh/m2 per month],
        ``temp_air_c`` [degC, monthly mean], ``temp_diurnal_range_k`` [K, peak-to-peak of
        the mean daily cycle], ``wind_speed_m_s`` [m/s, monthly mean] and
        ``linke_turbidity`` [-, reference only]. Helsinki-Vantaa IWEC (ASHRAE, 2001); see
        the file header and ``data/README.md``.
    """
    return typical_days.load_monthly()


def typical_year(
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude: float,
    monthly: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Embedded default weather: a synthetic Helsinki-Vantaa year, as variable as a real one.

    **What it is.** A synthetic, deterministic (seeded) weather year for Helsinki-Vantaa,
    generated inside pecopt from small tables in ``pecopt/data``: nothing outside the
    repository, no network. Unlike an "average-day" year, every day has its own weather:
    day-to-day temperature anomalies with cold tails in winter, clear, mixed and overcast
    days, wind, and a January design cold spell. The same 365 days repeat every year
    (29 February repeats 28 February); any horizon, any year, 1 h or 15 min, across year
    ends and DST days, gives the same value at the same instant.

    **How it is built.** :func:`pecopt.ingest.typical_days.daily_record` draws 365
    climate days: the daily clear-sky index from the month's percentiles (ordered by an
    AR(1) series), the daily mean temperature as the seasonal curve plus an AR(1)
    anomaly coupled to clearness (clear winter days colder, clear summer days warmer),
    skewed towards cold in winter and scaled to the month's spread, the diurnal range
    growing with clearness, a lognormal daily wind coupled to both, and the cold spell.
    This function then gives, for each hour (mid-point :math:`t`, solar-time month
    :math:`m`)

    .. math::

        G(t) = f_m\\,k_h(t)\\,G_{cs}(t), \\qquad
        f_m = \\frac{H_m}{\\sum_{t \\in m} k_h(t)\\,G_{cs}(t)\\cdot 1\\,\\mathrm{h}}

    with :math:`G_{cs}` the Ineichen-Perez clear-sky GHI (pvlib, Linke turbidity
    climatology at the site), :math:`k_h` the day's clear-sky index with hourly noise and
    :math:`H_m` the monthly ``ghi_kwh_m2``, so every month keeps its irradiation at any
    site; DNI and DHI from the Erbs decomposition. Other steps take these hourly means as
    a weather file's (:func:`read_weather_file`: each hour's energy kept exactly).
    Temperature and wind are continuous in time (daily values interpolated between solar
    noons, plus diurnal cosines peaking at 14.5 h and 13.5 h solar time), evaluated at
    step mid-points. A year takes 0.1-0.3 s, hourly or 15 min (pvlib's import apart).

    **Calibration.** Monthly means of temperature, GHI, wind and the mean diurnal range
    are those of the ASHRAE IWEC file for Helsinki-Vantaa (``typical_year_monthly.csv``)
    and hold exactly; the spread of daily means, winter skewness, daily clear-sky index
    percentiles, wind variability and diurnal wind cycle are that file's monthly summary
    statistics, the couplings rounded from it (``typical_year_variability.csv``). The
    design cold spell (``typical_year_cold_spell.csv``, 10-18 January) is modelled on the
    one measured at Helsinki-Vantaa on 1-7 January 2024 (daily means -16.6 to -23.5 degC,
    minimum -26.0 degC): seven clear, calm days with daily means from -16.4 to -22.9 degC.

    **Against the IWEC file** (2025, hourly, Kera site, the file read onto the same
    hours): monthly mean temperatures within 0.06 K and monthly GHI within 0.6 % (946.9
    kWh/m2 both); standard deviation of daily mean temperatures within 2 % from February
    to December, 9.5 K against 5.1 K in January (the spell: a week near -19 degC in a
    month whose mean stays -3.9 degC, so its other days are mild), 8.8 K against 8.4 K
    over the year; Kera PV 814 against 819 kWh/kWp; coldest hour -25.1 degC (file -21.4),
    coldest local-day mean -23.0 (-18.0), 7 consecutive days below -15 degC (2), 74 hours
    below -20 degC (12); Kera heat load (each year scaled by its own degree-hours, so the
    same annual kWh), 99th percentile 2,450 against 2,267 kW, maximum 3,070 against
    2,649 kW, median 955 against 985 kW.

    **When to use a real weather file instead** (:func:`read_weather_file`, scenario
    ``weather: {source: file}``): any study whose result depends on a specific year
    (a measured year's bills, a comparison with metered data, spot prices of that year);
    extreme events beyond the design spell (a colder or longer spell, heat waves,
    multi-year storage); exact sunshine hours, beam fractions or sub-hourly cloud
    transients; a site whose climate is not Helsinki's. The embedded year is statistical:
    its sequence of days is one plausible draw, not a forecast or a history.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware regular index of step starts (canonical: UTC, ``1h`` or ``15min``).
        Any horizon and year works: the result is a function of the labels and the step.
    latitude : float
        Site latitude [deg, north positive].
    longitude : float
        Site longitude [deg, east positive].
    altitude : float
        Site altitude above sea level [m].
    monthly : pandas.DataFrame, optional
        Monthly climate with columns ``month``, ``ghi_kwh_m2``, ``temp_air_c``,
        ``temp_diurnal_range_k`` and ``wind_speed_m_s``; default
        :func:`load_monthly_defaults` (Helsinki-Vantaa). The day-to-day variability and
        the cold spell (as anomalies from the January mean) apply on top.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WEATHER_COLUMNS` [W/m2, W/m2, W/m2, degC, m/s], indexed by
        ``index``.

    Raises
    ------
    pecopt.errors.DataError
        If ``monthly`` lacks a column or month, holds NaN or negative values, or asks for
        more than 1.2 times the clear-sky irradiation of a month.

    References
    ----------
    Ineichen P., Perez R. (2002), Solar Energy 73(3), 151-157. Remund J. et al. (2003),
    Worldwide Linke turbidity information, ISES Solar World Congress. Erbs D.G., Klein
    S.A., Duffie J.A. (1982), Solar Energy 28(4), 293-302. ASHRAE (2001), International
    Weather for Energy Calculations (IWEC), Helsinki-Vantaa 029740.
    """
    source = "<monthly>" if monthly is not None else f"pecopt/data/{_MONTHLY_RESOURCE}"
    table = _check_monthly(load_monthly_defaults() if monthly is None else monthly, source)
    record = typical_days.daily_record(table)
    step = step_of(index)
    utc = pd.DatetimeIndex(index.tz_convert("UTC"))

    # irradiance: whole UTC hours covering the horizon, within whole solar-time months
    hours = pd.date_range(utc[0].floor("h"), (utc[-1] + step).ceil("h"), freq="h", inclusive="left")
    grid, first = _full_month_grid(hours, _HOUR, longitude)
    flux = _hourly_irradiance(grid, record, table, latitude, longitude, altitude, source)
    out: dict[str, np.ndarray] = {}
    for name, values in zip(("ghi_w_m2", "dni_w_m2", "dhi_w_m2"), flux, strict=True):
        hourly = values[first : first + len(hours)]
        if step == _HOUR and utc[0] == hours[0]:
            out[name] = hourly
        else:
            out[name] = _hourly_means_to_steps(hourly, hours[0], utc[0], step, len(utc))

    temp, wind = typical_days.temperature_and_wind(record, _solar_time(utc + step / 2, longitude))
    out["temp_air_c"], out["wind_speed_m_s"] = temp, wind
    return pd.DataFrame(out, index=index)


def read_weather_file(
    path: str | Path,
    kind: Literal["epw", "tmy3", "pvgis"],
    index: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Read a typical-year weather file and lay it onto the horizon ``index``.

    Typical-year files stitch months from different years, so each record is keyed by
    its (month, day, hour) and re-used for every year of the horizon; 29 February reuses
    28 February when the file has no leap day. Time conventions, converted to UTC with
    the file's fixed offset (no daylight saving):

    * **epw**: hour ``h`` (1-24) ends at ``h`` local standard time (UTC offset from the
      ``LOCATION`` line); irradiance is the mean over ``[h-1, h)``, temperature and wind
      are values at ``h``.
    * **tmy3**: same convention, ``Time (HH:MM)`` ends the hour (``24:00`` allowed).
    * **pvgis**: PVGIS TMY ``.csv``/``.json``: ``time(UTC)`` ``HH:00`` starts the hour;
      irradiance is taken as the mean over ``[HH, HH+1)`` (PVGIS reports an irradiance
      time offset of about 10 min, ignored here), temperature and wind as values at
      ``HH``. A PVGIS ``.epw`` is read as an EPW.

    Resampling onto the target step :math:`\\Delta`: irradiance is interpolated linearly
    between hour mid-points on a sub-grid, then each source hour is rescaled to its own
    mean (:math:`\\tilde g_i \\leftarrow \\tilde g_i\\,\\bar g_h / \\langle \\tilde g
    \\rangle_h`), so every hour's energy, hence the annual sum, is kept exactly and
    values stay non-negative; target steps average the sub-grid. Temperature and wind are
    interpolated linearly to target step mid-points.

    Parameters
    ----------
    path : str or pathlib.Path
        Weather file.
    kind : {"epw", "tmy3", "pvgis"}
        File format, read with :func:`pvlib.iotools.read_epw`,
        :func:`pvlib.iotools.read_tmy3` or :func:`pvlib.iotools.read_pvgis_tmy`.
    index : pandas.DatetimeIndex
        tz-aware regular index of step starts (canonical: UTC, ``1h`` or ``15min``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WEATHER_COLUMNS` [W/m2, W/m2, W/m2, degC, m/s], indexed by
        ``index``.

    Raises
    ------
    pecopt.errors.DataError
        If the file is missing or unreadable, lacks a column, has NaN or out-of-range
        values (missing-value codes), duplicated (month, day, hour) records, or no record
        for part of the horizon. The message starts with the file path.

    References
    ----------
    EnergyPlus Auxiliary Programs, "Weather converter program", EPW data dictionary.
    Wilcox S., Marion W. (2008), Users manual for TMY3 data sets, NREL/TP-581-43156.
    """
    path = Path(path)
    records, offset_h, temp_at_end = _read_records(path, kind)
    step = step_of(index)
    utc = pd.DatetimeIndex(index.tz_convert("UTC"))
    offset = pd.Timedelta(hours=offset_h)

    # hourly local-standard-time step starts covering the horizon with 2 h margins
    lo = (utc[0].tz_localize(None) + offset - 2 * _HOUR).floor("h")
    hi = (utc[-1].tz_localize(None) + offset + step + 2 * _HOUR).ceil("h")
    lst = pd.date_range(lo, hi, freq="h")
    month, day, hour = (np.asarray(a) for a in (lst.month, lst.day, lst.hour))
    if (2, 29, 12) not in records.index:  # no leap day in the file: reuse 28 February
        day = np.where((month == 2) & (day == 29), 28, day)
    keys = pd.MultiIndex.from_arrays([month, day, hour])
    values = records.reindex(keys)
    hole = np.asarray(values.isna().any(axis=1))
    if hole.any():
        when = lst[int(np.flatnonzero(hole)[0])]
        raise DataError(
            path,
            "records",
            f"horizon not covered: no record for {_label((when.month, when.day, when.hour))}",
        )
    start = (lst[0] - offset).tz_localize("UTC")

    out: dict[str, np.ndarray] = {}
    for name, col in zip(("ghi_w_m2", "dni_w_m2", "dhi_w_m2"), _FLUX, strict=True):
        out[name] = _hourly_means_to_steps(
            values[col].to_numpy(float), start, utc[0], step, len(utc)
        )
    shift = _HOUR if temp_at_end else pd.Timedelta(0)
    points = _ns(pd.DatetimeIndex(lst - offset).tz_localize("UTC") + shift)
    target = _ns(utc + step / 2)
    out["temp_air_c"] = np.interp(target, points, values["temp_air"].to_numpy(float))
    out["wind_speed_m_s"] = np.interp(target, points, values["wind_speed"].to_numpy(float))
    return pd.DataFrame(out, index=index)


# --- typical year helpers -------------------------------------------------------------


def _check_monthly(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate a monthly climate table and return it sorted by month."""
    for col in _MONTHLY_COLUMNS:
        if col not in table.columns:
            raise DataError(source, col, "missing column")
    frame = table.loc[:, list(_MONTHLY_COLUMNS)].astype(float)
    if frame.isna().any().any():
        col = str(frame.columns[np.asarray(frame.isna().any())][0])
        raise DataError(source, col, "missing (NaN) value")
    if sorted(frame["month"].tolist()) != list(range(1, 13)):
        raise DataError(source, "month", "needs exactly one row for each month 1-12")
    for col in _MONTHLY_COLUMNS[1:]:
        if col != "temp_air_c" and (frame[col] < 0).any():
            raise DataError(source, col, "negative value")
    return frame.sort_values("month").reset_index(drop=True)


def _solar_time(times: pd.DatetimeIndex, longitude: float) -> pd.DatetimeIndex:
    """Naive local mean solar time, UTC + longitude/15 h."""
    return pd.DatetimeIndex(
        times.tz_convert("UTC").tz_localize(None) + pd.Timedelta(hours=longitude / 15.0)
    )


def _full_month_grid(
    index: pd.DatetimeIndex, step: pd.Timedelta, longitude: float
) -> tuple[pd.DatetimeIndex, int]:
    """Extend ``index`` (same step and phase) to whole solar-time months.

    Returns the extended UTC grid and the position of ``index[0]`` in it. A step belongs
    to the month of its mid-point.
    """
    utc = pd.DatetimeIndex(index.tz_convert("UTC"))
    to_utc = pd.Timedelta(hours=longitude / 15.0)
    first_solar = _solar_time(pd.DatetimeIndex([utc[0] + step / 2]), longitude)[0]
    last_solar = _solar_time(pd.DatetimeIndex([utc[-1] + step / 2]), longitude)[0]
    month_start = pd.Timestamp(first_solar.year, first_solar.month, 1, tz="UTC") - to_utc
    next_start = (
        pd.Timestamp(last_solar.year, last_solar.month, 1) + pd.offsets.MonthBegin(1)
    ).tz_localize("UTC") - to_utc
    before = int((utc[0] + step / 2 - month_start) // step)
    after = int(math.ceil((next_start - (utc[-1] + step / 2)) / step)) - 1
    grid = pd.date_range(utc[0] - before * step, periods=before + len(utc) + after, freq=step)
    return grid, before


def _hourly_irradiance(
    grid: pd.DatetimeIndex,
    record: typical_days.DailyRecord,
    table: pd.DataFrame,
    latitude: float,
    longitude: float,
    altitude: float,
    source: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GHI, DNI and DHI [W/m2], means over the hours of ``grid`` (whole solar months).

    :math:`G_h = f_m\\,k_h\\,G_{cs}(t_h)`: the hour's clear-sky index
    (:func:`pecopt.ingest.typical_days.hourly_clear_sky_index`) times the Ineichen-Perez
    clear-sky GHI at the hour's mid-point, scaled by :math:`f_m` so that each solar-time
    month sums to its ``ghi_kwh_m2``; DNI and DHI by the Erbs decomposition.
    """
    import pvlib  # lazily: a night with a full forecast does without it

    mid = pd.DatetimeIndex(grid + _HOUR / 2)
    solar = _solar_time(mid, longitude)
    day = typical_days.climate_day(solar.normalize())
    hour = np.asarray(solar.hour, dtype=np.int64)

    location = pvlib.location.Location(latitude, longitude, altitude=altitude)
    sun = location.get_solarposition(mid)
    turbidity = pvlib.clearsky.lookup_linke_turbidity(mid, latitude, longitude)
    clear = location.get_clearsky(
        mid, model="ineichen", linke_turbidity=turbidity, solar_position=sun
    )
    cs_ghi = np.asarray(clear["ghi"], dtype=float)
    ghi = typical_days.hourly_clear_sky_index(record, day, hour) * cs_ghi

    month = np.asarray(solar.month)
    key = np.asarray(solar.year) * 12 + month
    target_wh = table["ghi_kwh_m2"].to_numpy()[month - 1] * 1000.0
    cs_wh = pd.Series(cs_ghi).groupby(key).transform("sum").to_numpy()
    if (target_wh > 1.2 * cs_wh).any():
        bad = int(month[np.argmax(target_wh / np.maximum(cs_wh, 1e-9))])
        raise DataError(
            source,
            "ghi_kwh_m2",
            f"month {bad}: more than 1.2 x the clear-sky irradiation at this site "
            "(wrong unit or site?)",
        )
    raw_wh = pd.Series(ghi).groupby(key).transform("sum").to_numpy()
    ghi = ghi * np.divide(target_wh, raw_wh, out=np.zeros_like(raw_wh), where=raw_wh > 0)
    split = pvlib.irradiance.erbs(ghi, np.asarray(sun["zenith"]), mid)
    return ghi, np.asarray(split["dni"], dtype=float), np.asarray(split["dhi"], dtype=float)


# --- weather file helpers ------------------------------------------------------------


def _read_records(path: Path, kind: str) -> tuple[pd.DataFrame, float, bool]:
    """Parse a weather file into hourly records keyed by (month, day, start hour).

    Returns the records (pvlib column names; the key's hour is the hour the record
    *starts*, 0-23, in the file's time: local standard time, or UTC for PVGIS), the
    file's UTC offset [h] and whether temperature and wind are values at the end of the
    hour (EPW, TMY3) rather than at its start (PVGIS).
    """
    import pvlib  # lazily: a night with a full forecast does without it

    if kind not in {"epw", "tmy3", "pvgis"}:
        raise ValueError(f"unknown weather file kind {kind!r} (epw, tmy3, pvgis)")
    if not path.is_file():
        raise DataError(path, "file", "file not found")
    suffix = path.suffix.lower()
    if kind == "pvgis" and suffix not in {".csv", ".json", ".epw"}:
        raise DataError(path, "file", f"unsupported PVGIS file type {suffix!r} (csv, json, epw)")
    # pvlib's parsers fail with many exception types on malformed input (ValueError,
    # KeyError, IndexError, TypeError, UnicodeDecodeError ...): all become DataError.
    try:
        if kind == "epw" or (kind == "pvgis" and suffix == ".epw"):
            data, meta = pvlib.iotools.read_epw(path)
            offset_h, at_end = float(meta["TZ"]), True
            key = (data["month"], data["day"], data["hour"] - 1)
        elif kind == "tmy3":
            # keys from the raw columns: pvlib maps "02/28/1996 24:00" to 1 March
            data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
            offset_h, at_end = float(meta["TZ"]), True
            date = pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
            clock = data["Time (HH:MM)"].str.split(":", expand=True).astype(int)
            if (clock[1] != 0).any():
                raise ValueError("records must be hourly, on whole hours")
            key = (date.dt.month, date.dt.day, clock[0] - 1)
        else:
            data = pvlib.iotools.read_pvgis_tmy(path, map_variables=True)[0]
            offset_h, at_end = 0.0, False
            if (np.asarray(data.index.minute) != 0).any():
                raise ValueError("records must be hourly, on whole hours")
            key = (data.index.month, data.index.day, data.index.hour)
        keys = pd.MultiIndex.from_arrays([np.asarray(k, dtype=np.int64) for k in key])
    except Exception as exc:  # the boundary with third-party parsers
        raise DataError(
            path, "file", f"cannot read as {kind} ({exc.__class__.__name__}: {exc})"
        ) from exc

    for col in (*_FLUX, *_STATE):
        if col not in data.columns:
            raise DataError(path, col, "missing column")
    frame = data.loc[:, [*_FLUX, *_STATE]].apply(pd.to_numeric, errors="coerce")
    frame.index = keys
    for col, (lo, hi) in _RANGES.items():
        x = frame[col].to_numpy(float)
        bad = ~((x >= lo) & (x <= hi))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "missing (NaN) value" if np.isnan(x[i]) else f"value {x[i]} outside [{lo}, {hi}]"
            raise DataError(path, col, f"{what} in the record {_label(keys[i])}")
    dup = keys.duplicated()
    if dup.any():
        raise DataError(
            path,
            "time",
            f"two records for {_label(keys[int(np.flatnonzero(dup)[0])])} (not a typical year?)",
        )
    return frame, offset_h, at_end


def _label(key: tuple[Hashable, ...]) -> str:
    """Human-readable (month, day, start hour) key."""
    month, day, hour = (int(str(k)) for k in key)
    return f"{month:02d}-{day:02d} {hour:02d}:00-{hour + 1:02d}:00 (file time)"


def _ns(times: pd.DatetimeIndex) -> np.ndarray:
    """Nanoseconds since the epoch as float64, for numpy interpolation."""
    return np.asarray(times.as_unit("ns").asi8, dtype=float)


def _hourly_means_to_steps(
    hourly: np.ndarray,
    start: pd.Timestamp,
    target_start: pd.Timestamp,
    step: pd.Timedelta,
    n: int,
) -> np.ndarray:
    """Resample contiguous hourly step means to ``n`` target steps, keeping hourly energy.

    Sub-grid of ``g`` minutes (a divisor of 30, of the target step and of the offset
    between the grids): linear interpolation between hour mid-points, each hour rescaled
    to its own mean, then averaged over each target step.
    """
    step_min = step / pd.Timedelta(minutes=1)
    lag_min = (target_start - start) / pd.Timedelta(minutes=1)
    if step_min != int(step_min) or lag_min != int(lag_min):
        raise ValueError("the time index must fall on whole minutes")
    g = math.gcd(math.gcd(int(step_min), 30), int(lag_min) % 60)
    per_hour = 60 // g
    fine_t = (np.arange(len(hourly) * per_hour) + 0.5) * g
    fine = np.interp(fine_t, np.arange(len(hourly)) * 60.0 + 30.0, hourly)
    fine = fine.reshape(len(hourly), per_hour)
    mean = fine.mean(axis=1)
    scale = np.divide(hourly, mean, out=np.zeros_like(mean), where=mean > 0)
    fine = np.where((mean > 0)[:, None], fine * scale[:, None], hourly[:, None]).ravel()
    first, per_step = int(lag_min) // g, int(step_min) // g
    return fine[first : first + n * per_step].reshape(n, per_step).mean(axis=1)

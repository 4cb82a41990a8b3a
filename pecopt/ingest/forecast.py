"""Weather forecasts (CSV or Parquet) on the canonical time index.

A forecast file holds one row per forecast step: a time column and, by canonical name
(or mapped with ``weather.columns``), some of

==================  ======  =========================================================
column              unit    meaning (mean over the step starting at the time label)
==================  ======  =========================================================
``ghi_w_m2``        W/m2    global horizontal irradiance
``dni_w_m2``        W/m2    direct normal irradiance (optional)
``dhi_w_m2``        W/m2    diffuse horizontal irradiance (optional)
``temp_air_c``      degC    air temperature (optional)
``wind_speed_m_s``  m/s     wind speed at 10 m (optional)
==================  ======  =========================================================

It is read with :func:`pecopt.ingest.timeseries.read_series_file` (so an hourly forecast
holds within the hour on a 15-minute horizon, and every bad cell is a ``DataError`` naming
the row). What the file lacks is completed the documented way:

* GHI without DNI and DHI: the Erbs decomposition at the step mid-points
  (:func:`pvlib.irradiance.erbs`, as the embedded typical year does); one of DNI or DHI:
  the other from the closure :math:`G = B\\cos\\theta_z + D`;
* a column that is absent (no GHI, temperature or wind), or steps the file does not
  cover: the embedded typical year (:func:`pecopt.ingest.weather.typical_year`), each
  reported in :attr:`Forecast.notes` (``fill=True``; otherwise an uncovered step is an
  error);
* holes inside the file (rows missing from its step grid, empty cells; ``fill=True``):
  a hole of up to :data:`MAX_INTERPOLATED_H` hours is interpolated linearly in time
  between the file's values on either side, column by column; a longer one comes from
  the typical year like an uncovered step. Both are reported in the notes.

Small negative irradiance values (night-time model noise) are set to 0. pvlib is imported
only when a decomposition or the typical year is needed: a forecast with all five columns
is read with pandas alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest.timeseries import parse_times, read_series_file, read_table, step_of, zone_for

__all__ = ["FORECAST_COLUMNS", "MAX_INTERPOLATED_H", "Forecast", "read_forecast"]

#: The canonical weather columns (the same as :data:`pecopt.ingest.weather.WEATHER_COLUMNS`,
#: repeated so that reading a forecast does not import pvlib).
FORECAST_COLUMNS: Final = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2", "temp_air_c", "wind_speed_m_s")
_FLUX: Final = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2")
#: holes inside a forecast file up to this long [h] are interpolated linearly in time;
#: longer ones come from the typical year [assumption: half a day, about the time a
#: weather front takes to pass]
MAX_INTERPOLATED_H: Final = 12.0


@dataclass(frozen=True)
class Forecast:
    """The weather on the horizon and what in it did not come from the forecast file.

    ``frame``: :data:`FORECAST_COLUMNS` on the index; ``filled[t]``: step t (or part of
    its columns) did not come from the file (typical year or interpolated);
    ``notes``: one sentence per substitution; ``missing[t]``: the file has no value for
    step t in some present column (uncovered or a hole); ``raw``: the file's own values
    by canonical name (present columns only, before any clipping or filling; NaN where
    the file has none), for plausibility checks; ``columns``: canonical name -> the
    file's column.
    """

    frame: pd.DataFrame
    filled: np.ndarray
    notes: list[str] = field(default_factory=list)
    missing: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)
    columns: dict[str, str] = field(default_factory=dict)


def read_forecast(
    path: str | Path,
    index: pd.DatetimeIndex,
    *,
    latitude: float,
    longitude: float,
    altitude: float,
    columns: Mapping[str, str] | None = None,
    time_column: str = "timestamp",
    tz: str = "UTC",
    fill: bool = False,
) -> Forecast:
    """Read a weather forecast onto ``index`` (see the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path
        CSV or Parquet file.
    index : pandas.DatetimeIndex
        Canonical UTC index of step starts.
    latitude, longitude : float
        Site [deg], for the sun position of a decomposition.
    altitude : float
        Site altitude [m].
    columns : mapping of str to str, optional
        Canonical name -> file column (default: the canonical names).
    time_column : str
        Time column; naive times are local in ``tz``.
    tz : str
        Zone of naive times (default UTC).
    fill : bool
        Complete missing columns and uncovered steps from the typical year (and say so
        in the notes) instead of raising.

    Returns
    -------
    Forecast

    Raises
    ------
    pecopt.errors.DataError
        Unreadable file, bad times or values, a mapped column that is absent; without
        ``fill``, steps not covered or no GHI/temperature/wind column.
    """
    path = Path(path)
    names = {c: (columns or {}).get(c, c) for c in FORECAST_COLUMNS}
    head = read_table(path, time_column)
    if time_column not in head.columns:
        found = ", ".join(map(str, head.columns))
        raise DataError(path, time_column, f"missing column (found: {found})")
    for canon, col in (columns or {}).items():
        if col not in head.columns:
            raise DataError(path, col, f"missing column (mapped from {canon})")
    present = [c for c in FORECAST_COLUMNS if names[c] in head.columns]
    notes: list[str] = []
    absent = [c for c in ("ghi_w_m2", "temp_air_c", "wind_speed_m_s") if c not in present]
    if absent and not fill:
        raise DataError(path, names[absent[0]], "missing column (a forecast needs it)")

    covered = _covered(head, path, time_column, tz, [names[c] for c in present], index)
    n = len(index)
    out = {c: np.full(n, np.nan) for c in FORECAST_COLUMNS}
    raw = pd.DataFrame({c: np.full(n, np.nan) for c in present}, index=index)
    if covered.any():
        sub = pd.DatetimeIndex(
            index[covered], freq=pd.tseries.frequencies.to_offset(step_of(index))
        )
        read = read_series_file(
            path,
            {names[c]: c for c in present},
            sub,
            time_column=time_column,
            tz=tz,
            allow_negative=True,
            holes=fill,
        )
        for c in present:
            x = read[c].to_numpy(float)
            raw.loc[sub, c] = x
            if c in _FLUX:
                x = np.maximum(x, 0.0)
            elif c == "wind_speed_m_s" and (x < 0).any():
                raise DataError(path, names[c], f"negative wind speed {np.nanmin(x):g}")
            out[c][covered] = x
    holes = covered & np.asarray(raw.isna().any(axis=1)) if present else np.zeros(n, bool)
    if holes.any():
        notes.append(_fill_holes(out, present, holes, index))
    if not covered.all():
        if not fill:
            raise DataError(
                path,
                time_column,
                f"horizon {index[0]} to {index[-1] + step_of(index)} (UTC) not covered: "
                f"{int((~covered).sum())} of {n} steps missing",
            )
        gap = index[~covered]
        notes.append(
            f"weather forecast missing for {gap.size} of {n} steps ({_span(gap, index)}); "
            "the typical year is used there"
        )
    for c in absent:
        notes.append(f"the weather forecast has no {c} column; the typical year's is used")

    known = covered & ~np.isnan(out["ghi_w_m2"])  # not a long hole (typical year there)
    decomposed = _decompose(out, known, present, index, latitude, longitude, altitude)
    if decomposed:
        notes.append(decomposed)
    filled = ~covered | holes | bool(absent)
    if filled.any():
        from pecopt.ingest.weather import typical_year  # pvlib: only when something is missing

        typical = typical_year(index, latitude, longitude, altitude)
        for c in FORECAST_COLUMNS:
            hole = np.isnan(out[c])
            out[c][hole] = typical[c].to_numpy(float)[hole]
    frame = pd.DataFrame(out, index=index)
    used = {c: names[c] for c in present}
    return Forecast(frame, np.asarray(filled, bool), notes, ~covered | holes, raw, used)


def _fill_holes(
    out: dict[str, np.ndarray], present: list[str], holes: np.ndarray, index: pd.DatetimeIndex
) -> str:
    """Fill the holes inside the file in place: runs of NaN of up to
    :data:`MAX_INTERPOLATED_H` hours linearly in time between the values on either side,
    :math:`x_t = x_a + (x_b - x_a)(t - t_a)/(t_b - t_a)`; longer runs are left NaN (for
    the typical year). Returns the note."""
    step_h = step_of(index) / pd.Timedelta(hours=1)
    limit = int(round(MAX_INTERPOLATED_H / step_h))
    long_steps = np.zeros(len(index), bool)
    for c in present:
        x = pd.Series(out[c])
        gap = x.isna()
        run = (gap != gap.shift()).cumsum()
        size = gap.groupby(run).transform("sum")
        short = gap & (size <= limit)
        long_steps |= np.asarray(gap & (size > limit)) & holes  # not the uncovered edges
        out[c] = np.where(short, x.interpolate(limit_area="inside").to_numpy(), out[c])
    hole_steps = index[holes]
    text = (
        f"weather forecast missing for {hole_steps.size} steps inside the file "
        f"({_span(hole_steps, index)}): "
    )
    if not long_steps.any():
        return text + "interpolated linearly in time"
    return text + (
        f"holes of up to {MAX_INTERPOLATED_H:g} h interpolated linearly in time, "
        f"{int(long_steps.sum())} steps of longer ones from the typical year"
    )


def _covered(
    head: pd.DataFrame,
    path: Path,
    time_column: str,
    tz: str,
    value_columns: list[str],
    index: pd.DatetimeIndex,
) -> np.ndarray:
    """Steps of ``index`` inside [first, last + step) of the rows that hold a value in
    every present column (trailing rows without values, as forecast files often have,
    do not count)."""
    if not value_columns or len(head) < 2:
        return np.zeros(len(index), bool)
    times = parse_times(head[time_column], path, time_column, zone_for(tz, path, time_column))
    values = head[value_columns].apply(pd.to_numeric, errors="coerce")
    ok = np.asarray(values.notna().all(axis=1))
    if not ok.any():
        return np.zeros(len(index), bool)
    order = np.argsort(np.asarray(times))
    st = times[order]
    steps = st[1:] - st[:-1]
    fstep = pd.Timedelta(steps[steps > pd.Timedelta(0)].min()) if len(st) > 1 else step_of(index)
    good = times[ok]
    first, end = good.min(), good.max() + fstep
    tstep = step_of(index)
    return np.asarray((index >= first) & (index + tstep <= end))


def _decompose(
    out: dict[str, np.ndarray],
    covered: np.ndarray,
    present: list[str],
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude: float,
) -> str | None:
    """DNI/DHI where the file has GHI but not both components; returns a note."""
    has_dni, has_dhi = "dni_w_m2" in present, "dhi_w_m2" in present
    if "ghi_w_m2" not in present or (has_dni and has_dhi) or not covered.any():
        return None
    import pvlib  # only for a decomposition

    mid = pd.DatetimeIndex(index[covered] + step_of(index) / 2)
    sun = pvlib.solarposition.get_solarposition(mid, latitude, longitude, altitude)
    zenith = np.asarray(sun["zenith"], dtype=float)
    ghi = out["ghi_w_m2"][covered]
    cosz = np.maximum(np.cos(np.radians(zenith)), 0.0)
    if not has_dni and not has_dhi:
        split = pvlib.irradiance.erbs(ghi, zenith, mid)
        dni = np.nan_to_num(np.asarray(split["dni"], dtype=float))
        dhi = np.nan_to_num(np.asarray(split["dhi"], dtype=float))
        how = "DNI and DHI from GHI by the Erbs decomposition"
    elif has_dni:
        dni = out["dni_w_m2"][covered]
        dhi = np.clip(ghi - dni * cosz, 0.0, ghi)
        how = "DHI from GHI and DNI (closure)"
    else:
        dhi = np.minimum(out["dhi_w_m2"][covered], ghi)
        dni = np.where(cosz > 0.0872, (ghi - dhi) / np.maximum(cosz, 0.0872), 0.0)  # z < 85
        how = "DNI from GHI and DHI (closure)"
    out["dni_w_m2"][covered] = np.maximum(dni, 0.0)
    out["dhi_w_m2"][covered] = np.maximum(dhi, 0.0)
    return f"weather forecast: {how}"


def _span(steps: pd.DatetimeIndex, index: pd.DatetimeIndex) -> str:
    """``from .. to ..`` (UTC) of a set of steps."""
    end = steps[-1] + step_of(index)
    return f"{steps[0]:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"

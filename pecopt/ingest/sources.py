"""Reading a scenario's sources onto the horizon: the time grid, the weather, series given
as numbers, lists or file columns. Below the technologies (their ingest hooks read
through :class:`~pecopt.model.technology.IngestContext`), above the file readers."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pecopt.errors import ScenarioError
from pecopt.ingest.timeseries import read_series_file
from pecopt.model.linear import FloatArray
from pecopt.scenario.types import SeriesFile

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.schema import Scenario

__all__ = ["climate_degree_hours", "horizon_index", "series_values", "weather_for"]


def horizon_index(s: Scenario, file: str | None = None) -> pd.DatetimeIndex:
    """The UTC step-start index of the horizon; naive start/end are site-local times."""
    tz = s.site.timezone
    try:
        start, end = pd.Timestamp(s.horizon.start), pd.Timestamp(s.horizon.end)
        if start.tz is None:
            start = start.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        if end.tz is None:
            end = end.tz_localize(tz, ambiguous="raise", nonexistent="raise")
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's input
        raise ScenarioError(file, "horizon", f"invalid start/end: {exc}") from None
    if end <= start:
        raise ScenarioError(file, "horizon.end", "must be after horizon.start")
    step = pd.Timedelta(s.horizon.resolution)
    idx = pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq=step, inclusive="left")
    if len(idx) < 1:
        raise ScenarioError(file, "horizon", "the horizon must hold at least one step")
    if (end.tz_convert("UTC") - idx[0]) % step != pd.Timedelta(0):
        raise ScenarioError(file, "horizon.end", f"not a whole number of {step} steps")
    return pd.DatetimeIndex(idx, name="timestamp")


def weather_for(s: Scenario, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The weather on ``index``: the scenario's file or forecast, or pecopt's embedded
    typical year."""
    w = s.weather
    if w.source == "forecast":  # pandas alone when the forecast has every column
        from pecopt.ingest.forecast import read_forecast

        assert w.path is not None
        site = s.site
        return read_forecast(
            w.path, index, latitude=site.latitude, longitude=site.longitude,
            altitude=site.altitude_m, columns=w.columns, time_column=w.time_column,
            tz=w.timezone,
        ).frame  # fmt: skip
    from pecopt.ingest import weather  # pvlib: imported only when weather is needed

    if s.weather.source == "file":
        assert s.weather.path is not None
        return weather.read_weather_file(s.weather.path, s.weather.kind, index)
    site = s.site
    return weather.typical_year(index, site.latitude, site.longitude, site.altitude_m)


def climate_degree_hours(s: Scenario) -> float | None:
    """Degree-hours (base 17 degC) per year of a weather file's whole year [K h], read once
    (the first local calendar year the file can be laid on); None for the typical year."""
    if s.weather.source != "file":
        return None
    assert s.weather.path is not None
    return _file_degree_hours(str(s.weather.path), s.weather.kind, s.site.timezone)


@lru_cache(maxsize=8)
def _file_degree_hours(path: str, kind: str, tz: str) -> float:
    from pecopt.ingest import weather
    from pecopt.ingest.loads import annual_degree_hours
    from pecopt.ingest.timeseries import local_year_index

    year = local_year_index(2025, tz)  # a typical-year file is laid on any year alike
    wx = weather.read_weather_file(Path(path), kind, year)  # type: ignore[arg-type]
    return annual_degree_hours(wx["temp_air_c"], tz=tz)


def series_values(
    spec: Any, index: pd.DatetimeIndex, field: str, file: str | None, *, negative: bool = False
) -> FloatArray:
    """A per-step array [unit of the field] from a constant, an inline list with one value
    per step, or a file column (:class:`~pecopt.scenario.types.SeriesFile`)."""
    n = len(index)
    if isinstance(spec, SeriesFile):
        df = read_series_file(
            spec.path,
            {spec.column: "value"},
            index,
            time_column=spec.time_column,
            tz=spec.timezone,
            allow_negative=negative,
        )
        return df["value"].to_numpy(np.float64)
    if isinstance(spec, list | tuple):
        values = np.asarray(spec, dtype=np.float64)
        if values.size != n:
            raise ScenarioError(
                file, field, f"{values.size} values given, the horizon has {n} steps"
            )
    else:
        values = np.full(n, float(spec))
    if not negative and (values < 0).any():
        raise ScenarioError(file, field, "values must be >= 0")
    return values

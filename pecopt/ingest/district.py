"""Scenario -> canonical tables -> :class:`~pecopt.inputs.DistrictInputs`.

:func:`ingest` reads every source once and returns tidy tables (UTC ``timestamp``,
units in column names): the weather when something uses it, and each technology's own
tables (its ``ingest`` hook). ``pecopt ingest`` writes them as Parquet; :func:`to_inputs`
turns the same tables, from memory or read back from that folder, into the frozen
model inputs (each technology's ``prepare`` hook). Nothing downstream re-reads a source
file or re-interprets a unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pecopt.errors import ScenarioError
from pecopt.ingest.timeseries import read_series_file
from pecopt.inputs import DistrictInputs
from pecopt.model.linear import FloatArray
from pecopt.model.registry import TECHNOLOGIES
from pecopt.model.technology import Common, IngestContext
from pecopt.scenario.schema import Scenario
from pecopt.scenario.types import SeriesFile

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.aggregation import Selection

WEATHER = "weather"


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


def ingest(
    s: Scenario, file: str | None = None, weather: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Read and convert every input of scenario ``s`` onto the horizon: a dict of tidy
    tables, the weather (if used) and each present technology's tables. ``weather``
    replaces the scenario's weather source (a frame on the horizon's index with the
    columns of :data:`pecopt.ingest.weather.WEATHER_COLUMNS`: e.g. a forecast completed
    by the caller)."""
    index = horizon_index(s, file)
    ctx = IngestContext(s, file, index, weather)
    if weather is not None or s.weather.source != "typical_year":  # a bad file is reported
        ctx.weather  # noqa: B018
    tables: dict[str, pd.DataFrame] = {}
    for tech in TECHNOLOGIES.values():
        units = tech.units_of(s)
        if units and tech.ingest is not None:
            tables.update(tech.ingest(units, ctx))
    if "weather" in ctx.__dict__:  # computed (cached) by someone
        wx = ctx.weather
        tables = {WEATHER: wx.reset_index(drop=True).assign(timestamp=index)[
            ["timestamp", *[c for c in wx.columns if c != "timestamp"]]
        ], **tables}  # fmt: skip
    return tables


def to_inputs(
    s: Scenario,
    tables: Mapping[str, pd.DataFrame],
    file: str | None = None,
    selection: Selection | None = None,
) -> DistrictInputs:
    """Assemble the frozen model inputs from the canonical tables (of the typical periods
    in ``selection`` only, each step weighted, when given: :mod:`pecopt.aggregation`)."""
    index = horizon_index(s, file)
    step = pd.Timedelta(s.horizon.resolution)
    weight = periods = None
    if selection is not None:
        from pecopt.aggregation import restrict

        tables = restrict(tables, index, selection)
        index = index[selection.steps]
        weight, periods = selection.weight, selection.periods
    common = Common(
        name=s.site.name,
        index=index,
        dt_h=float(step / pd.Timedelta(hours=1)),
        timezone=s.site.timezone,
        objective=s.objective,
        solver=s.solver,
        carbon=s.carbon,
        import_price_min=np.zeros(len(index)),
        file=file,
        discount_rate=s.economics.discount_rate,
        weight=weight,
        periods=periods,
    )
    data: dict[str, Any] = {}
    prices: list[FloatArray] = []
    for key, tech in TECHNOLOGIES.items():
        units = tech.units_of(s)
        if not units:
            continue
        d = tech.prepare(units, tables, common) if tech.prepare else tuple(units)
        data[key] = d
        if tech.import_price is not None:
            prices.append(np.asarray(tech.import_price(d), np.float64))
    if prices:
        common = replace(common, import_price_min=np.min(prices, axis=0))
    return DistrictInputs(scenario=s, common=common, tables=dict(tables), data=data)

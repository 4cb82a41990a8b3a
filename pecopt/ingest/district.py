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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pecopt.ingest.sources import horizon_index
from pecopt.inputs import DistrictInputs
from pecopt.model.linear import FloatArray
from pecopt.model.registry import TECHNOLOGIES
from pecopt.model.technology import Common, IngestContext
from pecopt.scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.aggregation import Selection

WEATHER = "weather"

__all__ = ["WEATHER", "horizon_index", "ingest", "to_inputs"]


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

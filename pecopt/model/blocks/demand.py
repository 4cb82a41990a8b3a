"""Building demand: electricity, space heat and hot water that must be met, and the heat
cascade between the two heat temperatures.

No decision variables for the demand itself: each building's demand enters the bus
balances as constants,

    demand flows:  electricity -D_el[t],  space_heat -D_sh[t],  hot_water -D_dhw[t]   [kW]

Space heat is needed at the weather-compensated supply temperature of the buildings'
heating loop and hot water at 55-60 degC (``heat:`` section), so the two are separate
buses; heat delivered at the hot-water temperature can always serve space heating:

    0 <= c[t],   cascade flows:  hot_water -c[t],  space_heat +c[t]   (role conversion)

Loads come from an archetype (annual kWh/m2 figures distributed by degree-hours and
daily/weekly shapes, :func:`pecopt.ingest.loads.archetype_profile`), a metered file per
building, or district-level series (``demand:``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import model_validator

from pecopt.model.blocks.pv import PVArray
from pecopt.model.linear import FloatArray, add_var, term
from pecopt.model.technology import Common, Contribution, Flow, IngestContext, Tables, Technology
from pecopt.scenario.types import NonNeg, Positive, Series, Strict, TimeZone
from pecopt.units import ELECTRICITY, HOT_WATER, SPACE_HEAT


class Archetype(Strict):
    use: Literal["apartment", "office", "school", "retail"]
    """The building's use, which sets its daily and weekly load shapes."""
    floor_area_m2: Positive
    """Heated floor area [m2]."""
    elec_kwh_m2_yr: NonNeg
    """Annual electricity use per floor area [kWh/m2/yr]."""
    space_heat_kwh_m2_yr: NonNeg
    """Annual space-heat use per floor area [kWh/m2/yr], spread by heating degree-hours."""
    hot_water_kwh_m2_yr: NonNeg = 0.0
    """Annual hot-water heat use per floor area [kWh/m2/yr]."""


class Metered(Strict):
    """A metered load file (CSV or Parquet): electricity, space heat (or all heat, if
    hot water is not metered apart) and hot-water columns."""

    path: Path
    """The load file (CSV or Parquet), relative to the scenario file."""
    time_column: str = "timestamp"
    """The column holding the time stamps."""
    timezone: TimeZone = "UTC"
    """The time zone of naive time stamps."""
    unit: Literal["kw", "kwh"] = "kw"
    """Whether the columns hold mean power [kW] or energy per step [kWh]."""
    elec_column: str | None = None
    """The electricity column; None: no electricity load."""
    heat_column: str | None = None
    """The space-heat column (all heat, when hot water is not metered apart); None: none."""
    hot_water_column: str | None = None
    """The hot-water heat column; None: none."""


class Building(Strict):
    """A building: its load (an archetype or a metered file) and its rooftop PV arrays."""

    name: str
    """The building's name (unique; names its loads and PV arrays)."""
    archetype: Archetype | None = None
    """Its load from annual figures per floor area (give this or ``metered``)."""
    metered: Metered | None = None
    """Its load from a metered file (give this or ``archetype``)."""
    pv: list[PVArray] = []
    """Its rooftop PV arrays."""

    @model_validator(mode="after")
    def _one_load(self) -> Building:
        if (self.archetype is None) == (self.metered is None):
            raise ValueError("give exactly one of 'archetype' or 'metered'")
        return self


class SeriesDemand(Strict):
    """District-level demand, in addition to the buildings' loads: electricity, space heat
    (``heat``) and hot water [kW]."""

    name: str = "district_series"
    """The name of this demand in the results."""
    elec: Series | None = None
    """Electricity demand [kW]: a constant, one value per step, or a file column."""
    heat: Series | None = None
    """Space-heat demand [kW]."""
    hot_water: Series | None = None
    """Hot-water heat demand [kW]."""


LOADS = "loads"
_COLUMNS = ["timestamp", "building", "elec_kw", "space_heat_kw", "hot_water_kw"]


@dataclass(frozen=True)
class DemandData:
    """Per building: names and (buildings, steps) arrays [kW]."""

    names: tuple[str, ...]
    elec_kw: FloatArray
    space_heat_kw: FloatArray
    hot_water_kw: FloatArray


def units(scenario: Any) -> list[Building | SeriesDemand]:
    """Every building, then the district-level series if any."""
    out: list[Building | SeriesDemand] = list(scenario.buildings)
    if scenario.demand is not None:
        out.append(scenario.demand)
    return out


def _building(b: Building, ctx: IngestContext) -> tuple[FloatArray, FloatArray, FloatArray]:
    from pecopt.ingest import loads

    if b.archetype is not None:
        a = b.archetype
        prof = loads.archetype_profile(
            ctx.index,
            ctx.weather["temp_air_c"],
            use=a.use,
            floor_area_m2=a.floor_area_m2,
            elec_kwh_m2_yr=a.elec_kwh_m2_yr,
            space_heat_kwh_m2_yr=a.space_heat_kwh_m2_yr,
            hot_water_kwh_m2_yr=a.hot_water_kwh_m2_yr,
            tz=ctx.timezone,
            reference_degree_hours_kh=ctx.reference_degree_hours_kh,
        )
        return (
            prof["elec_kw"].to_numpy(float),
            prof["space_heat_kw"].to_numpy(float),
            prof["hot_water_kw"].to_numpy(float),
        )
    m = b.metered
    assert m is not None

    def read(column: str | None, name: str) -> FloatArray:
        if column is None:
            return np.zeros(ctx.n)
        return loads.metered_profile(
            m.path, ctx.index, column=column, unit=m.unit, tz=m.timezone,
            time_column=m.time_column, name=name,
        ).to_numpy(float)  # fmt: skip

    return (
        read(m.elec_column, "elec_kw"),
        read(m.heat_column, "heat_kw"),
        read(m.hot_water_column, "hot_water_kw"),
    )


def ingest(items: Sequence[Building | SeriesDemand], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``loads`` table: ``timestamp, building, elec_kw, space_heat_kw, hot_water_kw``."""
    frames = []
    for b in items:
        if isinstance(b, Building):
            elec, space, dhw = _building(b, ctx)
        else:

            def col(spec: Series | None, field: str) -> FloatArray:
                return np.zeros(ctx.n) if spec is None else ctx.series(spec, field)

            elec = col(b.elec, "demand.elec")
            space = col(b.heat, "demand.heat")
            dhw = col(b.hot_water, "demand.hot_water")
        frames.append(
            pd.DataFrame(
                {"timestamp": ctx.index, "building": b.name, "elec_kw": elec,
                 "space_heat_kw": space, "hot_water_kw": dhw}
            )
        )  # fmt: skip
    return {
        LOADS: pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_COLUMNS)
    }


def prepare(items: Sequence[Any], tables: Tables, common: Common) -> DemandData:
    t = tables[LOADS]
    names = tuple(str(x) for x in pd.unique(t["building"].to_numpy()))
    shape = (len(names), common.n)

    def wide(col: str) -> FloatArray:
        return t[col].to_numpy(np.float64).reshape(shape)

    return DemandData(names, wide("elec_kw"), wide("space_heat_kw"), wide("hot_water_kw"))


def build(block: pyo.Block, d: DemandData, common: Common) -> Contribution:
    """Constant demand flows, one set per building, and the heat cascade."""
    flows = []
    for k, name in enumerate(d.names):
        flows += [
            Flow(name, ELECTRICITY, "demand", constant=-d.elec_kw[k]),
            Flow(name, SPACE_HEAT, "demand", constant=-d.space_heat_kw[k]),
            Flow(name, HOT_WATER, "demand", constant=-d.hot_water_kw[k]),
        ]
    if d.space_heat_kw.any():  # hot water can serve space heat, not the other way round
        c = add_var(block, "cascade", common.n, 0.0)
        flows += [
            Flow("heat_cascade", HOT_WATER, "conversion", (term(c, -1.0),)),
            Flow("heat_cascade", SPACE_HEAT, "conversion", (term(c, 1.0),)),
        ]
    return Contribution(flows=flows)


TECHNOLOGY = Technology(
    key="demand",
    unit=Building,
    build=build,
    ingest=ingest,
    prepare=prepare,
    units=units,
    in_assets=False,
)

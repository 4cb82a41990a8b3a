"""Building demand: electricity, space heat and hot water that must be met.

No variables: each building's demand enters the bus balances as constants,

    demand flows:  electricity -D_el[t],  heat -(D_sh[t] + D_dhw[t])       [kW]

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
from pecopt.model.linear import FloatArray
from pecopt.model.technology import Common, Contribution, Flow, IngestContext, Tables, Technology
from pecopt.scenario.types import NonNeg, Positive, Series, Strict, TimeZone
from pecopt.units import ELECTRICITY, HEAT


class Archetype(Strict):
    use: Literal["apartment", "office", "school", "retail"]
    floor_area_m2: Positive
    elec_kwh_m2_yr: NonNeg
    space_heat_kwh_m2_yr: NonNeg
    hot_water_kwh_m2_yr: NonNeg = 0.0


class Metered(Strict):
    """A metered load file (CSV or Parquet) with electricity and/or heat columns."""

    path: Path
    time_column: str = "timestamp"
    timezone: TimeZone = "UTC"
    unit: Literal["kw", "kwh"] = "kw"
    elec_column: str | None = None
    heat_column: str | None = None


class Building(Strict):
    """A building: its load (an archetype or a metered file) and its rooftop PV arrays."""

    name: str
    archetype: Archetype | None = None
    metered: Metered | None = None
    pv: list[PVArray] = []

    @model_validator(mode="after")
    def _one_load(self) -> Building:
        if (self.archetype is None) == (self.metered is None):
            raise ValueError("give exactly one of 'archetype' or 'metered'")
        return self


class SeriesDemand(Strict):
    """District-level demand from files, in addition to the buildings' loads."""

    name: str = "district_series"
    elec: Series | None = None
    heat: Series | None = None


LOADS = "loads"
_COLUMNS = ["timestamp", "building", "elec_kw", "space_heat_kw", "hot_water_kw"]


@dataclass(frozen=True)
class DemandData:
    """Per building: names and (buildings, steps) arrays [kW]."""

    names: tuple[str, ...]
    elec_kw: FloatArray
    heat_kw: FloatArray


def units(scenario: Any) -> list[Building | SeriesDemand]:
    """Every building, then the district-level series if any."""
    out: list[Building | SeriesDemand] = list(scenario.buildings)
    if scenario.demand is not None:
        out.append(scenario.demand)
    return out


def _building(b: Building, ctx: IngestContext) -> tuple[FloatArray, FloatArray, FloatArray]:
    from pecopt.ingest import loads

    zero = np.zeros(ctx.n)
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
            return zero
        return loads.metered_profile(
            m.path, ctx.index, column=column, unit=m.unit, tz=m.timezone,
            time_column=m.time_column, name=name,
        ).to_numpy(float)  # fmt: skip

    return read(m.elec_column, "elec_kw"), read(m.heat_column, "heat_kw"), zero


def ingest(items: Sequence[Building | SeriesDemand], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``loads`` table: ``timestamp, building, elec_kw, space_heat_kw, hot_water_kw``."""
    frames = []
    for b in items:
        if isinstance(b, Building):
            elec, space, dhw = _building(b, ctx)
        else:
            zero = np.zeros(ctx.n)
            elec = ctx.series(b.elec, "demand.elec") if b.elec is not None else zero
            space = ctx.series(b.heat, "demand.heat") if b.heat is not None else zero
            dhw = zero
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

    return DemandData(names, wide("elec_kw"), wide("space_heat_kw") + wide("hot_water_kw"))


def build(block: pyo.Block, d: DemandData, common: Common) -> Contribution:
    """No variables: the demand enters the bus balances as constants, one flow per building."""
    flows = []
    for k, name in enumerate(d.names):
        flows += [
            Flow(name, ELECTRICITY, "demand", constant=-d.elec_kw[k]),
            Flow(name, HEAT, "demand", constant=-d.heat_kw[k]),
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

"""Photovoltaics with curtailment: rooftop arrays on buildings (pvlib, from the weather)
and PV given as a series of available AC power (e.g. another tool's forecast).

All arrays feed the same bus at the same price, so curtailing one array or another is
the same decision: pecopt keeps one variable for the district's PV,

    0 <= pv[t] <= A[t] = sum_a A[a, t]          [kW]   (the rest is curtailed)

and reports each array's output pro rata, ``pv[t] A[a, t] / A[t]`` (generation flows,
renewable). This is exact (any per-array dispatch has the same total) and saves
``(arrays - 1) * steps`` variables.

Rooftop arrays: pvlib's PVWatts chain (:func:`pecopt.ingest.pv.pv_ac_kw`): sun position,
Hay-Davies transposition, glass IAM, Faiman cell temperature, PVWatts DC and inverter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field

from pecopt.model.linear import FloatArray, add_var, term
from pecopt.model.technology import Common, Contribution, Flow, IngestContext, Tables, Technology
from pecopt.scenario.types import NonNeg, Series, Strict
from pecopt.units import ELECTRICITY


class PVArray(Strict):
    """A rooftop array on a building. Azimuth clockwise from north (180 = south)."""

    name: str
    kwp: NonNeg
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    azimuth_deg: Annotated[float, Field(ge=0, le=360)] = 180.0
    losses_pct: Annotated[float, Field(ge=0, lt=100)] = 14.0


class PVSeries(Strict):
    """PV whose available AC power [kW] comes from a file (e.g. another tool's forecast)."""

    name: str
    series: Series


AVAILABLE = "pv_available"


@dataclass(frozen=True)
class PVData:
    """``available_kw[a, t]``: AC power array a can give in step t [kW]."""

    names: tuple[str, ...]
    available_kw: FloatArray  # (arrays, steps)


def units(scenario: Any) -> list[PVArray | PVSeries]:
    """Rooftop arrays of every building, then the PV series of ``assets.pv_series``."""
    return [a for b in scenario.buildings for a in b.pv] + list(scenario.assets.pv_series)


def ingest(items: Sequence[PVArray | PVSeries], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``pv_available`` table: ``timestamp, array, pv_ac_kw``."""
    frames = []
    for a in items:
        if isinstance(a, PVArray):
            from pecopt.ingest.pv import pv_ac_kw

            site = ctx.scenario.site
            ac = pv_ac_kw(
                ctx.weather, site.latitude, site.longitude, site.altitude_m,
                a.kwp, a.tilt_deg, a.azimuth_deg, a.losses_pct,
            ).to_numpy(float)  # fmt: skip
        else:
            ac = ctx.series(a.series, f"assets.pv_series.{a.name}.series")
        frames.append(pd.DataFrame({"timestamp": ctx.index, "array": a.name, "pv_ac_kw": ac}))
    return {AVAILABLE: pd.concat(frames, ignore_index=True)}


def prepare(items: Sequence[Any], tables: Tables, common: Common) -> PVData:
    t = tables[AVAILABLE]
    names = tuple(a.name for a in items)
    avail = t["pv_ac_kw"].to_numpy(np.float64).reshape(len(names), common.n)
    return PVData(names, avail)


def build(block: pyo.Block, d: PVData, common: Common) -> Contribution | None:
    avail = d.available_kw
    k, n = avail.shape
    total = avail.sum(axis=0)
    pv = add_var(block, "used", n, 0.0, total)
    share = np.divide(avail, total, out=np.full_like(avail, 1.0 / k), where=total > 0)
    t = np.arange(n)
    return Contribution(
        flows=[
            Flow(name, ELECTRICITY, "generation", (term(pv, share[a], t, t),), renewable=True)
            for a, name in enumerate(d.names)
        ]
    )


TECHNOLOGY = Technology(
    key="pv_series", unit=PVSeries, build=build, ingest=ingest, prepare=prepare, units=units
)

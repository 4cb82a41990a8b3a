"""Photovoltaics with curtailment: rooftop arrays on buildings (pvlib, from the weather)
and PV given as a series of available AC power (e.g. another tool's forecast).

Array a gives ``A[a, t] = K_a y[a, t]`` [kW]: its size K_a [kWp] times its AC output per
kWp y (pvlib's PVWatts chain is linear in the size: DC power, the inverter curve over
the load fraction and the AC cap all scale with kWp). Arrays of a given size feed the
same bus at the same price, so curtailing one or another is the same decision: pecopt
keeps one variable for all of them,

    0 <= pv[t] <= sum_a A[a, t]                    [kW]   (the rest is curtailed)

and reports each array's output pro rata, ``pv[t] A[a, t] / sum_a A[a, t]``, which is
exact and saves ``(arrays - 1) * steps`` variables. Arrays whose sizes the optimiser
chooses (``kwp: {max: ..., capex_eur_per_unit: ...}``, bounded by the roof: at most
``roof_area_m2 * max_kwp_per_m2``; K_a = existing_a + N_a) likewise share one variable,

    0 <= pv_sized[t] <= sum_a y[a, t] (existing_a + N_a)           [kW]

one row per step whatever the number of arrays (a variable and a row per array and step
made Kera's year-long sizing LP half again as large, and every array sized at zero left
all its rows degenerate). Their output is one flow, ``pv_sized`` (the array's own name
when only one is sized): its split among the arrays is no decision, and pro rata it would
be a product of two variables; each array's size is in the capacities.

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
from pydantic import Field, model_validator

from pecopt.model.capacity import Amount, Uses, capacity, limit_rows, make_limit
from pecopt.model.linear import FloatArray, add_var, term
from pecopt.model.technology import Common, Contribution, Flow, IngestContext, Tables, Technology
from pecopt.scenario.types import Capacity, NonNeg, Positive, Series, Size, Strict
from pecopt.units import ELECTRICITY


class PVArray(Strict):
    """A rooftop array on a building. Azimuth clockwise from north (180 = south, the
    pvlib convention; PVGIS counts from south). ``kwp`` is a size or a :class:`Size` the
    optimiser chooses, at most ``roof_area_m2 * max_kwp_per_m2`` when the roof is given
    (0.15 kWp per m2 of roof [assumption]: 0.2 kWp/m2 of modules, 75 % of the roof usable)."""

    name: str
    """The array's name (unique within its building)."""
    kwp: Capacity
    """Peak power [kWp]: a number, or a Size the optimiser chooses."""
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    """Tilt from horizontal [degrees]."""
    azimuth_deg: Annotated[float, Field(ge=0, le=360)] = 180.0
    """Azimuth clockwise from north [degrees] (180 = south, pvlib's convention)."""
    losses_pct: Annotated[float, Field(ge=0, lt=100)] = 14.0
    """System losses (wiring, soiling, inverter, mismatch) [%]."""
    roof_area_m2: NonNeg | None = None
    """Usable roof area [m2]; caps ``kwp`` at ``roof_area_m2 * max_kwp_per_m2``; None: no cap."""
    max_kwp_per_m2: Positive = 0.15
    """Peak power per m2 of roof [kWp/m2] (0.15 [assumption]: 0.2 kWp/m2 of modules on 75 % of the
    roof)."""

    @model_validator(mode="after")
    def _fits(self) -> PVArray:
        if self.roof_area_m2 is not None and not isinstance(self.kwp, Size):
            room = self.roof_area_m2 * self.max_kwp_per_m2
            if self.kwp > room + 1e-9:
                raise ValueError(
                    f"kwp ({self.kwp:g}) does not fit on the roof: at most {room:g} kWp on "
                    f"{self.roof_area_m2:g} m2 at {self.max_kwp_per_m2:g} kWp/m2"
                )
        return self

    def size(self) -> Capacity:
        """The size, with the roof's limit folded into a :class:`Size`'s maximum."""
        if isinstance(self.kwp, Size) and self.roof_area_m2 is not None:
            room = self.roof_area_m2 * self.max_kwp_per_m2
            return self.kwp.model_copy(
                update={"max": max(min(self.kwp.max, room), self.kwp.existing)}
            )
        return self.kwp


class PVSeries(Strict):
    """PV whose available AC power comes as a series (e.g. another tool's forecast): in kW
    (``kwp`` left at 1), or in kW per kWp of an installation of ``kwp`` (a number, or a
    :class:`~pecopt.scenario.types.Size` the optimiser chooses)."""

    name: str
    """The installation's name."""
    series: Series
    """Available AC power [kW] (``kwp`` 1), or [kW per kWp] of an installation of ``kwp``: a
    constant, a list or a file column."""
    kwp: Capacity = 1.0
    """Size the series is scaled by [kWp]: a number, or a Size the optimiser chooses."""


AVAILABLE = "pv_available"
#: the asset name of the output of several arrays whose sizes the optimiser chooses
SIZED = "pv_sized"


@dataclass(frozen=True)
class PVData:
    """``per_kwp[a, t]``: AC power per kWp of array a [kW/kWp] (a series: its kW, size 1)."""

    names: tuple[str, ...]
    per_kwp: FloatArray  # (arrays, steps)
    sizes: tuple[Capacity, ...]
    rooftop: tuple[bool, ...]

    @property
    def available_kw(self) -> FloatArray:
        """AC power the arrays of a given size can give [kW] (sized arrays: at their max)."""
        k = np.array([s.max if isinstance(s, Size) else float(s) for s in self.sizes])
        out: FloatArray = self.per_kwp * k[:, None]
        return out


def units(scenario: Any) -> list[PVArray | PVSeries]:
    """Rooftop arrays of every building, then the PV series of ``assets.pv_series``."""
    return [a for b in scenario.buildings for a in b.pv] + list(scenario.assets.pv_series)


def ingest(items: Sequence[PVArray | PVSeries], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``pv_available`` table: ``timestamp, array, pv_ac_kw_per_kwp`` (a series: its
    kW, counted as one unit)."""
    frames = []
    for a in items:
        if isinstance(a, PVArray):
            from pecopt.ingest.pv import pv_ac_kw

            site = ctx.scenario.site
            y = pv_ac_kw(
                ctx.weather, site.latitude, site.longitude, site.altitude_m,
                1.0, a.tilt_deg, a.azimuth_deg, a.losses_pct,
            ).to_numpy(float)  # fmt: skip
        else:
            y = ctx.series(a.series, f"assets.pv_series.{a.name}.series")
        frames.append(
            pd.DataFrame({"timestamp": ctx.index, "array": a.name, "pv_ac_kw_per_kwp": y})
        )
    return {AVAILABLE: pd.concat(frames, ignore_index=True)}


def prepare(items: Sequence[Any], tables: Tables, common: Common) -> PVData:
    t = tables[AVAILABLE]
    names = tuple(a.name for a in items)
    per_kwp = t["pv_ac_kw_per_kwp"].to_numpy(np.float64).reshape(len(names), common.n)
    sizes = tuple(a.size() if isinstance(a, PVArray) else a.kwp for a in items)
    return PVData(names, per_kwp, sizes, tuple(isinstance(a, PVArray) for a in items))


def build(block: pyo.Block, d: PVData, common: Common) -> Contribution | None:
    n = common.n
    t = np.arange(n)
    c = Contribution()
    fixed = [k for k, s in enumerate(d.sizes) if not isinstance(s, Size)]
    if fixed:
        avail = d.available_kw[fixed]
        total = avail.sum(axis=0)
        pv = add_var(block, "used", n, 0.0, total)
        share = np.divide(avail, total, out=np.full_like(avail, 1.0 / len(fixed)), where=total > 0)
        for j, k in enumerate(fixed):
            c.flows.append(
                Flow(d.names[k], ELECTRICITY, "generation", (term(pv, share[j], t, t),))
            )  # fmt: skip
        for k in fixed:  # one more kWp of array k raises the bound of pv[t] by its yield
            if d.rooftop[k]:
                uses = Uses(bounds=[make_limit(pv, t, d.per_kwp[k])])
                c.capacities[d.names[k]] = {"kwp": Amount((), float(d.sizes[k]), uses=uses)}  # type: ignore[arg-type]
    sized = [k for k, s in enumerate(d.sizes) if isinstance(s, Size)]
    if sized:
        c.add(_sized(block, d, sized, common))
    return c


def _sized(block: pyo.Block, d: PVData, sized: list[int], common: Common) -> Contribution:
    """The arrays whose sizes the optimiser chooses: one variable for their output,
    ``0 <= pv_sized[t] <= sum_k y[k, t] (existing_k + N_k)`` (one row per step however
    many arrays: a variable and a row per array and step made the LP several times
    larger, and an array sized at zero left all its rows degenerate). One flow carries
    their output (asset ``pv_sized``, or the array's name when one array is sized)."""
    n = common.n
    c = Contribution()
    caps = []
    for k in sized:
        b = pyo.Block()
        block.add_component(d.names[k], b)
        cap = capacity(b, "kwp", d.sizes[k])
        caps.append((cap, d.per_kwp[k]))
        c.capacities[d.names[k]] = {"kwp": cap.amount()}
        c.cost.setdefault("investment", []).extend(cap.cost(common))
    upper = sum(d.per_kwp[k] * cap.upper for k, (cap, _) in zip(sized, caps, strict=True))
    used = add_var(block, "used_sized", n, 0.0, upper)
    for cap, per_kwp in caps:
        cap.bound(used, per_kwp)
    limit_rows(block, "available_sized", [term(used, 1.0)], n, caps)
    asset = d.names[sized[0]] if len(sized) == 1 else SIZED
    c.flows.append(Flow(asset, ELECTRICITY, "generation", (term(used, 1.0),)))
    return c


TECHNOLOGY = Technology(
    key="pv_series", unit=PVSeries, build=build, ingest=ingest, prepare=prepare, units=units
)

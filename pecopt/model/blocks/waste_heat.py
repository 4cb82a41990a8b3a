"""Waste heat (a data centre, a supermarket's refrigeration, sewage water): heat available
at a source temperature, bought at a price, used directly when it is warm enough for the
heat bus, otherwise lifted by its own heat pump.

Per source s and step t (kW):

    direct use        0 <= d[t] <= A[t] * [T_src[t] >= T_sink[t] + dT_min]
    lifted            0 <= p[t] <= P_el          (the booster heat pump's electricity)
    source heat used  d[t] + (COP[t] - 1) p[t] <= A[t]
    COP[t] = min(cop_max, eta_C (T_sink[t] + 273.15) / (T_sink[t] - T_src[t]))    (Carnot fraction)

    flows:  sink    d[t] + (COP[t] - 1) p[t]   (role generation inside the district
                                               boundary, import from outside it)
            sink    p[t]                        (the booster: conversion)
            electricity  -p[t]                  (the booster: conversion)
    cost = dt sum_t price[t] (d[t] + (COP[t] - 1) p[t])      [EUR, per kWh of source heat]

T_sink[t] is the temperature of the heat it feeds (``sink``: space heat on its
weather-compensated curve, or hot water; ``sink_temp_c`` fixes it). A[t] is the heat the
source can give [kW], T_src[t] its temperature; both may be
constants, inline series or file columns. Typical sources (FACTS-HEAT-TARIFFS-COSTS
section 8): air-cooled data centres give heat at <= 30 degC, warm-water cooling 45-60 degC,
direct liquid cooling 60-75 degC; supermarket condensers about 25-35 degC (a K-Citymarket
saves about 1,000 MWh/yr of bought heat). Espoo's district heat is to take about 40 %
from Microsoft data-centre waste heat. Recovered heat carries no emissions by default
and, bought from outside the boundary, a PED weight of 0 (an assumption: it displaces
no primary energy of the district's own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from pecopt.model.capacity import capacity
from pecopt.model.linear import FloatArray, add_rows, add_var, term
from pecopt.model.technology import (
    Common,
    Contribution,
    Flow,
    IngestContext,
    Role,
    Tables,
    Technology,
)
from pecopt.scenario.types import Capacity, Efficiency, NonNeg, Positive, Series, Strict
from pecopt.units import ELECTRICITY


class WasteHeat(Strict):
    """A waste-heat source and its booster heat pump (``booster_kw_el: 0`` for none)."""

    name: str
    """The source's name."""
    available_kw: Series
    """Heat the source can give [kW]: a constant, one value per step or a file column."""
    temperature_c: Series
    """The source's temperature [degC]: a constant, a list or a file column."""
    price_eur_per_kwh: Series = 0.0
    """Price of the source heat used [EUR/kWh]: a constant, a list or a file column."""
    sink: Literal["space_heat", "hot_water"] = "space_heat"
    """The heat temperature it feeds."""
    sink_temp_c: float | None = None
    """A fixed sink temperature [degC]; None: that of ``sink`` (its weather-compensated curve, or
    hot water)."""
    min_approach_k: NonNeg = 3.0
    """How much warmer than the sink the source must be for direct use [K]."""
    booster_kw_el: Capacity = 0.0
    """Electric input of the booster heat pump [kW] (0: none): a number, or a Size the optimiser
    chooses."""
    carnot_efficiency: Efficiency = 0.5
    """The booster's share of the Carnot COP [1]."""
    cop_max: Positive = 8.0
    """Upper bound on the booster's COP [1]."""
    location: Literal["inside", "outside"] = "inside"
    """Inside the district's boundary (local generation) or outside (an import, functional under
    ``ped.boundary: functional``)."""
    co2_kg_per_kwh: NonNeg = 0.0
    """Emission factor of the source heat [kg CO2e/kWh]."""
    ped_weight: NonNeg = 0.0
    """Weighting factor of the source heat in the weighted-energy PED balance [1] (0 [assumption]).
    """


TABLE = "waste_heat"


def ingest(units: Sequence[WasteHeat], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``waste_heat`` table: ``timestamp, source, available_kw, temperature_c,
    price_eur_per_kwh, sink_temp_c``."""
    frames = []
    for w in units:
        f = f"assets.waste_heat.{w.name}"
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": ctx.index,
                    "source": w.name,
                    "available_kw": ctx.series(w.available_kw, f"{f}.available_kw"),
                    "temperature_c": ctx.series(
                        w.temperature_c, f"{f}.temperature_c", negative=True
                    ),
                    "price_eur_per_kwh": ctx.series(
                        w.price_eur_per_kwh, f"{f}.price_eur_per_kwh", negative=True
                    ),
                    "sink_temp_c": ctx.sink_temperature_c(w.sink)
                    if w.sink_temp_c is None
                    else np.full(ctx.n, w.sink_temp_c),
                }
            )
        )
    return {TABLE: pd.concat(frames, ignore_index=True)}


@dataclass(frozen=True)
class SourceData:
    spec: WasteHeat
    available_kw: FloatArray
    direct_kw: FloatArray  # upper bound of direct use [kW]
    cop: FloatArray  # booster COP lifting from the source to the sink [1]
    price: FloatArray  # [EUR/kWh]


def prepare(units: Sequence[WasteHeat], tables: Tables, common: Common) -> tuple[SourceData, ...]:
    from pecopt.ingest.cop import cop_carnot

    t = tables[TABLE]
    out = []
    for w in units:
        rows = t[t["source"] == w.name]
        avail = rows["available_kw"].to_numpy(np.float64)
        temp = rows["temperature_c"].to_numpy(np.float64)
        sink_t = rows["sink_temp_c"].to_numpy(np.float64)
        warm = temp >= sink_t + w.min_approach_k
        cop = cop_carnot(temp, sink_t, w.carnot_efficiency, w.cop_max)
        price = rows["price_eur_per_kwh"].to_numpy(np.float64)
        out.append(SourceData(w, avail, np.where(warm, avail, 0.0), cop, price))
    return tuple(out)


def build(block: pyo.Block, sources: tuple[SourceData, ...], common: Common) -> Contribution:
    n = common.n
    out = Contribution()
    for s in sources:
        w = s.spec
        b = pyo.Block()
        block.add_component(w.name, b)
        d = add_var(b, "direct", n, 0.0, s.direct_kw)
        role: Role = "generation" if w.location == "inside" else "import"
        source_terms = [term(d, 1.0)]
        cap = capacity(b, "booster_kw_el", w.booster_kw_el)
        if cap.upper > 0:
            p = add_var(b, "booster", n, 0.0, cap.upper)
            cap.bound(p)
            if cap.sized:
                cap.limit(b, "booster_max", [term(p, 1.0)], n)
                out.cost.setdefault("investment", []).extend(cap.cost(common))
            lift = np.maximum(s.cop - 1.0, 0.0)
            source_terms.append(term(p, lift))
            add_rows(b, "available", n, source_terms, upper=s.available_kw)
            out.flows += [
                Flow(f"{w.name}_booster", w.sink, "conversion", (term(p, 1.0),)),
                Flow(f"{w.name}_booster", ELECTRICITY, "conversion", (term(p, -1.0),)),
            ]
            out.capacities[f"{w.name}_booster"] = {"power_kw_el": cap.amount()}
        out.flows.append(
            Flow(
                w.name, w.sink, role, tuple(source_terms),
                co2_kg_per_kwh=w.co2_kg_per_kwh or None,
                ped_weight=w.ped_weight if role == "import" else None,
                functional=role == "import",
            )
        )  # fmt: skip
        out.cost.setdefault("waste_heat", []).extend(
            term(t.var, t.coef * common.dtw * s.price, t.index) for t in source_terms
        )
    return out


def import_price(sources: tuple[SourceData, ...]) -> FloatArray:
    """The cheapest source heat price [EUR/kWh] per step (a negative one means someone
    pays the district to take heat)."""
    out: FloatArray = np.min([s.price for s in sources], axis=0)
    return out


TECHNOLOGY = Technology(
    key="waste_heat",
    unit=WasteHeat,
    build=build,
    ingest=ingest,
    prepare=prepare,
    import_price=import_price,
)

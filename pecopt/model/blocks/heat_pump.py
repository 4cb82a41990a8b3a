"""Heat pumps (air or ground source, or a COP series).

Per unit: electric input ``p[t] in [0, P]`` [kW]; heat ``COP[t] p[t]``.

    conversion flows:  electricity -p[t],  heat COP[t] p[t]

Minimum part load ``m`` (a real on/off decision, so binaries are always needed when
``m > 0`` unless ``binaries: never`` asks for the LP relaxation): ``u[t] in {0, 1}``,

    m P u[t] <= p[t] <= P u[t]

COP as a fraction of the Carnot limit (:func:`pecopt.ingest.cop.cop_carnot`) from the
outdoor air (air source) or a constant ground temperature, or read from a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import model_validator

from pecopt.errors import DataError, ScenarioError
from pecopt.model.linear import FloatArray, add_rows, add_var, term
from pecopt.model.technology import (
    Common,
    Contribution,
    Flow,
    IngestContext,
    Tables,
    Technology,
    need_binaries,
)
from pecopt.scenario.types import (
    Binaries,
    Efficiency,
    Fraction,
    NonNeg,
    Positive,
    Series,
    SeriesFile,
    Strict,
)
from pecopt.units import ELECTRICITY, HEAT


class HeatPump(Strict):
    """COP = min(cop_max, carnot_efficiency * T_sink / (T_sink - T_source)), T in kelvin."""

    name: str
    source: Literal["air", "ground", "series"] = "air"
    capacity_kw_el: NonNeg
    min_part_load: Fraction = 0.0
    carnot_efficiency: Efficiency = 0.45
    sink_temp_c: float = 45.0
    ground_temp_c: float = 5.0
    cop_max: Positive = 6.0
    cop_series: Series | None = None
    binaries: Binaries | None = None

    @model_validator(mode="after")
    def _series(self) -> HeatPump:
        if self.source == "series" and self.cop_series is None:
            raise ValueError("source 'series' needs 'cop_series'")
        return self


COP = "heat_pumps_cop"


@dataclass(frozen=True)
class HeatPumpData:
    spec: HeatPump
    cop: FloatArray  # (steps,) [1]


def ingest(units: Sequence[HeatPump], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``heat_pumps_cop`` table: ``timestamp, heat_pump, cop``."""
    from pecopt.ingest.cop import cop_carnot

    frames = []
    for hp in units:
        field = f"assets.heat_pumps.{hp.name}"
        if hp.source == "series":
            cop = ctx.series(hp.cop_series, f"{field}.cop_series")
        else:
            src = (
                ctx.weather["temp_air_c"].to_numpy(float)
                if hp.source == "air"
                else np.full(ctx.n, hp.ground_temp_c)
            )
            cop = cop_carnot(src, hp.sink_temp_c, hp.carnot_efficiency, hp.cop_max)
        if (cop <= 0).any():
            k = int(np.flatnonzero(cop <= 0)[0])
            problem = f"COP must be > 0 (heat pump {hp.name}): {cop[k]:g} at {ctx.index[k]} (UTC)"
            if isinstance(hp.cop_series, SeriesFile):
                raise DataError(hp.cop_series.path, hp.cop_series.column, problem)
            raise ScenarioError(ctx.file, field, problem)
        frames.append(pd.DataFrame({"timestamp": ctx.index, "heat_pump": hp.name, "cop": cop}))
    return {COP: pd.concat(frames, ignore_index=True)}


def prepare(units: Sequence[HeatPump], tables: Tables, common: Common) -> tuple[HeatPumpData, ...]:
    t = tables[COP]
    return tuple(
        HeatPumpData(hp, t.loc[t["heat_pump"] == hp.name, "cop"].to_numpy(np.float64))
        for hp in units
    )


def build(block: pyo.Block, units: tuple[HeatPumpData, ...], common: Common) -> Contribution | None:
    out = Contribution()
    n = common.n
    for hp in units:
        spec = hp.spec
        b = pyo.Block()
        block.add_component(spec.name, b)
        p = add_var(b, "p", n, 0.0, spec.capacity_kw_el)
        if spec.min_part_load > 0 and spec.capacity_kw_el > 0:
            us = need_binaries(common, np.ones(n, bool), spec.binaries)
            if us.size:
                u = add_var(b, "u", us.size, binary=True, commitment=True)
                cap = spec.capacity_kw_el
                add_rows(b, "max_on", us.size, [term(p, 1.0, us), term(u, -cap)], upper=0.0)
                add_rows(
                    b,
                    "min_on",
                    us.size,
                    [term(p, 1.0, us), term(u, -spec.min_part_load * cap)],
                    lower=0.0,
                )
        out.flows += [
            Flow(spec.name, ELECTRICITY, "conversion", (term(p, -1.0),)),
            Flow(spec.name, HEAT, "conversion", (term(p, hp.cop),)),
        ]
        out.capacities[spec.name] = {"power_kw_el": spec.capacity_kw_el}
    return out


TECHNOLOGY = Technology(
    key="heat_pumps", unit=HeatPump, build=build, ingest=ingest, prepare=prepare
)

"""Heat pumps (air or ground source, or a COP series).

Per unit: electric input ``p[t] in [0, P]`` [kW]; heat ``COP[t] p[t]``.

    conversion flows:  electricity -p[t],  heat COP[t] p[t]

Minimum part load ``m`` (a real on/off decision, so binaries are always needed when
``m > 0`` unless ``binaries: never`` asks for the LP relaxation): ``u[t] in {0, 1}``,

    m P u[t] <= p[t] <= P u[t]

Minimum on and off times (``min_on_h``, ``min_off_h``; U and D steps) keep ``u`` on for
U steps after a start and off for D steps after a stop, from the state before the
horizon (``initial_on`` for ``initial_hours_in_state`` hours): :func:`min_on_off_rows`.

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
    #: minimum time on after a start and off after a stop [h] (0: none)
    min_on_h: NonNeg = 0.0
    min_off_h: NonNeg = 0.0
    #: on/off before the horizon and for how long [h] (e.g. carried by nightly dispatch)
    initial_on: bool | None = None
    initial_hours_in_state: NonNeg = 1e6

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
        timed = spec.min_on_h > 0 or spec.min_off_h > 0
        if (spec.min_part_load > 0 or timed) and spec.capacity_kw_el > 0:
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
                if timed:
                    min_on_off_rows(b, u, spec, common)
        out.flows += [
            Flow(spec.name, ELECTRICITY, "conversion", (term(p, -1.0),)),
            Flow(spec.name, HEAT, "conversion", (term(p, hp.cop),)),
        ]
        out.capacities[spec.name] = {"power_kw_el": spec.capacity_kw_el}
    return out


def min_on_off_rows(b: pyo.Block, u: pyo.Var, spec: HeatPump, common: Common) -> None:
    """Minimum on and off times of a heat pump's on/off variable ``u[t]`` (every step).

    With U = ceil(min_on_h / dt), D = ceil(min_off_h / dt) steps and ``u[-1]`` the state
    before the horizon (``initial_on``; without it the first step is unconstrained):

        u[s] >= u[t] - u[t-1]          s = t+1 .. t+U-1   (a start keeps it on)
        u[s] <= 1 - u[t-1] + u[t]      s = t+1 .. t+D-1   (a stop keeps it off)
        u[s] = initial_on              s < U - h/dt (on) or D - h/dt (off)

    where h = ``initial_hours_in_state``: a unit switched on (off) h hours before the
    horizon stays on (off) until its minimum time is over. The usual pairwise
    formulation (Rajan & Takriti 2005 give the tighter turn-on form).
    """
    n, dt = common.n, common.dt_h
    init = spec.initial_on
    for kind, hours in (("on", spec.min_on_h), ("off", spec.min_off_h)):
        k = int(np.ceil(hours / dt - 1e-9))
        if k <= 1:
            continue
        t = np.repeat(np.arange(n), k - 1)
        s = t + np.tile(np.arange(1, k), n)
        keep = s < n
        t, s = t[keep], s[keep]
        has_prev = t > 0
        rows = np.arange(t.size)
        sign = 1.0 if kind == "on" else -1.0
        # on:  u[s] - u[t] + u[t-1] >= 0;  off: -u[s] + u[t] - u[t-1] >= -1 (same shape)
        terms = [
            term(u, sign, s, rows),
            term(u, -sign, t, rows),
            term(u, sign, t[has_prev] - 1, rows[has_prev]),
        ]
        lower = np.full(t.size, 0.0 if kind == "on" else -1.0)
        if init is None:
            sel = has_prev
            terms = [term(u, sign, s[sel], np.arange(sel.sum())),
                     term(u, -sign, t[sel], np.arange(sel.sum())),
                     term(u, sign, t[sel] - 1, np.arange(sel.sum()))]  # fmt: skip
            lower = lower[sel]
        else:
            lower[~has_prev] -= sign * float(init)  # u[-1] is a constant
        if lower.size:
            add_rows(b, f"min_{kind}_time", lower.size, terms, lower=lower)
    if init is not None:
        need = spec.min_on_h if init else spec.min_off_h
        r = min(n, int(np.ceil((need - spec.initial_hours_in_state) / dt - 1e-9)))
        if r > 0:
            v = 1.0 if init else 0.0
            add_rows(b, "initial_state", r, [term(u, 1.0, np.arange(r))], equal=np.full(r, v))


TECHNOLOGY = Technology(
    key="heat_pumps", unit=HeatPump, build=build, ingest=ingest, prepare=prepare
)

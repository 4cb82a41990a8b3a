"""Heat pumps (air or ground source, or a COP series), each serving one or both heat
temperatures.

Per unit and sink s (``space_heat`` at the weather-compensated supply temperature,
``hot_water`` at 55-60 degC): electric input ``p_s[t] >= 0`` [kW], heat ``COP_s[t] p_s[t]``,

    COP_s[t] = min(cop_max, eta_C (T_s[t] + 273.15) / (T_s[t] - T_src[t]))   (Carnot fraction)
    conversion flows:  electricity -sum_s p_s[t],  sink s  +COP_s[t] p_s[t]

Capacity, either or both of

    sum_s p_s[t] <= P_el                                 (electric input, ``capacity_kw_el``)
    sum_s COP_s[t] p_s[t] <= Q f(T_src[t])               (heat output, ``capacity_kw_heat``)

with f the capacity factor over the source temperature (air source: derated in the cold,
zero below ``min_source_temp_c``; :func:`pecopt.ingest.cop.capacity_factor`). Defaults for
air: REopt's curve 0.38 / 0.64 / 1.0 / 1.4 at -20.6 / -8.3 / 8.3 / 26.7 degC, cut off below
-20 degC [assumption: field units run to -20 to -25 degC, Fortum's Vermo plant to -15 degC;
FACTS-HEAT-TARIFFS-COSTS section 3].

Ground source with a borehole field (``borehole``: total length L [m]): the heat taken
from the ground, ``sum_s (COP_s - 1) p_s``, is limited in power and in energy per year,

    sum_s (COP_s[t] - 1) p_s[t] <= w L / 1000                           [kW]
    dt sum_t sum_s (COP_s[t] - 1) p_s[t] <= e L years                    [kWh]

w = 40 W/m [assumption: typical design extraction for granite, TRT conductivity 3 W/mK],
e = 100 kWh/m/yr (gebwell.fi, FACTS-HEAT section 3), so a field cannot be drawn on
without bound; the brine enters the heat pump at ``ground_temp_c`` (default 2 degC
[assumption]: ground 5-7 degC, brine a few kelvin below).

Minimum part load ``m`` (an on/off decision, binaries unless ``binaries: never``):
``u[t] in {0, 1}``, ``m C u[t] <= load[t] <= C u[t]`` on the electric input (or on the heat
output when only ``capacity_kw_heat`` is given).

Minimum on and off times (``min_on_h``, ``min_off_h``; U and D steps) keep ``u`` on for
U steps after a start and off for D steps after a stop, from the state before the
horizon (``initial_on`` for ``initial_hours_in_state`` hours): :func:`min_on_off_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import model_validator

from pecopt.errors import DataError, ScenarioError
from pecopt.model.capacity import Amount, Cap, Uses, capacity, make_limit, need_binaries
from pecopt.model.carry import Start, StateReader, given, with_start
from pecopt.model.linear import FloatArray, Term, add_rows, add_var, term
from pecopt.model.technology import (
    Common,
    Contribution,
    Flow,
    IngestContext,
    Tables,
    Technology,
    ValueOf,
)
from pecopt.scenario.types import (
    Binaries,
    Capacity,
    Efficiency,
    Fraction,
    NonNeg,
    Positive,
    Series,
    SeriesFile,
    Strict,
)
from pecopt.units import ELECTRICITY, HEAT_CARRIERS, HOT_WATER, SPACE_HEAT

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.settings import Dispatch

Sink = Literal["space_heat", "hot_water"]

#: REopt's air-source capacity factor (source temperature [degC], factor) [FACTS-HEAT 3]
AIR_CAPACITY_CURVE: tuple[tuple[float, float], ...] = (
    (-20.6, 0.38),
    (-8.3, 0.64),
    (8.3, 1.0),
    (26.7, 1.4),
)


#: the cost item of the value of a borehole's annual cap spent (not money)
GROUND_VALUE = "ground_energy_value"


class Borehole(Strict):
    """A borehole field: total length and its extraction limits per metre.

    ``energy_share``: how a horizon shorter than a year shares the annual energy cap:
    ``time`` (its hours over 8,760) or ``degree_hours`` (its heating degree-hours, base
    17 degC, over the climate's annual ones: a winter night gets the larger share that
    heating takes from the ground in winter; nightly dispatch uses this)."""

    length_m: Positive
    """Total borehole length of the field [m]."""
    max_w_per_m: Positive = 40.0
    """Largest extraction power per metre [W/m] (40 [assumption]: granite, 3 W/mK)."""
    max_kwh_per_m_yr: Positive = 100.0
    """Largest extraction energy per metre and year [kWh/m/yr] (gebwell.fi)."""
    energy_share: Literal["time", "degree_hours"] = "time"
    """How a horizon shorter than a year shares the annual cap: by ``time`` or by heating
    ``degree_hours``."""
    extracted_so_far_kwh: NonNeg | None = None
    """Year to date (carried by nightly dispatch): the energy taken from the ground since 1 January
    [kWh]; when given, the cap holds at every step of the horizon on the year so far (see the
    module)."""
    share_so_far: NonNeg = 0.0
    """Year to date (carried by nightly dispatch): the share of the year's energy cap earned by the
    horizon's start [1]."""
    ground_value_eur_per_kwh: NonNeg = 0.0
    """On the year so far (nightly plans): the value of a kWh of the annual cap left for later
    [EUR/kWh of ground heat], charged on each kWh taken now (the cost item
    ``ground_energy_value``, an accounting value, not money): without it a plan spends the cap on
    a mild day as soon as it is earned, since a horizon of days does not see the cold spell it
    would be worth more in. The dual of the annual cap in a full-year optimum is the figure to
    give (``kpis.json`` ``marginal_values``: EUR/m/yr over ``max_kwh_per_m_yr``)."""


class HeatPump(Strict):
    """A heat pump. ``source``: outdoor air, ground (brine at ``ground_temp_c``) or a COP
    series (one sink). ``sinks``: the heat temperatures it serves (default: both, or space
    heat for a COP series)."""

    name: str
    """The heat pump's name."""
    source: Literal["air", "ground", "series"] = "air"
    """Heat source: outdoor air, ground (brine at ``ground_temp_c``) or a COP series."""
    sinks: list[Sink] | None = None
    """The heat temperatures it serves; None: both (space heat only for a COP series)."""
    capacity_kw_el: Capacity | None = None
    """Electric input capacity [kW]: a number, or a Size the optimiser chooses."""
    capacity_kw_heat: Capacity | None = None
    """Heat output capacity at a capacity factor of 1 [kW]: a number, or a Size."""
    capacity_curve: list[tuple[float, float]] | None = None
    """Capacity factor over source temperature, as (degC, factor) points; None: REopt's air curve
    for air, flat for ground."""
    min_source_temp_c: float | None = None
    """Off below this source temperature [degC]; None: -20 degC for air [assumption], none
    otherwise."""
    min_part_load: Fraction = 0.0
    """Minimum part load when on [1] (an on/off decision; 0: none)."""
    carnot_efficiency: Efficiency = 0.45
    """Share of the Carnot COP reached [1]."""
    ground_temp_c: float = 2.0
    """Brine temperature entering the heat pump, ground source [degC] (2 [assumption])."""
    max_sink_temp_c: float = 65.0
    """Highest supply temperature it reaches [degC]: above it the COP for that sink is 0."""
    cop_max: Positive = 6.0
    """Upper bound on the COP [1]."""
    cop_series: Series | None = None
    """COP per step [1] (``source: series``): a list or a file column."""
    borehole: Borehole | None = None
    """The borehole field limiting ground extraction (``source: ground``); None: no limit."""
    binaries: Binaries | None = None
    """Overrides ``solver.binaries`` for its on/off decisions; None: the solver's setting."""
    min_on_h: NonNeg = 0.0
    """Minimum time on after a start [h] (0: none)."""
    min_off_h: NonNeg = 0.0
    """Minimum time off after a stop [h] (0: none)."""
    initial_on: bool | None = None
    """On (true) or off before the horizon (e.g. carried by nightly dispatch); None: not given."""
    initial_hours_in_state: NonNeg = 1e6
    """For how long it had been in that state before the horizon [h]."""

    @model_validator(mode="after")
    def _consistent(self) -> HeatPump:
        if self.source == "series" and self.cop_series is None:
            raise ValueError("source 'series' needs 'cop_series'")
        if self.source == "series" and self.sinks is not None and len(self.sinks) != 1:
            raise ValueError("a COP series serves one sink: give one entry in 'sinks'")
        if self.capacity_kw_el is None and self.capacity_kw_heat is None:
            raise ValueError("give capacity_kw_el (electric input) and/or capacity_kw_heat")
        if self.borehole is not None and self.source != "ground":
            raise ValueError("a borehole field goes with source: ground")
        if self.sinks is not None and len(set(self.sinks)) != len(self.sinks):
            raise ValueError("a sink is listed twice")
        return self

    def sink_list(self) -> list[str]:
        if self.sinks is not None:
            return list(self.sinks)
        return [SPACE_HEAT] if self.source == "series" else [SPACE_HEAT, HOT_WATER]

    def curve(self) -> tuple[tuple[float, float], ...]:
        if self.capacity_curve is not None:
            return tuple(self.capacity_curve)
        return AIR_CAPACITY_CURVE if self.source == "air" else ((0.0, 1.0),)

    def cutoff(self) -> float | None:
        if self.min_source_temp_c is not None:
            return self.min_source_temp_c
        return -20.0 if self.source == "air" else None


COP = "heat_pumps_cop"


def ingest(units: Sequence[HeatPump], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``heat_pumps_cop`` table: ``timestamp, heat_pump, sink, source_temp_c,
    sink_temp_c, cop, capacity_factor`` (one row per step and sink)."""
    from pecopt.ingest.cop import capacity_factor, cop_carnot

    frames = []
    for hp in units:
        field = f"assets.heat_pumps.{hp.name}"
        if hp.source == "air":
            src = ctx.weather["temp_air_c"].to_numpy(float)
        else:
            src = np.full(ctx.n, hp.ground_temp_c)
        factor = capacity_factor(src, hp.curve(), hp.cutoff())
        for sink in hp.sink_list():
            if hp.source == "series":
                cop = ctx.series(hp.cop_series, f"{field}.cop_series")
                sink_t = np.full(ctx.n, np.nan)
            else:
                sink_t = ctx.sink_temperature_c(sink)
                cop = cop_carnot(src, sink_t, hp.carnot_efficiency, hp.cop_max)
                cop = np.where(sink_t > hp.max_sink_temp_c, 0.0, cop)  # beyond its reach
            bad = (cop <= 0) if hp.source == "series" else (cop < 0)
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                problem = (
                    f"COP must be > 0 (heat pump {hp.name}): {cop[k]:g} at {ctx.index[k]} (UTC)"
                )
                if isinstance(hp.cop_series, SeriesFile):
                    raise DataError(hp.cop_series.path, hp.cop_series.column, problem)
                raise ScenarioError(ctx.file, field, problem)
            frames.append(
                pd.DataFrame(
                    {
                        "timestamp": ctx.index,
                        "heat_pump": hp.name,
                        "sink": sink,
                        "source_temp_c": src,
                        "sink_temp_c": sink_t,
                        "cop": cop,
                        "capacity_factor": factor,
                        "ground_share": _ground_share(hp, ctx),
                    }
                )
            )
    return {COP: pd.concat(frames, ignore_index=True)}


def _ground_share(hp: HeatPump, ctx: IngestContext) -> FloatArray:
    """Each step's share of a year's ground extraction [1/step] (NaN without a borehole):
    ``dt / 8760`` (``energy_share: time``) or its heating degree-hours over the climate's
    annual ones, ``max(0, 17 - T_t) dt / D_year`` (``degree_hours``)."""
    from pecopt.ingest.loads import HELSINKI_DEGREE_HOURS_17C

    n = ctx.n
    if hp.borehole is None:
        return np.full(n, np.nan)
    dt = pd.Timedelta(ctx.scenario.horizon.resolution) / pd.Timedelta(hours=1)
    if hp.borehole.energy_share == "time":
        return np.full(n, dt / 8760.0)
    year = ctx.reference_degree_hours_kh or HELSINKI_DEGREE_HOURS_17C
    temp = ctx.weather["temp_air_c"].to_numpy(float)
    out: FloatArray = np.maximum(0.0, 17.0 - temp) * dt / year
    return out


@dataclass(frozen=True)
class HeatPumpData:
    spec: HeatPump
    sinks: tuple[str, ...]
    cop: FloatArray  # (sinks, steps) [1]
    capacity_factor: FloatArray  # (steps,) [1]
    ground_share: FloatArray | None = None  # (steps,) share of a year's extraction [1]


def prepare(units: Sequence[HeatPump], tables: Tables, common: Common) -> tuple[HeatPumpData, ...]:
    t = tables[COP]
    out = []
    for hp in units:
        rows = t[t["heat_pump"] == hp.name]
        sinks = tuple(str(s) for s in pd.unique(rows["sink"].to_numpy()))
        cop = rows["cop"].to_numpy(np.float64).reshape(len(sinks), common.n)
        factor = rows["capacity_factor"].to_numpy(np.float64)[: common.n]
        share = None
        if hp.borehole is not None and hp.borehole.energy_share == "degree_hours":
            share = rows["ground_share"].to_numpy(np.float64)[: common.n]
        out.append(HeatPumpData(hp, sinks, cop, factor, share))
    return tuple(out)


def _unit(b: pyo.Block, hp: HeatPumpData, common: Common) -> Contribution:
    spec, n = hp.spec, common.n
    t = common.steps()
    el = None if spec.capacity_kw_el is None else capacity(b, "power_kw_el", spec.capacity_kw_el)
    q = (
        None
        if spec.capacity_kw_heat is None
        else capacity(b, "power_kw_heat", spec.capacity_kw_heat)
    )
    usable = hp.cop > 0  # (sinks, steps): where the sink is within reach
    if q is not None:
        usable &= hp.capacity_factor[None, :] > 0
    ps = []
    for k, sink in enumerate(hp.sinks):
        by_el = np.where(usable[k], np.inf if el is None else el.upper, 0.0)
        ub = by_el
        if q is not None:  # a bound that also helps presolve
            cop = np.where(hp.cop[k] > 0, hp.cop[k], 1.0)
            by_q = q.upper * hp.capacity_factor / cop
            ub = np.minimum(by_el, by_q)
        p = add_var(b, f"p_{sink}", n, 0.0, ub)
        ps.append(p)
        # the capacity that sets each step's bound (at a tie, one more unit of either
        # leaves the bound where it is)
        if q is None:
            if el is not None:
                el.bound(p, 1.0, np.flatnonzero(usable[k]))
        else:
            if el is not None:
                el.bound(p, 1.0, np.flatnonzero(usable[k] & (by_el < by_q)))
            by_cap = by_q < by_el
            q.bound(p, (hp.capacity_factor / cop)[by_cap], np.flatnonzero(by_cap))
    elec = [term(p, 1.0) for p in ps]
    heat = [term(p, hp.cop[k]) for k, p in enumerate(ps)]
    if el is not None and (len(ps) > 1 or el.sized):
        el.limit(b, "max_el", elec, n)
    if q is not None and (len(ps) > 1 or q.sized):
        q.limit(b, "max_heat", heat, n, hp.capacity_factor)
    field_m: Amount | None = None
    ground_value: list[Term] = []
    if spec.borehole is not None:
        bh = spec.borehole
        lift = [term(p, np.maximum(hp.cop[k] - 1.0, 0.0)) for k, p in enumerate(ps)]
        power = add_rows(b, "borehole_power", n, lift, upper=bh.max_w_per_m * bh.length_m / 1000.0)
        dtw = common.dtw
        total = [Term(x.var, x.index, x.coef * dtw[x.row], np.zeros_like(x.row)) for x in lift]
        # the annual cap times the horizon's share of a year (weighted steps under
        # typical periods): its time, or its heating degree-hours
        if hp.ground_share is None:
            share = common.years
        else:
            w = np.ones(n) if common.weight is None else common.weight
            share = float(hp.ground_share @ w)
        cap_kwh = bh.max_kwh_per_m_yr * bh.length_m
        per_m = [make_limit(power, np.arange(n), bh.max_w_per_m / 1000.0)]
        if bh.extracted_so_far_kwh is None:
            energy = add_rows(b, "borehole_energy", 1, total, upper=cap_kwh * share)
            per_m.append(make_limit(energy, [0], bh.max_kwh_per_m_yr * share))
            c_state = {}
        else:  # the cap on the year so far (nightly plans): valued by its power rows only
            c_state = _year_to_date(b, hp, lift, cap_kwh, common)
            if bh.ground_value_eur_per_kwh > 0:  # the budget saved is worth this later
                ground_value = [
                    Term(x.var, x.index, x.coef * dtw[x.row] * bh.ground_value_eur_per_kwh,
                         np.zeros_like(x.row))
                    for x in lift
                ]  # fmt: skip
        field_m = Amount((), float(bh.length_m), uses=Uses(rows=per_m))
    else:
        c_state = {}
    if spec.min_part_load > 0 or spec.min_on_h > 0 or spec.min_off_h > 0:
        if el is not None:
            _commitment(b, spec, el, elec, np.ones(n), common)
        else:
            assert q is not None
            _commitment(b, spec, q, heat, hp.capacity_factor, common)
    c = Contribution(
        flows=[Flow(spec.name, ELECTRICITY, "conversion", tuple(term(p, -1.0) for p in ps))]
        + [
            Flow(spec.name, sink, "conversion", (term(ps[k], hp.cop[k], t, t),))
            for k, sink in enumerate(hp.sinks)
        ]
    )
    if ground_value:
        c.cost[GROUND_VALUE] = ground_value
    caps: dict[str, Amount | float] = {}
    for key, cap in (("power_kw_el", el), ("power_kw_heat", q)):
        if cap is not None:
            caps[key] = cap.amount()
            if cap.sized:
                c.cost.setdefault("investment", []).extend(cap.cost(common))
    if field_m is not None:
        caps["borehole_m"] = field_m  # the field's length: its rows' right-hand sides
    c.capacities[spec.name] = caps
    c.state.update(_carried(spec, ps, common.dt_h))
    c.state.update(c_state)
    return c


def _year_to_date(
    b: pyo.Block, hp: HeatPumpData, lift: list[Term], cap: float, common: Common
) -> dict[tuple[str, str], StateReader]:
    """The borehole's annual cap on the year so far (nightly dispatch): with ``E0`` the
    energy taken since 1 January and ``S0`` the share of the year's cap earned by then
    (carried), ``g_t`` each step's share (:func:`_ground_share`) and ``x_t`` the heat
    taken from the ground [kW],

        E_t = E_{t-1} + x_t dt,   E_{-1} = E0,   E_t <= cap (S0 + sum_{s<=t} g_s)

    so that a night's plan and the day it settles share one budget, and what a mild day
    leaves is there for a cold one. Carries ``ground_kwh_ytd`` (E) and
    ``ground_share_ytd`` (S)."""
    spec, n, dt = hp.spec, common.n, common.dt_h
    bh = spec.borehole
    assert bh is not None and bh.extracted_so_far_kwh is not None
    g = hp.ground_share if hp.ground_share is not None else np.full(n, dt / 8760.0)
    earned = bh.share_so_far + np.cumsum(g)
    e0 = bh.extracted_so_far_kwh
    used = add_var(b, "ground_kwh_ytd", n, 0.0, np.maximum(cap * earned - e0, 0.0))
    t = common.steps()
    terms = [term(used, 1.0), term(used, -1.0, t[:-1], t[1:])]
    terms += [Term(x.var, x.index, -x.coef * dt, x.row) for x in lift]
    rhs = np.zeros(n)
    add_rows(b, "ground_energy", n, terms, equal=rhs, what=f"{spec.name} ground energy")

    def energy(value: ValueOf) -> FloatArray:
        return with_start(e0, e0 + value(used))

    shares = with_start(bh.share_so_far, earned)
    return {
        (spec.name, "ground_kwh_ytd"): energy,
        (spec.name, "ground_share_ytd"): given(shares),
    }


def _carried(spec: HeatPump, ps: list[pyo.Var], dt: float) -> dict[tuple[str, str], StateReader]:
    """What a heat pump carries to the next run: on (electric draw above 1e-6 kW) or off
    in each step, and the hours it has been in that state at each step's end (continued
    from ``initial_on`` / ``initial_hours_in_state``; without them the first step starts
    its state)."""

    def on(value: ValueOf) -> np.ndarray:
        draw = np.zeros(len(value(ps[0]))) if ps else np.zeros(0)
        for p in ps:
            draw = draw + value(p)
        out: np.ndarray = draw > 1e-6
        return out

    def state_on(value: ValueOf) -> FloatArray:
        u = on(value)
        first = spec.initial_on if spec.initial_on is not None else bool(u[0]) if u.size else False
        return with_start(float(first), u.astype(np.float64))

    def hours(value: ValueOf) -> FloatArray:
        u = on(value)
        if spec.initial_on is not None:
            prev_on, prev_h = bool(spec.initial_on), float(spec.initial_hours_in_state)
        else:
            prev_on, prev_h = (bool(u[0]) if u.size else False), 0.0
        out = np.empty(u.size + 1)
        out[0] = prev_h
        for t in range(u.size):
            prev_h = prev_h + dt if bool(u[t]) == prev_on else dt
            prev_on = bool(u[t])
            out[t + 1] = prev_h
        return out

    return {(spec.name, "on"): state_on, (spec.name, "hours_in_state"): hours}


def rolling(rec: dict[str, Any], cfg: Dispatch) -> None:
    """On a rolling horizon a borehole's annual energy cap holds on the year so far, its
    share earned by heating degree-hours (a winter night needs more of it than its share
    of the year's hours), from nothing taken yet unless a state is carried; what is left
    of it is worth ``dispatch.ground_value_eur_per_kwh`` when given."""
    if rec.get("borehole") is not None:
        rec["borehole"]["energy_share"] = "degree_hours"
        if rec["borehole"]["extracted_so_far_kwh"] is None:
            rec["borehole"]["extracted_so_far_kwh"] = 0.0
        if cfg.ground_value_eur_per_kwh is not None:
            rec["borehole"]["ground_value_eur_per_kwh"] = cfg.ground_value_eur_per_kwh


def start(rec: dict[str, Any], st: Start) -> None:
    """The carried on/off state and the hours in it become ``initial_on`` and
    ``initial_hours_in_state`` (binding where ``min_on_h`` or ``min_off_h`` is set)."""
    name = rec["name"]
    bh = rec.get("borehole")
    if bh is not None:  # the year so far, restarted on 1 January (local)
        e, share = st.get(name, "ground_kwh_ytd"), st.get(name, "ground_share_ytd")
        local = st.at.tz_convert(st.timezone)
        new_year = (local - pd.Timedelta(microseconds=1)).year != local.year
        if e is not None and share is not None and not new_year:
            bh["extracted_so_far_kwh"], bh["share_so_far"] = e, share
        st.use(name, "ground_kwh_ytd", bh["extracted_so_far_kwh"] or 0.0)
        st.use(name, "ground_share_ytd", bh["share_so_far"])
    on, hours = st.get(name, "on"), st.get(name, "hours_in_state")
    if on is None or hours is None:
        return
    rec["initial_on"] = bool(on > 0.5)
    rec["initial_hours_in_state"] = float(hours)
    st.use(name, "on", float(on > 0.5))
    st.use(name, "hours_in_state", float(hours))


def _commitment(
    b: pyo.Block,
    spec: HeatPump,
    cap: Cap,
    load: list[Term],
    factor: FloatArray,
    common: Common,
) -> None:
    """On/off with a minimum part load m on the load (electric input, or heat output with
    the capacity factor f): ``load[t] <= f[t] C_max u[t]`` and
    ``load[t] >= m f[t] (C - C_max (1 - u[t]))``, with the capacity limit
    ``load[t] <= f[t] C`` elsewhere. For a given capacity (C = C_max) this is
    ``m f C u <= load <= f C u``; for a sized one, its exact linearisation."""
    us = need_binaries(common, np.ones(common.n, bool), spec.binaries)
    if not us.size:
        return
    pos = np.full(common.n, -1)
    pos[us] = np.arange(us.size)

    def at(ts: list[Term]) -> list[Term]:
        out = []
        for x in ts:
            keep = pos[x.row] >= 0
            out.append(Term(x.var, x.index[keep], x.coef[keep], pos[x.row[keep]]))
        return out

    f = factor[us]
    big = cap.upper * f
    cap.not_valued("the on/off binaries of the minimum part load take it as their big-M")
    m = spec.min_part_load
    u = add_var(b, "u", us.size, binary=True, commitment=True)
    if spec.min_on_h > 0 or spec.min_off_h > 0:
        min_on_off_rows(b, u, spec, common)
    add_rows(b, "max_on", us.size, [*at(load), term(u, -big)], upper=0.0)
    lower = [*at(load), term(u, -m * big)]
    if cap.new is not None:  # + m f N on the right-hand side
        one = np.zeros(us.size, np.int64)
        lower.append(Term(cap.new, one, -m * f, np.arange(us.size)))
    add_rows(b, "min_on", us.size, lower, lower=m * f * cap.value - m * big)


def build(block: pyo.Block, units: tuple[HeatPumpData, ...], common: Common) -> Contribution | None:
    out = Contribution()
    for hp in units:
        b = pyo.Block()
        block.add_component(hp.spec.name, b)
        out.add(_unit(b, hp, common))
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
    key="heat_pumps",
    unit=HeatPump,
    build=build,
    ingest=ingest,
    prepare=prepare,
    rolling=rolling,
    start=start,
)

__all__ = ["AIR_CAPACITY_CURVE", "HEAT_CARRIERS", "TECHNOLOGY", "Borehole", "HeatPump"]

"""Storage with losses: batteries (electricity) and thermal stores (hot water or space heat).

Variables per unit (kW, kWh): charge ``ch[t] in [0, P]``, discharge ``dis[t] in [0, P]``,
energy at the end of step ``soc[t] in [0, E]``.

    soc[t] = (1 - l) soc[t-1] + eta_c dt ch[t] - dt / eta_d dis[t]
    l = 1 - (1 - loss_per_h)^dt                  (standing loss per step)
    soc[-1] = soc[n-1]  (end: cyclic)  or  S0 (the given start level)
    soc[n-1] >= S0      (end: initial)
    value of what is left:  - v soc[n-1]  [EUR]  (end: value, v in EUR/kWh)
    storage flow = dis[t] - ch[t]

A start level is honoured whenever it is given: ``end: cyclic`` (start = end, for design
studies) takes none, and a level given with it is an input error. A rolling horizon
(nightly dispatch) ends ``free``, ``initial`` or ``value``.

Exclusivity binary ``y[t]`` (``ch <= P y``, ``dis <= P (1 - y)``) only where energy can
have a negative value, i.e. where some import price is negative (the district is paid to
consume). Elsewhere charging and discharging at once only burns energy: with a positive
import price that costs money, and a surplus (negative export price) can be curtailed
at PV instead, so it never lowers the cost.
Battery wear is charged on discharged energy: ``wear * dt * sum_t dis[t]`` [EUR].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyomo.environ as pyo
from pydantic import model_validator

from pecopt.errors import ScenarioError
from pecopt.model.capacity import Cap, capacity, need_binaries
from pecopt.model.carry import Start, with_start
from pecopt.model.linear import FloatArray, Term, add_rows, add_var, term
from pecopt.model.technology import Common, Contribution, Flow, LevelReader, Technology, ValueOf
from pecopt.scenario.types import (
    Binaries,
    Capacity,
    Efficiency,
    End,
    Fraction,
    NonNeg,
    Size,
    Strict,
    upper,
)
from pecopt.units import ELECTRICITY

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.settings import Dispatch


class _Store(Strict):
    name: str
    """The store's name."""
    capacity_kwh: Capacity
    """Energy capacity [kWh]: a number, or a Size the optimiser chooses."""
    power_kw: Capacity
    """Charge and discharge power [kW]: a number, or a Size the optimiser chooses."""
    eta_charge: Efficiency = 0.95
    """Charging efficiency [1]."""
    eta_discharge: Efficiency = 0.95
    """Discharging efficiency [1]."""
    loss_per_h: Fraction = 0.0
    """Standing loss, share of the stored energy lost per hour [1/h]."""
    soc_initial_kwh: NonNeg | None = None
    """Energy at the start [kWh]; None: not given (``end: cyclic``: start equals end)."""
    end: End = "cyclic"
    """How the horizon ends: ``cyclic`` (end = start), ``initial`` (end >= the start level),
    ``free``, or ``value`` (what is left is credited at ``end_value_eur_per_kwh``)."""
    end_value_eur_per_kwh: float | None = None
    """Value of the energy left at the end [EUR/kWh] (``end: value`` only)."""
    binaries: Binaries | None = None
    """Overrides ``solver.binaries`` for charge/discharge exclusivity; None: the solver's setting.
    """

    @model_validator(mode="after")
    def _state(self) -> _Store:
        if isinstance(self.capacity_kwh, Size) and self.soc_initial_kwh is not None:
            start_max = self.capacity_kwh.existing
        else:
            start_max = upper(self.capacity_kwh)
        check_state(start_max, self.soc_initial_kwh, self.end, self.end_value_eur_per_kwh)
        return self


def check_state(capacity: float, soc: float | None, end: str, end_value: float | None) -> None:
    """The start level and the end condition of a store (shared with EV fleets)."""
    if soc is not None and soc > capacity:
        raise ValueError(f"soc_initial_kwh ({soc:g}) must not exceed capacity_kwh ({capacity:g})")
    if end == "cyclic" and soc is not None:
        raise ValueError(
            "soc_initial_kwh is given with end: cyclic, which would ignore it (the start "
            "equals the end); use end: initial, free or value for a given start level"
        )
    if end != "cyclic" and soc is None:
        raise ValueError(f"end: {end} needs soc_initial_kwh (the level at the start)")
    if (end == "value") != (end_value is not None):
        raise ValueError("end: value goes with end_value_eur_per_kwh (and only with it)")


class Battery(_Store):
    """A battery on the electricity bus; ``wear_eur_per_kwh`` is charged on discharge."""

    wear_eur_per_kwh: NonNeg = 0.0
    """Wear cost per kWh discharged [EUR/kWh]."""


class ThermalStore(_Store):
    """A hot-water store; ``carrier``: the heat temperature it is charged and discharged at
    (``hot_water``: a 60-90 degC tank that can serve both; ``space_heat``: a low-temperature
    buffer)."""

    carrier: Literal["hot_water", "space_heat"] = "hot_water"
    """The heat temperature it is charged and discharged at (``hot_water``: a 60-90 degC tank that
    can serve both; ``space_heat``: a low-temperature buffer)."""
    eta_charge: Efficiency = 0.98
    """Charging efficiency [1]."""
    eta_discharge: Efficiency = 0.98
    """Discharging efficiency [1]."""
    loss_per_h: Fraction = 0.005
    """Standing loss, share of the stored heat lost per hour [1/h]."""


def _unit(
    block: pyo.Block, common: Common, spec: _Store, carrier: str, wear: float
) -> Contribution:
    n, dt = common.n, common.dt_h
    b = pyo.Block()
    block.add_component(spec.name, b)
    energy = capacity(b, "energy_kwh", spec.capacity_kwh)
    power = capacity(b, "power_kw", spec.power_kw)
    ch = add_var(b, "ch", n, 0.0, power.upper)
    dis = add_var(b, "dis", n, 0.0, power.upper)
    power.bound(ch)
    power.bound(dis)
    s0 = spec.soc_initial_kwh
    keep = (1.0 - spec.loss_per_h) ** dt
    t = common.steps()
    terms = [term(ch, -spec.eta_charge * dt), term(dis, dt / spec.eta_discharge)]
    per = common.periods
    if per is not None:
        soc, read, end_level = _linked(b, common, spec, energy, keep, terms)
    else:
        soc_lb = np.zeros(n)
        if spec.end == "initial" and s0 is not None:
            soc_lb[-1] = s0
        soc = add_var(b, "soc", n, soc_lb, energy.upper)
        energy.bound(soc)
        if energy.sized:
            energy.limit(b, "soc_max", [term(soc, 1.0)], n)
        terms.append(term(soc, 1.0))
        rhs = np.zeros(n)
        if s0 is None:  # end: cyclic, start = end
            terms.append(term(soc, -keep, np.roll(t, 1)))
        else:
            terms.append(term(soc, -keep, t[:-1], t[1:]))  # predecessor
            rhs[0] = keep * s0
        add_rows(b, "balance", n, terms, equal=rhs)
        read = lambda value: value(soc)  # noqa: E731
        end_level = term(soc, 1.0, [n - 1])
    if power.sized:
        power.limit(b, "ch_max", [term(ch, 1.0)], n)
        power.limit(b, "dis_max", [term(dis, 1.0)], n)
    ys = need_binaries(common, common.import_price_min < 0, spec.binaries)
    big = power.upper  # the largest power the store can have: a valid big-M
    if ys.size and big > 0:
        y = add_var(b, "y", ys.size, binary=True)
        power.not_valued("the charge/discharge exclusivity binaries take it as their big-M")
        add_rows(b, "ch_on", ys.size, [term(ch, 1.0, ys), term(y, -big)], upper=0.0)
        add_rows(b, "dis_off", ys.size, [term(dis, 1.0, ys), term(y, big)], upper=big)
    eta_c, eta_d = spec.eta_charge, spec.eta_discharge

    def carried(value: ValueOf) -> FloatArray:
        """The level at the start (from step 0's balance, as the solved model has it) and
        at the end of each step [kWh]."""
        ends = read(value)
        net0 = eta_c * dt * value(ch)[0] - dt / eta_d * value(dis)[0]
        return with_start((ends[0] - net0) / keep, ends)

    c = Contribution(
        flows=[Flow(spec.name, carrier, "storage", (term(dis, 1.0), term(ch, -1.0)))],
        storage={spec.name: read},
        state={(spec.name, "soc_kwh"): carried},
        capacities={spec.name: {"energy_kwh": energy.amount(), "power_kw": power.amount()}},
    )
    for cap in (energy, power):
        if cap.sized:
            c.cost.setdefault("investment", []).extend(cap.cost(common))
    if wear > 0:
        c.cost["battery_wear"] = [term(dis, wear * common.dtw)]
    if spec.end == "value" and spec.end_value_eur_per_kwh:
        v = -spec.end_value_eur_per_kwh
        c.cost["stored_energy_value"] = [term(end_level.var, v * end_level.coef, end_level.index)]
    return c


def _linked(
    b: pyo.Block, common: Common, spec: _Store, energy: Cap, keep: float, terms: list[Term]
) -> tuple[pyo.Var, LevelReader, Term]:
    """Typical periods: the store's level across the year (Kotzur et al. 2018).

    Within representative p the level ``soc[t]`` is counted from 0 at its start (it may be
    negative); ``level[d]`` is the level at the start of original period d (D of them,
    ``r(d)`` its representative, L steps each, ``end(p)`` p's last step):

        soc[t] = keep soc[t-1] + eta_c dt ch[t] - dt / eta_d dis[t]   (soc[-1] = 0 per period)
        level[d+1] = keep^L level[d] + soc[end(r(d))]
        level[d] + hi[r(d)] <= E,   keep^L level[d] + lo[r(d)] >= 0,   lo[p] <= soc[t] <= hi[p]

    The bounds are safe (the true level ``keep^(j+1) level[d] + soc[t]`` stays in [0, E])
    and exact without standing loss. End: cyclic ``level[D] = level[0]``; otherwise
    ``level[0] = S0`` and ``level[D] >= S0`` (initial) or valued (value)."""
    per = common.periods
    assert per is not None
    n, big = common.n, energy.upper
    energy.not_valued("typical periods: the linked levels are also bounded by it")
    length, k, order = per.length, per.k, np.asarray(per.order, np.int64)
    d = order.size
    t = common.steps()
    soc = add_var(b, "soc", n, -big, big)
    inner = t[t % length != 0]
    terms = [*terms, term(soc, 1.0), term(soc, -keep, inner - 1, inner)]
    add_rows(b, "balance", n, terms, equal=0.0)
    s0 = spec.soc_initial_kwh
    lb = np.zeros(d + 1)
    ub = np.full(d + 1, big)
    if s0 is not None:
        lb[0] = ub[0] = s0
        if spec.end == "initial":
            lb[d] = s0
    level = add_var(b, "level", d + 1, lb, ub)
    keep_l = keep**length
    ends = order * length + length - 1
    rows = np.arange(d)
    add_rows(
        b, "level_link", d,
        [term(level, 1.0, rows + 1, rows), term(level, -keep_l, rows, rows),
         term(soc, -1.0, ends, rows)],
        equal=0.0,
    )  # fmt: skip
    if spec.end == "cyclic":
        add_rows(b, "level_cyclic", 1, [term(level, 1.0, [d]), term(level, -1.0, [0])], equal=0.0)
    hi = add_var(b, "soc_hi", k, -big, big)
    lo = add_var(b, "soc_lo", k, -big, big)
    p_of = t // length
    add_rows(b, "soc_below_hi", n, [term(soc, 1.0), term(hi, -1.0, p_of)], upper=0.0)
    add_rows(b, "soc_above_lo", n, [term(soc, 1.0), term(lo, -1.0, p_of)], lower=0.0)
    top = [term(level, 1.0, rows), term(hi, 1.0, order, rows)]
    energy.limit(b, "level_max", top, d)
    add_rows(
        b, "level_min", d, [term(level, keep_l, rows), term(lo, 1.0, order, rows)], lower=0.0
    )  # fmt: skip
    start = np.asarray(per.original, np.int64)[p_of]  # the original period of each step
    decay = keep ** ((t % length) + 1.0)

    def read(value: ValueOf) -> FloatArray:
        out: FloatArray = value(level)[start] * decay + value(soc)
        return out

    return soc, read, term(level, 1.0, [d])


def build_batteries(
    block: pyo.Block, units: Sequence[Battery], common: Common
) -> Contribution | None:
    """One sub-block per battery, on the electricity bus."""
    out = Contribution()
    for s in units:
        out.add(_unit(block, common, s, ELECTRICITY, s.wear_eur_per_kwh))
    return out


def build_thermal_stores(
    block: pyo.Block, units: Sequence[ThermalStore], common: Common
) -> Contribution | None:
    """One sub-block per hot-water store, on its heat carrier."""
    out = Contribution()
    for s in units:
        out.add(_unit(block, common, s, s.carrier, 0.0))
    return out


def _rolling(key: str) -> Callable[[dict[str, Any], Dispatch], None]:
    """A store on a rolling horizon: ``end: cyclic`` becomes ``dispatch.store_end``
    (``value`` at the store's or its carrier's ``dispatch.end_value_eur_per_kwh``), and
    with no start level given it starts at ``dispatch.initial_share`` of its capacity."""

    def rolling(rec: dict[str, Any], cfg: Dispatch) -> None:
        if not isinstance(rec["capacity_kwh"], int | float):
            raise ScenarioError(
                None, f"assets.{key}.{rec['name']}.capacity_kwh",
                "a nightly plan needs a given capacity, not a size to choose",
            )  # fmt: skip
        carrier = rec.get("carrier", ELECTRICITY)
        if rec["end"] == "cyclic":
            rec["end"] = cfg.store_end
        if rec["end"] == "value" and rec["end_value_eur_per_kwh"] is None:
            value = cfg.end_value_eur_per_kwh.get(rec["name"])
            if value is None:
                value = cfg.end_value_eur_per_kwh.get(carrier, 0.0)
            rec["end_value_eur_per_kwh"] = value
        elif rec["end"] != "value":
            rec["end_value_eur_per_kwh"] = None
        if rec["soc_initial_kwh"] is None:
            rec["soc_initial_kwh"] = cfg.initial_share * float(rec["capacity_kwh"])

    return rolling


def start(rec: dict[str, Any], st: Start) -> None:
    """The carried level (``soc_kwh``, clipped to ``[0, capacity]``) is the start level."""
    name, cap = rec["name"], float(rec["capacity_kwh"])
    got = st.get(name, "soc_kwh")
    if got is not None:
        rec["soc_initial_kwh"] = st.clip(got, cap, f"{name} level")
    else:
        st.missing(name, f"{rec['soc_initial_kwh']:g} kWh")
    st.use(name, "soc_kwh", rec["soc_initial_kwh"])


BATTERY = Technology(
    key="batteries",
    unit=Battery,
    build=build_batteries,
    rolling=_rolling("batteries"),
    start=start,
)
THERMAL_STORE = Technology(
    key="thermal_stores",
    unit=ThermalStore,
    build=build_thermal_stores,
    rolling=_rolling("thermal_stores"),
    start=start,
)

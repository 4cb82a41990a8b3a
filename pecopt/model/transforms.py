"""Edits of a built model: the one place where rows are added, variables fixed and
objectives swapped after :func:`~pecopt.model.core.build_model`.

Workflows ask for a named edit; none writes rows or finds a variable by its name. Each
edit works on the tags the technologies declared (flows, stages, capacities, roles),
so it applies to every technology, present or future:

==============================  ===========================================================
:func:`keep_stage`              a lexicographic objective's next stage: the finished stage
                                kept within its tolerance, the next stage's objective active
:func:`sizes` / :func:`fix_sizes`  the new capacities the optimiser chose (typical periods),
                                fixed in another model of the same scenario
:func:`add_co2_bound`           the epsilon constraint of the cost-CO2 front
:func:`elastic`                 the slack plan: every balance and row family made elastic
:func:`idle_stores`             the rule-based plan: stores fixed idle
:func:`early_charging`          the rule-based plan: flexible demand charging as early as
                                it can (a temporary objective)
:func:`relax_binaries`          binaries relaxed to [0, 1] (and back)
:func:`fix_terms`               the variables of some terms fixed at their plan
:func:`follow`                  settling a plan: the decided flows track their set-points
                                (deviations at a penalty)
:func:`rule_bounds`             the rule-based controller: electricity stores charge only
                                from the PV surplus and discharge only into the deficit
:func:`attach_duals`            the import suffixes ``dual`` and ``rc``: the next solve
                                fills them (marginal prices and capacity values)
:func:`sized_capacities` /      every sized capacity, and the groups the technologies'
:func:`capacity_groups`         tags make of them (all PV, all stores, all heat pumps)
:func:`near_optimal`            near-optimal designs: the cost as one variable (bounded
                                at ``(1 + slack)`` times the optimum), penalties held at
                                theirs, any weighted sum of sizes as the objective
:func:`scenarios`               scenario-based planning: the members' models under one
                                parent (the extensive form), the day-ahead position and
                                committed set-points shared, expected cost (+ CVaR)
==============================  ===========================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from pecopt.model.capacity import Amount
from pecopt.model.linear import (
    ObjectiveMeta,
    RowsMeta,
    Term,
    add_objective,
    add_rows,
    add_var,
    linear_sum,
    meta,
    term,
)
from pecopt.model.technology import Contribution, Flow

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.model.core import DistrictModel, Stage

__all__ = [
    "SLACK",
    "EpsilonConstraint",
    "NearOptimal",
    "Sized",
    "add_co2_bound",
    "attach_duals",
    "capacity_groups",
    "Ensemble",
    "cvar_of",
    "early_charging",
    "elastic",
    "follow",
    "fix_sizes",
    "fix_terms",
    "idle_stores",
    "keep_stage",
    "near_optimal",
    "relax_binaries",
    "restore_binaries",
    "rule_bounds",
    "scenarios",
    "sized_capacities",
    "sizes",
]

#: the block of the slack plan's elastic rows
SLACK = "dispatch_slack"


def _flat(terms: Sequence[Term], scale: float = 1.0) -> list[Term]:
    """``terms`` summed into one row (row 0), times ``scale``."""
    return [Term(t.var, t.index, scale * t.coef, np.zeros_like(t.row)) for t in terms]


# ------------------------------------------------------------------ duals


def attach_duals(dm: DistrictModel) -> None:
    """Declare the import suffixes ``m.dual`` (constraint duals) and ``m.rc`` (reduced
    costs) on the model, unless it has them already, so that the next
    :func:`pecopt.solver.solve` fills them (:mod:`pecopt.solver.duals`; a MILP: those of
    the LP with its integers fixed at the plan). :mod:`pecopt.results.marginal` turns them
    into marginal prices and capacity values."""
    m = dm.model
    for name in ("dual", "rc"):
        if m.component(name) is None:
            m.add_component(name, pyo.Suffix(direction=pyo.Suffix.IMPORT))


# ------------------------------------------------------------------ objective stages


def keep_stage(dm: DistrictModel, done: Stage, best: float, tolerance: float, then: Stage) -> None:
    """Move a lexicographic objective on from stage ``done`` (optimum ``best``) to
    ``then``: a row keeps ``done`` within ``tolerance`` (relative) of its optimum,

    .. math:: \\sum terms_{done} + c_{done} \\le best + tol \\max(1, |best|)

    and ``then``'s objective replaces the active one."""
    m = dm.model
    add_rows(
        m, f"stage_{done.name}_kept", 1, _flat(done.terms),
        upper=best + tolerance * max(1.0, abs(best)) - done.constant,
        what=f"the {done.name} optimum",
    )  # fmt: skip
    for obj in m.component_data_objects(pyo.Objective, active=True):
        obj.deactivate()
    add_objective(m, list(then.terms), then.constant, name=f"objective_{then.name}")


# ------------------------------------------------------------------ sizes


def _sized(dm: DistrictModel) -> dict[str, tuple[pyo.Var, ...]]:
    """The decision variables of every sized capacity, by ``asset.capacity``."""
    out: dict[str, tuple[pyo.Var, ...]] = {}
    for c in dm.contributions.values():
        for asset, caps in c.capacities.items():
            for key, amount in caps.items():
                if isinstance(amount, Amount) and amount.decisions:
                    out[f"{asset}.{key}"] = amount.decisions
    return out


def sizes(dm: DistrictModel) -> dict[str, float]:
    """The new capacity the solved model builds, by ``asset.capacity`` (e.g.
    ``shared_battery.energy_kwh``) [its unit: kWh, kW, kWp, m2]."""
    out: dict[str, float] = {}
    for name, decisions in _sized(dm).items():
        value = decisions[0][0].value
        if value is not None:
            out[name] = float(value)
    return out


def fix_sizes(dm: DistrictModel, chosen: Mapping[str, float]) -> None:
    """Fix every sized capacity named in ``chosen`` (from :func:`sizes` of another model of
    the same scenario) at that new capacity; a capacity built in modules fixes its module
    count too (rounded).

    Raises
    ------
    KeyError
        ``chosen`` names a capacity this model does not size.
    """
    have = _sized(dm)
    for name, value in chosen.items():
        new, *modules = have[name]
        v = max(float(value), 0.0)
        if modules:
            unit = (new[0].ub or 0.0) / max(modules[0][0].ub or 1.0, 1.0)
            count = round(v / unit) if unit > 0 else 0
            modules[0][0].fix(count)
            v = count * unit
        new[0].fix(v)


# ------------------------------------------------------------------ the cost-CO2 front


@dataclass(frozen=True)
class EpsilonConstraint:
    """What :func:`add_co2_bound` adds: the net-emission variable ``co2[0]`` [kg CO2e]
    (its upper bound is epsilon), the total unmet energy ``unmet[0]`` [kWh] (None when
    nothing can be left unmet), the model's cost objective and the emission one."""

    co2: pyo.Var
    unmet: pyo.Var | None
    cost: pyo.Objective
    emissions: pyo.Objective

    def minimise(self, what: str) -> None:
        """Make ``cost`` or ``emissions`` the active objective."""
        on, off = (self.cost, self.emissions) if what == "cost" else (self.emissions, self.cost)
        off.deactivate()
        on.activate()

    def bound(self, eps: float | None) -> None:
        """Net emissions <= ``eps`` [kg CO2e]; None lifts the bound."""
        self.co2[0].setub(eps)

    def serve_as_much(self) -> None:
        """Leave no more energy unmet than the solution now in the model does (plus
        1e-6 kWh): the front then trades money for CO2 at the same service level, not
        CO2 for unserved demand."""
        if self.unmet is not None:
            self.unmet[0].setub(max(float(pyo.value(self.unmet[0])), 0.0) + 1e-6)


def add_co2_bound(dm: DistrictModel) -> EpsilonConstraint:
    """Add the block ``pareto``: ``co2`` (one element) equal to the net emissions of every
    flow with an emission factor, unbounded for now, the objective ``min co2`` (inactive),
    and ``unmet`` equal to the energy left unmet at a penalty (EV charging shortfall ...),
    if any, unbounded::

        co2 = sum_f co2_f[t] flow_f[t] dt (+ constants),   co2 <= eps (its upper bound)
    """
    m = dm.model
    emissions = dm.emissions()
    b = pyo.Block()
    m.add_component("pareto", b)
    co2 = add_var(b, "co2", 1, -np.inf, np.inf)
    terms = _flat([t for e in emissions for t in e.terms], -1.0)
    constant = float(sum(e.constant.sum() for e in emissions))
    add_rows(b, "net_co2", 1, [term(co2, 1.0), *terms], equal=constant, what="net CO2")
    unmet_terms = [t for ts in dm.terms("unmet").values() for t in ts]
    unmet = None
    if unmet_terms:
        unmet = add_var(b, "unmet", 1, -np.inf, np.inf)
        add_rows(b, "total_unmet", 1, [term(unmet, 1.0), *_flat(unmet_terms, -1.0)], equal=0.0)
    cost = next(m.component_data_objects(pyo.Objective, active=True))
    emission_objective = add_objective(b, [term(co2, 1.0)])
    emission_objective.deactivate()
    return EpsilonConstraint(co2, unmet, cost, emission_objective)


# ------------------------------------------------------------------ near-optimal designs


@dataclass(frozen=True)
class Sized:
    """One capacity the optimiser sizes: ``name`` is ``asset.key`` (``apt_A1_pv.kwp``),
    ``technology`` the registry key of its block (``pv_series``), ``new`` the one-element
    variable of the new capacity ``N`` [the key's unit] in ``[0, room]``, ``existing``
    what is there already."""

    name: str
    technology: str
    asset: str
    key: str
    new: pyo.Var
    existing: float
    room: float

    @property
    def value(self) -> float:
        """The new capacity in the solution loaded into the model (0 before a solve; a
        value below 0 within the solver's feasibility tolerance, -5e-13, reads 0)."""
        return max(float(self.new[0].value or 0.0), 0.0)


def sized_capacities(dm: DistrictModel) -> list[Sized]:
    """Every sized capacity of the model, in build order (technology, asset, key)."""
    out: list[Sized] = []
    for tech, c in dm.contributions.items():
        for asset, caps in c.capacities.items():
            for key, amount in caps.items():
                if isinstance(amount, Amount) and amount.decisions:
                    new = amount.decisions[0]
                    ub = new[0].ub
                    room = float(ub) if ub is not None else float("inf")
                    name = f"{asset}.{key}"
                    out.append(Sized(name, tech, asset, key, new, amount.constant, room))
    return out


def capacity_groups(dm: DistrictModel, sized: Sequence[Sized]) -> dict[str, tuple[str, ...]]:
    """Groups of sized capacities that a designer names, from the technologies' tags:

    - ``all_<technology>.<key>``: every sized capacity ``key`` of one technology (all PV
      arrays' ``kwp``, all heat pumps' ``power_kw_heat``);
    - ``all_stores.<key>``: every sized capacity ``key`` of the technologies that declare
      stores (:attr:`Contribution.storage`): batteries and thermal stores ``energy_kwh``.

    A group has at least two members, all in one unit (one key), and is kept only when no
    earlier group has the same members. Returns name -> member names (:attr:`Sized.name`).
    """
    groups: dict[str, tuple[str, ...]] = {}

    def add(name: str, members: list[str]) -> None:
        if len(members) >= 2 and tuple(members) not in groups.values():
            groups[name] = tuple(members)

    by_tech: dict[tuple[str, str], list[str]] = {}
    for s in sized:
        by_tech.setdefault((s.technology, s.key), []).append(s.name)
    for (tech, key), members in by_tech.items():
        add(f"all_{tech}.{key}", members)
    stores = {tech for tech, c in dm.contributions.items() if c.storage}
    by_key: dict[str, list[str]] = {}
    for s in sized:
        if s.technology in stores:
            by_key.setdefault(s.key, []).append(s.name)
    for key, members in by_key.items():
        add(f"all_stores.{key}", members)
    return groups


@dataclass(frozen=True)
class NearOptimal:
    """What :func:`near_optimal` adds: the cost ``cost[0]`` [EUR] (the objective's money:
    the cost stage, penalties included), the penalties ``penalty[0]`` [EUR] (None when
    the model has none) and the block that holds them and the active objective."""

    block: pyo.Block
    cost: pyo.Var
    penalty: pyo.Var | None

    def minimise_cost(self) -> None:
        """Make ``min cost`` the objective (the model's own cost objective, as a variable)."""
        self.aim([(self.cost, 1.0)], "min")

    def within(self, optimum: float, slack: float) -> tuple[float, float | None]:
        """Bound the cost at ``optimum + slack |optimum|`` [EUR] (``(1 + slack)`` times a
        positive optimum; a negative optimum, a district that earns, may lose ``slack`` of
        its earnings) and the penalties at their value in the solution now in the model
        (plus 1e-6 relative): near-optimal designs buy no unmet energy or missed target.
        Returns both bounds (:meth:`bound`)."""
        cost = optimum + slack * abs(optimum)
        penalty = None
        if self.penalty is not None:
            p = max(float(self.penalty[0].value or 0.0), 0.0)
            penalty = p + 1e-6 * max(1.0, p)
        self.bound(cost, penalty)
        return cost, penalty

    def bound(self, cost: float | None, penalty: float | None) -> None:
        """Cost <= ``cost`` and penalties <= ``penalty`` [EUR] (None: no bound)."""
        self.cost[0].setub(cost)
        if self.penalty is not None:
            self.penalty[0].setub(penalty)

    def aim(self, weights: Sequence[tuple[pyo.Var, float]], sense: str) -> None:
        """Make ``min`` (or ``max``) ``sum_k w_k v_k[0]`` the only active objective, for
        one-element variables ``v_k`` (sizes :attr:`Sized.new`, or :attr:`cost`)."""
        m = self.block.model()
        for obj in m.component_data_objects(pyo.Objective, active=True):
            obj.deactivate()
        if self.block.component("objective") is not None:
            self.block.del_component("objective")
        terms = [term(v, w, [0], [0]) for v, w in weights]
        add_objective(self.block, terms, sense=sense)


def near_optimal(dm: DistrictModel) -> NearOptimal:
    """Add the block ``near_optimal``: ``cost`` equal to the cost stage of the objective
    (penalties, cost items and any carbon price) and ``penalty`` equal to the penalties,
    both unbounded for now, each one row::

        cost    = sum(cost stage terms) + c      [EUR]
        penalty = sum(penalty terms)             [EUR]

    Add it before the cost optimum is solved: later objectives (a size to minimise or
    maximise) and bounds (:meth:`NearOptimal.within`) then change neither rows nor
    columns, so every solve can start from the optimum's simplex basis. Modelling to
    generate alternatives (Brill 1982; DeCarolis 2011): see
    :mod:`pecopt.workflows.alternatives`."""
    money = next(s for s in dm.stages if s.name == "cost")
    b = pyo.Block()
    dm.model.add_component("near_optimal", b)
    cost = add_var(b, "cost", 1, -np.inf, np.inf)
    add_rows(
        b, "cost_is", 1, [term(cost, 1.0), *_flat(money.terms, -1.0)], equal=money.constant,
        what="the cost",
    )  # fmt: skip
    penalties = [t for ts in dm.terms("penalty").values() for t in ts]
    penalty = None
    if penalties:
        penalty = add_var(b, "penalty", 1, -np.inf, np.inf)
        add_rows(b, "penalty_is", 1, [term(penalty, 1.0), *_flat(penalties, -1.0)], equal=0.0)
    return NearOptimal(b, cost, penalty)


# ------------------------------------------------------------------ fallback plans


def elastic(dm: DistrictModel, penalty: float) -> None:
    """The slack plan: every bus balance gets an *unserved* and a *surplus* flow (role
    ``slack``, assets ``slack/unserved`` and ``slack/surplus``, so that every step still
    balances), every other row family an elastic copy (``lo <= a x + p - q <= up``), each
    slack at ``penalty`` EUR per kWh (kW) in the objective, in the block ``dispatch_slack``
    (its ``pecopt_families`` names what each elastic copy stands for)."""
    m = dm.model
    blk = pyo.Block()
    m.add_component(SLACK, blk)
    n = dm.inputs.n
    flows: list[Flow] = []
    penal: list[Term] = []
    for carrier in dm.carriers:  # balances with unserved and surplus flows
        con = getattr(m, f"balance_{carrier}", None)
        if con is None:
            continue
        con.deactivate()
        up = add_var(blk, f"unserved_{carrier}", n, 0.0)
        down = add_var(blk, f"surplus_{carrier}", n, 0.0)
        terms: list[Term] = []
        rhs = np.zeros(n)
        for f in dm.flows:
            if f.carrier == carrier:
                terms += f.terms
                if f.constant is not None:
                    rhs -= f.constant
        add_rows(blk, f"balance_{carrier}", n, [*terms, term(up, 1.0), term(down, -1.0)], equal=rhs)
        flows += [
            Flow("slack/unserved", carrier, "slack", (term(up, 1.0),)),
            Flow("slack/surplus", carrier, "slack", (term(down, -1.0),)),
        ]
        penal += [term(up, penalty * dm.inputs.dt_h), term(down, penalty * dm.inputs.dt_h)]
    families = [
        c
        for c in m.component_objects(pyo.Constraint, active=True, descend_into=True)
        if getattr(c, "_pecopt", None) is not None and c.parent_block() is not blk
    ]
    names: list[str] = []
    for k, con in enumerate(families):  # every other family: an elastic copy
        rm: RowsMeta = con._pecopt
        con.deactivate()
        plus = add_var(blk, f"plus_{k}", rm.m, 0.0)
        minus = add_var(blk, f"minus_{k}", rm.m, 0.0)
        add_rows(
            blk, f"elastic_{k}", rm.m, [*rm.terms, term(plus, 1.0), term(minus, -1.0)],
            lower=rm.lo, upper=rm.up,
        )  # fmt: skip
        names.append(con.name)
        penal += [term(plus, penalty), term(minus, penalty)]
    obj: ObjectiveMeta = m.objective._pecopt
    m.objective.deactivate()
    add_objective(blk, [*obj.terms, *penal], constant=obj.constant)
    blk.pecopt_families = names  # what each elastic copy stands for
    dm.contributions[SLACK] = Contribution(flows=flows)


def fix_terms(terms: Sequence[Term], value: float | None) -> None:
    """Fix the elements of each term's variable at ``value`` (None: at their current
    value, 0 where they have none)."""
    for t in terms:
        data = meta(t.var).data[t.index]
        for v in data.tolist():
            v.fix(value if value is not None else (v.value or 0.0))


def idle_stores(dm: DistrictModel) -> None:
    """Every store (role ``storage``) idle: its charge and discharge fixed at 0. An idle
    store's level only decays, so it is freed from an end condition that keeps it up
    (lower bounds above 0 of its block's other continuous variables -> 0)."""
    for f in dm.flows:
        if f.role != "storage":
            continue
        fix_terms(f.terms, 0.0)
        mine = {id(x.var) for x in f.terms}
        for t in f.terms:
            block = t.var.parent_block()
            for var in block.component_objects(pyo.Var, descend_into=False):
                if id(var) in mine:
                    continue
                for v in var.values():
                    if not v.is_binary() and v.lb is not None and v.lb > 0:
                        v.setlb(0.0)


def flexible_demand(dm: DistrictModel) -> list[Term]:
    """The terms of every demand flow with decisions (EV charging)."""
    return [t for f in dm.flows if f.role == "demand" and f.terms for t in f.terms]


@contextlib.contextmanager
def early_charging(dm: DistrictModel, terms: Sequence[Term] | None = None) -> Iterator[list[Term]]:
    """For the ``with`` block, the objective is to move the given terms (default: the
    flexible demand, EV charging) as much and as early as they can: maximise
    ``sum_t w_t |a| x_t`` over each term ``a x`` with ``w_t`` falling from 2 to 1 over the
    horizon; the model's objective is back afterwards. Yields the terms."""
    m = dm.model
    flexible = flexible_demand(dm) if terms is None else list(terms)
    n = dm.inputs.n
    w = 2.0 - np.arange(n) / n
    early = [Term(t.var, t.index, -np.abs(t.coef) * w[t.row], t.row) for t in flexible]
    m.objective.deactivate()
    rule = pyo.Objective(expr=linear_sum(early), sense=pyo.minimize)
    m.add_component("dispatch_rule_objective", rule)
    try:
        yield flexible
    finally:
        m.del_component(rule)
        m.objective.activate()


def relax_binaries(m: pyo.Block) -> list[Any]:
    """Every binary variable relaxed to [0, 1]; returns them (see :func:`restore_binaries`)."""
    relaxed = []
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        if v.is_binary():
            v.domain = pyo.UnitInterval
            relaxed.append(v)
    return relaxed


def restore_binaries(relaxed: Sequence[Any]) -> None:
    """Undo :func:`relax_binaries`."""
    for v in relaxed:
        v.domain = pyo.Binary


#: roles whose flows a plan decides and a settlement tracks (imports and exports balance
#: the rest; generation is curtailed only where it must be)
DECIDED = ("storage", "conversion", "demand")


def _extend_objective(dm: DistrictModel, extra: Sequence[Term], name: str) -> None:
    """Replace the active objective by itself plus ``extra``."""
    m = dm.model
    active = [o for o in m.component_data_objects(pyo.Objective, active=True)]
    (obj,) = active
    meta_: ObjectiveMeta = obj.parent_component()._pecopt
    obj.deactivate()
    add_objective(m, [*meta_.terms, *extra], constant=meta_.constant, name=name)


def follow(
    dm: DistrictModel,
    targets: Mapping[tuple[str, str, str], np.ndarray],
    weight_eur_per_kwh: float,
) -> dict[tuple[str, str, str], int]:
    r"""Settle a plan on the day that happened: every decided flow (roles ``storage``,
    ``conversion``, ``demand`` with decisions) named in ``targets`` by (asset, carrier,
    role) tracks its set-point ``x*[t]`` [kW] as far as the day allows,

    .. math:: \sum f.terms[t] + f.constant[t] - u_t + d_t = x^*_t, \quad u, d \ge 0

    with the deviation ``u + d`` at ``weight`` EUR per kWh (``w dt (u_t + d_t)``) added to
    the objective: a weight far above any price makes the day follow the plan where it
    can, and its cost decides only what the plan left open (the grid and district heat
    balance the rest, PV is curtailed where it must be). One block ``settle`` holds
    one deviation variable and one family of rows for all tracked flows, rows only at
    the steps where a flow has decisions (an EV's plugged steps). Returns, per tracked
    flow, how many steps it tracks."""
    with PauseGC():  # many small objects: no collector passes over the whole heap
        return _follow(dm, targets, weight_eur_per_kwh)


def _follow(
    dm: DistrictModel,
    targets: Mapping[tuple[str, str, str], np.ndarray],
    weight_eur_per_kwh: float,
) -> dict[tuple[str, str, str], int]:
    n, dt = dm.inputs.n, dm.inputs.dt_h
    terms: list[Term] = []
    rhs: list[np.ndarray] = []
    out: dict[tuple[str, str, str], int] = {}
    m = 0
    for f in dm.flows:
        key = (f.asset, f.carrier, f.role)
        if f.role not in DECIDED or not f.terms or key not in targets:
            continue
        target = np.asarray(targets[key], dtype=np.float64)
        if target.shape != (n,):
            raise ValueError(f"{key}: {target.size} set-points for {n} steps")
        steps = np.unique(np.concatenate([t.row for t in f.terms]))
        row_of = np.full(n, -1, np.int64)
        row_of[steps] = m + np.arange(steps.size)
        terms += [Term(t.var, t.index, t.coef, row_of[t.row]) for t in f.terms]
        rhs.append(target[steps] - (0.0 if f.constant is None else f.constant[steps]))
        out[key] = int(steps.size)
        m += steps.size
    blk = pyo.Block()
    dm.model.add_component("settle", blk)
    dev = add_var(blk, "dev", 2 * m, 0.0)  # (u, d): below and above the set-point
    rows = np.arange(m)
    if m:
        terms += [term(dev, -1.0, rows, rows), term(dev, 1.0, rows + m, rows)]
        add_rows(blk, "track", m, terms, equal=np.concatenate(rhs), what="settled set-points")
    _extend_objective(dm, [term(dev, weight_eur_per_kwh * dt)], "objective_settle")
    return out


#: the cost item of a settled day's deviation from its day-ahead position
IMBALANCE = "electricity_imbalance"


def grid_terms(dm: DistrictModel) -> tuple[list[Term], np.ndarray]:
    """The district's net electricity import [kW] per step: the terms and constant of
    every electricity flow with role ``import`` or ``export`` (exports are negative)."""
    terms: list[Term] = []
    const = np.zeros(dm.inputs.n)
    for f in dm.flows:
        if f.carrier == "electricity" and f.role in ("import", "export"):
            terms += f.terms
            if f.constant is not None:
                const += f.constant
    return terms, const


def imbalance(dm: DistrictModel, position_kw: np.ndarray, spread_eur_per_kwh: float) -> None:
    r"""Bill a day's deviation from its day-ahead position (single-price imbalance,
    taken against the district: an assumption while no imbalance price series is given):

    .. math:: g_t - \pi_t = s^+_t - s^-_t, \quad
              C_{imb} = \sigma \Delta t \sum_t (s^+_t + s^-_t)

    with ``g`` the net grid import [kW] (:func:`grid_terms`), ``pi`` the position [kW]
    (the plan's net import), ``s+``/``s-`` short and long [kW] and ``sigma`` the spread
    [EUR/kWh]; the cost item ``electricity_imbalance`` joins the objective and the
    results."""
    n, dt = dm.inputs.n, dm.inputs.dt_h
    position = np.asarray(position_kw, dtype=np.float64)
    if position.shape != (n,):
        raise ValueError(f"{position.size} positions for {n} steps")
    with PauseGC():
        blk = pyo.Block()
        dm.model.add_component("imbalance", blk)
        short = add_var(blk, "short", n, 0.0)
        long = add_var(blk, "long", n, 0.0)
        terms, const = grid_terms(dm)
        add_rows(
            blk, "deviation", n, [*terms, term(short, -1.0), term(long, 1.0)],
            equal=position - const, what="day-ahead position",
        )  # fmt: skip
        cost = [term(short, spread_eur_per_kwh * dt), term(long, spread_eur_per_kwh * dt)]
        dm.contributions["imbalance"] = Contribution(cost={IMBALANCE: cost})
        _extend_objective(dm, cost, "objective_imbalance")


def rule_bounds(dm: DistrictModel) -> None:
    """The rule-based controller's stores: an electricity store charges only from the PV
    surplus and discharges only into the deficit of each step,

    .. math:: ch_t \\le \\max(0, s_t), \\quad dis_t \\le \\max(0, -s_t), \\quad
              s_t = \\sum_{generation} \bar g_t - \\sum_{fixed\\ demand} D_t

    (``g`` the generation flows' upper bounds: the PV available; ``D`` the demand flows
    without decisions: the buildings), several stores sharing it in turn; a heat store
    stays idle (the district has no heat surplus to store without a plan). Use with
    :func:`early_charging` (stores then charge and discharge as much as the bounds allow,
    as early as they can)."""
    n = dm.inputs.n
    surplus = np.zeros(n)
    for f in dm.flows:
        if f.carrier != "electricity":
            continue
        if f.role == "generation":
            for t in f.terms:
                ub = np.array(
                    [v.ub if v.ub is not None else 0.0 for v in meta(t.var).data[t.index]]
                )
                np.add.at(surplus, t.row, t.coef * ub)
        elif f.role == "demand" and not f.terms and f.constant is not None:
            surplus += f.constant  # a draw is negative
    for f in dm.flows:
        if f.role != "storage":
            continue
        if f.carrier != "electricity":
            fix_terms(f.terms, 0.0)
            continue
        for t in f.terms:  # (dis, +1) may serve the deficit, (ch, -1) take the surplus
            room = np.maximum(0.0, -surplus if t.coef[0] > 0 else surplus)[t.row]
            for v, r in zip(meta(t.var).data[t.index].tolist(), room, strict=True):
                v.setub(min(v.ub, float(r)) if v.ub is not None else float(r))


# ------------------------------------------------------------------ scenario-based dispatch


@dataclass(frozen=True)
class Ensemble:
    """What :func:`scenarios` builds: the extensive form of a two-stage plan.

    ``model`` is the parent Pyomo model; ``members[m].model`` is its sub-block
    ``member_<m>`` (each member's district model, built as ever from that member's
    forecast); ``block`` (``model.ensemble``) holds the first stage (``position``, the
    day-ahead net import [kW] of the first ``position_steps`` steps), each member's
    imbalance (``short``/``long`` [kW], member-major), cost ``cost[m]`` [EUR] and the
    CVaR variables ``eta`` [EUR] and ``excess[m]`` [EUR] (when a CVaR term is asked)."""

    model: pyo.ConcreteModel
    members: tuple[DistrictModel, ...]
    weights: np.ndarray
    block: pyo.Block
    position: pyo.Var
    cost: pyo.Var
    position_steps: int
    commit_steps: int
    spread_eur_per_kwh: float
    cvar_alpha: float | None = None
    cvar_weight: float = 0.0

    def costs(self) -> np.ndarray:
        """Each member's cost in the solution now in the model [EUR]."""
        from pecopt.model.linear import values

        return values(self.cost)

    def expected_cost(self) -> float:
        """``sum_m p_m cost_m`` [EUR]."""
        return float(self.weights @ self.costs())

    def cvar(self, alpha: float | None = None) -> float:
        """The conditional value at risk of the members' costs at level ``alpha`` (default:
        the ensemble's) [EUR]: the weighted mean of the worst ``1 - alpha`` of the
        probability mass (Rockafellar and Uryasev 2000; computed from the solution's
        costs, not read from ``eta``, so that it holds at any first stage)."""
        return cvar_of(self.costs(), self.weights, self.cvar_alpha if alpha is None else alpha)

    def fix_first_stage(
        self,
        position_kw: np.ndarray,
        targets: Mapping[tuple[str, str, str], np.ndarray],
    ) -> None:
        """Fix the first stage at another plan's (the deterministic plan, for the value of
        the stochastic solution): the position [kW] and the committed steps of every
        decided flow of member 0 at ``targets`` [kW] (non-anticipativity carries them
        to every member): the rows ``flow_0[t] = target[t]`` join the block as
        ``fixed_first_stage`` (removed by :meth:`free_first_stage`)."""
        pos = np.asarray(position_kw, dtype=np.float64)[: self.position_steps]
        for v, x in zip(meta(self.position).data.tolist(), pos.tolist(), strict=True):
            v.fix(x)
        dm = self.members[0]
        terms: list[Term] = []
        rhs: list[np.ndarray] = []
        k = 0
        for f in _committed(dm):
            key = (f.asset, f.carrier, f.role)
            if key not in targets:
                continue
            steps = _steps(f, self.commit_steps)
            row_of = np.full(dm.inputs.n, -1, np.int64)
            row_of[steps] = k + np.arange(steps.size)
            terms += [
                Term(t.var, t.index[t.row < self.commit_steps], t.coef[t.row < self.commit_steps],
                     row_of[t.row[t.row < self.commit_steps]])
                for t in f.terms
            ]  # fmt: skip
            c = np.zeros(dm.inputs.n) if f.constant is None else f.constant
            rhs.append(np.asarray(targets[key], float)[steps] - c[steps])
            k += steps.size
        if k:
            add_rows(self.block, "fixed_first_stage", k, terms, equal=np.concatenate(rhs),
                     what="the other plan's first stage")  # fmt: skip

    def free_first_stage(self) -> None:
        """Undo :meth:`fix_first_stage`."""
        for v in meta(self.position).data.tolist():
            v.unfix()
        if self.block.component("fixed_first_stage") is not None:
            self.block.del_component("fixed_first_stage")


def cvar_of(costs: np.ndarray, weights: np.ndarray, alpha: float | None) -> float:
    r"""CVaR of a discrete cost distribution at level ``alpha`` [EUR]:

    .. math:: CVaR_\alpha = \min_\eta \; \eta + \frac{1}{1 - \alpha} \sum_m p_m
              \max(0, c_m - \eta)

    whose minimum is at the ``alpha``-quantile of the costs, so it is evaluated at each
    member's cost and the least value kept. ``alpha`` None: the expected cost."""
    c = np.asarray(costs, dtype=np.float64)
    p = np.asarray(weights, dtype=np.float64)
    if alpha is None:
        return float(p @ c)
    return float(min(eta + (p @ np.maximum(0.0, c - eta)) / (1.0 - alpha) for eta in c))


#: roles whose set-points a scenario-based plan shares among its members: the stores'
#: charge and discharge and flexible demand (EV charging); conversions (heat pumps,
#: boilers) follow each member's heat demand (a member with less heat than the plan's
#: conversions make would have nowhere to put it)
COMMITTED = ("storage", "demand")


def _committed(dm: DistrictModel, roles: Sequence[str] = COMMITTED) -> list[Flow]:
    """The flows of ``roles`` a plan decides (with decisions)."""
    return [f for f in dm.flows if f.role in roles and f.terms]


def _steps(f: Flow, before: int) -> np.ndarray:
    """The steps ``< before`` where flow ``f`` has decisions."""
    steps = np.unique(np.concatenate([t.row for t in f.terms]))
    out: np.ndarray = steps[steps < before]
    return out


def _money_of(dm: DistrictModel) -> tuple[list[Term], float]:
    """The terms and constant of a member's active objective [EUR], which must be a
    minimisation of money (the cost stage, penalties included)."""
    (obj,) = [o for o in dm.model.component_data_objects(pyo.Objective, active=True)]
    om: ObjectiveMeta = obj.parent_component()._pecopt
    if om.sense != pyo.minimize or dm.stages[0].name != "cost":
        raise ValueError("scenario-based dispatch needs a cost objective (objective.kind cost)")
    return list(om.terms), float(om.constant)


def scenarios(
    members: Sequence[DistrictModel],
    weights: Sequence[float] | None = None,
    *,
    position_steps: int,
    commit_steps: int,
    spread_eur_per_kwh: float,
    cvar_alpha: float | None = None,
    cvar_weight: float = 0.0,
) -> Ensemble:
    r"""The extensive form of a two-stage plan over ``members``: the one district model
    built from each member's forecast (same scenario, same start state: the models differ
    only in their data), each under a parent model as ``member_<m>``, linked by the first
    stage (Birge and Louveaux, *Introduction to Stochastic Programming*, 2011, ch. 3).

    **First stage** (shared by all members):

    - the day-ahead position ``P_t`` [kW], the net grid import bought day-ahead, for the
      first ``position_steps`` steps (the delivery day);
    - the set-points of the first ``commit_steps`` steps: every store's and every
      flexible demand's flow (roles :data:`COMMITTED` with decisions) of member ``m``
      equals member 0's (non-anticipativity),
      ``x_{m,f,t} = x_{0,f,t}`` for ``t < commit_steps``.

    **Second stage** (per member ``m``, recourse): everything else, in particular the
    member's grid import ``g_{m,t}`` and its imbalance against the position, billed at
    the spread ``sigma`` [EUR/kWh] over the spot price (as :func:`imbalance` settles a
    day):

    .. math:: g_{m,t} - P_t = s^+_{m,t} - s^-_{m,t}, \quad
              C_m = obj_m + \sigma \Delta t \sum_{t < T_{DA}} (s^+_{m,t} + s^-_{m,t})

    with ``obj_m`` the member's own objective (cost stage, penalties and the end value
    of stored energy) [EUR]. The objective is the expected cost, plus ``lambda`` times the
    CVaR at level ``alpha`` when ``cvar_alpha`` is given (Rockafellar and Uryasev 2000):

    .. math:: \min \sum_m p_m C_m + \lambda \Big(\eta + \frac{1}{1-\alpha}
              \sum_m p_m u_m\Big), \quad u_m \ge C_m - \eta, \; u_m \ge 0

    Conversions (heat pumps, boilers) are recourse: they follow each member's heat
    demand. Each member's own objective is deactivated; its imbalance joins its results as the
    cost item ``electricity_imbalance``. ``weights`` default to ``1/M``.

    Raises
    ------
    ValueError
        No member, weights that are not a distribution, members that do not share their
        flows, an objective that is not cost, or ``alpha`` outside ``[0, 1)``.
    """
    dms = tuple(members)
    if not dms:
        raise ValueError("no member")
    p = np.full(len(dms), 1.0 / len(dms)) if weights is None else np.asarray(weights, float)
    if p.shape != (len(dms),) or (p < 0).any() or abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"weights must be {len(dms)} non-negative numbers summing to 1")
    if cvar_alpha is not None and not 0.0 <= cvar_alpha < 1.0:
        raise ValueError(f"CVaR level must be in [0, 1), got {cvar_alpha}")
    keys = [[(f.asset, f.carrier, f.role) for f in _committed(dm)] for dm in dms]
    n = dms[0].inputs.n
    if any(k != keys[0] for k in keys) or any(dm.inputs.n != n for dm in dms):
        raise ValueError("members must be the same district on the same horizon")
    if not 0 <= position_steps <= n or not 0 <= commit_steps <= n:
        raise ValueError(f"first-stage steps must be within the horizon's {n}")
    with PauseGC():
        return _scenarios(dms, p, position_steps, commit_steps, spread_eur_per_kwh,
                          cvar_alpha, cvar_weight)  # fmt: skip


def _scenarios(
    dms: tuple[DistrictModel, ...],
    p: np.ndarray,
    position_steps: int,
    commit_steps: int,
    spread: float,
    alpha: float | None,
    weight: float,
) -> Ensemble:
    big = pyo.ConcreteModel(name="ensemble")
    money = [_money_of(dm) for dm in dms]
    for k, dm in enumerate(dms):
        for obj in dm.model.component_data_objects(pyo.Objective, active=True):
            obj.deactivate()
        big.add_component(f"member_{k}", dm.model)
    blk = pyo.Block()
    big.add_component("ensemble", blk)
    m_count, npos, dt = len(dms), position_steps, dms[0].inputs.dt_h
    position = add_var(blk, "position", npos, -np.inf, np.inf)
    short = add_var(blk, "short", m_count * npos, 0.0)
    long = add_var(blk, "long", m_count * npos, 0.0)
    cost = add_var(blk, "cost", m_count, -np.inf, np.inf)
    rows = np.arange(npos)
    dev_terms: list[Term] = []
    dev_rhs: list[np.ndarray] = []
    cost_terms: list[Term] = []
    cost_rhs = np.zeros(m_count)
    for k, dm in enumerate(dms):
        g_terms, g_const = grid_terms(dm)
        mine = rows + k * npos
        dev_terms += [
            Term(t.var, t.index[t.row < npos], t.coef[t.row < npos], t.row[t.row < npos] + k * npos)
            for t in g_terms
        ]
        dev_terms += [term(position, -1.0, rows, mine), term(short, -1.0, mine, mine),
                      term(long, 1.0, mine, mine)]  # fmt: skip
        dev_rhs.append(-g_const[:npos])
        imb = [term(short, spread * dt, mine, np.zeros(npos, np.int64)),
               term(long, spread * dt, mine, np.zeros(npos, np.int64))]  # fmt: skip
        dm.contributions["imbalance"] = Contribution(cost={IMBALANCE: imb})
        obj_terms, constant = money[k]
        one = np.full(1, k, np.int64)
        cost_terms += [term(cost, 1.0, one, one)]
        cost_terms += [Term(t.var, t.index, -t.coef, np.full(t.index.size, k, np.int64))
                       for t in [*obj_terms, *imb]]  # fmt: skip
        cost_rhs[k] = constant
    if npos:
        add_rows(blk, "deviation", m_count * npos, dev_terms, equal=np.concatenate(dev_rhs),
                 what="day-ahead position")  # fmt: skip
    add_rows(blk, "cost_is", m_count, cost_terms, equal=cost_rhs, what="member cost")
    na_terms: list[Term] = []
    na_rhs: list[np.ndarray] = []
    r = 0
    base = dms[0]
    for j, f0 in enumerate(_committed(base)):
        steps = _steps(f0, commit_steps)
        if not steps.size:
            continue
        c0 = np.zeros(base.inputs.n) if f0.constant is None else f0.constant
        for dm in dms[1:]:
            fm = _committed(dm)[j]
            row_of = np.full(base.inputs.n, -1, np.int64)
            row_of[steps] = r + np.arange(steps.size)
            for t, sign in [*((t, 1.0) for t in fm.terms), *((t, -1.0) for t in f0.terms)]:
                keep = t.row < commit_steps
                na_terms.append(Term(t.var, t.index[keep], sign * t.coef[keep],
                                     row_of[t.row[keep]]))  # fmt: skip
            cm = np.zeros(base.inputs.n) if fm.constant is None else fm.constant
            na_rhs.append((c0 - cm)[steps])
            r += steps.size
    if r:
        add_rows(blk, "same_first_stage", r, na_terms, equal=np.concatenate(na_rhs),
                 what="non-anticipativity")  # fmt: skip
    objective = [term(cost, p)]
    if alpha is not None and weight > 0:
        eta = add_var(blk, "eta", 1, -np.inf, np.inf)
        excess = add_var(blk, "excess", m_count, 0.0)
        idx = np.arange(m_count)
        zero = np.zeros(m_count, np.int64)
        tail = [term(excess, 1.0), term(cost, -1.0), term(eta, 1.0, zero, idx)]
        add_rows(blk, "tail", m_count, tail, lower=0.0, what="CVaR tail")
        objective += [term(eta, weight), term(excess, weight * p / (1.0 - alpha))]
    add_objective(big, objective)
    return Ensemble(big, dms, p, blk, position, cost, position_steps, commit_steps, spread,
                    alpha, weight)  # fmt: skip

"""The district model: one Pyomo Block per technology, bus balances, targets and the
objective, all from the technologies' tagged flows.

For each carrier c that any flow names, and each step t:

    sum_{flows f on c} f[t] = 0                                        (bus balance)

Emissions follow from the flows' emission factors: flow f emits
``co2_f[t] * f[t] * dt`` [kg CO2e] (an export, a negative flow, earns a credit). Under
typical periods every per-step energy sum counts each step ``weight[t]`` times
(``dt`` becomes ``dtw[t] = dt weight[t]``).

**Targets** (``targets:``), over the import and export flows whatever their technology,
``Y`` the horizon in years:

    final energy:     sum_t sum_{f in imp, exp} f[t] dt       <= -margin Y   (surplus >= margin)
    weighted energy:  sum_t sum_{f in imp, exp} w_f f[t] dt   <= -margin Y
    GHG:              net emissions                           <= -margin Y
    CO2 cap:          net emissions                           <= cap Y

each with a slack at a penalty when ``shortfall_penalty_eur_per_kwh`` is given.

**Objective, in stages** (lexicographic; ``objective.kind``):

- ``cost``:          penalties + cost items + carbon price x priced emissions   [EUR]
- ``cost_co2_cap``:  the same, with net emissions <= co2_cap_kg
- ``emissions``:     1. penalties [EUR] (energy not served, targets missed: served first),
                     2. net emissions [kg CO2e], 3. cost [EUR]

A later stage keeps each earlier stage within ``objective.tie_tolerance`` (relative) of its
optimum, so an emissions optimum is also the cheapest such plan: no simultaneous import
and export, no fee on a peak that nothing needs. The Pyomo objective is the first stage;
:func:`pecopt.api.solve` runs the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from pecopt.inputs import DistrictInputs
from pecopt.model.linear import FloatArray, Term, add_objective, add_rows, add_var
from pecopt.model.registry import TECHNOLOGIES
from pecopt.model.technology import Contribution, Flow


@dataclass(frozen=True)
class Emission:
    """The emissions of one flow: ``sum(terms)`` per step plus ``constant`` [kg CO2e]."""

    source: str
    role: str
    terms: tuple[Term, ...]
    constant: FloatArray


@dataclass(frozen=True)
class Stage:
    """One stage of a lexicographic objective: minimise ``sum(terms) + constant``.

    ``terms`` are one sum (every term's ``row`` is 0), so that the same terms make the
    objective and the single row that keeps the stage's optimum in later stages."""

    name: str
    unit: str
    terms: tuple[Term, ...]
    constant: float = 0.0


@dataclass(frozen=True)
class DistrictModel:
    """The built Pyomo model, every block's contribution, the targets' rows and the
    objective's stages."""

    model: pyo.ConcreteModel
    inputs: DistrictInputs
    contributions: dict[str, Contribution]
    stages: list[Stage] = field(default_factory=list)
    targets: dict[str, tuple[tuple[Term, ...], float, float]] = field(default_factory=dict)
    """name -> (terms of the achieved value, constant, limit): ``value <= limit``."""
    balances: dict[str, pyo.Constraint] = field(default_factory=dict)
    """carrier -> its bus balance rows ``balance_<carrier>`` (one per step, in kW)."""

    @property
    def flows(self) -> list[Flow]:
        return [f for c in self.contributions.values() for f in c.flows]

    @property
    def carriers(self) -> list[str]:
        """Every carrier a flow names, in order of first appearance."""
        return list(dict.fromkeys(f.carrier for f in self.flows))

    def terms(self, kind: str) -> dict[str, list[Term]]:
        """All ``cost``, ``penalty`` or ``unmet`` terms by item."""
        out: dict[str, list[Term]] = {}
        for c in self.contributions.values():
            for k, v in getattr(c, kind).items():
                out.setdefault(k, []).extend(v)
        return out

    def emissions(self) -> list[Emission]:
        """The emissions of every flow that carries an emission factor."""
        dtw, n = self.inputs.common.dtw, self.inputs.n
        out = []
        for f in self.flows:
            if f.co2_kg_per_kwh is None:
                continue
            factor = np.broadcast_to(np.asarray(f.co2_kg_per_kwh, float), (n,)) * dtw
            terms = tuple(Term(t.var, t.index, t.coef * factor[t.row], t.row) for t in f.terms)
            const = np.zeros(n) if f.constant is None else f.constant * factor
            out.append(Emission(f"{f.asset}_{f.role}", f.role, terms, const))
        return out

    def counted(self, f: Flow) -> bool:
        """Whether a flow crosses the PED boundary (``ped.boundary``): imports and exports,
        except functionally tied imports under a functional or virtual boundary."""
        if f.role not in ("import", "export"):
            return False
        boundary = self.inputs.scenario.ped.boundary
        return not (f.functional and boundary in ("functional", "virtual"))

    def exchange(self, weighted: bool) -> tuple[list[Term], float]:
        """``sum_t sum_{import, export flows} w f[t] dt`` as (terms, constant) [kWh], less
        the contracted virtual supply under a virtual boundary: the negative of the PED
        surplus (w = 1, or each flow's ``ped_weight``)."""
        dtw = self.inputs.common.dtw
        terms: list[Term] = []
        ped = self.inputs.scenario.ped
        years = self.inputs.common.years
        const = -sum(
            v.kwh_per_yr * years * (v.ped_weight if weighted else 1.0) for v in ped.virtual_supply
        )
        for f in self.flows:
            if not self.counted(f):
                continue
            w = (1.0 if f.ped_weight is None else f.ped_weight) if weighted else 1.0
            terms += [
                Term(t.var, t.index, t.coef * w * dtw[t.row], np.zeros_like(t.row)) for t in f.terms
            ]
            if f.constant is not None:
                const += float(f.constant @ dtw) * w
        return terms, const


def build_model(inputs: DistrictInputs) -> DistrictModel:
    """Build the whole district model from frozen inputs: one block per technology
    present, in registry order, then the bus balances, the targets and the objective.

    Python's cyclic garbage collector is paused while the model's 10^5-10^6 Pyomo objects
    are made: otherwise each collection rescans every object made so far (on the Kera
    year this halves the build time; Pyomo's own writers do the same).
    """
    with PauseGC():
        return _build(inputs)


def _build(inputs: DistrictInputs) -> DistrictModel:
    m = pyo.ConcreteModel(name=inputs.common.name)
    contributions: dict[str, Contribution] = {}
    for key, tech in TECHNOLOGIES.items():
        if key not in inputs.data:
            continue
        block = pyo.Block()
        m.add_component(key, block)
        c = tech.build(block, inputs.data[key], inputs.common)
        if c is not None:
            contributions[key] = c
    dm = DistrictModel(m, inputs, contributions)
    _balances(m, dm)
    _targets(m, dm)
    dm.stages.extend(_stages(dm))
    first = dm.stages[0]
    add_objective(m, list(first.terms), constant=first.constant)
    return dm


def _balances(m: pyo.ConcreteModel, dm: DistrictModel) -> None:
    n = dm.inputs.n
    for carrier in dm.carriers:
        terms: list[Term] = []
        rhs = np.zeros(n)
        for f in dm.flows:
            if f.carrier != carrier:
                continue
            terms += f.terms
            if f.constant is not None:
                rhs -= f.constant
        dm.balances[carrier] = add_rows(
            m, f"balance_{carrier}", n, terms, equal=rhs, what=f"{carrier} balance"
        )


def _flat(terms: list[Term] | tuple[Term, ...], scale: float = 1.0) -> list[Term]:
    return [Term(t.var, t.index, t.coef * scale, np.zeros_like(t.row)) for t in terms]


def _net_emissions(dm: DistrictModel) -> tuple[list[Term], float]:
    em = dm.emissions()
    return _flat([t for e in em for t in e.terms]), float(sum(e.constant.sum() for e in em))


def _targets(m: pyo.ConcreteModel, dm: DistrictModel) -> None:
    """Target rows ``value <= limit`` (a slack at a penalty where one is given)."""
    t = dm.inputs.scenario.targets
    years = dm.inputs.common.years
    rows: list[tuple[str, list[Term], float, float, float | None]] = []
    for k, ped in enumerate(t.ped):
        if ped.basis == "ghg":
            terms, const = _net_emissions(dm)
        else:
            terms, const = dm.exchange(weighted=ped.basis == "weighted_energy")
        name = f"ped_{ped.basis}" + (f"_{k}" if len(t.ped) > 1 else "")
        rows.append(
            (name, terms, const, -ped.margin_per_yr * years, ped.shortfall_penalty_eur_per_kwh)
        )
    if t.co2_max_kg_per_yr is not None:
        terms, const = _net_emissions(dm)
        rows.append(("co2_max", terms, const, t.co2_max_kg_per_yr * years, None))
    obj = dm.inputs.common.objective
    if obj.kind == "cost_co2_cap":
        assert obj.co2_cap_kg is not None
        terms, const = _net_emissions(dm)
        rows.append(("co2_cap", terms, const, obj.co2_cap_kg, None))
    if not rows:
        return
    block = pyo.Block()
    m.add_component("targets", block)
    penalties = Contribution()
    for name, terms, const, limit, penalty in rows:
        row_terms = list(terms)
        if penalty is not None:
            slack = add_var(block, f"{name}_shortfall", 1, 0.0)
            one = np.zeros(1, np.int64)
            row_terms.append(Term(slack, one, -np.ones(1), one))
            penalties.penalty[f"target_{name}_penalty"] = [
                Term(slack, one, np.array([penalty]), one)
            ]
            penalties.unmet[f"target_{name}"] = [Term(slack, one, np.ones(1), one)]
        add_rows(block, name, 1, row_terms, upper=limit - const, what=f"target {name}")
        dm.targets[name] = (tuple(terms), const, limit)
    dm.contributions["targets"] = penalties


def _stages(dm: DistrictModel) -> list[Stage]:
    obj = dm.inputs.common.objective
    cost = [t for ts in dm.terms("cost").values() for t in ts]
    penalty = [t for ts in dm.terms("penalty").values() for t in ts]
    emissions = dm.emissions()
    net, net_const = _net_emissions(dm)
    if obj.carbon_priced_on == "net":
        priced, priced_const = net, net_const
    else:
        imports = [e for e in emissions if e.role == "import"]
        priced = _flat([t for e in imports for t in e.terms])
        priced_const = float(sum(e.constant.sum() for e in imports))
    cp = obj.carbon_price_eur_per_kg
    carbon = _flat(priced, cp) if cp > 0 else []
    money = Stage(
        "cost", "EUR", tuple(_flat(penalty + cost) + carbon), cp * priced_const if cp > 0 else 0.0
    )
    if obj.kind != "emissions":
        return [money]
    out = []
    if penalty:
        out.append(Stage("penalties", "EUR", tuple(_flat(penalty))))
    out.append(Stage("emissions", "kg CO2e", tuple(net), net_const))
    out.append(money)
    return out

"""The district model: one Pyomo Block per technology, bus balances and the objective,
all from the technologies' tagged flows.

For each carrier c that any flow names, and each step t:

    sum_{flows f on c} f[t] = 0                                        (bus balance)

Emissions follow from the flows' emission factors: flow f emits
``co2_f[t] * f[t] * dt`` [kg CO2e] (an export, a negative flow, earns a credit).

Objective (``objective.kind``):

- ``cost``:        sum of cost items + carbon_price * priced emissions   [EUR]
- ``emissions``:   net emissions                                         [kg CO2e]
- ``cost_co2_cap``: ``cost`` subject to net emissions <= co2_cap_kg

Priced emissions are those of import flows (``carbon_priced_on: imports``) or of every
flow with a factor, export credit included (``net``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.linear import FloatArray, Term, add_objective, add_rows
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
class DistrictModel:
    """The built Pyomo model and every block's contribution (for extraction)."""

    model: pyo.ConcreteModel
    inputs: DistrictInputs
    contributions: dict[str, Contribution]

    @property
    def flows(self) -> list[Flow]:
        return [f for c in self.contributions.values() for f in c.flows]

    @property
    def carriers(self) -> list[str]:
        """Every carrier a flow names, in order of first appearance."""
        return list(dict.fromkeys(f.carrier for f in self.flows))

    def terms(self, kind: str) -> dict[str, list[Term]]:
        """All ``cost`` or ``unmet`` terms by item."""
        out: dict[str, list[Term]] = {}
        for c in self.contributions.values():
            for k, v in getattr(c, kind).items():
                out.setdefault(k, []).extend(v)
        return out

    def emissions(self) -> list[Emission]:
        """The emissions of every flow that carries an emission factor."""
        dt, n = self.inputs.dt_h, self.inputs.n
        out = []
        for f in self.flows:
            if f.co2_kg_per_kwh is None:
                continue
            factor = np.broadcast_to(np.asarray(f.co2_kg_per_kwh, float), (n,))
            terms = tuple(Term(t.var, t.index, t.coef * factor[t.row] * dt, t.row) for t in f.terms)
            const = np.zeros(n) if f.constant is None else f.constant * factor * dt
            out.append(Emission(f"{f.asset}_{f.role}", f.role, terms, const))
        return out


def build_model(inputs: DistrictInputs) -> DistrictModel:
    """Build the whole district model from frozen inputs: one block per technology
    present, in registry order, then the bus balances and the objective."""
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
    _objective(m, dm)
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
        add_rows(m, f"balance_{carrier}", n, terms, equal=rhs, what=f"{carrier} balance")


def _flat(terms: list[Term], scale: float = 1.0) -> list[Term]:
    return [Term(t.var, t.index, t.coef * scale, np.zeros_like(t.row)) for t in terms]


def _objective(m: pyo.ConcreteModel, dm: DistrictModel) -> None:
    obj = dm.inputs.common.objective
    cost = [t for ts in dm.terms("cost").values() for t in ts]
    emissions = dm.emissions()
    net = [t for e in emissions for t in e.terms]
    net_const = float(sum(e.constant.sum() for e in emissions))
    if obj.carbon_priced_on == "net":
        priced, priced_const = net, net_const
    else:
        imports = [e for e in emissions if e.role == "import"]
        priced = [t for e in imports for t in e.terms]
        priced_const = float(sum(e.constant.sum() for e in imports))
    cp = obj.carbon_price_eur_per_kg
    carbon = _flat(priced, cp) if cp > 0 else []
    if obj.kind == "emissions":
        add_objective(m, net, constant=net_const)
        return
    if obj.kind == "cost_co2_cap":
        assert obj.co2_cap_kg is not None
        add_rows(m, "co2_cap", 1, _flat(net), upper=obj.co2_cap_kg - net_const, what="CO2 cap")
    add_objective(m, cost + carbon, constant=cp * priced_const if cp > 0 else 0.0)

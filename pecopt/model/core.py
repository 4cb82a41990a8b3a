"""The district model: one Pyomo Block per technology, bus balances and the objective.

For each carrier c in {electricity, heat} and step t:

    sum_{assets a} inj_{a,c}[t] = 0                                    (bus balance)

Objective (``objective.kind``):

- ``cost``:        sum of cost items + carbon_price * priced emissions  [EUR]
- ``emissions``:   net emissions (imports minus export credit)          [kg CO2e]
- ``cost_co2_cap``: ``cost`` subject to net emissions <= co2_cap_kg

Priced emissions are the import sources (``carbon_priced_on: imports``) or all sources
including export credit (``net``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.interface import Contribution, Injection
from pecopt.model.linear import Term, add_objective, add_rows
from pecopt.model.registry import REGISTRY
from pecopt.units import CARRIERS


@dataclass(frozen=True)
class DistrictModel:
    """The built Pyomo model and every block's contribution (for extraction)."""

    model: pyo.ConcreteModel
    contributions: dict[str, Contribution]

    @property
    def injections(self) -> list[Injection]:
        return [i for c in self.contributions.values() for i in c.injections]

    def terms(self, kind: str) -> dict[str, list[Term]]:
        """All ``cost``, ``emissions``, ``unmet`` or ``delivered`` terms by item."""
        out: dict[str, list[Term]] = {}
        for c in self.contributions.values():
            for k, v in getattr(c, kind).items():
                out.setdefault(k, []).extend(v)
        return out

    @property
    def import_sources(self) -> set[str]:
        return set().union(*(c.import_sources for c in self.contributions.values()))


def build_model(inputs: DistrictInputs) -> DistrictModel:
    """Build the whole district model from frozen inputs."""
    m = pyo.ConcreteModel(name=inputs.name)
    contributions: dict[str, Contribution] = {}
    for name, builder in REGISTRY.items():
        block = pyo.Block()
        m.add_component(name, block)
        c = builder(block, inputs)
        if c is not None:
            contributions[name] = c
    dm = DistrictModel(m, contributions)
    _balances(m, inputs, dm.injections)
    _objective(m, inputs, dm)
    return dm


def _balances(m: pyo.ConcreteModel, inputs: DistrictInputs, injections: list[Injection]) -> None:
    for carrier in CARRIERS:
        terms: list[Term] = []
        rhs = np.zeros(inputs.n)
        for inj in injections:
            if inj.carrier != carrier:
                continue
            terms += inj.terms
            if inj.constant is not None:
                rhs -= inj.constant
        add_rows(m, f"balance_{carrier}", inputs.n, terms, equal=rhs, what=f"{carrier} balance")


def _objective(m: pyo.ConcreteModel, inputs: DistrictInputs, dm: DistrictModel) -> None:
    obj = inputs.objective
    cost = [t for ts in dm.terms("cost").values() for t in ts]
    emissions = dm.terms("emissions")
    net = [t for ts in emissions.values() for t in ts]
    priced = (
        net
        if obj.carbon_priced_on == "net"
        else [t for k, ts in emissions.items() if k in dm.import_sources for t in ts]
    )
    cp = obj.carbon_price_eur_per_kg
    carbon = [Term(t.var, t.index, t.coef * cp, t.row) for t in priced] if cp > 0 else []
    if obj.kind == "emissions":
        add_objective(m, net)
        return
    if obj.kind == "cost_co2_cap":
        assert obj.co2_cap_kg is not None
        zero_rows = [Term(t.var, t.index, t.coef, np.zeros_like(t.row)) for t in net]
        add_rows(m, "co2_cap", 1, zero_rows, upper=obj.co2_cap_kg, what="CO2 cap")
    add_objective(m, cost + carbon)

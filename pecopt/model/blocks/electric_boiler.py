"""Electric boilers: ``p[t] in [0, P]`` [kW] of electricity, heat ``eta p[t]`` at any
temperature the district needs (delivered to the hot-water bus; the heat cascade passes
it on to space heating).

    conversion flows:  electricity -p[t],  hot_water eta p[t]
"""

from __future__ import annotations

from collections.abc import Sequence

import pyomo.environ as pyo

from pecopt.model.capacity import capacity
from pecopt.model.linear import add_var, term
from pecopt.model.technology import Common, Contribution, Flow, Technology
from pecopt.scenario.types import Capacity, Efficiency, Strict
from pecopt.units import ELECTRICITY, HOT_WATER


class ElectricBoiler(Strict):
    """An electric boiler heating the hot-water bus."""

    name: str
    """The boiler's name."""
    capacity_kw: Capacity
    """Electric input [kW] (``P``): a number, or a Size the optimiser chooses."""
    efficiency: Efficiency = 0.99
    """Heat out per electricity in [1]."""


def build(block: pyo.Block, units: Sequence[ElectricBoiler], common: Common) -> Contribution:
    out = Contribution()
    for spec in units:
        b = pyo.Block()
        block.add_component(spec.name, b)
        cap = capacity(b, "power_kw", spec.capacity_kw)
        p = add_var(b, "p", common.n, 0.0, cap.upper)
        cap.bound(p)
        if cap.sized:
            cap.limit(b, "max", [term(p, 1.0)], common.n)
            out.cost.setdefault("investment", []).extend(cap.cost(common))
        out.flows += [
            Flow(spec.name, ELECTRICITY, "conversion", (term(p, -1.0),)),
            Flow(spec.name, HOT_WATER, "conversion", (term(p, spec.efficiency),)),
        ]
        out.capacities[spec.name] = {"power_kw": cap.amount()}
    return out


TECHNOLOGY = Technology(key="electric_boilers", unit=ElectricBoiler, build=build)

"""Heat pumps (air or ground source) and electric boilers.

Heat pump, per unit: electric input ``p[t] in [0, P]`` [kW]; heat ``COP[t] p[t]``.

    inj_elec[t] = -p[t],     inj_heat[t] = COP[t] p[t]

Minimum part load ``m`` (a real on/off decision, so binaries are always needed when
``m > 0`` unless ``binaries: never`` asks for the LP relaxation): ``u[t] in {0, 1}``,

    m P u[t] <= p[t] <= P u[t]

COP is computed in ingest (:func:`pecopt.ingest.cop.cop_carnot`) or read from a file.

Electric boiler: ``p[t] in [0, P]``, heat ``eta p[t]``.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.interface import Contribution, Injection, need_binaries
from pecopt.model.linear import add_rows, add_var, term
from pecopt.units import ELECTRICITY, HEAT


def build_heat_pumps(block: pyo.Block, inputs: DistrictInputs) -> Contribution | None:
    if not inputs.heat_pumps:
        return None
    out = Contribution()
    n = inputs.n
    for hp in inputs.heat_pumps:
        spec = hp.spec
        b = pyo.Block()
        block.add_component(spec.name, b)
        p = add_var(b, "p", n, 0.0, spec.capacity_kw_el)
        if spec.min_part_load > 0 and spec.capacity_kw_el > 0:
            us = need_binaries(inputs, np.ones(n, bool), spec.binaries)
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
        out.injections += [
            Injection(spec.name, ELECTRICITY, (term(p, -1.0),)),
            Injection(spec.name, HEAT, (term(p, hp.cop),)),
        ]
    return out


def build_boilers(block: pyo.Block, inputs: DistrictInputs) -> Contribution | None:
    if not inputs.boilers:
        return None
    out = Contribution()
    for spec in inputs.boilers:
        b = pyo.Block()
        block.add_component(spec.name, b)
        p = add_var(b, "p", inputs.n, 0.0, spec.capacity_kw)
        out.injections += [
            Injection(spec.name, ELECTRICITY, (term(p, -1.0),)),
            Injection(spec.name, HEAT, (term(p, spec.efficiency),)),
        ]
    return out

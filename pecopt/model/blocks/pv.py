"""Rooftop PV with curtailment.

Variable ``pv[a, t] in [0, A[a, t]]`` [kW], the AC power used of the available ``A``;
the rest is curtailed. ``inj_elec[t] = sum_a pv[a, t]``. One vector over all arrays.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.interface import Contribution, Injection
from pecopt.model.linear import add_var, term
from pecopt.units import ELECTRICITY


def build(block: pyo.Block, inputs: DistrictInputs) -> Contribution | None:
    avail = inputs.pv.available_kw
    k, n = avail.shape
    if k == 0:
        return None
    pv = add_var(block, "used", k * n, 0.0, avail.ravel())
    t = np.arange(n)
    return Contribution(
        injections=[
            Injection(name, ELECTRICITY, (term(pv, 1.0, a * n + t, t),))
            for a, name in enumerate(inputs.pv.names)
        ]
    )

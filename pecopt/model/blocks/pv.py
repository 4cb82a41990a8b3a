"""Rooftop PV with curtailment.

All arrays feed the same bus at the same price, so curtailing one array or another is
the same decision: pecopt keeps one variable for the district's PV,

    0 <= pv[t] <= A[t] = sum_a A[a, t]          [kW]   (the rest is curtailed)

and reports each array's output pro rata, ``pv[t] A[a, t] / A[t]``. This is exact (any
per-array dispatch has the same total) and saves ``(arrays - 1) * steps`` variables.
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
    total = avail.sum(axis=0)
    pv = add_var(block, "used", n, 0.0, total)
    share = np.divide(avail, total, out=np.full_like(avail, 1.0 / k), where=total > 0)
    t = np.arange(n)
    return Contribution(
        injections=[
            Injection(name, ELECTRICITY, (term(pv, share[a], t, t),))
            for a, name in enumerate(inputs.pv.names)
        ]
    )

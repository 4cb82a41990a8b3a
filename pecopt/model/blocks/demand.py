"""Fixed building demand: a constant draw on each bus.

inj_elec[t] = -D_elec[t],   inj_heat[t] = -D_heat[t]      [kW]
"""

from __future__ import annotations

import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.interface import Contribution, Injection
from pecopt.units import ELECTRICITY, HEAT


def build(block: pyo.Block, inputs: DistrictInputs) -> Contribution:
    """No variables: the demand enters the bus balances as constants."""
    return Contribution(
        injections=[
            Injection("demand", ELECTRICITY, (), -inputs.elec_demand_kw),
            Injection("demand", HEAT, (), -inputs.heat_demand_kw),
        ]
    )

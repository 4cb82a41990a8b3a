"""District-heating connection: import with an energy price and a peak-power fee,
optional export of waste heat.

Variables: import ``d[t] in [0, D]``, export ``x[t] in [0, X]`` [kW]; billing peak
``peak >= 0`` [kW], the highest w-hour average import (Espoo contracts: w = 3 h):

    peak >= (1 / k) sum_{s=t}^{t+k-1} d[s]     for every window start t, k = w / dt
    inj_heat[t] = d[t] - x[t]
    cost = dt sum_t price[t] d[t] + fee * years * peak - dt sum_t export_price x[t]
    co2  = dt sum_t f_dh[t] d[t]

The fee is in EUR per kW per year; ``years`` is the horizon length over 8760 h.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.interface import Contribution, Injection, steps
from pecopt.model.linear import add_rows, add_var, term
from pecopt.units import HEAT


def build(block: pyo.Block, inputs: DistrictInputs) -> Contribution | None:
    spec = inputs.district_heating
    if spec is None:
        return None
    n, dt = inputs.n, inputs.dt_h
    tariff = inputs.dh_tariff
    d = add_var(block, "imp", n, 0.0, spec.import_max_kw)
    t = steps(inputs)
    terms = [term(d, 1.0, t, t)]
    c = Contribution(
        cost={"dh_energy": [term(d, dt * inputs.dh_price_eur_per_kwh)]},
        emissions={"dh_import": [term(d, dt * inputs.dh_co2_kg_per_kwh)]},
        import_sources={"dh_import"},
    )
    if spec.export_max_kw > 0:
        x = add_var(block, "exp", n, 0.0, spec.export_max_kw)
        terms.append(term(x, -1.0, t, t))
        c.cost["dh_export_revenue"] = [term(x, -dt * spec.export_price_eur_per_kwh)]
    c.injections.append(Injection("district_heat", HEAT, tuple(terms)))
    if tariff.power_fee_eur_per_kw_yr > 0:
        k = max(1, min(n, round(tariff.peak_window_h / dt)))
        peak = add_var(block, "peak", 1, 0.0, spec.import_max_kw)
        starts = np.arange(n - k + 1)
        rows = np.repeat(starts, k)
        idx = (starts[:, None] + np.arange(k)[None, :]).ravel()
        add_rows(
            block,
            "peak_window",
            starts.size,
            [
                term(peak, 1.0, np.zeros(starts.size, np.int64), starts),
                term(d, -1.0 / k, idx, rows),
            ],
            lower=0.0,
        )
        c.cost["dh_power_fee"] = [term(peak, tariff.power_fee_eur_per_kw_yr * inputs.years)]
    return c

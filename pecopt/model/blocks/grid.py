"""Grid connection: import and export with limits, prices and emissions.

Variables (per step t, kW): ``imp[t] in [0, P_imp]``, ``exp[t] in [0, P_exp]``.

    inj_elec[t] = imp[t] - exp[t]
    cost = dt * sum_t (spot + margin + network + tax)(1 + vat) imp[t] - export_price[t] exp[t]
    co2  = dt * sum_t f_grid[t] imp[t]   (export credit: -dt * f_grid[t] exp[t], own source)

Exclusivity (binary ``z[t]``: ``imp <= P_imp z``, ``exp <= P_exp (1 - z)``) is needed only
where exporting pays more than importing costs (``export_price >= import_price``), which
positive network fees and taxes rule out; ``binaries: always`` adds it everywhere.
"""

from __future__ import annotations

import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.interface import Contribution, Injection, need_binaries, steps
from pecopt.model.linear import add_rows, add_var, term
from pecopt.units import ELECTRICITY


def build(block: pyo.Block, inputs: DistrictInputs) -> Contribution:
    n, dt, p = inputs.n, inputs.dt_h, inputs.prices
    g = inputs.grid
    imp = add_var(block, "imp", n, 0.0, g.import_max_kw)
    exp = add_var(block, "exp", n, 0.0, g.export_max_kw)
    cp = inputs.objective.carbon_price_eur_per_kg
    import_coef = p.import_total + cp * inputs.grid_co2_kg_per_kwh
    export_coef = p.export + (
        cp * inputs.grid_co2_kg_per_kwh
        if inputs.carbon.export_credit and inputs.objective.carbon_priced_on == "net"
        else 0.0
    )
    zs = need_binaries(inputs, export_coef >= import_coef - 1e-12, g.binaries)
    if zs.size and g.export_max_kw > 0 and g.import_max_kw > 0:
        z = add_var(block, "z", zs.size, binary=True)
        add_rows(
            block, "imp_on", zs.size, [term(imp, 1.0, zs), term(z, -g.import_max_kw)], upper=0.0
        )
        add_rows(
            block,
            "exp_off",
            zs.size,
            [term(exp, 1.0, zs), term(z, g.export_max_kw)],
            upper=g.export_max_kw,
        )
    t = steps(inputs)
    vat = p.vat
    c = Contribution(
        injections=[Injection("grid", ELECTRICITY, (term(imp, 1.0, t), term(exp, -1.0, t)))],
        cost={
            "electricity_spot": [term(imp, dt * p.spot)],
            "electricity_margin": [term(imp, dt * p.retail_margin)],
            "electricity_network": [term(imp, dt * p.network)],
            "electricity_tax": [term(imp, dt * p.tax)],
            "electricity_vat": [
                term(imp, dt * vat * (p.spot + p.retail_margin + p.network + p.tax))
            ],
            "export_revenue": [term(exp, -dt * p.export)],
        },
        emissions={"grid_import": [term(imp, dt * inputs.grid_co2_kg_per_kwh)]},
        import_sources={"grid_import"},
    )
    if inputs.carbon.export_credit:
        c.emissions["grid_export_credit"] = [term(exp, -dt * inputs.grid_co2_kg_per_kwh)]
    return c

"""Storage with losses: batteries (electricity) and thermal stores (heat).

Variables per unit (kW, kWh): charge ``ch[t] in [0, P]``, discharge ``dis[t] in [0, P]``,
energy at the end of step ``soc[t] in [0, E]``.

    soc[t] = (1 - l) soc[t-1] + eta_c dt ch[t] - dt / eta_d dis[t]
    l = 1 - (1 - loss_per_h)^dt                  (standing loss per step)
    soc[-1] = soc[n-1]  (end: cyclic)  or  S0 (given initial level)
    soc[n-1] >= S0      (end: initial)
    inj[t] = dis[t] - ch[t]

Exclusivity binary ``y[t]`` (``ch <= P y``, ``dis <= P (1 - y)``) only where energy can
have a negative value, i.e. where the import price is negative (the district is paid to
consume). Elsewhere charging and discharging at once only burns energy: with a positive
import price that costs money, and a surplus (negative export price) can be curtailed
at PV instead, so it never lowers the cost.
Battery wear is charged on discharged energy: ``wear * dt * sum_t dis[t]`` [EUR].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.interface import Contribution, Injection, ValueOf, need_binaries, steps
from pecopt.model.linear import FloatArray, add_rows, add_var, term
from pecopt.scenario.schema import Battery, ThermalStore
from pecopt.units import ELECTRICITY, HEAT


def _unit(
    block: pyo.Block,
    inputs: DistrictInputs,
    spec: Battery | ThermalStore,
    carrier: str,
    wear: float,
) -> Contribution:
    n, dt = inputs.n, inputs.dt_h
    b = pyo.Block()
    block.add_component(spec.name, b)
    ch = add_var(b, "ch", n, 0.0, spec.power_kw)
    dis = add_var(b, "dis", n, 0.0, spec.power_kw)
    s0 = spec.soc_initial_kwh
    if s0 is not None and s0 > spec.capacity_kwh:
        raise ValueError(f"{spec.name}: soc_initial_kwh exceeds capacity_kwh")
    soc_lb = np.zeros(n)
    if spec.end == "initial" and s0 is not None:
        soc_lb[-1] = s0
    soc = add_var(b, "soc", n, soc_lb, spec.capacity_kwh)
    keep = (1.0 - spec.loss_per_h) ** dt
    t = steps(inputs)
    terms = [term(soc, 1.0), term(ch, -spec.eta_charge * dt), term(dis, dt / spec.eta_discharge)]
    rhs = np.zeros(n)
    if spec.end == "cyclic" or s0 is None:  # no start level given: start = end
        terms.append(term(soc, -keep, np.roll(t, 1)))
    else:
        terms.append(term(soc, -keep, t[:-1], t[1:]))  # predecessor
        rhs[0] = keep * s0
    add_rows(b, "balance", n, terms, equal=rhs)
    p = inputs.prices
    ys = need_binaries(inputs, p.import_total < 0, spec.binaries)
    if ys.size and spec.power_kw > 0:
        y = add_var(b, "y", ys.size, binary=True)
        add_rows(b, "ch_on", ys.size, [term(ch, 1.0, ys), term(y, -spec.power_kw)], upper=0.0)
        add_rows(
            b, "dis_off", ys.size, [term(dis, 1.0, ys), term(y, spec.power_kw)], upper=spec.power_kw
        )
    read: Callable[[ValueOf], FloatArray] = lambda value: value(soc)  # noqa: E731
    c = Contribution(
        injections=[Injection(spec.name, carrier, (term(dis, 1.0), term(ch, -1.0)))],
        storage={spec.name: read},
    )
    if wear > 0:
        c.cost["battery_wear"] = [term(dis, wear * dt)]
    return c


def _merge(parts: list[Contribution]) -> Contribution | None:
    if not parts:
        return None
    out = Contribution()
    for c in parts:
        out.injections += c.injections
        out.storage.update(c.storage)
        for k, v in c.cost.items():
            out.cost.setdefault(k, []).extend(v)
    return out


def build_batteries(block: pyo.Block, inputs: DistrictInputs) -> Contribution | None:
    """One sub-block per battery, on the electricity bus."""
    return _merge(
        [_unit(block, inputs, s, ELECTRICITY, s.wear_eur_per_kwh) for s in inputs.batteries]
    )


def build_thermal_stores(block: pyo.Block, inputs: DistrictInputs) -> Contribution | None:
    """One sub-block per hot-water tank, on the heat bus."""
    return _merge([_unit(block, inputs, s, HEAT, 0.0) for s in inputs.thermal_stores])

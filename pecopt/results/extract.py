"""Turn a solve outcome into tidy tables (pure functions; nothing is written onto inputs).

- schedule: ``timestamp, asset, carrier, flow_kw`` (> 0 supplies the bus)
- storage: ``timestamp, asset, soc_kwh`` (end of step)
- carbon: ``timestamp, source, co2_kg`` (imports > 0, export credit < 0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pecopt.inputs import DistrictInputs
from pecopt.model.core import DistrictModel
from pecopt.model.linear import FloatArray, Term
from pecopt.solve import SolveOutcome


@dataclass(frozen=True)
class Results:
    """Everything a solve produced, as tables and totals."""

    schedule: pd.DataFrame
    storage: pd.DataFrame
    carbon: pd.DataFrame
    cost_items_eur: dict[str, float]
    unmet_kwh: dict[str, float]
    delivered_kwh: dict[str, float]
    grid_import_kw: FloatArray
    grid_export_kw: FloatArray
    dh_import_kw: FloatArray
    dh_export_kw: FloatArray


def per_row(terms: list[Term] | tuple[Term, ...], out: SolveOutcome, n: int) -> FloatArray:
    """``sum(terms)`` evaluated row by row (rows are steps for injections)."""
    acc = np.zeros(n)
    for t in terms:
        np.add.at(acc, t.row, t.coef * out.value(t.var)[t.index])
    return acc


def total(terms: list[Term], out: SolveOutcome) -> float:
    """``sum(terms)`` evaluated over all elements."""
    return float(sum(np.dot(t.coef, out.value(t.var)[t.index]) for t in terms))


def _tile_time(index: pd.DatetimeIndex, k: int) -> pd.DatetimeIndex:
    """``index`` repeated ``k`` times, kept as datetime64 (no Timestamp objects)."""
    return pd.DatetimeIndex(
        np.tile(index.tz_convert("UTC").tz_localize(None).values, k)
    ).tz_localize("UTC")


def extract(inputs: DistrictInputs, dm: DistrictModel, out: SolveOutcome) -> Results:
    n, index = inputs.n, inputs.index
    flows, assets, carriers = [], [], []
    for inj in dm.injections:
        f = per_row(inj.terms, out, n)
        if inj.constant is not None:
            f = f + inj.constant
        flows.append(f)
        assets.append(inj.asset)
        carriers.append(inj.carrier)
    k = len(flows)
    schedule = pd.DataFrame(
        {
            "timestamp": _tile_time(index, k),
            "asset": np.repeat(np.asarray(assets, dtype=object), n),
            "carrier": np.repeat(np.asarray(carriers, dtype=object), n),
            "flow_kw": np.concatenate(flows) if flows else np.zeros(0),
        }
    )
    soc = [
        (name, read(out.value))
        for c in dm.contributions.values()
        for name, read in c.storage.items()
    ]
    storage = pd.DataFrame(
        {
            "timestamp": _tile_time(index, len(soc)),
            "asset": np.repeat(np.asarray([s[0] for s in soc], dtype=object), n),
            "soc_kwh": np.concatenate([s[1] for s in soc]) if soc else np.zeros(0),
        }
    )
    em = dm.terms("emissions")
    carbon = pd.DataFrame(
        {
            "timestamp": _tile_time(index, len(em)),
            "source": np.repeat(np.asarray(list(em), dtype=object), n),
            "co2_kg": np.concatenate([per_row(ts, out, n) for ts in em.values()])
            if em
            else np.zeros(0),
        }
    )
    m = dm.model
    imp, exp = out.value(m.grid.imp), out.value(m.grid.exp)
    if hasattr(m.district_heat, "imp"):
        dh_imp = out.value(m.district_heat.imp)
        dh_exp = out.value(m.district_heat.exp) if hasattr(m.district_heat, "exp") else np.zeros(n)
    else:
        dh_imp = dh_exp = np.zeros(n)
    return Results(
        schedule=schedule,
        storage=storage,
        carbon=carbon,
        cost_items_eur={k: total(v, out) for k, v in dm.terms("cost").items()},
        unmet_kwh={k: total(v, out) for k, v in dm.terms("unmet").items()},
        delivered_kwh={k: total(v, out) for k, v in dm.terms("delivered").items()},
        grid_import_kw=imp,
        grid_export_kw=exp,
        dh_import_kw=dh_imp,
        dh_export_kw=dh_exp,
    )

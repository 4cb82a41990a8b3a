"""Turn a solved model into tidy tables (pure functions of the model's values; nothing is
written onto the inputs).

Values are read from the Pyomo variables (where :func:`pecopt.solver.solve` loaded the
solution), so whatever a user did to the model through Pyomo is what is reported.

- schedule: ``timestamp, asset, carrier, role, flow_kw`` (> 0 supplies the bus)
- storage: ``timestamp, asset, soc_kwh`` (end of step)
- carbon: ``timestamp, source, co2_kg`` (imports > 0, export credit < 0)
- prices: ``timestamp, carrier, bus, eur_per_kwh``, the marginal prices, when the model
  has duals (:mod:`pecopt.results.marginal`)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from pecopt.model.capacity import Amount
from pecopt.model.core import DistrictModel
from pecopt.model.linear import FloatArray, Term, values
from pecopt.results.marginal import prices


@dataclass(frozen=True)
class Results:
    """Everything a solve produced, as tables and totals."""

    schedule: pd.DataFrame
    storage: pd.DataFrame
    carbon: pd.DataFrame
    cost_items_eur: dict[str, float]
    unmet_kwh: dict[str, float]
    figures: dict[str, float] = field(default_factory=dict)
    capacities: dict[str, dict[str, float]] = field(default_factory=dict)
    sized: dict[str, dict[str, float]] = field(default_factory=dict)
    """The capacities the optimiser chose (a subset of ``capacities``)."""
    prices: pd.DataFrame | None = None
    """Marginal prices ``timestamp, carrier, bus, eur_per_kwh`` when the model has duals
    (:func:`pecopt.results.marginal.prices`), else None."""


class ValueCache:
    """Reads each vector variable's values from Pyomo once (NaN -> 0 for variables that
    appear nowhere and so were never given a value)."""

    def __init__(self) -> None:
        self._cache: dict[int, FloatArray] = {}

    def __call__(self, var: pyo.Var) -> FloatArray:
        v = self._cache.get(id(var))
        if v is None:
            v = np.nan_to_num(values(var), nan=0.0)
            self._cache[id(var)] = v
        return v


def per_row(terms: Sequence[Term], value: ValueCache, n: int) -> FloatArray:
    """``sum(terms)`` evaluated row by row (rows are steps for flows)."""
    acc = np.zeros(n)
    for t in terms:
        np.add.at(acc, t.row, t.coef * value(t.var)[t.index])
    return acc


def total(terms: Sequence[Term], value: ValueCache) -> float:
    """``sum(terms)`` evaluated over all elements."""
    return float(sum(np.dot(t.coef, value(t.var)[t.index]) for t in terms))


def _tile_time(index: pd.DatetimeIndex, k: int) -> pd.DatetimeIndex:
    """``index`` repeated ``k`` times, kept as datetime64 (no Timestamp objects)."""
    return pd.DatetimeIndex(
        np.tile(index.tz_convert("UTC").tz_localize(None).values, k)
    ).tz_localize("UTC")


def _obj_array(items: list[str], n: int) -> Any:
    """Each of ``items`` repeated ``n`` times, as the column pandas would make of them.

    Where pandas stores text as Arrow strings (pandas >= 3), the column is made in Arrow
    from integer codes (no Python object per row: ten times faster for the Kera year's
    80 vehicles); otherwise an object array, as pandas' own input."""
    objs = np.asarray(items, dtype=object)
    dtype = pd.Series(objs[:1]).dtype if len(items) else None
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        codes = pa.array(np.repeat(np.arange(len(items), dtype=np.int32), n))
        return pd.array(pa.array(items, pa.large_string()).take(codes), dtype=dtype)
    return np.repeat(objs, n)


def extract(dm: DistrictModel) -> Results:
    """The tidy results of a solved district model."""
    with PauseGC():
        return _extract(dm)


def _extract(dm: DistrictModel) -> Results:
    n, index = dm.inputs.n, dm.inputs.index
    value = ValueCache()
    flows = dm.flows
    series = []
    for f in flows:
        x = per_row(f.terms, value, n)
        series.append(x + f.constant if f.constant is not None else x)
    schedule = pd.DataFrame(
        {
            "timestamp": _tile_time(index, len(flows)),
            "asset": _obj_array([f.asset for f in flows], n),
            "carrier": _obj_array([f.carrier for f in flows], n),
            "role": _obj_array([f.role for f in flows], n),
            "flow_kw": np.concatenate(series) if series else np.zeros(0),
        }
    )
    soc = [
        (name, read(value)) for c in dm.contributions.values() for name, read in c.storage.items()
    ]
    storage = pd.DataFrame(
        {
            "timestamp": _tile_time(index, len(soc)),
            "asset": _obj_array([s[0] for s in soc], n),
            "soc_kwh": np.concatenate([s[1] for s in soc]) if soc else np.zeros(0),
        }
    )
    em = dm.emissions()
    carbon = pd.DataFrame(
        {
            "timestamp": _tile_time(index, len(em)),
            "source": _obj_array([e.source for e in em], n),
            "co2_kg": np.concatenate([per_row(e.terms, value, n) + e.constant for e in em])
            if em
            else np.zeros(0),
        }
    )
    figures = {
        k: float(read(value)) for c in dm.contributions.values() for k, read in c.figures.items()
    }
    capacities: dict[str, dict[str, float]] = {}
    sized: dict[str, dict[str, float]] = {}
    for c in dm.contributions.values():
        for asset, caps in c.capacities.items():
            capacities[asset] = {k: _number(v, value) for k, v in caps.items()}
            chosen = {k: capacities[asset][k] for k, v in caps.items() if _chosen(v)}
            if chosen:
                sized[asset] = chosen
    return Results(
        schedule=schedule,
        storage=storage,
        carbon=carbon,
        cost_items_eur={
            k: total(v, value) for k, v in (dm.terms("cost") | dm.terms("penalty")).items()
        },
        unmet_kwh={k: total(v, value) for k, v in dm.terms("unmet").items()},
        figures=figures,
        capacities=capacities,
        sized=sized,
        prices=prices(dm),
    )


def _chosen(v: Any) -> bool:
    """Whether a capacity is the optimiser's choice (an amount with variable terms)."""
    return isinstance(v, Amount) and bool(v.terms)


def _number(v: Any, value: ValueCache) -> float:
    if isinstance(v, Amount):
        return total(v.terms, value) + v.constant
    return float(v) if isinstance(v, int | float) else total(v, value)

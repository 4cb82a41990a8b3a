"""Duals and reduced costs into Pyomo's import suffixes, the way Pyomo's solvers do it.

A model that asks for them declares the suffixes Pyomo's solver interfaces fill::

    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)   # constraint duals
    m.rc = pyo.Suffix(direction=pyo.Suffix.IMPORT)     # reduced costs

and :func:`pecopt.solver.solve` then fills them after the solve, for every active
``ConstraintData`` (those of pecopt's vectorised row families included) and every
variable that appears in a row or the objective. A model without them gets no dual work
at all.

Units and signs are those of the Pyomo model as it stands, with the convention of Pyomo's
own HiGHS interfaces (``appsi_highs``, ``highs``): for a row ``lo <= body <= up``,

    dual_i = d obj* / d b_i           (b_i the bound that is active; 0 if neither is)
    rc_j   = c_j - sum_i a_ij dual_i   = d obj* / d (the active bound of x_j)

in [unit of the objective] per [unit of the row] (e.g. EUR/kWh for a balance in kWh and a
cost in EUR), for minimisation and maximisation alike. A fixed variable is a parameter to
Pyomo, so its reduced cost is 0, as ``appsi_highs`` reports it (the value of its bound is
the dual of a row ``x == value``, for whoever wants it). A row that pecopt scaled when it
built it (:func:`pecopt.model.linear.add_rows` divides a family by its commonest
coefficient) *is* that scaled row in Pyomo, so its dual is the scaled row's: HiGHS gets
exactly the rows Pyomo holds (:mod:`pecopt.solver.compile`), and rows that were empty and
dropped have no ``ConstraintData``.

A MILP has no duals of its own: those given are the duals of the LP with every integer
variable fixed at its value in the plan (what a solver gives for a MILP's "fixed" LP;
the integers' reduced costs are then 0, as for any fixed variable), solved apart, so that
the Pyomo model is left as it was (nothing fixed, the plan's values kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.common.gc_manager import PauseGC

from pecopt.model.linear import FloatArray, VarMeta
from pecopt.solver.compile import Layout


def requested(model: pyo.Block) -> tuple[pyo.Suffix | None, pyo.Suffix | None]:
    """The model's import suffixes ``dual`` and ``rc`` (each None when absent or not for
    import), found as Pyomo's solver interfaces find them: by name, on the model."""
    found: list[pyo.Suffix | None] = []
    for name in ("dual", "rc"):
        s = model.component(name)
        found.append(s if isinstance(s, pyo.Suffix) and s.import_enabled() else None)
    return found[0], found[1]


def load_duals(
    layout: Layout,
    dual: pyo.Suffix | None,
    rc: pyo.Suffix | None,
    row_dual: FloatArray | None,
    col_dual: FloatArray | None,
) -> None:
    """Clear the suffixes and fill them from HiGHS' ``row_dual`` and ``col_dual`` (None:
    no duals, e.g. a solve stopped by the time limit: the suffixes are left empty rather
    than holding the values of an earlier solve).

    Rows: each fast-path family's ``ConstraintData`` ``k`` gets ``row_dual[rows[k]]``
    where it was compiled there (``rows[k] >= 0``); each constraint compiled one by one
    gets its own row. Columns: every variable that appears in a row or the objective;
    a fixed one gets 0. Python's cyclic garbage collector is paused meanwhile, as for the
    build: each entry is a new tuple, and the collections they would trigger rescan every
    object of the model (on a Kera week: 0.155 s against 0.009 s paused).
    """
    with PauseGC():
        _fill(layout, dual, rc, row_dual, col_dual)


def _fill(
    layout: Layout,
    dual: pyo.Suffix | None,
    rc: pyo.Suffix | None,
    row_dual: FloatArray | None,
    col_dual: FloatArray | None,
) -> None:
    if dual is not None:
        dual.clear()
        if row_dual is not None:
            for fam in layout.families:
                at = fam.rows >= 0
                if at.all():
                    put(dual, fam.data, row_dual[fam.rows].tolist())
                else:
                    keep = np.flatnonzero(at).tolist()
                    put(dual, [fam.data[k] for k in keep], row_dual[fam.rows[at]].tolist())
            n_fast = layout.n_rows - len(layout.generic_rows)
            put(dual, layout.generic_rows, row_dual[n_fast:].tolist())
    if rc is not None:
        rc.clear()
        if col_dual is not None:
            if layout.fixed.size:  # a parameter to Pyomo
                col_dual = col_dual.copy()
                col_dual[layout.fixed] = 0.0
            for comp, first, count in layout.columns:
                m: VarMeta | None = getattr(comp, "_pecopt", None)
                data: list[Any] = (
                    m.data.tolist()
                    if m is not None and first < layout.generic_first
                    else list(comp.values())
                )
                values = col_dual[first : first + count]
                used = layout.referenced[first : first + count]
                if not used.all():
                    keep = np.flatnonzero(used).tolist()
                    data, values = [data[k] for k in keep], values[used]
                put(rc, data, values.tolist())


def put(suffix: pyo.Suffix, data: Sequence[Any], values: list[float]) -> None:
    """``suffix[data[k]] = values[k]`` for every k.

    A ``Suffix`` is a Pyomo ``ComponentMap``, which stores ``obj -> value`` as
    ``_dict[key(obj)] = (obj, value)``, ``key`` chosen per class by Pyomo
    (``ComponentMap.hasher``): the object itself for hashable classes (``ConstraintData``),
    ``id(obj)`` for the others (``VarData``). Where that holds (checked once,
    :func:`bulk_ok`) and ``data``'s classes share one kind of key, the entries are stored
    in one ``dict.update``, without a Python call per entry (~1M entries on the Kera
    year); otherwise through the public mapping interface."""
    ok = bulk_ok()  # first: it shows Pyomo a constraint and a variable, fixing their keys
    kinds = {_key_kind(cls) for cls in set(map(type, data))}
    if ok and len(kinds) == 1 and None not in kinds:
        _store(suffix._dict, data, values, by_id=kinds == {"id"})
    else:
        suffix.update(zip(data, values, strict=True))


def get_many(suffix: pyo.Suffix, data: Sequence[Any], default: float = np.nan) -> FloatArray:
    """``suffix[data[k]]`` for every k (``default`` where it has none), as an array: read
    from the suffix's store in one pass where :func:`bulk_ok` holds (as :func:`put` writes
    it), else through the public mapping interface."""
    kinds = {_key_kind(cls) for cls in set(map(type, data))}
    store = getattr(suffix, "_dict", None)
    if bulk_ok() and len(kinds) == 1 and None not in kinds and isinstance(store, dict):
        keys = map(id, data) if kinds == {"id"} else iter(data)
        missing = (None, default)
        return np.fromiter(
            (store.get(k, missing)[1] for k in keys), dtype=np.float64, count=len(data)
        )
    return np.fromiter((suffix.get(d, default) for d in data), dtype=np.float64, count=len(data))


def _store(
    store: dict[Any, tuple[Any, float]], data: Sequence[Any], values: list[float], by_id: bool
) -> None:
    keys = map(id, data) if by_id else iter(data)
    store.update(zip(keys, zip(data, values, strict=True), strict=True))


def _key_kind(cls: type) -> str | None:
    """How ``ComponentMap`` keys objects of class ``cls``: "id", "object", or None when
    Pyomo has not decided yet (it does on a class's first object) or does otherwise."""
    key = ComponentMap.hasher.get(cls)
    if key is ComponentMap.hasher._unhashable:
        return "id"
    if key is ComponentMap.hasher._hashable:
        return "object"
    return None


@cache
def bulk_ok() -> bool:
    """Whether this Pyomo's ``Suffix`` stores entries set through its public interface as
    :func:`put` does in bulk (checked on a scratch model, for constraints and variables: a
    Pyomo that changed this falls back to the public interface; ``tests/test_duals.py``
    requires it to hold, so such a change fails loudly there)."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var([0, 1])
    m.c = pyo.Constraint([0, 1], rule=lambda m, i: m.x[i] >= 0)
    for data in ([m.c[0], m.c[1]], [m.x[0], m.x[1]]):
        public = pyo.Suffix(direction=pyo.Suffix.IMPORT)
        bulk = pyo.Suffix(direction=pyo.Suffix.IMPORT)
        for d, v in zip(data, (1.5, -2.5), strict=True):
            public[d] = v
        kind = _key_kind(type(data[0]))
        store = getattr(bulk, "_dict", None)
        if kind is None or not isinstance(store, dict):
            return False
        _store(store, data, [1.5, -2.5], by_id=kind == "id")
        if getattr(public, "_dict", None) != store:
            return False
        if not (bulk[data[0]] == 1.5 and bulk.get(data[1]) == -2.5 and len(bulk) == 2):
            return False
    return True

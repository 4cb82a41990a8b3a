"""Vectorised linear rows for Pyomo: the one fast path behind every technology block.

A technology writes its equations over whole arrays, e.g. the battery balance

    soc[t] - (1 - loss) soc[t-1] - eta_c dt ch[t] + dt/eta_d dis[t] = 0     for all t

as one call ``add_rows(block, "balance", n, [term(soc, 1), term(soc, -k, index=prev),
term(ch, -eta_c*dt), term(dis, dt/eta_d)], equal=0)``. The helper turns this into
ordinary Pyomo components (an indexed ``Var`` and an indexed ``Constraint`` whose bodies
are ``LinearExpression`` objects built from the coefficient arrays, not by operator
overloading), so the model is a real Pyomo model that any Pyomo solver can take.

It also keeps the coefficient arrays it was given (``COMPONENT._pecopt``), so that
:func:`pecopt.solver.compile.compile_model` can hand the whole matrix to HiGHS in one
call instead of walking 10^5-10^6 expression objects. **The Pyomo model stays the
truth**: with the arrays, each component keeps a snapshot of the Pyomo state it was
built with (the bound, domain and expression objects of every element). The compiler
compares the live Pyomo objects with the snapshot (identity checks, a few ns per
element) and reads every element that a user changed through Pyomo's public API (fix,
setlb/setub, domain, deactivate, ``set_value`` of a constraint) from Pyomo itself.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np
import pyomo.environ as pyo
from numpy.typing import ArrayLike, NDArray
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from pecopt.errors import InfeasibleError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class VarMeta:
    """Bounds and type of a vector variable, as arrays [unit of the variable], and the
    Pyomo state they were built with (``snapshot``: the ``_lb``, ``_ub`` and ``_domain``
    objects of every element, compared by identity at compile time)."""

    n: int
    lb: FloatArray
    ub: FloatArray
    binary: bool
    data: np.ndarray  # object array of the VarData, for fancy indexing
    commitment: bool = False  # an on/off decision (vs an exclusivity binary)
    snapshot: tuple[Snapshot, Snapshot, Snapshot] = ((), (), ())
    integer: bool = False  # a general integer (e.g. a number of modules)
    sizing: bool = False  # a capacity the optimiser chooses (it limits every step)


class Shared:
    """A snapshot where every element held the same object (Pyomo's dense construction
    gives all elements of a variable the bound and domain objects it was declared with)."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj


Snapshot = Sequence[object] | Shared
"""The objects held by every element of a variable: one per element, or one shared."""


def snapshot_of(data: list[Any], get: Callable[[Any], object]) -> Snapshot:
    """``get`` of every element: ``Shared`` when it is one object for all, else a list."""
    if data and all(map(operator.is_, map(get, data), repeat(get(data[0])))):
        return Shared(get(data[0]))
    return list(map(get, data))


def unchanged(now: Iterable[object], snap: Snapshot) -> bool:
    """Whether ``now`` (the live objects, element by element; as many as the snapshot
    holds) are the snapshot's."""
    if isinstance(snap, Shared):
        return all(map(operator.is_, now, repeat(snap.obj)))
    return all(map(operator.is_, now, snap))


def changed(now: list[object], snap: Snapshot) -> np.ndarray:
    """Indices ``k`` where ``now[k]`` is not the snapshot's object."""
    if isinstance(snap, Shared):
        return np.flatnonzero([a is not snap.obj for a in now]).astype(np.int64)
    return np.flatnonzero([a is not b for a, b in zip(now, snap, strict=True)]).astype(np.int64)


@dataclass(frozen=True)
class Term:
    """Coefficient ``coef[k]`` of element ``index[k]`` of ``var`` in row ``row[k]``."""

    var: pyo.Var
    index: IntArray
    coef: FloatArray
    row: IntArray


@dataclass(frozen=True)
class RowsMeta:
    """A family of ``m`` rows: ``lo <= sum of terms <= up`` (``lo == up`` for equalities),
    with the ConstraintData objects and the expression object each was built with.

    ``scale`` is what :func:`add_rows` divided the family by (:func:`_unit_scale`: the rows
    as given are ``scale`` times these), ``kept`` the row as given of each row here (None:
    no row was dropped; empty rows are), so that a row's dual can be told per unit of the
    row its builder wrote: ``d obj / d b_given = dual / scale``."""

    m: int
    terms: tuple[Term, ...]
    lo: FloatArray
    up: FloatArray
    data: tuple[object, ...] = ()
    exprs: tuple[object, ...] = ()
    scale: float = 1.0
    kept: IntArray | None = None

    def position(self, rows: IntArray) -> IntArray:
        """Where each row as given (``0 .. m_given - 1``) is in this family: its index, or
        -1 for a row that had no term and was dropped."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.kept is None:
            return rows
        where = np.full(int(self.kept[-1]) + 1 if self.kept.size else 0, -1, np.int64)
        where[self.kept] = np.arange(self.kept.size)
        inside = rows < where.size
        out = np.full(rows.shape, -1, np.int64)
        out[inside] = where[rows[inside]]
        return out


LB, UB, DOMAIN = attrgetter("_lb"), attrgetter("_ub"), attrgetter("_domain")
EXPR, VALUE = attrgetter("_expr"), attrgetter("value")


def values(var: pyo.Var) -> FloatArray:
    """The current values of a vector variable made by :func:`add_var`, read from Pyomo
    (NaN where a value is None) [unit of the variable]."""
    m = meta(var)
    return np.array(list(map(VALUE, m.data.tolist())), dtype=np.float64).reshape(m.n)


def meta(var: pyo.Var) -> VarMeta:
    """The :class:`VarMeta` of a variable made by :func:`add_var`."""
    m: VarMeta = var._pecopt
    return m


def add_var(
    block: pyo.Block,
    name: str,
    n: int,
    lb: ArrayLike = 0.0,
    ub: ArrayLike = np.inf,
    *,
    binary: bool = False,
    commitment: bool = False,
    integer: bool = False,
    sizing: bool = False,
) -> pyo.Var:
    """Add a vector variable ``name[0..n-1]`` with bounds ``lb <= x <= ub`` (arrays or scalars).

    ``commitment`` marks binaries that are real on/off decisions (a heat pump's minimum
    load), as opposed to exclusivity binaries; the MIP start heuristic fixes them first.
    """
    lo = np.broadcast_to(np.asarray(lb, dtype=np.float64), (n,)).copy()
    hi = np.broadcast_to(np.asarray(ub, dtype=np.float64), (n,)).copy()
    if binary:
        lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 1.0)
    lo_same = bool(n == 0 or (lo == lo[0]).all())
    hi_same = bool(n == 0 or (hi == hi[0]).all())

    def bound(x: float) -> float | None:
        return None if not np.isfinite(x) else float(x)

    const = (bound(lo[0]) if lo_same and n else None, bound(hi[0]) if hi_same and n else None)
    domain = pyo.Binary if binary else (pyo.Integers if integer else pyo.Reals)
    var = pyo.Var(range(n), domain=domain, bounds=const)
    block.add_component(name, var)
    data = np.empty(n, dtype=object)
    data[:] = list(var.values())
    if not lo_same:  # per-element bounds: only the ones that differ by element
        for v, a in zip(data.tolist(), lo.tolist(), strict=True):
            v.setlb(bound(a))
    if not hi_same:
        for v, b in zip(data.tolist(), hi.tolist(), strict=True):
            v.setub(bound(b))
    dl = data.tolist()
    snap = (snapshot_of(dl, LB), snapshot_of(dl, UB), snapshot_of(dl, DOMAIN))
    var._pecopt = VarMeta(n, lo, hi, binary, data, commitment, snap, integer, sizing)
    return var


def term(
    var: pyo.Var,
    coef: ArrayLike = 1.0,
    index: ArrayLike | None = None,
    row: ArrayLike | None = None,
) -> Term:
    """One term of a row family.

    ``index`` selects the elements of ``var`` (default: all, in order); ``row`` says which
    row each element goes to (default: element k goes to row k); ``coef`` is broadcast.
    """
    idx = np.arange(meta(var).n) if index is None else np.asarray(index, dtype=np.int64)
    rows = np.arange(idx.size) if row is None else np.asarray(row, dtype=np.int64)
    c = np.broadcast_to(np.asarray(coef, dtype=np.float64), idx.shape).copy()
    if rows.shape != idx.shape:
        raise ValueError("row and index must have the same length")
    return Term(var, idx.astype(np.int64, copy=False), c, rows)


def add_rows(
    block: pyo.Block,
    name: str,
    m: int,
    terms: Sequence[Term],
    *,
    lower: ArrayLike | None = None,
    upper: ArrayLike | None = None,
    equal: ArrayLike | None = None,
    what: str | None = None,
) -> pyo.Constraint:
    """Add ``m`` linear rows ``lower <= sum(terms) <= upper`` (or ``== equal``).

    Each term's ``row`` must lie in ``0 .. m-1`` (a ``ValueError`` otherwise: a sum over
    the horizon is one row, its terms' rows all 0).

    Rows with no terms are checked against their bounds and dropped; if such a row is
    violated (e.g. demand at a step with nothing able to supply it) an
    :class:`~pecopt.errors.InfeasibleError` names ``what`` and the first steps.
    """
    if equal is not None:
        lo = np.broadcast_to(np.asarray(equal, dtype=np.float64), (m,)).copy()
        up = lo.copy()
    else:
        lo = np.broadcast_to(np.asarray(-np.inf if lower is None else lower, float), (m,)).copy()
        up = np.broadcast_to(np.asarray(np.inf if upper is None else upper, float), (m,)).copy()
    terms = [t for t in terms if t.index.size]
    rows = np.concatenate([t.row for t in terms]) if terms else np.zeros(0, np.int64)
    if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= m):
        outside = np.unique(rows[(rows < 0) | (rows >= m)])[:5].tolist()
        raise ValueError(
            f"{block.name}.{name}: terms name rows {outside} outside a family of {m} row(s)"
        )
    count = np.bincount(rows, minlength=m) if rows.size else np.zeros(m, np.int64)
    empty = count == 0
    bad = empty & ((lo > 1e-9) | (up < -1e-9))
    if bad.any():
        first = np.flatnonzero(bad)[:5].tolist()
        raise InfeasibleError(
            f"{what or block.name + '.' + name}: cannot be met at {int(bad.sum())} step(s) "
            f"(first row indices {first}): nothing can supply or absorb it there"
        )
    kept = None
    if empty.any():  # renumber the rows that remain
        keep = ~empty
        kept = np.flatnonzero(keep).astype(np.int64)
        new = np.cumsum(keep) - 1
        terms = [Term(t.var, t.index, t.coef, new[t.row]) for t in terms]
        lo, up, m = lo[keep], up[keep], int(keep.sum())
        rows = new[rows]
    terms = _merge_duplicates(terms)
    rows = np.concatenate([t.row for t in terms]) if terms else np.zeros(0, np.int64)
    terms, lo, up, scale = _unit_scale(terms, lo, up)
    coefs = np.concatenate([t.coef for t in terms]) if terms else np.zeros(0)
    objs = np.empty(rows.size, dtype=object)
    pos = 0
    for t in terms:
        objs[pos : pos + t.index.size] = meta(t.var).data[t.index]
        pos += t.index.size
    # LinearExpression args: a bare VarData for a unit coefficient (no object made),
    # a MonomialTermExpression otherwise. Scaling made unit coefficients the common case.
    unit = coefs == 1.0
    args = np.empty(rows.size, dtype=object)
    args[unit] = objs[unit]
    if (~unit).any():
        args[~unit] = list(
            map(
                MonomialTermExpression,
                zip(coefs[~unit].tolist(), objs[~unit].tolist(), strict=True),
            )
        )
    order = np.argsort(rows, kind="stable")
    starts = np.searchsorted(rows[order], np.arange(m + 1)).tolist()
    al = args[order].tolist()
    lol, upl = lo.tolist(), up.tolist()

    def rule(_: object, i: int) -> object:
        body = LinearExpression(al[starts[i] : starts[i + 1]])
        lo_i, up_i = lol[i], upl[i]
        if lo_i == up_i:
            return body == lo_i
        return (None if lo_i == -np.inf else lo_i, body, None if up_i == np.inf else up_i)

    con = pyo.Constraint(range(m), rule=rule)
    block.add_component(name, con)
    data = tuple(con.values())
    con._pecopt = RowsMeta(m, tuple(terms), lo, up, data, tuple(map(EXPR, data)), scale, kept)
    return con


def _merge_duplicates(terms: list[Term]) -> list[Term]:
    """Sum the coefficients of entries that hit the same (row, variable element), so that
    each row names each variable once (e.g. PV arrays sharing one curtailment variable).

    Only the variables with such entries are merged (into one term each, entries sorted
    by row); the terms of every other variable are kept as they are. Whether a variable
    has them is first checked without sorting: only where one of its elements is used
    more than once can a (row, element) pair repeat."""
    if len(terms) < 2:
        return terms
    by_var: dict[int, list[Term]] = {}
    for t in terms:
        by_var.setdefault(id(t.var), []).append(t)
    out: list[Term] = []
    for ts in by_var.values():
        merged = _merged(ts)
        out += ts if merged is None else [merged]
    return out


def _merged(ts: list[Term]) -> Term | None:
    """The terms of one variable as one term with repeated (row, element) entries summed,
    or None when no entry repeats."""
    idx = np.concatenate([t.index for t in ts]) if len(ts) > 1 else ts[0].index
    if idx.size < 2 or np.bincount(idx).max() <= 1:
        return None  # each element once: no (row, element) twice
    row = np.concatenate([t.row for t in ts]) if len(ts) > 1 else ts[0].row
    key = row.astype(np.int64) * (int(idx.max()) + 1) + idx
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if uniq.size == key.size:
        return None
    coef = np.bincount(inverse, weights=np.concatenate([t.coef for t in ts])).astype(np.float64)
    return Term(ts[0].var, idx[first], coef, row[first])


def _unit_scale(
    terms: list[Term], lo: FloatArray, up: FloatArray
) -> tuple[list[Term], FloatArray, FloatArray, float]:
    """Divide a row family by its most frequent coefficient ``c0``, so that most terms
    have coefficient 1 (cheap in Pyomo: a bare variable, no term object). An equivalent
    system: ``lo <= a x <= up`` becomes ``lo/c0 <= (a/c0) x <= up/c0`` (bounds swap when
    ``c0 < 0``). Families whose commonest coefficient is already 1 are left as they are.
    Returns the terms, the bounds and ``c0`` (1 when left as they are)."""
    if not terms:
        return terms, lo, up, 1.0
    coefs = np.concatenate([t.coef for t in terms])
    values, counts = np.unique(coefs, return_counts=True)
    c0 = float(values[np.argmax(counts)])
    if c0 in (1.0, 0.0):
        return terms, lo, up, 1.0
    scaled = [Term(t.var, t.index, t.coef / c0, t.row) for t in terms]
    if c0 > 0:
        return scaled, lo / c0, up / c0, c0
    return scaled, up / c0, lo / c0, c0


def linear_sum(terms: Sequence[Term], constant: float = 0.0) -> LinearExpression:
    """One linear expression ``constant + sum_k coef_k x_k`` over all elements of ``terms``
    (rows are ignored); used for objectives. Keeps the terms for the compiler."""
    coefs: list[float] = []
    objs: list[object] = []
    for t in terms:
        coefs += t.coef.tolist()
        objs += meta(t.var).data[t.index].tolist()
    expr = LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=objs)
    return expr


def add_objective(
    model: pyo.Block,
    terms: Sequence[Term],
    constant: float = 0.0,
    sense: str = "min",
    name: str = "objective",
) -> pyo.Objective:
    """Add ``min (or max) constant + sum(terms)`` as ``model.<name>``."""
    flat = [Term(t.var, t.index, t.coef, np.zeros_like(t.index)) for t in terms if t.index.size]
    merged = [
        Term(t.var, t.index[t.coef != 0], t.coef[t.coef != 0], t.row[t.coef != 0])
        for t in _merge_duplicates(flat)
    ]
    terms = [t for t in merged if t.index.size]
    obj = pyo.Objective(
        expr=linear_sum(terms, constant), sense=pyo.minimize if sense == "min" else pyo.maximize
    )
    model.add_component(name, obj)
    obj._pecopt = ObjectiveMeta(tuple(terms), constant, obj.expr, obj.sense)
    return obj


@dataclass(frozen=True)
class ObjectiveMeta:
    """An objective's terms, constant, and the expression and sense it was built with."""

    terms: tuple[Term, ...]
    constant: float
    expr: object
    sense: object

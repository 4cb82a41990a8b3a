"""Hand a Pyomo model to HiGHS in memory, as one sparse matrix, reading the model's truth.

What HiGHS gets is what the Pyomo model says at the moment of the call:

- **columns**: every ``Var`` on the model (in any block, active or not); bounds from
  Pyomo, a fixed variable as ``lb = ub = value``, integrality from its domain;
- **rows**: every *active* constraint in an *active* block;
- **objective**: the one active objective, with its sense.

Components built by :mod:`pecopt.model.linear` carry their coefficient arrays and a
snapshot of the Pyomo objects they were built with. For those, the compiler checks by
identity, element by element (a few ns each), that the bound, domain, fixed flag,
active flag and constraint expression are still the ones it built; every element a
user has changed through Pyomo's public API is read from Pyomo instead, through
``generate_standard_repn`` for constraints and objectives. Anything else on the model
(variables, constraints or an objective added by a user) goes through that generic
path too, so nothing is silently dropped. Nonlinear constraints are refused.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from operator import attrgetter
from typing import Any, cast

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.var import VarData
from pyomo.core.staleflag import StaleFlagManager
from pyomo.repn.standard_repn import generate_standard_repn

from pecopt.errors import SolverError
from pecopt.model.linear import (
    DOMAIN,
    EXPR,
    LB,
    UB,
    FloatArray,
    ObjectiveMeta,
    RowsMeta,
    VarMeta,
    changed,
    unchanged,
)

_FIXED, _ACTIVE = attrgetter("_fixed"), attrgetter("_active")


@dataclass(frozen=True)
class HighsArrays:
    """The LP/MIP as arrays, in the form of highspy's array ``passModel`` overload."""

    num_col: int
    num_row: int
    sense: int  # 1 minimise, -1 maximise
    offset: float
    col_cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    a_start: np.ndarray  # row-wise (CSR) int32
    a_index: np.ndarray
    a_value: FloatArray
    integrality: np.ndarray  # int32, 1 = integer

    def pass_to(self, h: highspy.Highs) -> None:
        """``h.passModel`` with numpy buffers: one call, no per-element Python work."""
        status = h.passModel(
            self.num_col,
            self.num_row,
            int(self.a_value.size),
            int(highspy.MatrixFormat.kRowwise),
            int(highspy.ObjSense.kMinimize if self.sense == 1 else highspy.ObjSense.kMaximize),
            self.offset,
            self.col_cost,
            self.col_lower,
            self.col_upper,
            self.row_lower,
            self.row_upper,
            self.a_start,
            self.a_index,
            self.a_value,
            self.integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise SolverError(f"HiGHS refused the model: {status}")


@dataclass(frozen=True)
class RowFamily:
    """Where a fast-path constraint family's rows went: ``rows[k]`` is the HiGHS row of
    element k (the Pyomo ``ConstraintData`` ``data[k]``), or -1 where the element is
    inactive or was compiled generically."""

    name: str
    first: int
    rows: np.ndarray
    data: tuple[object, ...] = ()


@dataclass(frozen=True)
class Layout:
    """Where every variable sits in the HiGHS column vector, and what the rows are."""

    columns: list[tuple[pyo.Var, int, int]]  # (component, first column, count)
    generic_vars: list[object]  # VarData of columns compiled one by one, in column order
    generic_first: int  # first column of generic_vars
    n_cols: int
    n_rows: int
    nnz: int
    n_binary: int
    families: list[RowFamily]
    generic_rows: list[object]  # ConstraintData compiled generically, row n_fast + k
    objective_constant: float
    sense: int  # 1 minimise, -1 maximise
    binary_families: list[tuple[int, int, bool]] = field(default_factory=list)
    """(first column, count, commitment) of each binary vector variable of the fast path."""
    referenced: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """Columns that appear in a row or the objective (the others keep their Pyomo value)."""
    sizing: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Columns of capacities the optimiser chooses (fixed through Pyomo or not)."""
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Columns of variables fixed through Pyomo (``lb = ub = value`` in HiGHS)."""

    def offset(self, var: pyo.Var) -> int:
        """First column of ``var``."""
        for comp, first, _ in self.columns:
            if comp is var:
                return first
        raise KeyError(var.name)


def _all_vars(model: pyo.Block) -> list[pyo.Var]:
    return list(model.component_objects(pyo.Var, active=None, descend_into=True))


def _bound(x: object, default: float) -> float:
    v = pyo.value(x) if x is not None else None
    return default if v is None else float(v)


def _column_arrays(data: list[Any]) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """Bounds and integrality of VarData objects read through Pyomo's public API."""
    lo = np.array([_bound(v.lb, -np.inf) for v in data], dtype=np.float64)
    up = np.array([_bound(v.ub, np.inf) for v in data], dtype=np.float64)
    integer = np.array([v.is_integer() or v.is_binary() for v in data], dtype=np.bool_)
    return lo, up, integer


def _fix(data: list[Any], lo: FloatArray, up: FloatArray, where: Iterable[int]) -> None:
    for k in where:
        v = data[k]
        if v.value is None:
            raise SolverError(f"variable {v.name} is fixed but has no value")
        lo[k] = up[k] = float(v.value)


def compile_model(model: pyo.Block) -> tuple[HighsArrays, Layout]:
    """Build the HiGHS LP/MIP of ``model`` as the Pyomo model says it is now (the garbage
    collector paused, as for the build).

    Returns
    -------
    (lp, layout)
        ``lp`` holds the arrays of the LP/MIP (row-wise matrix); ``layout`` maps each
        variable component to its column range and each row family to its rows.
    """
    with PauseGC():
        return _compile(model)


def _compile(model: pyo.Block) -> tuple[HighsArrays, Layout]:
    columns: list[tuple[pyo.Var, int, int]] = []
    lbs: list[FloatArray] = []
    ubs: list[FloatArray] = []
    ints: list[np.ndarray] = []
    generic_vars: list[Any] = []
    binary_families: list[tuple[int, int, bool]] = []
    sizing: list[int] = []
    fixed_cols: list[int] = []
    col = 0
    others: list[pyo.Var] = []
    for var in _all_vars(model):
        m: VarMeta | None = getattr(var, "_pecopt", None)
        data = m.data.tolist() if m is not None else []
        if m is None or len(var) != m.n or not all(map(operator.is_, var.values(), data)):
            others.append(var)
            continue
        lo, up = m.lb, m.ub
        integer = np.full(m.n, m.binary or m.integer)
        parts = [
            changed(list(map(get, data)), snap)
            for get, snap in zip((LB, UB, DOMAIN), m.snapshot, strict=True)
            if not unchanged(map(get, data), snap)
        ]
        dirty = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        fixed: list[int] = (
            np.flatnonzero(list(map(_FIXED, data))).tolist() if any(map(_FIXED, data)) else []
        )
        if len(dirty) or len(fixed):
            lo, up, integer = lo.copy(), up.copy(), integer.copy()
            if len(dirty):
                sel = [data[k] for k in dirty]
                lo[dirty], up[dirty], integer[dirty] = _column_arrays(sel)
            _fix(data, lo, up, fixed)
            fixed_cols += [col + k for k in fixed]
        columns.append((var, col, m.n))
        if m.binary and m.n and integer.all():
            binary_families.append((col, m.n, m.commitment))
        if m.sizing:
            sizing.extend(range(col, col + m.n))
        lbs.append(lo)
        ubs.append(up)
        ints.append(integer)
        col += m.n
    generic_first = col
    for var in others:
        data = list(var.values())
        lo, up, integer = _column_arrays(data)
        fixed = [k for k, v in enumerate(data) if v.fixed]
        _fix(data, lo, up, fixed)
        fixed_cols += [col + k for k in fixed]
        columns.append((var, col, len(data)))
        generic_vars += data
        lbs.append(lo)
        ubs.append(up)
        ints.append(integer)
        col += len(data)
    n_cols = col
    column_of: dict[int, int] = {}

    def col_of(v: object) -> int:
        if not column_of:
            for comp, first, _ in columns:
                for k, d in enumerate(comp.values()):
                    column_of[id(d)] = first + k
        try:
            return column_of[id(v)]
        except KeyError:
            raise SolverError(
                f"variable {getattr(v, 'name', v)} is used in the model but does not belong "
                "to it (was its component deleted?)"
            ) from None

    offsets = {id(comp): first for comp, first, _ in columns}
    r_idx: list[np.ndarray] = []
    c_idx: list[np.ndarray] = []
    vals: list[FloatArray] = []
    row_lo: list[FloatArray] = []
    row_up: list[FloatArray] = []
    families: list[RowFamily] = []
    generic: list[Any] = []
    row = 0
    for con in model.component_objects(pyo.Constraint, active=True, descend_into=True):
        rm: RowsMeta | None = getattr(con, "_pecopt", None)
        if rm is None or len(con) != rm.m:
            generic += [c for c in con.values() if c.active]
            continue
        cdata: list[Any] = list(rm.data)
        keep = np.ones(rm.m, bool)
        if not all(map(_ACTIVE, cdata)):
            keep &= np.fromiter(map(_ACTIVE, cdata), bool, rm.m)
        edited = (
            np.zeros(0, np.int64)
            if unchanged(map(EXPR, cdata), rm.exprs)
            else changed(list(map(EXPR, cdata)), rm.exprs)
        )
        if edited.size:
            keep[edited] = False
            generic += [cdata[k] for k in edited if cdata[k].active]
        if not all(t.var.parent_block() is not None and id(t.var) in offsets for t in rm.terms):
            raise SolverError(f"constraint {con.name} uses a variable that was deleted")
        new = np.full(rm.m, -1, np.int64)
        new[keep] = row + np.arange(int(keep.sum()))
        families.append(RowFamily(con.name, row, new, rm.data))
        for t in rm.terms:
            mask = keep[t.row]
            r_idx.append(new[t.row[mask]])
            c_idx.append(t.index[mask] + offsets[id(t.var)])
            vals.append(t.coef[mask])
        row_lo.append(rm.lo[keep])
        row_up.append(rm.up[keep])
        row += int(keep.sum())
    for c in generic:
        repn = generate_standard_repn(c.body, quadratic=False)
        if not repn.is_linear():
            raise SolverError(f"constraint {c.name} is not linear")
        r_idx.append(np.full(len(repn.linear_vars), row))
        c_idx.append(np.array([col_of(v) for v in repn.linear_vars], np.int64))
        vals.append(np.array(repn.linear_coefs, float))
        const = float(repn.constant)
        lo, up = c.lb, c.ub
        row_lo.append(np.array([-np.inf if lo is None else float(lo) - const]))
        row_up.append(np.array([np.inf if up is None else float(up) - const]))
        row += 1

    cost, constant, sense = _objective(model, n_cols, offsets, col_of)

    ri = np.concatenate(r_idx) if r_idx else np.zeros(0, np.int64)
    ci = np.concatenate(c_idx) if c_idx else np.zeros(0, np.int64)
    vv = np.concatenate(vals) if vals else np.zeros(0)
    a_start, a_index, a_value = csr(ri, ci, vv, row, n_cols)
    referenced = np.zeros(n_cols, bool)
    referenced[a_index] = True
    referenced |= cost != 0

    integrality = np.concatenate(ints).astype(np.int32) if ints else np.zeros(0, np.int32)
    lp = HighsArrays(
        num_col=n_cols,
        num_row=row,
        sense=sense,
        offset=constant,
        col_cost=cost,
        col_lower=np.concatenate(lbs) if lbs else np.zeros(0),
        col_upper=np.concatenate(ubs) if ubs else np.zeros(0),
        row_lower=np.concatenate(row_lo) if row_lo else np.zeros(0),
        row_upper=np.concatenate(row_up) if row_up else np.zeros(0),
        a_start=a_start,
        a_index=a_index,
        a_value=a_value,
        integrality=integrality,
    )
    layout = Layout(
        columns=columns,
        generic_vars=generic_vars,
        generic_first=generic_first,
        n_cols=n_cols,
        n_rows=row,
        nnz=int(a_value.size),
        n_binary=int(integrality.sum()),
        families=families,
        generic_rows=generic,
        objective_constant=constant,
        sense=sense,
        binary_families=binary_families,
        referenced=referenced,
        sizing=np.asarray(sizing, dtype=np.int64),
        fixed=np.asarray(fixed_cols, dtype=np.int64),
    )
    return lp, layout


def _objective(
    model: pyo.Block, n_cols: int, offsets: dict[int, int], col_of: Callable[[object], int]
) -> tuple[FloatArray, float, int]:
    """Cost vector, constant and sense (1 min, -1 max) of the one active objective.

    A fast-path objective whose expression is unchanged is read from its arrays; one
    that a user extended (``obj.expr = obj.expr + ...``: Pyomo keeps the original terms
    as the leading arguments) is read from the arrays plus the new terms; any other
    objective goes through ``generate_standard_repn``.
    """
    objs = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objs) != 1:
        raise SolverError(f"the model needs exactly one active objective, found {len(objs)}")
    obj = objs[0]
    sense = 1 if obj.sense == pyo.minimize else -1
    cost = np.zeros(n_cols)
    fast: ObjectiveMeta | None = getattr(obj, "_pecopt", None)
    expr: Any = obj.expr
    rest: list[Any] | None = None
    if fast is not None and expr is fast.expr:
        rest = []
    elif fast is not None and type(expr) is type(fast.expr):
        head = list(cast(Any, fast.expr).args)
        args = list(cast(Any, expr).args)
        if len(args) >= len(head) and all(map(operator.is_, args[: len(head)], head)):
            rest = args[len(head) :]
    constant = 0.0
    if rest is not None and fast is not None:
        for t in fast.terms:
            np.add.at(cost, t.index + offsets[id(t.var)], t.coef)
        constant = float(fast.constant)
        extra = sum(rest) if rest else None
    else:
        extra = expr
    if extra is not None:
        repn = generate_standard_repn(extra, quadratic=False)
        if not repn.is_linear():
            raise SolverError(f"objective {obj.name} is not linear")
        for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            cost[col_of(v)] += c
        constant += float(repn.constant)
    return cost, constant, sense


def csr(
    rows: np.ndarray, cols: np.ndarray, vals: FloatArray, n_rows: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Row-wise sparse arrays (start, index, value; int32/float64) from coordinates,
    duplicates summed (in the order given) and zeros dropped, columns sorted within each
    row. One stable sort of the (row, column) keys: the entries come in sorted runs (one
    per term), which the merge sort takes as they are."""
    width = max(n_cols, 1)
    key = rows.astype(np.int64) * width + cols
    order = np.argsort(key, kind="stable")
    key, vals = key[order], vals[order]
    head = np.ones(key.size, bool)
    np.not_equal(key[1:], key[:-1], out=head[1:])
    if not head.all():  # duplicates: summed left to right
        first = np.flatnonzero(head)
        key, vals = key[first], np.add.reduceat(vals, first)
    keep = vals != 0.0
    key, vals = key[keep], vals[keep]
    start = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // width, minlength=n_rows), out=start[1:])
    return start.astype(np.int32), (key % width).astype(np.int32), vals.astype(np.float64)


def load_solution(layout: Layout, x: FloatArray) -> None:
    """Write the HiGHS solution into the Pyomo variables, so that the model holds its
    solution; columns that appear nowhere keep their Pyomo value (and are stale).

    As Pyomo's own ``appsi_highs`` does it: every variable is marked stale, the solution
    is set as by ``VarData.set_value(value, skip_validation=True)`` (which, for a float,
    stores the value and the current stale flag, i.e. "not stale"), and then the stale
    flag is advanced lazily (``mark_all_as_stale(delayed=True)``). Where Pyomo's VarData
    still works that way (checked once, :func:`fast_load_ok`) both attributes are set in
    bulk, without a Python call per variable; otherwise through ``set_value``.
    """
    with PauseGC():
        StaleFlagManager.mark_all_as_stale()
        _load(layout, x, fast_load_ok())
        StaleFlagManager.mark_all_as_stale(delayed=True)


@cache
def fast_load_ok() -> bool:
    """Whether ``set_value(float, skip_validation=True)`` on this Pyomo version does
    nothing but store ``_value`` and the current stale flag in ``_stale`` (checked on two
    scratch variables, so that a Pyomo that changed this falls back to ``set_value``;
    ``tests/test_linear.py`` requires it to hold, so such a change fails loudly there)."""
    if not {"_value", "_stale"} <= set(getattr(VarData, "__slots__", ())):
        return False
    m = pyo.ConcreteModel()
    m.a = pyo.Var(bounds=(0, 1))
    m.b = pyo.Var(bounds=(0, 1))
    StaleFlagManager.mark_all_as_stale()
    m.a.set_value(2.5, skip_validation=True)  # out of bounds on purpose: no validation
    _set_values([m.b], [2.5], StaleFlagManager.get_flag(0))
    same = all(getattr(m.a, s) == getattr(m.b, s) for s in VarData.__slots__)
    StaleFlagManager.mark_all_as_stale(delayed=True)
    return bool(same and m.b.value == 2.5 and not m.b.stale)


def _set_values(data: list[Any], values: list[float], flag: int) -> None:
    deque(map(setattr, data, repeat("_value"), values), maxlen=0)
    deque(map(setattr, data, repeat("_stale"), repeat(flag)), maxlen=0)


def _load(layout: Layout, x: FloatArray, fast: bool) -> None:
    flag = StaleFlagManager.get_flag(0)
    for comp, first, count in layout.columns:
        m: VarMeta | None = getattr(comp, "_pecopt", None)
        data = m.data.tolist() if m is not None and first < layout.generic_first else None
        if data is None:
            data = list(comp.values())
        xs = x[first : first + count].tolist()
        used = layout.referenced[first : first + count]
        if not used.all():
            keep = np.flatnonzero(used).tolist()
            data, xs = [data[k] for k in keep], [xs[k] for k in keep]
        if fast:
            _set_values(data, xs, flag)
        else:
            for v, value in zip(data, xs, strict=True):
                v.set_value(value, skip_validation=True)

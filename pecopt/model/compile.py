"""Hand a Pyomo model to HiGHS in memory, as one sparse matrix.

Components built by :mod:`pecopt.model.linear` carry their coefficient arrays, so the
matrix is assembled with numpy in a few vectorised steps. Any other active variable or
linear constraint on the model (added by a user, say) goes through Pyomo's
``generate_standard_repn``, so nothing is silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.standard_repn import generate_standard_repn

from pecopt.errors import SolverError
from pecopt.model.linear import FloatArray, RowsMeta, Term, VarMeta


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
class Layout:
    """Where every variable sits in the HiGHS column vector."""

    offsets: dict[int, int]  # id(Var component) -> first column
    n_cols: int
    n_rows: int
    nnz: int
    n_binary: int
    row_offsets: dict[int, int]  # id(Constraint component) -> first row (fast-path families)
    objective_constant: float
    sense: int  # 1 minimise, -1 maximise


def _vars(model: pyo.Block) -> list[pyo.Var]:
    return list(model.component_objects(pyo.Var, active=True, descend_into=True))


def compile_model(model: pyo.Block) -> tuple[HighsArrays, Layout]:
    """Build the HiGHS LP/MIP of ``model``.

    Returns
    -------
    (lp, layout)
        ``lp`` holds the arrays of the LP/MIP (row-wise matrix); ``layout`` maps each
        variable component to its column range.
    """
    offsets: dict[int, int] = {}
    lbs: list[FloatArray] = []
    ubs: list[FloatArray] = []
    ints: list[np.ndarray] = []
    generic_cols: dict[int, int] = {}
    col = 0
    for var in _vars(model):
        m: VarMeta | None = getattr(var, "_pecopt", None)
        offsets[id(var)] = col
        if m is not None:
            lbs.append(m.lb)
            ubs.append(m.ub)
            ints.append(np.full(m.n, int(m.binary), np.uint8))
            col += m.n
        else:
            data = list(var.values())
            lbs.append(np.array([-np.inf if v.lb is None else v.lb for v in data], float))
            ubs.append(np.array([np.inf if v.ub is None else v.ub for v in data], float))
            ints.append(np.array([int(v.is_integer() or v.is_binary()) for v in data], np.uint8))
            for v in data:
                generic_cols[id(v)] = col
                col += 1
    n_cols = col

    def column_of(v: object) -> int:
        if not generic_cols.get("_full"):  # type: ignore[call-overload]
            for var in _vars(model):
                if getattr(var, "_pecopt", None) is not None:
                    base = offsets[id(var)]
                    for k, d in enumerate(var._pecopt.data.tolist()):
                        generic_cols[id(d)] = base + k
            generic_cols["_full"] = 1  # type: ignore[index]
        return generic_cols[id(v)]

    r_idx: list[np.ndarray] = []
    c_idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lo: list[FloatArray] = []
    row_up: list[FloatArray] = []
    row_offsets: dict[int, int] = {}
    row = 0
    for con in model.component_objects(pyo.Constraint, active=True, descend_into=True):
        rm: RowsMeta | None = getattr(con, "_pecopt", None)
        if rm is not None:
            row_offsets[id(con)] = row
            for t in rm.terms:
                r_idx.append(t.row + row)
                c_idx.append(t.index + offsets[id(t.var)])
                vals.append(t.coef)
            row_lo.append(rm.lo)
            row_up.append(rm.up)
            row += rm.m
            continue
        for c in con.values():
            if not c.active:
                continue
            repn = generate_standard_repn(c.body, quadratic=False)
            if not repn.is_linear():
                raise SolverError(f"constraint {c.name} is not linear")
            cols = [column_of(v) for v in repn.linear_vars]
            r_idx.append(np.full(len(cols), row))
            c_idx.append(np.array(cols, np.int64))
            vals.append(np.array(repn.linear_coefs, float))
            const = float(repn.constant)
            lo = -np.inf if c.lower is None else float(pyo.value(c.lower)) - const
            up = np.inf if c.upper is None else float(pyo.value(c.upper)) - const
            row_lo.append(np.array([lo]))
            row_up.append(np.array([up]))
            row += 1

    objs = list(model.component_objects(pyo.Objective, active=True, descend_into=True))
    if len(objs) != 1:
        raise SolverError(f"the model needs exactly one active objective, found {len(objs)}")
    obj = objs[0]
    cost = np.zeros(n_cols)
    fast = getattr(obj, "_pecopt", None)
    if fast is not None:
        terms: tuple[Term, ...] = fast[0]
        constant = float(fast[1])
        for t in terms:
            np.add.at(cost, t.index + offsets[id(t.var)], t.coef)
    else:
        repn = generate_standard_repn(obj.expr, quadratic=False)
        for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            cost[column_of(v)] += c
        constant = float(repn.constant)
    sense = 1 if obj.sense == pyo.minimize else -1

    ri = np.concatenate(r_idx) if r_idx else np.zeros(0, np.int64)
    ci = np.concatenate(c_idx) if c_idx else np.zeros(0, np.int64)
    vv = np.concatenate(vals) if vals else np.zeros(0)
    a_start, a_index, a_value = csr(ri, ci, vv, row, n_cols)

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
    n_binary = int(integrality.sum())
    layout = Layout(offsets, n_cols, row, int(a_value.size), n_binary, row_offsets, constant, sense)
    return lp, layout


def csr(
    rows: np.ndarray, cols: np.ndarray, vals: FloatArray, n_rows: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Row-wise sparse arrays (start, index, value; int32/float64) from coordinates,
    duplicates summed and zeros dropped, columns sorted within each row."""
    key = rows.astype(np.int64) * max(n_cols, 1) + cols
    uniq, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse, weights=vals, minlength=uniq.size)
    keep = summed != 0.0
    uniq, summed = uniq[keep], summed[keep]
    r = uniq // max(n_cols, 1)
    start = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n_rows), out=start[1:])
    return (
        start.astype(np.int32),
        (uniq % max(n_cols, 1)).astype(np.int32),
        summed.astype(np.float64),
    )

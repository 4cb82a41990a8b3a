"""MIP heuristics: improve a feasible plan window by window while HiGHS searches.

**Fix-and-optimise.** Given a feasible MIP solution ``x`` (every constraint met, every
integer integral), choose a set ``F`` of columns, fix every other column at its value in
``x`` and solve the small MILP over ``F``:

    min  c_F x_F          s.t.  lo - A_N x_N  <=  A_F x_F  <=  up - A_N x_N,
                                l_F <= x_F <= u_F,  x_j integer for integer j in F

(``N`` the fixed columns; only the rows that touch ``F`` remain). ``x_F`` itself is
feasible for it and is handed to HiGHS as the start, so a sub-solve never returns a worse
plan, and the plan assembled from it is feasible for the whole model: rows that do not
touch ``F`` keep their columns, rows that do were solved for (Helber & Sahling, "A
fix-and-optimize approach for the multi-level capacitated lot sizing problem", Int. J.
Production Economics 123 (2010) 247-256; Pochet & Wolsey, *Production Planning by Mixed
Integer Programming*, Springer 2006, on relax-and-fix).

**Windows.** District models couple their binaries over time only through storage, so
``F`` is a time window: the elements ``[a, a + w)`` of every binary vector variable (their
positions scaled to each family's length), grown by a breadth-first search in the
row/column graph of the matrix (``DEPTH`` hops, i.e. every flow, level and binary of those
steps and their neighbours). Rows or columns with more than ``2 w`` nonzeros (sums over
the horizon, monthly peaks, sizes) are not expanded through: they stay fixed.

Windows are taken in order of their **local loss** ``c_F (x_F - x*_F)`` against the LP
relaxation ``x*``: where the rounded plan is as good as the relaxation there is nothing
to gain. Windows at offsets ``0`` and ``w/2`` (overlapping) are in the pool; a window is
visited again when an overlapping window changed its plan.

The search that runs the windows beside HiGHS is :mod:`pecopt.solver.search`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import highspy
import numpy as np

from pecopt.model.linear import FloatArray, IntArray
from pecopt.progress import observe
from pecopt.solver.compile import HighsArrays

#: elements of each binary family per window (a week of hourly steps)
WINDOW = 168
#: breadth-first hops from a window's binaries to the columns it frees
DEPTH = 4
#: a window is worth a sub-solve when its local loss exceeds this share of |objective|
MIN_LOSS = 1e-7
#: a window's sub-MILP stops within this share of its local loss of its optimum
GAP_SHARE = 0.05
#: seconds a single window may take at most
WINDOW_CAP_S = 10.0


@dataclass(frozen=True)
class Graph:
    """The row/column structure of a matrix, for neighbourhoods and sub-problems."""

    row_of: IntArray  # row of every nonzero (CSR order)
    col_of: IntArray  # column of every nonzero
    row_degree: IntArray
    col_degree: IntArray

    @classmethod
    def of(cls, lp: HighsArrays) -> Graph:
        starts = lp.a_start.astype(np.int64)
        row_degree = np.diff(starts)
        row_of = np.repeat(np.arange(lp.num_row, dtype=np.int64), row_degree)
        col_of = lp.a_index.astype(np.int64)
        col_degree = np.bincount(col_of, minlength=lp.num_col)
        return cls(row_of, col_of, row_degree, col_degree)

    def rows_touching(self, cols: np.ndarray) -> np.ndarray:
        """Boolean row mask: rows with a nonzero in a column of the mask ``cols``."""
        rows = np.zeros(self.row_degree.size, bool)
        rows[self.row_of[cols[self.col_of]]] = True
        return rows

    def neighbourhood(self, seed: np.ndarray, depth: int, hub: int) -> np.ndarray:
        """Columns within ``depth`` row hops of the mask ``seed``, never through a row
        or into a column with more than ``hub`` nonzeros."""
        free = seed.copy()
        small_row = self.row_degree <= hub
        small_col = self.col_degree <= hub
        for _ in range(depth):
            rows = self.rows_touching(free) & small_row
            reached = np.zeros_like(free)
            reached[self.col_of[rows[self.row_of]]] = True
            grown = free | (reached & small_col)
            if grown.sum() == free.sum():
                break
            free = grown
        return free


@dataclass(frozen=True)
class SubSolve:
    """What one window's sub-MILP gave: the improved plan (or None) and its objective."""

    x: FloatArray | None
    objective: float
    seconds: float


def objective(lp: HighsArrays, x: FloatArray) -> float:
    """``c x + offset`` of a full column vector."""
    return float(lp.col_cost @ x + lp.offset)


def improve(
    lp: HighsArrays,
    graph: Graph,
    x: FloatArray,
    free: np.ndarray,
    time_limit: float,
    gap: float = 0.0,
) -> SubSolve:
    """Fix every column outside the mask ``free`` at ``x`` and solve the MILP over the
    rest (``x`` as its start), to an absolute gap ``gap`` (at least 1e-7 |c x|).
    Returns the whole plan with the better ``x_F``, or None when HiGHS found nothing
    better than ``x`` within ``time_limit`` seconds."""
    t0 = time.perf_counter()
    cols = np.flatnonzero(free)
    rows = graph.rows_touching(free)
    rid = np.flatnonzero(rows)
    fixed_x = np.where(free, 0.0, x)
    nz = rows[graph.row_of]  # nonzeros of the kept rows (row-wise order is kept)
    act = np.bincount(
        graph.row_of[nz], weights=lp.a_value[nz] * fixed_x[graph.col_of[nz]], minlength=lp.num_row
    )[rid]
    keep = nz & free[graph.col_of]
    new_col = np.full(lp.num_col, -1, np.int64)
    new_col[cols] = np.arange(cols.size)
    new_row = np.full(lp.num_row, -1, np.int64)
    new_row[rid] = np.arange(rid.size)
    r = new_row[graph.row_of[keep]]
    start = np.zeros(rid.size + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=rid.size), out=start[1:])
    sub = HighsArrays(
        num_col=int(cols.size),
        num_row=int(rid.size),
        sense=lp.sense,
        offset=0.0,  # the window's own cost: HiGHS' gap is then the window's
        col_cost=lp.col_cost[cols],
        col_lower=lp.col_lower[cols],
        col_upper=lp.col_upper[cols],
        row_lower=lp.row_lower[rid] - act,
        row_upper=lp.row_upper[rid] - act,
        a_start=start.astype(np.int32),
        a_index=new_col[graph.col_of[keep]].astype(np.int32),
        a_value=lp.a_value[keep],
        integrality=lp.integrality[cols],
    )
    before = float(sub.col_cost @ x[cols])
    h = highspy.Highs()
    observe(h, whole_model=False)  # a window's sub-MIP: its log, not its figures
    h.setOptionValue("time_limit", max(0.05, time_limit))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", max(gap, 1e-7 * max(1.0, abs(objective(lp, x)))))
    sub.pass_to(h)
    sol = highspy.HighsSolution()
    sol.col_value = x[cols].tolist()
    sol.value_valid = True
    h.setSolution(sol)
    h.run()
    seconds = time.perf_counter() - t0
    info = h.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return SubSolve(None, objective(lp, x), seconds)
    after = float(info.objective_function_value)
    if lp.sense * (before - after) <= 1e-9 * max(1.0, abs(before)):
        return SubSolve(None, objective(lp, x), seconds)
    y = x.copy()
    y[cols] = np.asarray(h.getSolution().col_value)
    return SubSolve(y, objective(lp, y), seconds)


def windows(
    families: Sequence[tuple[int, int]], n_col: int, width: int = WINDOW
) -> list[np.ndarray]:
    """Seed masks: elements ``[a, a + width)`` of every binary family ``(first column,
    count)``, positions scaled to each family's length, at offsets ``0`` and ``width/2``."""
    length = max((count for _, count in families), default=0)
    if length == 0:
        return []
    width = max(1, min(width, length))
    out = []
    for a in sorted({*range(0, length, width), *range(width // 2, length, width)}):
        seed = np.zeros(n_col, bool)
        for first, count in families:
            lo, hi = a * count // length, min(count, -(-(a + width) * count // length))
            seed[first + lo : first + hi] = True
        if seed.any():
            out.append(seed)
    return out


def fix_and_optimise(
    lp: HighsArrays,
    x: FloatArray,
    relaxed: FloatArray | None,
    families: Sequence[tuple[int, int]],
    deadline: float,
    *,
    width: int = WINDOW,
    stop: Callable[[], bool] = lambda: False,
    found: Callable[[FloatArray, float], None] = lambda x, v: None,
) -> FloatArray:
    """Improve the feasible MIP plan ``x`` window by window (see the module docstring)
    until no window can gain, ``stop()`` is true or ``deadline`` (``perf_counter``) is
    reached. ``relaxed`` (the LP relaxation's solution) orders the windows by local loss;
    without it they are taken in time order. ``found(x, objective)`` is called with every
    better plan. Returns the best plan (``x`` itself if none was better)."""
    if lp.sense != 1:  # minimise c x; a maximisation is minimise -c x
        neg = replace(lp, col_cost=-lp.col_cost, offset=-lp.offset, sense=1)
        return fix_and_optimise(
            neg, x, relaxed, families, deadline, width=width, stop=stop,
            found=lambda y, v: found(y, -v),
        )  # fmt: skip
    graph = Graph.of(lp)
    hub = max(64, 2 * width)
    seeds = windows(families, lp.num_col, width)
    pool = [np.flatnonzero(graph.neighbourhood(s, DEPTH, hub)) for s in seeds]
    dirty = [True] * len(pool)
    best, value = x, objective(lp, x)
    c = lp.col_cost
    floor = MIN_LOSS * max(1.0, abs(value))
    while not stop():
        left = deadline - time.perf_counter()
        if left <= 0.05:
            break
        if relaxed is not None:
            loss = [
                float(c[f] @ (best[f] - relaxed[f])) if d else -np.inf
                for f, d in zip(pool, dirty, strict=True)
            ]
            k = int(np.argmax(loss)) if loss else -1
            if k < 0 or loss[k] <= floor:
                break
        else:
            k = next((i for i, d in enumerate(dirty) if d), -1)
            if k < 0:
                break
        dirty[k] = False
        mask = np.zeros(lp.num_col, bool)
        mask[pool[k]] = True
        gap = GAP_SHARE * loss[k] if relaxed is not None else 0.0
        res = improve(lp, graph, best, mask, min(WINDOW_CAP_S, left), gap)
        if res.x is not None and res.objective < value:
            best, value = res.x, res.objective
            found(best, value)
            for i, f in enumerate(pool):  # windows sharing a column with this one
                if i != k and mask[f].any():
                    dirty[i] = True
    return best

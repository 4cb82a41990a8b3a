"""Capacities inside a block: given numbers, or sizes the optimiser chooses, with their
annualised cost; and where exclusivity binaries are needed.

A capacity field of a technology's record is a number or a
:class:`~pecopt.scenario.types.Size` (``existing``, ``max``, ``capex_eur_per_unit``,
``lifetime_yr``, ``fom_pct_per_yr``, optional ``unit_size``); :func:`capacity` turns it
into a :class:`Cap` on the block, whose :meth:`Cap.amount` (an :class:`Amount`) the
block reports and whose decisions :mod:`pecopt.model.transforms` can fix.

**Where a capacity limits the model** (:class:`Uses`, for its marginal value,
:mod:`pecopt.results.marginal`): a capacity ``K`` is the right-hand side of rows
(``sum(terms)[t] <= f[t] K``: :meth:`Cap.limit`, :func:`limit_rows`) and the upper bound
of variables (``x[t] <= f[t] K``: :meth:`Cap.bound`, which a block calls where it bounds
a variable by the capacity). By the envelope theorem, one more unit changes the optimum by

    d obj / d K = sum_i y_i f_i + sum_j rc_j f_j          (rc_j: only where x_j is at K f_j)

with ``y_i`` the rows' duals and ``rc_j`` the variables' reduced costs. A capacity that
enters the model otherwise (as the big-M coefficient of an on/off or exclusivity binary)
is marked :meth:`Cap.not_valued`, with the reason. For a sized capacity ``existing + N``
the rows are the capacity's and the bounds (at ``max``) the upper bound's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo

from pecopt.model.linear import FloatArray, IntArray, Term, add_rows, add_var, meta

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.model.technology import Common

__all__ = [
    "Amount",
    "Cap",
    "Limit",
    "Uses",
    "annuity_factor",
    "capacity",
    "limit_rows",
    "make_limit",
    "need_binaries",
]


def annuity_factor(rate: float, lifetime_yr: float) -> float:
    """Capital recovery factor [1/yr]: ``r (1 + r)^L / ((1 + r)^L - 1)`` (``1 / L`` at r = 0)."""
    if rate == 0:
        return 1.0 / lifetime_yr
    g = (1.0 + rate) ** lifetime_yr
    return rate * g / (g - 1.0)


@dataclass(frozen=True)
class Limit:
    """Elements ``index`` of ``component`` that one capacity bounds, by ``per_unit[k]``
    [unit of the row or variable per unit of capacity] each: the upper bounds of a
    variable (``component`` a ``pyo.Var``), or the right-hand sides of a row family as
    its builder wrote it (a ``pyo.Constraint`` made by
    :func:`~pecopt.model.linear.add_rows`; ``index`` the rows as given, before empty ones
    were dropped)."""

    component: Any
    index: IntArray
    per_unit: FloatArray


def make_limit(component: Any, index: Any, per_unit: Any) -> Limit:
    """A :class:`Limit`, ``per_unit`` broadcast to ``index``."""
    idx = np.asarray(index, dtype=np.int64).reshape(-1)
    f = np.broadcast_to(np.asarray(per_unit, dtype=np.float64), idx.shape).copy()
    return Limit(component, idx, f)


@dataclass
class Uses:
    """Where a capacity limits the model (see the module docstring): ``rows`` grow with
    the capacity (given or sized); ``bounds`` are set at its largest value (a given
    capacity: the capacity; a sized one: its ``max``); ``unvalued``: why its value
    cannot be told exactly from duals (empty: it can)."""

    rows: list[Limit] = field(default_factory=list)
    bounds: list[Limit] = field(default_factory=list)
    unvalued: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Amount:
    """A quantity known after the solve: ``sum(terms) + constant``; ``decisions``: for
    a sized capacity, the variables that choose it (the new capacity, then its module
    count if built in modules), for :mod:`pecopt.model.transforms`; ``uses``: where it
    limits the model (None: nowhere known, not valued); ``size``: a sized capacity's
    :class:`~pecopt.scenario.types.Size` (capex, lifetime, fixed O&M)."""

    terms: tuple[Term, ...]
    constant: float = 0.0
    decisions: tuple[pyo.Var, ...] = ()
    uses: Uses | None = None
    size: Any = None


@dataclass(frozen=True)
class Cap:
    """A capacity inside a block: a given number, or ``existing + N`` with ``N >= 0`` the
    new capacity the optimiser builds (a one-element variable).

    ``upper`` is its largest value (for variable bounds); :meth:`limit` adds
    ``sum(terms)[t] <= factor[t] * capacity`` rows (needed only when sized: for a given
    capacity a variable's own bound says it), and :meth:`cost` gives the annualised
    investment and fixed O&M of the new capacity over the horizon [EUR]:

        (annuity(r, L) + fom / 100) capex N years
    """

    value: float
    new: pyo.Var | None
    upper: float
    spec: Any = None
    modules: pyo.Var | None = None
    uses: Uses = field(default_factory=Uses, compare=False, repr=False)

    @property
    def sized(self) -> bool:
        return self.new is not None

    def bound(self, var: pyo.Var, per_unit: FloatArray | float = 1.0, index: Any = None) -> None:
        """Record that ``var[index]`` (default: every element) has the upper bound
        ``per_unit * upper`` that the block gave it (``upper``: the capacity, or a sized
        one's max)."""
        idx = np.arange(meta(var).n) if index is None else index
        self.uses.bounds.append(make_limit(var, idx, per_unit))

    def not_valued(self, why: str) -> None:
        """Record that the capacity also enters the model where its dual value cannot be
        read (``why``), so that it is not valued."""
        if why not in self.uses.unvalued:
            self.uses.unvalued.append(why)

    def _new(self, coef: FloatArray | float, rows: np.ndarray) -> Term:
        assert self.new is not None
        c = np.broadcast_to(np.asarray(coef, dtype=np.float64), rows.shape).copy()
        return Term(self.new, np.zeros(rows.size, np.int64), c, rows)

    def limit(
        self,
        block: pyo.Block,
        name: str,
        terms: Sequence[Term],
        n: int,
        factor: FloatArray | float = 1.0,
    ) -> None:
        """Rows ``sum(terms)[t] <= factor[t] * (existing + N)``."""
        limit_rows(block, name, terms, n, [(self, factor)])

    def amount(self) -> Amount:
        """The capacity, for KPIs (with where it limits the model: rows and bounds the
        block records later are seen too, the record being shared)."""
        if self.new is None:
            return Amount((), self.value, uses=self.uses)
        decisions = (self.new,) if self.modules is None else (self.new, self.modules)
        one = self._new(1.0, np.zeros(1, np.int64))
        return Amount((one,), self.value, decisions, self.uses, self.spec)

    def cost(self, common: Common) -> list[Term]:
        """Annualised capex and fixed O&M of the new capacity over the horizon [EUR]."""
        if self.new is None:
            return []
        s = self.spec
        per_unit = annuity_factor(common.discount_rate, s.lifetime_yr) + s.fom_pct_per_yr / 100
        return [self._new(per_unit * s.capex_eur_per_unit * common.years, np.zeros(1, np.int64))]


def limit_rows(
    block: pyo.Block,
    name: str,
    terms: Sequence[Term],
    n: int,
    caps: Sequence[tuple[Cap, FloatArray | float]],
    constant: FloatArray | float = 0.0,
) -> None:
    """Rows ``sum(terms)[t] <= constant[t] + sum_k factor_k[t] (existing_k + N_k)``: one
    limit shared by several capacities (e.g. the AC power of several PV arrays of sizes the
    optimiser chooses, ``factor_k`` their output per kWp)."""
    upper = np.broadcast_to(np.asarray(constant, dtype=np.float64), (n,)).copy()
    extra = []
    for cap, factor in caps:
        f = np.broadcast_to(np.asarray(factor, dtype=np.float64), (n,))
        upper += f * cap.value
        if cap.new is not None:
            extra.append(cap._new(-f, np.arange(n)))
    con = add_rows(block, name, n, [*terms, *extra], upper=upper)
    for cap, factor in caps:
        cap.uses.rows.append(make_limit(con, np.arange(n), factor))


def capacity(block: pyo.Block, name: str, spec: Any) -> Cap:
    """A :class:`Cap` for a capacity field: a number, or ``existing + N`` with the new
    capacity ``N`` a variable ``<name>_new`` on ``block`` in ``[0, max - existing]``
    (modules: ``N = unit_size * m``, m integer)."""
    from pecopt.scenario.types import Size

    if not isinstance(spec, Size):
        return Cap(float(spec), None, float(spec))
    room = spec.max - spec.existing
    if spec.unit_size is not None:
        modules = int(np.floor(room / spec.unit_size + 1e-9))
        m = add_var(block, f"{name}_modules", 1, 0.0, modules, integer=True)
        new = add_var(block, f"{name}_new", 1, 0.0, modules * spec.unit_size, sizing=True)
        one = np.zeros(1, np.int64)
        add_rows(
            block, f"{name}_in_modules", 1,
            [Term(new, one, np.ones(1), one), Term(m, one, np.array([-spec.unit_size]), one)],
            equal=0.0,
        )  # fmt: skip
    else:
        m = None
        new = add_var(block, f"{name}_new", 1, 0.0, room, sizing=True)
    return Cap(float(spec.existing), new, float(spec.max), spec, m)


def need_binaries(
    common: Common, profitable: np.ndarray, override: str | None = None
) -> np.ndarray:
    """Steps that get an exclusivity binary.

    ``binaries: always`` -> every step; ``never`` -> none (the LP relaxation);
    ``auto`` -> only the steps where ``profitable`` says simultaneous opposite flows
    could lower the objective (e.g. negative prices); elsewhere an optimum never uses
    them at once, or can be shifted to one that does not at equal cost.
    ``override`` is an asset's own ``binaries`` setting, which wins.
    """
    mode = override or common.solver.binaries
    if mode == "always":
        return np.arange(common.n)
    if mode == "never":
        return np.zeros(0, np.int64)
    return np.flatnonzero(profitable)

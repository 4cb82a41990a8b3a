"""Marginal values of a solved district, from its duals: what one more kWh of demand at a
step costs, and what one more unit of each capacity is worth. Pure functions of the
solved model; they need the duals that :func:`pecopt.model.transforms.attach_duals` asks
the solver for (without them, :func:`prices` and :func:`capacity_values` return None).

**Marginal prices** (``prices.parquet``). Each carrier ``c`` has one balance row per step
(:mod:`pecopt.model.core`), ``sum_f flow_f[t] = d_c[t]`` [kW], its right-hand side ``d``
the demand drawn from the bus as a constant. Its dual ``y_c[t] = d obj / d d_c[t]`` is in
EUR per kW held over the step; one more kWh at step t is ``1 / (dt w_t)`` kW more there,
so the price of one more kWh of demand is

    lambda_c[t] = y_c[t] / (dt w_t) = y_c[t] / dtw_t                         [EUR/kWh]

with ``dt`` the step [h] and ``w_t`` how many real steps step t stands for (1; under
typical periods its representative's weight, so that the kWh is spread over the steps it
stands for). A row that :func:`~pecopt.model.linear.add_rows` divided by its commonest
coefficient ``s`` has the dual ``s y``: it is divided back. The sign is that of a cost:
> 0 where one more kWh costs money, < 0 where it would save some (a surplus that must be
exported at a loss or curtailed at a price). Under a staged objective (``objective.kind:
emissions``) the duals are those of the last stage, money, with the rows that keep the
earlier stages (penalties, emissions) within their tie tolerance as they are: the price of
one more kWh whose emissions must be made up elsewhere (re-running every stage would let
the kept emissions rise with the demand, and can cost less).
A MILP's prices are those of the LP with its integers fixed at the plan. Where the
optimum is degenerate at a step (a store exactly full, a plant exactly at its limit with
nothing else at the margin), the dual is one of several: one more kWh and one less may
cost differently, and a re-solve then agrees with one side only.

**Capacity values** (``kpis.json`` ``marginal_values``). Each capacity ``K`` records where
it limits the model (:class:`pecopt.model.capacity.Uses`): rows ``sum(terms)[i] <= f_i K``
and variable bounds ``x_j <= f_j K``. One more unit changes the optimum by (envelope
theorem)

    d obj / d K = sum_i y_i f_i / s_i + sum_j rc_j f_j      (rc_j where x_j is at its bound)

and is worth ``v = -(d obj / d K) / Y`` [EUR/yr per unit], ``Y`` the horizon in years
(:attr:`~pecopt.model.technology.Common.years`; a shorter horizon is scaled pro rata).
For a sized capacity ``existing + N`` the rows are the capacity's and the bounds its
max's: ``v`` (both) is what one more unit would save per year if it came for free
(``existing`` and ``max`` one unit higher), and the capex at which one more unit would
just pay is

    capex* = v / (annuity(r, L) + fom / 100)                      [EUR per unit]

(:func:`~pecopt.model.capacity.annuity_factor`): above it one more unit would not pay,
below it it would (for a capacity built between 0 and its max, ``capex*`` is its own
capex). Its upper bound ``max`` (a roof's kWp, a connection's largest size) is worth
``-(rc_N + sum_j rc_j f_j) / Y`` where the bounds ``x_j <= f_j max`` and ``N <= max -
existing`` are set at it (given only when N is free and not built in modules).

Not valued (listed under ``not_valued`` with the reason): a capacity that is also the
big-M coefficient of a binary (minimum part load, exclusivity at negative prices), a
store's energy under typical periods (its linked levels are bounded by it too), and
anything a technology does not tag. A rooftop area limit is no row of its own: it is
folded into the array's ``max`` (``roof_area_m2 * max_kwp_per_m2``), so the value of the
roof is the value of that max in EUR/yr per kWp.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from pecopt.model.capacity import Amount, Limit, annuity_factor
from pecopt.model.core import DistrictModel
from pecopt.model.linear import FloatArray, RowsMeta, VarMeta, values
from pecopt.solver.duals import get_many, requested

__all__ = ["capacity_values", "price_summary", "prices", "unit_of_key"]

#: a value below this [EUR/yr per unit] counts as not binding (solver tolerance)
BINDING_EUR = 1e-6


def _suffixes(dm: DistrictModel) -> tuple[pyo.Suffix, pyo.Suffix | None] | None:
    """The filled ``dual`` suffix (and ``rc``), or None when the model has no duals."""
    dual, rc = requested(dm.model)
    if dual is None or len(dual) == 0:
        return None
    return dual, rc


def _row_duals(con: pyo.Constraint, dual: pyo.Suffix) -> FloatArray:
    """The duals of a row family per row as given (NaN for a dropped or unsolved row),
    divided by the family's scale: ``d obj / d b_i`` of the rows its builder wrote."""
    rm: RowsMeta = con._pecopt
    got = get_many(dual, rm.data)
    n_given = rm.m if rm.kept is None else (int(rm.kept[-1]) + 1 if rm.kept.size else 0)
    out = np.full(max(n_given, rm.m), np.nan)
    at = rm.position(np.arange(out.size))
    out[at >= 0] = got[at[at >= 0]]
    scaled: FloatArray = out / rm.scale
    return scaled


def prices(dm: DistrictModel) -> pd.DataFrame | None:
    """The marginal price of each carrier at each step [EUR/kWh] (module docstring):
    ``timestamp`` (UTC), ``carrier``, ``bus`` (the balance row family the dual is from,
    ``balance_<carrier>``), ``eur_per_kwh`` (NaN at a step whose row was dropped, having
    no flow at all). None when the model has no duals."""
    got = _suffixes(dm)
    if got is None:
        return None
    dual = got[0]
    n = dm.inputs.n
    dtw = dm.inputs.common.dtw
    carriers, buses, series = [], [], []
    for carrier, con in dm.balances.items():
        if not con.active or con._pecopt.m == 0:  # off (slack plan), or no flow at all
            continue
        y = _row_duals(con, dual)[:n]
        if y.size < n:
            y = np.concatenate([y, np.full(n - y.size, np.nan)])
        carriers.append(carrier)
        buses.append(con.name)
        series.append(y / dtw + 0.0)  # no -0.0
    utc = dm.inputs.index.tz_convert("UTC")
    k = len(series)
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(np.tile(utc.tz_localize(None).values, k)).tz_localize(
                "UTC"
            ),
            "carrier": np.repeat(np.asarray(carriers, dtype=object), n),
            "bus": np.repeat(np.asarray(buses, dtype=object), n),
            "eur_per_kwh": np.concatenate(series) if series else np.zeros(0),
        }
    )


def price_summary(table: pd.DataFrame | None) -> dict[str, dict[str, float]]:
    """Mean, lowest and highest marginal price of each carrier [EUR/kWh]."""
    if table is None or table.empty:
        return {}
    out = {}
    for carrier, g in table.groupby("carrier", sort=False):
        v = g["eur_per_kwh"].to_numpy(np.float64)
        v = v[np.isfinite(v)]
        if v.size:
            out[str(carrier)] = {
                "mean_eur_per_kwh": float(v.mean()),
                "min_eur_per_kwh": float(v.min()),
                "max_eur_per_kwh": float(v.max()),
            }
    return out


def unit_of_key(key: str) -> str:
    """The unit a capacity key ends in (``import_kw`` -> kW, ``power_kw_el`` -> kW el,
    ``borehole_m`` -> m)."""
    for suffix, unit in (("_kw_el", "kW el"), ("_kw_heat", "kW heat"), ("_kwh", "kWh"),
                         ("_kwp", "kWp"), ("_kw", "kW"), ("_m2", "m2"), ("_m", "m")):  # fmt: skip
        if f"_{key}".endswith(suffix):
            return unit
    return "unit"


class _Duals:
    """The duals and reduced costs of a solved model, read once per row family and per
    variable, with the sense of its objective (1 minimise, -1 maximise)."""

    def __init__(self, dual: pyo.Suffix, rc: pyo.Suffix | None, sense: int) -> None:
        self.dual, self.rc, self.sense = dual, rc, sense
        self._rows: dict[int, FloatArray] = {}
        self._bounds: dict[int, FloatArray] = {}

    def rows(self, lim: Limit) -> float:
        """``sum_k y[index_k] per_unit_k`` over a row family's rows as given."""
        con = lim.component
        if getattr(con, "_pecopt", None) is None:
            return 0.0
        y = self._rows.get(id(con))
        if y is None:
            y = self._rows[id(con)] = _row_duals(con, self.dual)
        inside = lim.index < y.size
        got = np.nan_to_num(y[lim.index[inside]], nan=0.0)
        return float(got @ lim.per_unit[inside])

    def bounds(self, lim: Limit) -> float:
        """``sum_k rc[index_k] per_unit_k`` over the elements at their upper bound whose
        reduced cost says the bound holds the objective back."""
        var = lim.component
        rc = self._bounds.get(id(var))
        if rc is None:
            rc = self._bounds[id(var)] = self._at_upper(var)
        return float(rc[lim.index] @ lim.per_unit)

    def _at_upper(self, var: pyo.Var) -> FloatArray:
        """Reduced costs of the elements at an active upper bound, 0 elsewhere."""
        vm: VarMeta = var._pecopt
        out: FloatArray = np.zeros(vm.n)
        if self.rc is None:
            return out
        ub = vm.ub  # as built: the bound the capacity's Limit describes
        x = np.nan_to_num(values(var), nan=-np.inf)
        at = np.flatnonzero(x >= ub - 1e-7 * np.maximum(1.0, np.abs(ub)))
        rc = get_many(self.rc, vm.data[at].tolist(), 0.0)  # only where a bound can hold
        out[at] = np.where(self.sense * rc < 0, rc, 0.0)
        return out


def _sense(dm: DistrictModel) -> int:
    for obj in dm.model.component_data_objects(pyo.Objective, active=True):
        return 1 if obj.sense == pyo.minimize else -1
    return 1


def capacity_values(dm: DistrictModel) -> dict[str, Any] | None:
    """The value of one more unit of every capacity the technologies tag, and for sized
    ones the break-even capex and the value of their max (module docstring):
    ``{"capacities": {asset: {key: {...}}}, "not_valued": {"asset.key": why}}``; None when
    the model has no duals.

    Each entry: ``unit``, ``capacity`` [unit], ``sized``, ``value_eur_per_unit_yr`` (what
    one more unit saves per year: > 0 where the limit binds), ``binding``; sized ones also
    ``capex_eur_per_unit``, ``break_even_capex_eur_per_unit``, ``at_max``,
    ``max_value_eur_per_unit_yr`` (None where not told) and their limits ``existing`` and
    ``max`` [unit]."""
    got = _suffixes(dm)
    if got is None:
        return None
    sense = _sense(dm)
    d = _Duals(got[0], got[1], sense)
    common = dm.inputs.common
    years = common.years
    out: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for c in dm.contributions.values():
        for asset, caps in c.capacities.items():
            for key, amount in caps.items():
                if not isinstance(amount, Amount) or amount.uses is None:
                    skipped[f"{asset}.{key}"] = "no limit of the model is tagged with it"
                    continue
                if amount.uses.unvalued:
                    skipped[f"{asset}.{key}"] = "; ".join(amount.uses.unvalued)
                    continue
                entry = _value(amount, d, years, sense, common.discount_rate)
                entry["unit"] = unit_of_key(key)
                out.setdefault(asset, {})[key] = dict(sorted(entry.items()))
    return {"capacities": out, "not_valued": skipped}


def _number(amount: Amount) -> float:
    """The capacity in the solution [its unit]: ``sum(terms) + constant``."""
    x = amount.constant
    for t in amount.terms:
        x += float(t.coef @ np.nan_to_num(values(t.var)[t.index], nan=0.0))
    return float(x)


def _value(amount: Amount, d: _Duals, years: float, sense: int, rate: float) -> dict[str, Any]:
    uses = amount.uses
    assert uses is not None
    sized = bool(amount.decisions)
    at_bound = sum(d.bounds(lim) for lim in uses.bounds)
    dobj = sum(d.rows(lim) for lim in uses.rows) + at_bound
    v = -sense * dobj / years + 0.0
    entry: dict[str, Any] = {
        "capacity": _number(amount),
        "sized": sized,
        "value_eur_per_unit_yr": v,
        "binding": bool(abs(v) > BINDING_EUR),
    }
    if not sized:
        return entry
    spec = amount.size
    recovery = annuity_factor(rate, spec.lifetime_yr) + spec.fom_pct_per_yr / 100.0
    new = amount.decisions[0][0]
    room = new.ub
    at_max = room is not None and (new.value or 0.0) >= room - 1e-7 * max(1.0, abs(room))
    entry |= {
        "capex_eur_per_unit": float(spec.capex_eur_per_unit),
        "existing": float(spec.existing),
        "max": float(spec.max),
        "break_even_capex_eur_per_unit": v / recovery if recovery > 0 else None,
        "at_max": bool(at_max),
        "max_value_eur_per_unit_yr": None,
    }
    if not new.fixed and len(amount.decisions) == 1:
        rc_new = d.bounds(Limit(amount.decisions[0], np.zeros(1, np.int64), np.ones(1)))
        entry["max_value_eur_per_unit_yr"] = -sense * (rc_new + at_bound) / years + 0.0
    return entry

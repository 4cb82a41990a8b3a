"""Always a plan: the optimal one, or the best one the time allowed, or one that says what
it had to violate, or a rule-based one.

:func:`plan_with_fallbacks` tries, in turn, on the same Pyomo model and the same
results/KPIs path as ``pecopt solve`` (so every plan has the same output files):

1. **optimal** (or ``time_limit``: the best feasible plan when time ran out, with its
   gap);
2. **slack**, when the model is infeasible: every bus balance gets an *unserved* and a
   *surplus* flow (role ``slack``, assets ``slack/unserved`` and ``slack/surplus``, so
   that every step still balances), every other row family an elastic copy, each slack
   at ``penalty`` EUR per kWh (kW) in the objective; :func:`violations` names what was
   violated, where and when;
3. **rule_based**, when the solver fails (or even the slack plan cannot be made):
   stores idle (charge and discharge fixed at 0), EVs charge from the moment they are
   plugged in (an LP that rewards early charging, then fixed), and then every step meets
   its own demand at its own prices: heat pumps follow the heat demand, district heat
   and the grid take the rest within their limits (an LP; the MILP if binaries remain,
   relaxed if that fails). Every bus balances. If even this is infeasible (the limits
   cannot cover the demand), :class:`~pecopt.errors.InfeasibleError` says so (exit 3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from pecopt.api import Built, Solution, build, solve
from pecopt.errors import InfeasibleError, PecoptError, SolverError
from pecopt.model.core import DistrictModel
from pecopt.model.linear import (
    ObjectiveMeta,
    RowsMeta,
    Term,
    add_objective,
    add_rows,
    add_var,
    linear_sum,
    meta,
    term,
)
from pecopt.model.technology import Contribution, Flow

__all__ = ["Plan", "plan_with_fallbacks", "violations"]

SLACK = "dispatch_slack"
#: a slack below this [kWh, kW] is solver tolerance, not a violation
TOLERANCE = 1e-6


@dataclass
class Plan:
    """A plan and how it was made: ``mode`` is ``optimal``, ``time_limit``, ``slack`` or
    ``rule_based``; ``why`` says why a fallback was needed; ``violated`` lists the slack
    plan's violations."""

    built: Built
    solution: Solution
    mode: str
    why: str | None = None
    violated: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def plan_with_fallbacks(
    built: Built,
    *,
    deadline: float,
    fallback_s: float,
    penalty: float,
    progress: Any = None,
) -> Plan:
    """The plan of ``built`` (see the module docstring).

    Parameters
    ----------
    deadline
        ``time.perf_counter()`` by which the optimisation must return.
    fallback_s
        Seconds each fallback gets (from when it starts, even after the deadline: a plan
        is worth more than punctuality).
    penalty
        Slack penalty [EUR per kWh or kW].
    """
    say = progress or (lambda _: None)
    try:
        sol = solve(built, deadline=deadline)
        mode = "optimal" if sol.outcome.status.value == "optimal" else "time_limit"
        return Plan(built, sol, mode)
    except InfeasibleError as exc:
        why = f"infeasible: {exc}"
        say("slack plan")
        try:
            fresh = build(built.inputs)
            sol = slack_solve(fresh, penalty, time.perf_counter() + fallback_s)
            return Plan(fresh, sol, "slack", why, violations(fresh.district))
        except PecoptError as exc2:
            why += f"; the slack plan failed too ({exc2})"
    except SolverError as exc:
        why = f"solver failure: {exc}"
    say("rule-based plan")
    fresh = build(built.inputs)
    sol = rule_based_solve(fresh, time.perf_counter() + fallback_s)
    return Plan(fresh, sol, "rule_based", why)


# ----------------------------------------------------------------------------- slack plan


def slack_solve(built: Built, penalty: float, deadline: float) -> Solution:
    """Solve ``built`` with slack on every row (see the module docstring)."""
    dm = built.district
    m = dm.model
    blk = pyo.Block()
    m.add_component(SLACK, blk)
    n = dm.inputs.n
    flows: list[Flow] = []
    penal: list[Term] = []
    for carrier in dm.carriers:  # balances with unserved and surplus flows
        con = getattr(m, f"balance_{carrier}", None)
        if con is None:
            continue
        con.deactivate()
        up = add_var(blk, f"unserved_{carrier}", n, 0.0)
        down = add_var(blk, f"surplus_{carrier}", n, 0.0)
        terms: list[Term] = []
        rhs = np.zeros(n)
        for f in dm.flows:
            if f.carrier == carrier:
                terms += f.terms
                if f.constant is not None:
                    rhs -= f.constant
        add_rows(blk, f"balance_{carrier}", n, [*terms, term(up, 1.0), term(down, -1.0)], equal=rhs)
        flows += [
            Flow("slack/unserved", carrier, "slack", (term(up, 1.0),)),
            Flow("slack/surplus", carrier, "slack", (term(down, -1.0),)),
        ]
        penal += [term(up, penalty * dm.inputs.dt_h), term(down, penalty * dm.inputs.dt_h)]
    families = [
        c
        for c in m.component_objects(pyo.Constraint, active=True, descend_into=True)
        if getattr(c, "_pecopt", None) is not None and c.parent_block() is not blk
    ]
    names: list[str] = []
    for k, con in enumerate(families):  # every other family: an elastic copy
        rm: RowsMeta = con._pecopt
        con.deactivate()
        plus = add_var(blk, f"plus_{k}", rm.m, 0.0)
        minus = add_var(blk, f"minus_{k}", rm.m, 0.0)
        add_rows(
            blk, f"elastic_{k}", rm.m, [*rm.terms, term(plus, 1.0), term(minus, -1.0)],
            lower=rm.lo, upper=rm.up,
        )  # fmt: skip
        names.append(con.name)
        penal += [term(plus, penalty), term(minus, penalty)]
    obj: ObjectiveMeta = m.objective._pecopt
    m.objective.deactivate()
    add_objective(blk, [*obj.terms, *penal], constant=obj.constant)
    blk.pecopt_families = names  # what each elastic copy stands for, for violations()
    dm.contributions[SLACK] = Contribution(flows=flows)
    return solve(built, deadline=deadline)


def violations(dm: DistrictModel) -> list[dict[str, Any]]:
    """What the slack plan violated: one entry per bus and direction (energy [kWh], steps,
    first and last local time) and per other row family (rows, total slack, first rows
    or times)."""
    blk = getattr(dm.model, SLACK, None)
    if blk is None:
        return []
    index, dt, tz = dm.inputs.index, dm.inputs.dt_h, dm.inputs.common.timezone
    out: list[dict[str, Any]] = []

    def when(steps: np.ndarray) -> dict[str, str]:
        local = index[steps].tz_convert(tz)
        last = local[-1] + pd.Timedelta(hours=dt)
        return {"from_local": local[0].isoformat(), "to_local": last.isoformat()}

    for carrier in dm.carriers:
        for kind in ("unserved", "surplus"):
            var = getattr(blk, f"{kind}_{carrier}", None)
            if var is None:
                continue
            x = np.nan_to_num(_values(var))
            hit = np.flatnonzero(x > TOLERANCE)
            if hit.size:
                out.append(
                    {
                        "what": f"{carrier} balance: {kind} energy",
                        "energy_kwh": float(x.sum() * dt),
                        "peak_kw": float(x.max()),
                        "steps": int(hit.size),
                        **when(hit),
                    }
                )
    for k, name in enumerate(blk.pecopt_families):
        x = np.nan_to_num(_values(blk.component(f"plus_{k}"))) + np.nan_to_num(
            _values(blk.component(f"minus_{k}"))
        )
        hit = np.flatnonzero(x > TOLERANCE)
        if hit.size:
            entry: dict[str, Any] = {"what": name, "slack": float(x.sum()), "rows": int(hit.size)}
            if x.size == len(index):  # one row per step
                entry.update(when(hit))
            else:
                entry["first_rows"] = hit[:5].tolist()
            out.append(entry)
    return out


def _values(var: pyo.Var) -> np.ndarray:
    from pecopt.model.linear import values

    return values(var)


# ------------------------------------------------------------------------ rule-based plan


def rule_based_solve(built: Built, deadline: float) -> Solution:
    """The rule-based plan of ``built`` (see the module docstring).

    Raises
    ------
    InfeasibleError
        Not even this plan keeps the limits (exit 3).
    SolverError
        HiGHS fails on the rule's own LPs (exit 4).
    """
    try:
        return _rule_based(built, deadline)
    except InfeasibleError as exc:
        raise InfeasibleError(
            f"not even the rule-based plan (stores idle, EVs charging on arrival, the grid "
            f"and district heat covering the rest within their limits) is feasible: {exc}"
        ) from None


def _rule_based(built: Built, deadline: float) -> Solution:
    dm = built.district
    m = dm.model
    opts = dm.inputs.common.solver
    from pecopt.solver import solve as solve_model

    # 1. stores idle; an idle store's level only decays, so it is freed from an end
    #    condition that keeps it up (end: initial)
    for f in dm.flows:
        if f.role == "storage":
            for t in f.terms:
                _fix(t, 0.0)
                _free_levels(t.var.parent_block(), {id(x.var) for x in f.terms})
    # 2. EVs (demand with decisions) charge as early as they can: maximise
    #    sum_t w_t * charge_t with w_t falling from 2 to 1 over the horizon, then fix
    flexible = [t for f in dm.flows if f.role == "demand" and f.terms for t in f.terms]
    if flexible:
        n = dm.inputs.n
        w = 2.0 - np.arange(n) / n
        early = [Term(t.var, t.index, t.coef * w[t.row], t.row) for t in flexible]  # coef < 0
        m.objective.deactivate()
        rule = pyo.Objective(expr=linear_sum(early), sense=pyo.minimize)
        m.add_component("dispatch_rule_objective", rule)
        try:
            _lp(m, opts, deadline, solve_model)
        finally:
            m.del_component(rule)
            m.objective.activate()
        for t in flexible:
            _fix(t, None)
    # 3. every step meets its own demand at its prices (grid and district heat the rest)
    try:
        return solve(built, deadline=max(deadline, time.perf_counter() + 5.0))
    except SolverError:  # binaries left (minimum part loads): relax them
        _relax_binaries(m)
        return solve(built, deadline=max(deadline, time.perf_counter() + 5.0))


def _lp(m: pyo.Block, opts: Any, deadline: float, solve_model: Any) -> None:
    """Solve with binaries relaxed (restored afterwards)."""
    relaxed = _relax_binaries(m)
    try:
        solve_model(m, opts, deadline=max(deadline, time.perf_counter() + 5.0))
    finally:
        for v in relaxed:
            v.domain = pyo.Binary


def _relax_binaries(m: pyo.Block) -> list[Any]:
    relaxed = []
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        if v.is_binary():
            v.domain = pyo.UnitInterval
            relaxed.append(v)
    return relaxed


def _free_levels(block: pyo.Block, flows: set[int]) -> None:
    """Lower bounds above 0 of the other continuous variables of a store's block -> 0."""
    for var in block.component_objects(pyo.Var, descend_into=False):
        if id(var) in flows:
            continue
        for v in var.values():
            if not v.is_binary() and v.lb is not None and v.lb > 0:
                v.setlb(0.0)


def _fix(t: Term, value: float | None) -> None:
    """Fix the elements of ``t``'s variable at ``value`` (None: at their current value)."""
    data = meta(t.var).data[t.index]
    for v in data.tolist():
        v.fix(value if value is not None else (v.value or 0.0))

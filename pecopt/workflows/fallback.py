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
from pecopt.model.transforms import (
    SLACK,
    early_charging,
    elastic,
    fix_terms,
    idle_stores,
    relax_binaries,
    restore_binaries,
)

__all__ = ["Plan", "plan_with_fallbacks", "violations"]

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
    """Solve ``built`` with slack on every row (:func:`pecopt.model.transforms.elastic`)."""
    elastic(built.district, penalty)
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

    # 1. stores idle (and freed from an end condition that keeps their level up)
    idle_stores(dm)
    # 2. EVs (demand with decisions) charge as early as they can, then are fixed there
    with early_charging(dm) as flexible:
        if flexible:
            relaxed = relax_binaries(m)
            try:
                solve_model(m, opts, deadline=max(deadline, time.perf_counter() + 5.0))
            finally:
                restore_binaries(relaxed)
    fix_terms(flexible, None)
    # 3. every step meets its own demand at its prices (grid and district heat the rest)
    try:
        return solve(built, deadline=max(deadline, time.perf_counter() + 5.0))
    except SolverError:  # binaries left (minimum part loads): relax them
        relax_binaries(m)
        return solve(built, deadline=max(deadline, time.perf_counter() + 5.0))

"""Scenario-based planning: one night's plan over an ensemble of forecasts.

The extensive form (:func:`pecopt.model.transforms.scenarios`) of the night's district
model, built once per member from that member's forecast: the day-ahead position and the
committed set-points are shared, everything else is each member's recourse, and the
objective is the expected cost (plus a CVaR term when asked). The plan handed on (its
set-points, its schedule) is member 0's, the point forecast's, whose committed part every
member shares; the position is the ensemble's.

Also here: the expected cost of another plan's first stage under the same members (the
deterministic plan's: the value of the stochastic solution, Birge 1982).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pecopt.errors import InfeasibleError, OptionError, SolverError

__all__ = ["Members", "StochasticPlan", "member_frame", "plan_members"]


@dataclass(frozen=True)
class Members:
    """Scenario-based planning (``--members N``): each night plans
    over ``count`` forecasts, the night's forecast (member 0) and ``count - 1`` drawn
    around it from the ``noisy:SIZE`` error model (:func:`pecopt.ingest.forecasts.members`,
    ``size`` [1], seeded by ``seed``), sharing the day-ahead position of the delivery day
    and the stores' and flexible demand's set-points of its first ``commit_hours`` hours
    (None: the whole delivery day), at the scenario's imbalance spread; the objective is
    the expected cost plus ``cvar_weight`` times the CVaR at ``cvar_alpha``."""

    count: int
    size: float
    seed: int = 0
    commit_hours: float | None = None
    cvar_alpha: float | None = None
    cvar_weight: float = 0.0
    file: Path | None = None
    """an ensemble file (:func:`pecopt.ingest.forecasts.read_members`): its members in
    place of drawn ones (``count`` and ``size`` unused)"""

    @classmethod
    def of(
        cls,
        count: int,
        *,
        noise: float | None = None,
        forecast: str | None = None,
        seed: int = 0,
        commit_hours: float | None = None,
        cvar_alpha: float | None = None,
        cvar_weight: float = 0.0,
        file: Path | None = None,
    ) -> Members | None:
        """The options ``--members``, ``--member-noise`` (default: the size of a replay's
        ``forecast`` when it is ``noisy:SIZE``), ``--commit-hours``, ``--cvar-alpha`` and
        ``--cvar-weight`` checked; None for ``--members 0`` without ``--members-file``
        (``file``: the members are read from it, ``--members`` and ``--member-noise``
        are not needed).

        Raises
        ------
        OptionError
            A value out of range, or no noise size to draw members with.
        """
        if cvar_alpha is not None and not 0.0 <= cvar_alpha < 1.0:
            raise OptionError("--cvar-alpha", f"a level in [0, 1) (got {cvar_alpha})")
        if cvar_weight < 0.0 or (cvar_weight > 0 and cvar_alpha is None):
            raise OptionError("--cvar-weight", "a weight >= 0, with --cvar-alpha")
        if file is not None:
            if not Path(file).is_file():
                raise OptionError("--members-file", f"{file}: no such file")
            return cls(count, 0.0, seed, commit_hours, cvar_alpha, cvar_weight, Path(file))
        if count == 0:
            return None
        if not 1 <= count <= 100:
            raise OptionError("--members", f"from 1 to 100 members (got {count})")
        if noise is None and forecast is not None:
            from pecopt.ingest.forecasts import parse_mode

            mode = parse_mode(forecast)
            noise = mode.size if mode.kind == "noisy" else None
        if noise is None:
            raise OptionError("--member-noise", "give the members' error size (e.g. 0.2)")
        if not 0.0 <= noise <= 2.0:
            raise OptionError("--member-noise", f"from 0 to 2 (got {noise})")
        if commit_hours is not None and not 0.0 <= commit_hours <= 48.0:
            raise OptionError("--commit-hours", f"from 0 to 48 hours (got {commit_hours})")
        return cls(count, noise, seed, commit_hours, cvar_alpha, cvar_weight)


@dataclass
class StochasticPlan:
    """A night's scenario-based plan.

    ``plan`` is member 0's :class:`~pecopt.workflows.fallback.Plan` (the set-points);
    ``position_kw`` the day-ahead position [kW] of the delivery window's steps;
    ``expected_cost_eur`` the ensemble's optimum ``sum_m p_m C_m`` [EUR] (the recourse
    problem, RP), ``cvar_eur`` the CVaR of the members' costs at ``cvar_alpha`` [EUR]
    (None without a CVaR level), ``costs_eur`` each member's cost ``C_m``;
    ``members`` the per-member recourse: each member's schedule with a ``member`` column.
    """

    plan: Any
    ensemble: Any
    position_kw: np.ndarray
    expected_cost_eur: float
    cvar_eur: float | None
    costs_eur: np.ndarray
    size: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def members(self) -> pd.DataFrame:
        """Every member's schedule (the recourse) with its ``member`` number [kW]."""
        return member_frame(self.ensemble)

    def expected_cost_of(
        self, position_kw: np.ndarray, targets: dict[tuple[str, str, str], np.ndarray]
    ) -> float | None:
        """The expected cost [EUR] of another plan's first stage (its position and
        set-points, e.g. the deterministic plan's) under the same members, each member's
        recourse optimal (the EEV of Birge 1982); None when that first stage is
        infeasible for some member. The ensemble is left as it was."""
        from pecopt.solver import solve as solve_model

        ens = self.ensemble
        opts = ens.members[0].inputs.common.solver
        ens.fix_first_stage(position_kw, targets)
        try:
            solve_model(ens.model, opts)
            return float(ens.expected_cost())
        except (InfeasibleError, SolverError):
            return None
        finally:
            ens.free_first_stage()


def member_frame(ens: Any) -> pd.DataFrame:
    """The members' schedules, one after the other, with a ``member`` column."""
    from pecopt.results.extract import extract

    frames = []
    for k, dm in enumerate(ens.members):
        sched = extract(dm).schedule.copy()
        sched.insert(0, "member", np.int32(k))
        frames.append(sched)
    return pd.concat(frames, ignore_index=True)


def plan_members(
    scenario: Any,
    tables: list[dict[str, pd.DataFrame]],
    file: str | None,
    *,
    position_steps: int,
    commit_steps: int,
    spread_eur_per_kwh: float,
    cvar_alpha: float | None = None,
    cvar_weight: float = 0.0,
    deadline: float | None = None,
) -> StochasticPlan:
    """Plan ``scenario`` (the night's scenario, its start state read in) over the
    members' forecasts ``tables`` (member 0 the point forecast), as described in the
    module docstring. Raises :class:`~pecopt.errors.InfeasibleError` or
    :class:`~pecopt.errors.SolverError` as a deterministic solve would: the caller falls
    back to the deterministic plan."""
    from pecopt.api import Built, solution_of
    from pecopt.ingest.district import to_inputs
    from pecopt.model.core import build_model
    from pecopt.model.linear import values
    from pecopt.model.transforms import scenarios
    from pecopt.solver import solve as solve_model
    from pecopt.workflows.fallback import Plan

    t0 = time.perf_counter()
    inputs = [to_inputs(scenario, t, file) for t in tables]
    dms = [build_model(i) for i in inputs]
    t1 = time.perf_counter()
    ens = scenarios(
        dms, position_steps=position_steps, commit_steps=commit_steps,
        spread_eur_per_kwh=spread_eur_per_kwh, cvar_alpha=cvar_alpha, cvar_weight=cvar_weight,
    )  # fmt: skip
    t2 = time.perf_counter()
    outcome = solve_model(ens.model, inputs[0].common.solver, deadline=deadline)
    size = {**outcome.size, "members": len(dms)}
    t3 = time.perf_counter()
    built = Built(scenario, inputs[0], dms[0], {"build": t1 - t0})
    sol = solution_of(built, outcome, with_kpis=True)
    mode = "optimal" if outcome.status.value == "optimal" else "time_limit"
    costs = ens.costs()
    return StochasticPlan(
        plan=Plan(built, sol, mode),
        ensemble=ens,
        position_kw=values(ens.position),
        expected_cost_eur=float(ens.expected_cost()),
        cvar_eur=None if cvar_alpha is None else float(ens.cvar()),
        costs_eur=costs,
        size=size,
        seconds={
            "build": t1 - t0,
            "transform": t2 - t1,
            "solve": t3 - t2,
            "total": time.perf_counter() - t0,
        },  # fmt: skip
    )

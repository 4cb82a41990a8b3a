"""What an operator should know about a dispatch plan: flags with a level.

``notice`` flags are recorded (manifest, ``pecopt runs list``) and leave the exit code
at 0: the first night without a carried state, stand-ins for missing inputs given by
configuration (the embedded typical year or price shape), the look-ahead's prices
forecast (they are never out yet), a clipped level, an EV whose plug state changed.
``degraded`` flags make the exit code 10: the delivery day's own prices or weather
filled in, an implausible forecast (``implausible_forecast``,
:mod:`pecopt.ingest.forecast_checks`), a start state from a look-ahead (a missed night)
or none at all, a plan stopped by the time limit, a slack plan, a rule-based plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pecopt.model.carry import DEGRADED, NOTICE, Flag
from pecopt.scenario.schema import Scenario
from pecopt.state import StartState

__all__ = [
    "DEGRADED",
    "NOTICE",
    "Flag",
    "grouped",
    "plan_flags",
    "price_flags",
    "state_flags",
]


def local(t: pd.Timestamp, tz: str) -> str:
    """ISO 8601 local time with its UTC offset."""
    return t.tz_convert(tz).isoformat()


def state_flags(state: StartState, start: pd.Timestamp, tz: str, first_night: bool) -> list[Flag]:
    """A start state from a look-ahead (a missed night), or none when runs exist."""
    when = local(start, tz)
    if state.source == "lookahead":
        return [
            Flag(
                DEGRADED,
                "state_from_lookahead",
                f"no run planned the day before {when}: the start state is the look-ahead "
                f"of run {state.run_id} (day {state.run_day})",
            )
        ]
    if state.source == "none" and not first_night:
        return [Flag(DEGRADED, "no_state", f"no run planned up to {when}: initial state assumed")]
    return []


def price_flags(
    s: Scenario,
    tables: Mapping[str, pd.DataFrame],
    in_window: np.ndarray,
    index: pd.DatetimeIndex,
    tz: str,
    stand_in: str = NOTICE,
) -> list[Flag]:
    """Stand-in prices (at level ``stand_in``: degraded unless allowed), filled prices of
    the look-ahead (notice) and of the delivery day (degraded), from the ``spot_filled``
    column of ``grid_prices``."""
    parts: Any = s.assets
    grid = parts.grid
    prices = tables.get("grid_prices")
    if grid is None or prices is None:
        return []
    if grid.tariff.spot.source == "typical_year":
        return [Flag(stand_in, "stand_in", "spot prices: the embedded typical-year shape")]
    filled = prices["spot_filled"].to_numpy(bool) if "spot_filled" in prices else None
    if filled is None or not filled.any():
        return []
    out = []
    for part, mask, level in (
        ("the delivery day", filled & in_window, DEGRADED),
        ("the look-ahead", filled & ~in_window, NOTICE),
    ):
        if mask.any():
            steps = index[mask]
            out.append(
                Flag(
                    level,
                    "prices_filled",
                    f"day-ahead prices missing for {int(mask.sum())} steps of {part} "
                    f"(from {local(steps[0], tz)}): forecast from the recent level "
                    "on the embedded shape",
                )
            )
    return out


def plan_flags(plan: Any) -> list[Flag]:
    """A time-limited, slack or rule-based plan is degraded."""
    if plan.mode == "time_limit":
        gap = plan.solution.kpis["solver"]["gap"]
        return [
            Flag(DEGRADED, "time_limit", f"time limit: best plan found, gap {gap:.2%} to the bound")
        ]
    if plan.mode == "slack":
        what = "; ".join(_violation(v) for v in plan.violated[:5])
        return [Flag(DEGRADED, "slack", f"{plan.why}; the plan violates: {what or 'nothing'}")]
    if plan.mode == "rule_based":
        return [Flag(DEGRADED, "rule_based", f"rule-based plan ({plan.why})")]
    return []


def _violation(v: dict[str, Any]) -> str:
    """``electricity balance: unserved energy 456 kWh in 23 steps, 2025-03-10 00:00 to ...``"""
    amount = f"{v['energy_kwh']:.6g} kWh" if "energy_kwh" in v else f"slack {v['slack']:.6g}"
    count = v.get("steps", v.get("rows"))
    where = ""
    if "from_local" in v:
        where = (
            f", {v['from_local'][:16].replace('T', ' ')} to {v['to_local'][:16].replace('T', ' ')}"
        )
    elif "first_rows" in v:
        where = f", rows {v['first_rows']}"
    return f"{v['what']} {amount} in {count} step(s){where}"


def grouped(flags: list[dict[str, str]] | list[Flag]) -> list[tuple[str, str, int, str]]:
    """Flags by kind, each kind once: ``(level, code, count, first message)``, degraded
    kinds first (an operator reads the one degraded line before 30 notices)."""
    out: dict[tuple[str, str], list[str]] = {}
    for f in flags:
        d = f.as_dict() if isinstance(f, Flag) else f
        out.setdefault((d["level"], d["code"]), []).append(d["message"])
    order = sorted(out, key=lambda k: (k[0] != DEGRADED, list(out).index(k)))
    return [(lv, code, len(out[(lv, code)]), out[(lv, code)][0]) for lv, code in order]

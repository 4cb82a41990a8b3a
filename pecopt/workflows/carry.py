"""Carrying a district's state across nightly runs: from the state store into the day's
scenario, and from a plan back into trajectories for the store.

Start (:func:`start_records`): every battery and thermal store starts at its carried
level (clipped to ``[0, capacity]``), or, with nothing carried, at the file's
``soc_initial_kwh`` or ``dispatch.initial_share`` of its capacity; a store whose file
says ``end: cyclic`` ends as ``dispatch.store_end`` says (with ``end: value``, at the
store's or its carrier's ``dispatch.end_value_eur_per_kwh``). Each EV starts with its
carried energy, found by its ``fleet/vehicle`` name in the store and handed to the fleet
as ``initial_energy_kwh`` by vehicle name. Heat pumps with minimum on/off times start
from their carried on/off state and time in it. The district-heat tariff gets the
billing peak so far (restarted each ``dispatch.billing_peak_reset``) and the years a
raised peak is billed for.

End (:func:`trajectories`): the planned levels of every store and EV, each EV's plug
state, each heat pump's on/off state and time in it, and the running billing peak, over
the whole horizon (the delivery window and the look-ahead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pecopt.errors import ScenarioError
from pecopt.results.extract import Results
from pecopt.scenario.schema import Dispatch, Scenario
from pecopt.state import StartState, Trajectory
from pecopt.workflows.flags import DEGRADED, NOTICE, Flag

__all__ = ["Carried", "ev_initial", "running_peak", "start_records", "trajectories"]


@dataclass
class Carried:
    """The start state handed to the day's scenario, by asset [kWh, kW, h, bool]."""

    levels: dict[str, float] = field(default_factory=dict)
    ev_energy: dict[str, dict[str, float]] = field(default_factory=dict)
    hp: dict[str, tuple[bool, float]] = field(default_factory=dict)
    billing_peak_kw: float | None = None
    flags: list[Flag] = field(default_factory=list)


def _clip(value: float, hi: float, what: str, flags: list[Flag]) -> float:
    """``value`` clipped to [0, hi]; a clip beyond rounding is flagged."""
    v = min(max(value, 0.0), hi)
    if abs(v - value) > 1e-6:
        flags.append(Flag(NOTICE, "state_clipped", f"{what}: carried {value:g} clipped to {v:g}"))
    return v


def start_records(
    s: Scenario, cfg: Dispatch, state: StartState, first_night: bool
) -> tuple[dict[str, Any], Carried]:
    """The ``assets`` section of the day's scenario (a dict, to validate) and what was
    carried. EV energies are applied later (:func:`ev_initial`), once the fleets'
    vehicles are known from ingest."""
    carried = Carried()
    flags = carried.flags
    assets: dict[str, Any] = s.assets.model_dump()  # type: ignore[attr-defined]
    where = "" if state.run_id is None else f" (run {state.run_id}, day {state.run_day})"

    for key in ("batteries", "thermal_stores"):
        for rec in assets[key]:
            carrier = rec.get("carrier", "electricity")
            if not isinstance(rec["capacity_kwh"], int | float):
                raise ScenarioError(
                    None, f"assets.{key}.{rec['name']}.capacity_kwh",
                    "a nightly plan needs a given capacity, not a size to choose",
                )  # fmt: skip
            name, cap = rec["name"], float(rec["capacity_kwh"])
            got = state.get(name, "soc_kwh")
            if got is not None:
                level = _clip(got, cap, f"{name} level", flags)
            elif rec["soc_initial_kwh"] is not None:
                level = float(rec["soc_initial_kwh"])
                flags.append(_no_state(name, f"the file's {level:g} kWh", first_night))
            else:
                level = cfg.initial_share * cap
                flags.append(_no_state(name, f"{cfg.initial_share:.0%} of capacity", first_night))
            rec["soc_initial_kwh"] = level
            carried.levels[name] = level
            if rec["end"] == "cyclic":
                rec["end"] = cfg.store_end
            if rec["end"] == "value" and rec["end_value_eur_per_kwh"] is None:
                value = cfg.end_value_eur_per_kwh.get(name)
                if value is None:
                    value = cfg.end_value_eur_per_kwh.get(carrier, 0.0)
                rec["end_value_eur_per_kwh"] = value
            elif rec["end"] != "value":
                rec["end_value_eur_per_kwh"] = None

    for rec in assets["ev_fleets"]:
        if rec["end"] == "cyclic":
            rec["end"] = cfg.ev_end
        if rec["soc_initial_kwh"] is None and not rec["initial_energy_kwh"]:
            rec["soc_initial_kwh"] = cfg.initial_share * float(rec["capacity_kwh"])
        prefix = f"{rec['name']}/"
        carried.ev_energy[rec["name"]] = {
            a[len(prefix) :]: v
            for (a, q), v in state.values.items()
            if q == "soc_kwh" and a.startswith(prefix)
        }

    for rec in assets["heat_pumps"]:
        on, hours = state.get(rec["name"], "on"), state.get(rec["name"], "hours_in_state")
        if on is not None and hours is not None:
            carried.hp[rec["name"]] = (on > 0.5, hours)
            if rec["min_on_h"] > 0 or rec["min_off_h"] > 0:
                rec["initial_on"] = bool(on > 0.5)
                rec["initial_hours_in_state"] = float(hours)

    dh = assets.get("district_heating")
    if dh is not None:
        tariff = dh["tariff"]
        got = state.get("district_heat", "billing_peak_kw")
        reset = _reset(cfg, state, s.site.timezone)
        if got is not None and not reset:
            carried.billing_peak_kw = max(got, tariff["billing_peak_so_far_kw"] or 0.0)
        else:
            carried.billing_peak_kw = tariff["billing_peak_so_far_kw"] or 0.0
            if got is not None:
                flags.append(
                    Flag(NOTICE, "billing_peak_reset", f"billing peak restarted ({reset}){where}")
                )
        tariff["billing_peak_so_far_kw"] = carried.billing_peak_kw
        if tariff["power_fee_years"] is None:
            tariff["power_fee_years"] = cfg.peak_fee_years

    grid = assets.get("grid")
    if grid is not None and grid["tariff"]["spot"]["source"] == "file":
        grid["tariff"]["spot"]["missing"] = cfg.missing_prices
        grid["tariff"]["spot"]["history_days"] = cfg.price_history_days
    return assets, carried


def _no_state(name: str, start: str, first_night: bool) -> Flag:
    if first_night:
        return Flag(
            NOTICE, "no_state", f"{name}: no state carried yet (first run); starts at {start}"
        )
    return Flag(DEGRADED, "no_state", f"{name}: no carried state for this start; starts at {start}")


def _reset(cfg: Dispatch, state: StartState, tz: str) -> str | None:
    """Why the billing peak restarts at ``state.at`` (a new month or year), or None."""
    if cfg.billing_peak_reset == "never" or state.run_day is None:
        return None
    before = pd.Timestamp(state.run_day)  # the delivery day the state comes from
    now = pd.Timestamp(state.at.tz_convert(tz).date())
    if cfg.billing_peak_reset == "year" and now.year != before.year:
        return "new year"
    if cfg.billing_peak_reset == "month" and (now.year, now.month) != (before.year, before.month):
        return "new month"
    return None


def ev_initial(
    assets: dict[str, Any], carried: Carried, vehicles: Mapping[str, list[str]]
) -> list[Flag]:
    """Put each EV's carried energy (clipped) into its fleet's ``initial_energy_kwh``,
    for the vehicles the fleet has now (``vehicles``: fleet -> names from ingest)."""
    flags: list[Flag] = []
    for rec in assets["ev_fleets"]:
        name, cap = rec["name"], float(rec["capacity_kwh"])
        have = carried.ev_energy.get(name, {})
        known = [v for v in vehicles.get(name, []) if v in have]
        energy = dict(rec["initial_energy_kwh"])
        for v in known:
            energy[v] = _clip(have[v], cap, f"{name}/{v} energy", flags)
        rec["initial_energy_kwh"] = energy
        new = [v for v in vehicles.get(name, []) if v not in energy]
        if new and have:
            flags.append(
                Flag(
                    NOTICE,
                    "ev_new",
                    f"{name}: {len(new)} vehicle(s) without carried energy (e.g. {new[0]}) "
                    f"start at {rec['soc_initial_kwh']:g} kWh",
                )
            )
    return flags


def trajectories(
    results: Results,
    tables: Mapping[str, pd.DataFrame],
    s: Scenario,
    carried: Carried,
    index: pd.DatetimeIndex,
    dt_h: float,
) -> list[Trajectory]:
    """The planned state over the horizon, for the store (see the module docstring)."""
    step = pd.Timedelta(hours=dt_h)
    start, n = index[0], len(index)
    out: list[Trajectory] = []

    st = results.storage
    for asset, grp in st.groupby("asset", sort=False):
        out.append(Trajectory(str(asset), "soc_kwh", start, step, grp["soc_kwh"].to_numpy(float)))

    avail = tables.get("ev_fleets_availability")
    if avail is not None and len(avail):
        for (fleet, vehicle), grp in avail.groupby(["fleet", "vehicle"], sort=False):
            plug = grp["plugged"].to_numpy(bool).astype(float)
            out.append(Trajectory(f"{fleet}/{vehicle}", "plugged", start, step, plug))

    sched = results.schedule
    parts: Any = s.assets
    for hp in parts.heat_pumps:
        rows = sched[(sched["asset"] == hp.name) & (sched["carrier"] == "electricity")]
        on = (-rows["flow_kw"].to_numpy(float)) > 1e-6
        if on.size != n:
            continue
        init = carried.hp.get(hp.name)
        hours = np.empty(n)
        prev_on, prev_h = init if init is not None else (bool(on[0]), 0.0)
        for t in range(n):
            prev_h = prev_h + dt_h if on[t] == prev_on else dt_h
            prev_on = bool(on[t])
            hours[t] = prev_h
        out.append(Trajectory(hp.name, "on", start, step, on.astype(float)))
        out.append(Trajectory(hp.name, "hours_in_state", start, step, hours))

    dh = parts.district_heating
    if dh is not None:
        rows = sched[(sched["asset"] == "district_heat") & (sched["role"] == "import")]
        flow = rows["flow_kw"].to_numpy(float)
        if flow.size == n:
            out.append(
                Trajectory(
                    "district_heat",
                    "billing_peak_kw",
                    start,
                    step,
                    running_peak(flow, dh.tariff.peak_window_h, dt_h, carried.billing_peak_kw),
                )
            )
    return out


def running_peak(
    flow_kw: np.ndarray, window_h: int, dt_h: float, so_far: float | None
) -> np.ndarray:
    """The billing peak at the end of each step [kW]: the highest ``window_h``-hour mean
    of ``flow_kw`` over windows that have ended by then, and at least ``so_far``.

    .. math:: \\hat P_t = \\max\\bigl(P_0, \\max_{s \\le t - k + 1}
              \\tfrac{1}{k}\\sum_{j=0}^{k-1} P_{s+j}\\bigr),\\quad k = w / \\Delta t
    """
    n = flow_kw.size
    k = max(1, min(n, round(window_h / dt_h)))
    base = so_far or 0.0
    means = np.convolve(flow_kw, np.ones(k) / k, mode="valid")  # window starting at s
    ends = np.full(n, -np.inf)
    ends[k - 1 :] = means
    return np.maximum(np.maximum.accumulate(ends), base)

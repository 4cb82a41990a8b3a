"""A period of nights in closed loop: plan on forecasts, settle against what happened,
and compare with a rule-based controller and with perfect foresight.

``pecopt replay SCENARIO --from DAY --to DAY --forecast MODE --out DIR``. The scenario's
data over the period are the *truth* (ingested once: the files it names, or pecopt's
embedded year). For every delivery day, in order:

1. **plan** as ``pecopt dispatch`` does (the same technologies' rolling and start hooks,
   the same fallbacks): the day plus ``dispatch.lookahead_h``, from the state the
   previous *settled* day ended in, on a forecast of the truth (:mod:`pecopt.ingest.forecasts`);
2. **settle** the delivery day on the truth: the model of that day, from the same start
   state, with every decided flow (stores, conversions, EV charging) tracking the plan's
   set-points as far as the day allows (:func:`pecopt.model.transforms.follow`, the
   deviation at :data:`FOLLOW_EUR_PER_KWH`); the grid and district heat balance the rest,
   PV is curtailed where it must be. Money is billed on these realised flows, a new
   monthly or billing peak only for what it adds (the grid and district heat carry their
   peaks so far); the next night starts from the settled end state;
3. the **rule-based controller** (what the district does without pecopt) runs its own
   closed loop on the same true days: electricity stores charge from the PV surplus and
   discharge into the deficit, heat stores idle, EVs charge from the moment they plug in
   (as much and as early as they can), then the heat sources and the grid meet each
   step at its prices (:func:`pecopt.model.transforms.rule_bounds`).

The **perfect-foresight optimum** is one solve of the whole period on the truth, from the
first night's start state. Costs are compared *net*: billed money plus penalties (unmet
energy) less the value of the energy left in the stores at the end (the same end values
as a night's plan), so that a controller cannot look cheaper by emptying its stores.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pecopt import __version__
from pecopt.errors import DataError, InfeasibleError, OptionError, SolverError
from pecopt.model.blocks.ev import RESERVE_PENALTY
from pecopt.model.blocks.heat_pump import GROUND_VALUE
from pecopt.model.carry import DEGRADED, Flag, Start
from pecopt.model.transforms import IMBALANCE
from pecopt.progress import Progress, counted, noop
from pecopt.scenario.schema import Dispatch, Scenario
from pecopt.workflows.stochastic import Members

__all__ = ["FOLLOW_EUR_PER_KWH", "Members", "ReplayRun", "flat_kpis", "replay"]

#: weight of a settled flow's deviation from its set-point [EUR/kWh]: far above any price,
#: so that the day follows the plan wherever it can
FOLLOW_EUR_PER_KWH = 10.0
#: carried quantities that are the day's inputs, not a state carried (EV plug state)
GIVEN = ("plugged", "copies")
STORED_VALUE = "stored_energy_value"
#: objective items that steer a plan but are no money: a car short of its next trips
#: after the horizon, the borehole's annual cap spent
NOT_MONEY = (RESERVE_PENALTY, GROUND_VALUE)
#: what a forecast reports that is not an error: how old the file was [h], steps filled
FORECAST_META = ("issued_h_before", "filled_steps")


@dataclass
class Day:
    """One settled day of a controller: its money and energy, and the state it ends in."""

    billed_eur: float
    penalty_eur: float
    stored_value_eur: float
    co2_kg: float
    unmet_kwh: float
    ev_charged_kwh: float
    grid_import_kwh: float
    start: dict[tuple[str, str], float]
    end: dict[tuple[str, str], float]
    items: dict[str, float]
    schedule: pd.DataFrame
    storage: pd.DataFrame
    carbon: pd.DataFrame


@dataclass
class ReplayRun:
    """What a replay produced: one row per day, the totals and the output folder."""

    table: pd.DataFrame
    kpis: dict[str, Any]
    out: Path
    seconds: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ the period's truth


class Rows:
    """Each timestamped table's rows in time order, computed once, so that a window of
    a long table is found by binary search (O(log n + rows taken), not a scan of the
    period's millions of rows every day)."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self.order: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, t in tables.items():
            if "timestamp" in t.columns:
                ns = pd.DatetimeIndex(t["timestamp"]).as_unit("ns").asi8
                order = np.argsort(ns, kind="stable")
                self.order[name] = (order, ns[order])

    def within(
        self, name: str, t: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp
    ) -> pd.DataFrame:
        """The rows of table ``name`` (``t``) with ``lo <= timestamp < hi``, in their
        order in the table, index reset."""
        if name not in self.order:
            ts = pd.DatetimeIndex(t["timestamp"])
            return t[(ts >= lo) & (ts < hi)].reset_index(drop=True)
        order, ns = self.order[name]
        a, b = np.searchsorted(ns, [lo.as_unit("ns").value, hi.as_unit("ns").value])
        return t.take(np.sort(order[a:b])).reset_index(drop=True)


def _slice(
    tables: Mapping[str, pd.DataFrame],
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    step: pd.Timedelta,
    open_end: bool = False,
    rows: Rows | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables on ``[lo, hi)``: rows by ``timestamp``; EV sessions clipped to it, a cut
    session wanting its energy pro rata to its steps inside (as a horizon cuts it), the
    shares before ``lo`` and after ``hi`` kept apart (``energy_before_kwh``,
    ``energy_after_kwh``). ``open_end``: a session that goes on after ``hi`` wants
    nothing by then (a settled day: its deadline is later, and the plan may have
    charged it after midnight). The fleets' reserve (what a car drives after ``hi``
    before it next plugs in) is read off the week after ``hi``, as a plan draws it.
    ``rows``: the tables' time order (:class:`Rows`) when they are sliced many times."""
    from pecopt.ingest.ev_fleets import RESERVE_COLUMNS, RESERVE_DAYS, reserve_table

    rows = rows or Rows({})
    out: dict[str, pd.DataFrame] = {}
    for name, t in tables.items():
        if list(t.columns) == RESERVE_COLUMNS:  # the cars' next trips after hi
            avail = next((n for n, a in tables.items() if {"plugged", "drive_kwh"} <= set(a)), None)
            later = None
            if avail is not None:
                week = hi + pd.Timedelta(days=RESERVE_DAYS)
                later = rows.within(avail, tables[avail], hi, week)
            out[name] = t if later is None or later.empty else reserve_table(later, hi)
        elif "timestamp" in t.columns:
            out[name] = rows.within(name, t, lo, hi)
        elif {"first_utc", "last_utc", "energy_kwh"} <= set(t.columns):
            first, last = pd.DatetimeIndex(t["first_utc"]), pd.DatetimeIndex(t["last_utc"])
            keep = (last >= lo) & (first < hi)
            s = t[keep].copy()
            f0, l0 = first[keep], last[keep]
            f1 = f0.where(f0 >= lo, lo)
            l1 = l0.where(l0 <= hi - step, hi - step)
            whole = np.asarray((l0 - f0) / step + 1, dtype=float)
            inside = np.asarray((l1 - f1) / step + 1, dtype=float) / whole
            ahead = np.asarray((f1 - f0) / step, dtype=float) / whole
            energy = s["energy_kwh"].to_numpy(float)
            zero = pd.Series(np.zeros(len(s)), index=s.index)
            was_before = s.get("energy_before_kwh", zero).to_numpy(float)
            was_after = s.get("energy_after_kwh", zero).to_numpy(float)
            before = was_before + energy * ahead
            after = was_after + energy * (1.0 - inside - ahead)
            wanted = energy * inside
            if open_end:
                goes_on = after > 0
                after = np.where(goes_on, after + wanted, after)
                wanted = np.where(goes_on, 0.0, wanted)
            s["first_utc"], s["last_utc"] = f1, l1
            s["energy_kwh"] = wanted
            s["energy_before_kwh"], s["energy_after_kwh"] = before, after
            out[name] = s.reset_index(drop=True)
        else:
            out[name] = t
    return out


# ------------------------------------------------------------------ one controller's day


def _money(items: Mapping[str, float]) -> tuple[float, float, float]:
    """(billed, penalties, value of the energy left) [EUR] of a solution's cost items
    (without :data:`NOT_MONEY`)."""
    items = {k: v for k, v in items.items() if k not in NOT_MONEY}
    penalty = sum(v for k, v in items.items() if k.endswith("_penalty"))
    stored = float(items.get(STORED_VALUE, 0.0))
    billed = sum(v for k, v in items.items() if not k.endswith("_penalty") and k != STORED_VALUE)
    return float(billed), float(penalty), stored


def _day(built: Any, sol: Any) -> Day:
    """A settled day's figures and end state, from its solved model."""
    from pecopt.workflows.carry import carried_states

    res = sol.results
    billed, penalty, stored = _money(res.cost_items_eur)
    sched = res.schedule
    ev = sched[(sched["role"] == "demand") & sched["asset"].astype(str).str.contains("/")]
    grid = sched[(sched["asset"] == "grid") & (sched["role"] == "import")]
    dt = built.inputs.dt_h
    states = carried_states(built.district)
    return Day(
        billed_eur=billed,
        penalty_eur=penalty,
        stored_value_eur=stored,
        co2_kg=float(res.carbon["co2_kg"].sum()),
        unmet_kwh=float(sum(res.unmet_kwh.values())),
        ev_charged_kwh=float(-ev["flow_kw"].sum() * dt),
        grid_import_kwh=float(grid["flow_kw"].sum() * dt),
        start={k: float(v[0]) for k, v in states.items()},
        end={k: float(v[-1]) for k, v in states.items()},
        items={k: float(v) for k, v in res.cost_items_eur.items() if k not in NOT_MONEY},
        schedule=sched,
        storage=res.storage,
        carbon=res.carbon,
    )


@dataclass
class _Setup:
    """What every night reuses: the base scenario, its dispatch settings, the truth."""

    base: Scenario
    cfg: Dispatch
    file: str
    truth: dict[str, pd.DataFrame]
    index: pd.DatetimeIndex  # the truth's steps
    step: pd.Timedelta
    tz: str
    rows: Rows  # the truth's time order


def _scenario(
    setup: _Setup,
    assets: dict[str, Any],
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    solver: dict[str, Any] | None = None,
) -> Scenario:
    from pecopt.workflows.dispatch import _validate

    doc = setup.base.model_dump()
    if solver:
        doc["solver"] = {**doc["solver"], **solver}
    doc["horizon"] = {"start": lo.isoformat(), "end": hi.isoformat(),
                      "resolution": setup.cfg.resolution}  # fmt: skip
    doc["assets"] = assets
    return _validate(doc, setup.file)


def _assets(
    setup: _Setup,
    state: Mapping[tuple[str, str], float],
    first: bool,
    at: pd.Timestamp,
    tables: Mapping[str, pd.DataFrame],
    cfg: Dispatch | None = None,
) -> tuple[dict[str, Any], Start]:
    """The day's ``assets`` (rolling horizon, the carried state read in), by ``cfg``
    (default: the scenario's dispatch settings)."""
    import copy

    from pecopt.workflows.carry import apply_start, rolling_assets

    cfg = cfg or setup.cfg
    assets = copy.deepcopy(rolling_assets(setup.base, cfg))
    start = Start(at=at, dispatch=cfg, values=dict(state), tables=tables,
                  first_night=first, timezone=setup.tz)  # fmt: skip
    apply_start(assets, start)
    return assets, start


def _targets(
    plan: Any, lo: pd.Timestamp, hi: pd.Timestamp
) -> dict[tuple[str, str, str], np.ndarray]:
    """The plan's set-points on ``[lo, hi)`` by (asset, carrier, role) [kW]."""
    dm = plan.built.district
    index = dm.inputs.index
    n = len(index)
    steps = np.flatnonzero(np.asarray((index >= lo) & (index < hi)))
    flow_kw = plan.solution.results.schedule["flow_kw"].to_numpy(float)
    return {
        (f.asset, f.carrier, f.role): flow_kw[k * n + steps]
        for k, f in enumerate(dm.flows)
        if f.terms
    }


def _position(plan: Any, lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
    """The plan's net grid import on ``[lo, hi)`` [kW]: its day-ahead position."""
    from pecopt.model.transforms import grid_terms
    from pecopt.results.extract import ValueCache, per_row

    dm = plan.built.district
    index = dm.inputs.index
    terms, const = grid_terms(dm)
    net = per_row(terms, ValueCache(), dm.inputs.n) + const
    return np.asarray(net[np.asarray((index >= lo) & (index < hi))], dtype=np.float64)


def _settle(setup: _Setup, assets: dict[str, Any], lo: pd.Timestamp, hi: pd.Timestamp,
            targets: Mapping[tuple[str, str, str], np.ndarray] | None,
            position: np.ndarray | None = None) -> Day:  # fmt: skip
    """The day ``[lo, hi)`` on the truth: tracking ``targets`` (billing the deviation
    from ``position`` at ``dispatch.imbalance_spread_eur_per_kwh``), or (None) the
    rule-based controller."""
    from pecopt.api import build, solve
    from pecopt.ingest.district import to_inputs
    from pecopt.model import transforms as tf
    from pecopt.solver import solve as solve_model

    s = _scenario(setup, assets, lo, hi)
    day = _slice(setup.truth, lo, hi, setup.step, True, setup.rows)
    built = build(to_inputs(s, day, setup.file))
    dm = built.district
    if targets is not None:
        tf.follow(dm, targets, FOLLOW_EUR_PER_KWH)
        spread = setup.cfg.imbalance_spread_eur_per_kwh
        if position is not None and spread > 0:
            tf.imbalance(dm, position, spread)
        return _day(built, solve(built, kpis=False))
    tf.rule_bounds(dm)
    moving = [t for f in dm.flows if f.role == "storage" for t in f.terms]
    opts = built.inputs.common.solver
    with tf.early_charging(dm, [*moving, *tf.flexible_demand(dm)]) as terms:
        relaxed = tf.relax_binaries(dm.model)
        try:
            solve_model(dm.model, opts)
        finally:
            tf.restore_binaries(relaxed)
    tf.fix_terms(terms, None)
    return _day(built, solve(built, kpis=False))


# ------------------------------------------------------------------ scenario-based nights


def _stochastic_night(
    setup: _Setup,
    ens: Members,
    state: Mapping[tuple[str, str], float],
    first: bool,
    w: Any,
    d: date,
    predicted: dict[str, pd.DataFrame],
) -> tuple[Day, dict[str, Any]]:
    """One night of the scenario-based controller, from its own carried ``state``: the
    deterministic plan on the night's forecast (for the value of the stochastic
    solution, and the fallback), the ensemble's plan (:mod:`pecopt.workflows.stochastic`),
    the expected cost of the deterministic plan's first stage under the same members
    (EEV), and the day settled on the truth against the ensemble's set-points and
    position. Returns the settled day and its row of ``replay.parquet``."""
    from pecopt.api import build
    from pecopt.ingest.district import to_inputs
    from pecopt.ingest.forecasts import members
    from pecopt.workflows.fallback import plan_with_fallbacks
    from pecopt.workflows.stochastic import plan_members

    cfg, file = setup.cfg, setup.file
    assets, _ = _assets(setup, state, first, w.start, predicted)
    s = _scenario(setup, assets, w.start, w.horizon_end)
    t0 = time.perf_counter()
    det = plan_with_fallbacks(
        build(to_inputs(s, predicted, file)), deadline=time.perf_counter() + cfg.time_limit_s,
        fallback_s=max(5.0, 0.25 * cfg.time_limit_s), penalty=cfg.slack_penalty_eur_per_unit,
    )  # fmt: skip
    draws = members(predicted, ens.count, ens.size, start=w.start, end=w.end,
                    horizon_end=w.horizon_end, day=d, step=setup.step, tz=setup.tz,
                    seed=ens.seed)  # fmt: skip
    n = len(det.built.inputs.index)
    commit = (
        w.steps
        if ens.commit_hours is None
        else int(round(ens.commit_hours * 3600 / setup.step.total_seconds()))
    )
    row: dict[str, Any] = {}
    t1 = time.perf_counter()
    try:
        sp = plan_members(
            s, draws, file, position_steps=w.steps, commit_steps=min(commit, n),
            spread_eur_per_kwh=cfg.imbalance_spread_eur_per_kwh, cvar_alpha=ens.cvar_alpha,
            cvar_weight=ens.cvar_weight, deadline=time.perf_counter() + cfg.time_limit_s,
        )  # fmt: skip
        t2 = time.perf_counter()
        eev = sp.expected_cost_of(
            _position(det, w.start, w.end), _targets(det, w.start, w.horizon_end)
        )
        plan, position, mode = sp.plan, sp.position_kw, sp.plan.mode
        row = {
            "stochastic_expected_cost_eur": sp.expected_cost_eur,
            "stochastic_cvar_eur": sp.cvar_eur,
            "stochastic_eev_eur": eev,
            "stochastic_vss_eur": None if eev is None else eev - sp.expected_cost_eur,
            "stochastic_solve_s": sp.seconds["solve"],
            "stochastic_eev_s": time.perf_counter() - t2,
        }
    except (InfeasibleError, SolverError) as exc:  # the night falls back to the deterministic plan
        plan, position, mode = det, _position(det, w.start, w.end), f"deterministic ({exc})"[:200]
        t2 = time.perf_counter()
    real = _settle(setup, assets, w.start, w.end, _targets(plan, w.start, w.end), position)
    row |= {
        "stochastic_plan": mode,
        "stochastic_plan_s": t2 - t1,
        "stochastic_deterministic_plan_s": t1 - t0,
        "stochastic_cost_eur": real.billed_eur,
        "stochastic_penalty_eur": real.penalty_eur,
        "stochastic_imbalance_eur": real.items.get(IMBALANCE, 0.0),
        "stochastic_co2_kg": real.co2_kg,
        "stochastic_ev_charged_kwh": real.ev_charged_kwh,
    }
    return real, row


def _spread(x: pd.Series) -> dict[str, float]:
    """Mean, standard deviation and percentiles of a daily figure [its unit]."""
    v = x.to_numpy(float)
    p5, p50, p95 = np.percentile(v, [5, 50, 95]) if v.size else (np.nan,) * 3
    std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return {"mean": float(v.mean()), "std": std, "p5": float(p5), "p50": float(p50),
            "p95": float(p95), "max": float(v.max())}  # fmt: skip


def _stochastic_kpis(
    table: pd.DataFrame,
    kpis: Mapping[str, Any],
    last: Day,
    ens: Members,
    items: dict[str, float],
) -> dict[str, Any]:
    """The scenario-based controller's totals (as the deterministic one's, ``realised``),
    the spread of both controllers' daily realised cost (billed, imbalance included, plus
    penalties) [EUR], the value of the stochastic solution (VSS = EEV - RP, summed over
    the nights [EUR]) and the realised value of perfect information (EVPI: a controller's
    net cost minus perfect foresight's [EUR])."""
    st: dict[str, Any] = {
        "billed_eur": float(table["stochastic_cost_eur"].sum()),
        "penalty_eur": float(table["stochastic_penalty_eur"].sum()),
        "imbalance_eur": float(table["stochastic_imbalance_eur"].sum()),
        "value_left_eur": -last.stored_value_eur,
        "co2_kg": float(table["stochastic_co2_kg"].sum()),
        "ev_charged_kwh": float(table["stochastic_ev_charged_kwh"].sum()),
        "items_eur": items,
    }
    st["net_cost_eur"] = st["billed_eur"] + st["penalty_eur"] + last.stored_value_eur
    det_net = float(kpis["realised"]["net_cost_eur"])
    pf = kpis.get("perfect_foresight") or {}
    pf_net = pf.get("net_cost_eur")
    vss = table.get("stochastic_vss_eur", pd.Series(dtype=float)).dropna()
    daily_det = table["realised_cost_eur"] + table["realised_penalty_eur"]
    daily_st = table["stochastic_cost_eur"] + table["stochastic_penalty_eur"]
    return {
        "stochastic": st,
        "scenario_based": {
            "members": ens.count,
            "member_noise": ens.size,
            "member_seed": ens.seed,
            "commit_hours": ens.commit_hours,
            "cvar_alpha": ens.cvar_alpha,
            "cvar_weight": ens.cvar_weight,
            "deterministic_imbalance_eur": float(table["realised_imbalance_eur"].sum()),
            "stochastic_imbalance_eur": st["imbalance_eur"],
            "stochastic_minus_deterministic_net_eur": st["net_cost_eur"] - det_net,
            "daily_cost_eur": {
                "deterministic": _spread(daily_det),
                "stochastic": _spread(daily_st),
            },  # fmt: skip
            "vss_eur": float(vss.sum()) if len(vss) else None,
            "vss_nights": int(len(vss)),
            "evpi_eur": None if pf_net is None else st["net_cost_eur"] - float(pf_net),
            "evpi_deterministic_eur": None if pf_net is None else det_net - float(pf_net),
            "nights_fallback": int(
                (~table["stochastic_plan"].isin(["optimal", "time_limit"])).sum()
            ),
        },
    }


# ------------------------------------------------------------------ the whole replay


def _gap(before: Mapping[tuple[str, str], float], start: Mapping[tuple[str, str], float]) -> float:
    """The largest difference between what a model started from and the state the
    previous day ended in, over the carried quantities both have (0 on the first day)."""
    keys = [k for k in before if k in start and k[1] not in GIVEN]
    return max((abs(start[k] - before[k]) for k in keys), default=0.0)


def _days(first: date, last: date) -> list[date]:
    if last < first:
        raise OptionError("--to", f"{last} is before --from {first}")
    n = (last - first).days + 1
    if n > 400:
        raise OptionError("--to", f"{n} days: a replay covers at most 400 days")
    return [first + timedelta(days=k) for k in range(n)]


def replay(
    scenario_file: Path,
    out: Path,
    *,
    first: date,
    last: date,
    forecast: str = "perfect",
    seed: int = 0,
    reference_time_limit_s: float = 3600.0,
    progress: Progress = noop,
    scenario: Scenario | None = None,
    sets: tuple[str, ...] = (),
    strict: bool = False,
    ensemble: Members | None = None,
) -> ReplayRun:
    """The ``pecopt replay`` job (see the module docstring), written atomically to
    ``out``: ``replay.parquet`` (a row per day), the realised ``schedule.parquet``,
    ``storage.parquet`` and ``carbon.parquet``, ``kpis.json``, ``manifest.json`` and
    ``report.html``. ``scenario``: the scenario already read from ``scenario_file`` (a
    sweep's variant), else it is read from the file with the ``--set PATH=VALUE`` options
    ``sets``. An issued forecast's implausible values
    (:attr:`pecopt.ingest.forecasts.Forecaster.doubts`) make the night degraded (exit 10,
    listed in ``kpis.json`` ``forecast.doubts``); with ``strict`` they stop the replay
    (``DataError``, exit 2, nothing written). ``ensemble``: a scenario-based controller
    runs its own closed loop beside the deterministic one, on the same forecasts
    (:class:`Members`)."""
    from pecopt.api import build, solve
    from pecopt.ingest.district import horizon_index, ingest, to_inputs
    from pecopt.ingest.forecasts import Forecaster, parse_mode
    from pecopt.scenario import load_scenario
    from pecopt.workflows.dispatch import _UNUSED_HORIZON, delivery_window
    from pecopt.workflows.fallback import plan_with_fallbacks
    from pecopt.workflows.outputs import atomic_dir, check_output
    from pecopt.workflows.solve import input_files

    t0 = time.perf_counter()
    mode = parse_mode(forecast)
    if not 0 <= seed < 2**63:
        raise OptionError("--seed", f"must be from 0 to 2**63 - 1 (got {seed})")
    days = _days(first, last)
    file = str(scenario_file)
    progress("read scenario")
    base = scenario or load_scenario(scenario_file, {"horizon": _UNUSED_HORIZON}, sets)
    cfg = base.dispatch or Dispatch()
    tz = base.site.timezone
    used = [scenario_file, *input_files(base)]
    check_output(out, used)
    windows = [delivery_window(d, tz, cfg.lookahead_h, cfg.resolution) for d in days]
    step = windows[0].step
    # the truth: a day of history before the first night (persistence), the look-ahead
    # after the last
    lo = windows[0].start - pd.Timedelta(days=1)
    hi = windows[-1].horizon_end
    progress("ingest the truth")
    from pecopt.workflows.carry import carried_states, rolling_assets

    doc = base.model_dump()
    doc["horizon"] = {"start": lo.isoformat(), "end": hi.isoformat(), "resolution": cfg.resolution}
    doc["assets"] = rolling_assets(base, cfg)
    from pecopt.workflows.dispatch import _validate

    truth_s = _validate(doc, file)
    truth = ingest(truth_s, file)
    setup = _Setup(base, cfg, file, truth, horizon_index(truth_s, file), step, tz, Rows(truth))
    site = (base.site.latitude, base.site.longitude, base.site.altitude_m)
    fc = Forecaster(mode, truth, setup.index, step, tz, seed, site=site)
    doubts: list[str] = []
    t_ingest = time.perf_counter() - t0

    state: dict[tuple[str, str], float] = {}
    rule_state: dict[tuple[str, str], float] = {}
    rows: list[dict[str, Any]] = []
    parts: dict[str, list[pd.DataFrame]] = {"schedule": [], "storage": [], "carbon": []}
    seconds = {"plan": 0.0, "settle": 0.0, "rule": 0.0}
    start_used: dict[str, dict[str, float]] = {}
    items: dict[str, dict[str, float]] = {"realised": {}, "rule_based": {}}
    last_real = last_rule = None
    st_state: dict[tuple[str, str], float] = {}
    last_st: Day | None = None
    if ensemble is not None:
        seconds["stochastic"] = 0.0
        items["stochastic"] = {}
    for k, (d, w) in enumerate(zip(days, windows, strict=True)):
        progress(counted(f"night {d}", k, len(days)))
        t1 = time.perf_counter()
        horizon_truth = _slice(truth, w.start, w.horizon_end, step, rows=setup.rows)
        predicted, errors = fc.forecast(horizon_truth, w.start, w.end, w.horizon_end, d)
        if fc.doubts and strict:
            first_doubt = fc.doubts[0]
            raise DataError(
                first_doubt.file, first_doubt.field,
                f"{first_doubt.problem} (the night of {d}; refused: --strict)",
            )  # fmt: skip
        night_doubts = [
            Flag(DEGRADED, "implausible_forecast", f"{x}; planned on as it is") for x in fc.doubts
        ]
        doubts += [f"{d}: {x}" for x in fc.doubts]
        assets, start = _assets(setup, state, k == 0, w.start, predicted)
        if k == 0:
            start_used = start.used
            # perfect foresight: the same start, money alone (no value on what is left
            # beyond the period for later nights: the borehole's cap, the cars' next trips)
            money = cfg.model_copy(update={"ev_reserve": False, "ground_value_eur_per_kwh": 0.0})
            first_assets, _ = _assets(setup, state, True, w.start, horizon_truth, money)
        s = _scenario(setup, assets, w.start, w.horizon_end)
        plan = plan_with_fallbacks(
            build(to_inputs(s, predicted, file)), deadline=time.perf_counter() + cfg.time_limit_s,
            fallback_s=max(5.0, 0.25 * cfg.time_limit_s),
            penalty=cfg.slack_penalty_eur_per_unit,
        )  # fmt: skip
        t2 = time.perf_counter()
        real = _settle(setup, assets, w.start, w.end, _targets(plan, w.start, w.end),
                       _position(plan, w.start, w.end))  # fmt: skip
        t3 = time.perf_counter()
        rule_assets, _ = _assets(setup, rule_state, k == 0, w.start, horizon_truth)
        rule = _settle(setup, rule_assets, w.start, w.end, None)
        t4 = time.perf_counter()
        planned_start = {k: float(v[0]) for k, v in carried_states(plan.built.district).items()}
        gap = max(_gap(state, planned_start), _gap(state, real.start))
        rule_gap = _gap(rule_state, rule.start)
        seconds["plan"] += t2 - t1
        seconds["settle"] += t3 - t2
        seconds["rule"] += t4 - t3
        st_row: dict[str, Any] = {}
        if ensemble is not None:
            st, st_row = _stochastic_night(setup, ensemble, st_state, k == 0, w, d, predicted)
            st_state, last_st = st.end, st
            seconds["stochastic"] += time.perf_counter() - t4
            for item, eur in st.items.items():
                if item != STORED_VALUE:
                    items["stochastic"][item] = items["stochastic"].get(item, 0.0) + eur
        state, rule_state = real.end, rule.end
        last_real, last_rule = real, rule
        for who, day in (("realised", real), ("rule_based", rule)):
            for item, eur in day.items.items():  # what is left counts at the end only
                if item != STORED_VALUE:
                    items[who][item] = items[who].get(item, 0.0) + eur
        flags = [f for f in start.flags if f.level == DEGRADED] + night_doubts
        if plan.mode != "optimal":
            flags.append(Flag(DEGRADED, plan.mode, plan.why or plan.mode))
        planned = plan.solution.results
        billed_plan = _money(planned.cost_items_eur)[0]
        rows.append(
            {
                "day": d.isoformat(),
                "plan": plan.mode,
                "exit_code": 10 if flags else 0,
                "start_gap": gap,
                "rule_based_start_gap": rule_gap,
                "planned_cost_eur": billed_plan,
                "realised_cost_eur": real.billed_eur,
                "realised_penalty_eur": real.penalty_eur,
                "realised_imbalance_eur": real.items.get(IMBALANCE, 0.0),
                "realised_co2_kg": real.co2_kg,
                "realised_unmet_kwh": real.unmet_kwh,
                "realised_ev_charged_kwh": real.ev_charged_kwh,
                "rule_based_cost_eur": rule.billed_eur,
                "rule_based_penalty_eur": rule.penalty_eur,
                "rule_based_co2_kg": rule.co2_kg,
                "rule_based_ev_charged_kwh": rule.ev_charged_kwh,
                **{
                    (f"forecast_{k_}" if k_ in FORECAST_META else f"forecast_error_{k_}"): v
                    for k_, v in errors.items()
                },
                **st_row,
            }
        )
        for name in parts:
            frame = getattr(real, name)
            parts[name].append(frame)
    assert last_real is not None and last_rule is not None

    progress("perfect foresight")
    t5 = time.perf_counter()
    period = (windows[0].start, windows[-1].end)
    # the reference is one model of the whole period: its own time limit, and the
    # interior-point method for a long LP (as for sizing LPs)
    long = len(days) > 31 and base.solver.method == "choose"
    pf_solver = {"time_limit_s": reference_time_limit_s, **({"method": "ipm"} if long else {})}
    pf_s = _scenario(setup, first_assets, *period, solver=pf_solver)
    table = pd.DataFrame(rows)
    pf_day: Day | None = None
    pf_error = None
    try:
        pf_built = build(to_inputs(pf_s, _slice(truth, *period, step, rows=setup.rows), file))
        pf = solve(pf_built)
        pf_day = _day(pf_built, pf)
        table["perfect_foresight_co2_kg"] = _co2_per_day(pf.results, windows)
    except (SolverError, InfeasibleError) as exc:  # the nights stand without it
        pf_error = str(exc)
    seconds["perfect_foresight"] = time.perf_counter() - t5
    kpis = _kpis(table, last_real, last_rule, pf_day, days)
    items["realised"][STORED_VALUE] = last_real.stored_value_eur
    items["rule_based"][STORED_VALUE] = last_rule.stored_value_eur
    for who, got in items.items():
        if who in kpis:
            kpis[who]["items_eur"] = got
    if pf_day is not None:
        kpis["perfect_foresight"]["items_eur"] = pf_day.items
    if pf_error is not None:
        kpis["perfect_foresight"] = {"error": pf_error}
        kpis["reference_failed"] = True  # the nights stand; the run is degraded (exit 10)
    if ensemble is not None and last_st is not None:
        items["stochastic"][STORED_VALUE] = last_st.stored_value_eur
        kpis.update(_stochastic_kpis(table, kpis, last_st, ensemble, items["stochastic"]))
    kpis["start_state"] = start_used
    kpis["forecast"] = {"mode": forecast, "seed": seed}
    if mode.folder is not None:
        kpis["forecast"] = {"mode": "folder", "folder": str(mode.folder.resolve()),
                            "files": sorted(fc.used_files), "doubts": doubts}  # fmt: skip
    kpis["seconds"] = {**seconds, "ingest": t_ingest, "total": time.perf_counter() - t0}
    with atomic_dir(out, "replay", used) as tmp:
        from pecopt.ingest.parquet import write_table

        src = f"pecopt replay of {Path(file).name}"
        write_table(table, tmp / "replay.parquet", src)
        for name, frames in parts.items():
            write_table(pd.concat(frames, ignore_index=True), tmp / f"{name}.parquet", src)
        (tmp / "kpis.json").write_text(json.dumps(kpis, indent=2, default=float))
        manifest = {
            "pecopt_version": __version__,
            "scenario": str(Path(file).resolve()),
            "from": first.isoformat(),
            "to": last.isoformat(),
            "forecast": forecast,
            "seed": seed,
            "--set": list(base.set_options),
            "seconds": kpis["seconds"],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        from pecopt.report.replay import render_replay

        html = render_replay(table, kpis, Path(out).resolve().name)
        (tmp / "report.html").write_text(html, encoding="utf-8")
    return ReplayRun(table, kpis, out, kpis["seconds"])


def _co2_per_day(res: Any, windows: list[Any]) -> list[float]:
    """A whole-period solution's CO2 per delivery day [kg] (its money is not itemised
    by step: fees belong to months and billing peaks, so only the period's total is
    compared)."""
    carbon = res.carbon
    ts = pd.DatetimeIndex(carbon["timestamp"])
    co2 = carbon["co2_kg"].to_numpy(float)
    return [float(co2[(ts >= w.start) & (ts < w.end)].sum()) for w in windows]


def _monthly(table: pd.DataFrame, days: list[date]) -> dict[str, dict[str, float]]:
    """Billed money per month [EUR]: pecopt, rule-based, and their difference."""
    month = pd.Series([d.strftime("%Y-%m") for d in days])
    out = {}
    for m, grp in table.groupby(month):
        out[str(m)] = {
            "realised_cost_eur": float(grp["realised_cost_eur"].sum()),
            "rule_based_cost_eur": float(grp["rule_based_cost_eur"].sum()),
            "value_of_optimisation_eur": float(
                grp["rule_based_cost_eur"].sum() - grp["realised_cost_eur"].sum()
            ),
        }
    return out


def _kpis(
    table: pd.DataFrame, real: Day, rule: Day, pf: Day | None, days: list[date]
) -> dict[str, Any]:
    """The replay's totals [EUR, kg, kWh]: per controller the billed money, penalties and
    the value of what is left at the end; the net cost (billed + penalties - value left);
    the value of optimisation (rule-based - realised) and the cost of imperfect forecasts
    (realised - perfect foresight), in total and per month (billed money)."""

    def net(billed: float, penalty: float, stored: float) -> float:
        return billed + penalty + stored  # stored is the (negative) value item

    realised = {
        "billed_eur": float(table["realised_cost_eur"].sum()),
        "penalty_eur": float(table["realised_penalty_eur"].sum()),
        "value_left_eur": -real.stored_value_eur,
        "co2_kg": float(table["realised_co2_kg"].sum()),
        "ev_charged_kwh": float(table["realised_ev_charged_kwh"].sum()),
        "unmet_kwh": float(table["realised_unmet_kwh"].sum()),
    }
    realised["net_cost_eur"] = net(realised["billed_eur"], realised["penalty_eur"],
                                   real.stored_value_eur)  # fmt: skip
    rule_based = {
        "billed_eur": float(table["rule_based_cost_eur"].sum()),
        "penalty_eur": float(table["rule_based_penalty_eur"].sum()),
        "value_left_eur": -rule.stored_value_eur,
        "co2_kg": float(table["rule_based_co2_kg"].sum()),
        "ev_charged_kwh": float(table["rule_based_ev_charged_kwh"].sum()),
    }
    rule_based["net_cost_eur"] = net(rule_based["billed_eur"], rule_based["penalty_eur"],
                                     rule.stored_value_eur)  # fmt: skip
    if pf is None:
        return {
            "days": len(days),
            "realised": realised,
            "rule_based": rule_based,
            "value_of_optimisation_eur": rule_based["net_cost_eur"] - realised["net_cost_eur"],
            "cost_of_forecast_errors_eur": None,
            "realised_over_perfect": None,
            "monthly": _monthly(table, days),
            "nights_degraded": int((table["exit_code"] != 0).sum()),
        }
    perfect = {
        "billed_eur": pf.billed_eur,
        "penalty_eur": pf.penalty_eur,
        "value_left_eur": -pf.stored_value_eur,
        "co2_kg": pf.co2_kg,
        "ev_charged_kwh": pf.ev_charged_kwh,
        "unmet_kwh": pf.unmet_kwh,
        "net_cost_eur": net(pf.billed_eur, pf.penalty_eur, pf.stored_value_eur),
    }
    monthly = _monthly(table, days)
    return {
        "days": len(days),
        "realised": realised,
        "rule_based": rule_based,
        "perfect_foresight": perfect,
        "value_of_optimisation_eur": rule_based["net_cost_eur"] - realised["net_cost_eur"],
        "cost_of_forecast_errors_eur": realised["net_cost_eur"] - perfect["net_cost_eur"],
        "realised_over_perfect": realised["net_cost_eur"] / perfect["net_cost_eur"]
        if perfect["net_cost_eur"]
        else None,
        "monthly": monthly,
        "nights_degraded": int((table["exit_code"] != 0).sum()),
    }


def flat_kpis(k: Mapping[str, Any]) -> dict[str, Any]:
    """A replay's ``kpis.json`` as one flat row, units last (a sweep's ``kpis`` columns):
    ``realised_net_cost_eur``, ``rule_based_co2_kg``, ``perfect_foresight_billed_eur``,
    ``value_of_optimisation_eur``, ``cost_of_forecast_errors_eur``, ``days``, and each
    controller's cost items (``realised_dh_power_fee_eur``) ..."""
    out: dict[str, Any] = {"days": k["days"], "nights_degraded": k["nights_degraded"]}
    for who in ("realised", "rule_based", "perfect_foresight"):
        for name, v in (k.get(who) or {}).items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[f"{who}_{name}"] = float(v)
        for item, v in ((k.get(who) or {}).get("items_eur") or {}).items():
            out[f"{who}_{item}_eur"] = float(v)  # cost items: realised_dh_power_fee_eur
    for name in ("value_of_optimisation_eur", "cost_of_forecast_errors_eur",
                 "realised_over_perfect"):  # fmt: skip
        v = k.get(name)
        out[name] = None if v is None else float(v)
    out["reference_failed"] = bool(k.get("reference_failed", False))
    return out

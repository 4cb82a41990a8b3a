"""The dispatch workflow: a day's plan from the state the district is in.

``pecopt dispatch SCENARIO --day D --state DIR --out OUT [--from HH:MM]``:

1. lock the state store (``DIR``; a second run is refused, exit 75);
2. read the state at the start of the delivery window (:mod:`pecopt.state`);
3. build the day's scenario by overrides (:mod:`pecopt.workflows.carry`): horizon =
   the delivery day in the site's time zone (23, 24 or 25 hours; from ``--from`` for an
   intraday re-plan) plus ``dispatch.lookahead_h``, start levels, end conditions, the
   billing peak so far, missing prices filled, the weather forecast completed; the
   forecast and price files checked for slips (:mod:`pecopt.ingest.forecast_checks`:
   flagged degraded, or refused with ``strict``);
4. ingest, build, and plan with fallbacks (:mod:`pecopt.workflows.fallback`);
5. write the ``solve`` outputs plus the day's set-points (``setpoints.parquet`` and
   ``setpoints.csv`` with a local-time column), atomically;
6. record the run and its planned state in the store, in one transaction.

Nothing is written to the store unless the outputs are in place. Exit codes: 0 a plan,
10 a plan made in degraded mode (see :class:`~pecopt.workflows.carry.Flag`), 2 bad input,
3 no plan possible (not even the rule-based one), 4 solver failure without any plan,
75 the store is locked by another run.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pecopt import __version__
from pecopt.errors import DataError, OptionError, ScenarioError
from pecopt.model.carry import DEGRADED, NOTICE, Flag, Start
from pecopt.progress import Progress, noop
from pecopt.scenario.plausibility import Finding
from pecopt.scenario.schema import Dispatch, Scenario
from pecopt.state import RunRecord, StartState, StateStore, locked
from pecopt.workflows.flags import local, plan_flags, price_flags, state_flags
from pecopt.workflows.setpoints import write_outputs
from pecopt.workflows.stochastic import Members

__all__ = ["DEGRADED_EXIT", "DispatchRun", "Window", "delivery_window", "dispatch"]

DEGRADED_EXIT = 10
#: the file's horizon is replaced by each run's (and may be left out of a dispatch file)
_UNUSED_HORIZON = {"start": "2000-01-01T00:00", "end": "2000-01-02T00:00", "resolution": "1h"}


@dataclass(frozen=True)
class Window:
    """The delivery window ``[start, end)`` and the horizon ``[start, horizon_end)`` (UTC)."""

    day: date
    from_local: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    horizon_end: pd.Timestamp
    resolution: str
    tz: str

    @property
    def step(self) -> pd.Timedelta:
        return pd.Timedelta(self.resolution)

    @property
    def steps(self) -> int:
        """Steps in the delivery window (a whole day: 92, 96 or 100 quarter-hours)."""
        return int((self.end - self.start) / self.step)


def delivery_window(
    day: date,
    tz: str,
    lookahead_h: int,
    resolution: str,
    from_local: str | None = None,
) -> Window:
    """The delivery window of ``day`` in zone ``tz`` (local midnight to midnight) and the
    horizon with ``lookahead_h`` hours after it; ``from_local`` (``HH:MM``, or a full ISO
    time with its UTC offset for the repeated hour of the autumn change) starts the window
    later that day, on a step boundary.

    Raises
    ------
    OptionError
        ``--from`` is not a valid time of that day on the step grid.
    """
    start = pd.Timestamp(day).tz_localize(tz)
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(tz)
    step = pd.Timedelta(resolution)
    if from_local is not None:
        try:
            if len(from_local) <= 5:
                h, m = (int(x) for x in from_local.split(":"))
                naive = pd.Timestamp(day) + pd.Timedelta(hours=h, minutes=m)
                t = naive.tz_localize(tz, ambiguous="raise", nonexistent="raise")
            else:
                t = pd.Timestamp(from_local)
                t = t.tz_localize(tz) if t.tz is None else t.tz_convert(tz)
        except Exception as exc:  # noqa: BLE001 - the user's input
            raise OptionError(
                "--from",
                f"{from_local!r} is not a local time of {day} ({exc}); give HH:MM, or an ISO "
                "time with its offset (2025-10-26T03:30+03:00) in the repeated hour",
            ) from None
        if not start <= t < end:
            raise OptionError("--from", f"{from_local!r} is not within {day} ({tz})")
        if (t - start) % step != pd.Timedelta(0):
            raise OptionError("--from", f"{from_local!r} is not on the {resolution} step grid")
        start = t
    utc = lambda x: x.tz_convert("UTC")  # noqa: E731
    horizon_end = utc(end) + pd.Timedelta(hours=lookahead_h)
    return Window(day, from_local, utc(start), utc(end), horizon_end, resolution, tz)


@dataclass
class DispatchRun:
    """What one dispatch run did."""

    window: Window
    mode: str
    status: str
    exit_code: int
    flags: list[Flag]
    kpis: dict[str, Any]
    run_id: int
    out: Path
    seconds: dict[str, float] = field(default_factory=dict)
    start: dict[str, Any] = field(default_factory=dict)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def dispatch(
    scenario_file: Path,
    out: Path,
    state_dir: Path,
    *,
    day: date | None = None,
    from_local: str | None = None,
    time_limit_s: float | None = None,
    progress: Progress = noop,
    sets: tuple[str, ...] = (),
    strict: bool = False,
    ensemble: Members | None = None,
) -> DispatchRun:
    """Plan a delivery day from the carried state (see the module docstring); ``sets``:
    ``--set PATH=VALUE`` options applied to the scenario file; ``strict``: an implausible
    forecast (:mod:`pecopt.ingest.forecast_checks`) is refused (``DataError``, exit 2,
    before anything is planned or written) instead of planned on and flagged degraded;
    ``ensemble``: plan over an ensemble of forecasts (:mod:`pecopt.workflows.stochastic`;
    the deterministic plan is the fallback), adding ``members.parquet`` (each member's
    recourse, with a ``member`` column) and ``scenario_based`` in ``kpis.json``."""
    t0 = time.perf_counter()
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    from pecopt.scenario import load_scenario
    from pecopt.workflows.outputs import check_output
    from pecopt.workflows.solve import input_files

    progress("read scenario")
    base = load_scenario(scenario_file, {"horizon": _UNUSED_HORIZON}, sets)  # each run sets its own
    cfg = base.dispatch or Dispatch()
    tz = base.site.timezone
    if day is None:
        day = (pd.Timestamp.now(tz=tz) + pd.Timedelta(days=1)).date()
    window = delivery_window(day, tz, cfg.lookahead_h, cfg.resolution, from_local)
    used = [scenario_file, *input_files(base), state_dir]
    if ensemble is not None and ensemble.file is not None:
        used.append(ensemble.file)
    check_output(out, used)
    limit = time_limit_s if time_limit_s is not None and time_limit_s > 0 else cfg.time_limit_s
    deadline = t0 + limit
    seconds: dict[str, float] = {}

    with locked(state_dir), StateStore(state_dir) as store:
        progress("read state")
        state = store.state_at(window.start)
        first_night = not store.has_runs()
        flags = state_flags(state, window.start, window.tz, first_night)
        t1 = time.perf_counter()
        seconds["read_state"] = t1 - t0
        progress("ingest")
        day_s, inputs, start, more, tables = _inputs(
            base, cfg, state, first_night, window, scenario_file, strict
        )
        flags += start.flags + more
        t2 = time.perf_counter()
        seconds["ingest"] = t2 - t1

        from pecopt.api import build
        from pecopt.workflows.fallback import plan_with_fallbacks

        extra: dict[str, pd.DataFrame] = {}
        scenario_based: dict[str, Any] | None = None
        plan = None
        if ensemble is not None:
            progress(f"plan over {ensemble.count} members")
            plan, scenario_based, extra, note = _ensemble_plan(
                day_s, tables, str(scenario_file), window, cfg, ensemble,
                max(time.perf_counter() + 0.1, deadline - 0.25 * limit),
            )  # fmt: skip
            if note is not None:
                flags.append(Flag(DEGRADED, "deterministic_fallback", note))
        if plan is None:
            progress("build")
            built = build(inputs)
            seconds["build"] = built.seconds["build"]
            progress("solve")
            fallback_s = max(5.0, 0.25 * limit)
            plan = plan_with_fallbacks(
                built,
                deadline=max(time.perf_counter() + 0.1, deadline - 0.25 * limit),
                fallback_s=fallback_s,
                penalty=cfg.slack_penalty_eur_per_unit,
                progress=progress,
            )
        else:
            seconds["build"] = plan.built.seconds["build"]
        seconds.update(plan.solution.seconds)
        flags += plan_flags(plan)
        degraded = any(f.level == DEGRADED for f in flags)
        status, code = ("degraded", DEGRADED_EXIT) if degraded else ("ok", 0)
        kpis = plan.solution.kpis
        kpis["solver"]["plan"] = plan.mode
        if scenario_based is not None:
            kpis["scenario_based"] = scenario_based

        progress("write")
        t3 = time.perf_counter()
        from pecopt.workflows.carry import carried_states

        states = carried_states(plan.built.district)
        start_info = _start_info(state, start, states)
        info = {
            "day": day.isoformat(),
            "from_local": from_local,
            "timezone": tz,
            "window_local": [local(window.start, tz), local(window.end, tz)],
            "window_utc": [window.start.isoformat(), window.end.isoformat()],
            "horizon_end_utc": window.horizon_end.isoformat(),
            "resolution": window.resolution,
            "window_steps": window.steps,
            "plan": plan.mode,
            "why": plan.why,
            "violated": plan.violated,
            "status": status,
            "exit_code": code,
            "flags": [f.as_dict() for f in flags],
            "start_state": start_info,
            "state_store": str(Path(state_dir).resolve()),
        }
        write_outputs(
            plan,
            day_s,
            inputs,
            out,
            scenario_file,
            used,
            window.start,
            window.end,
            window.tz,
            info,
            seconds,
            extra,
        )
        seconds["write"] = time.perf_counter() - t3

        progress("write state")
        from pecopt.workflows.carry import trajectories

        trajs = trajectories(plan.built.district, states)
        record = RunRecord(
            day=day.isoformat(),
            from_local=from_local,
            window_start=window.start,
            window_end=window.end,
            horizon_end=window.horizon_end,
            step=window.step,
            started_utc=started,
            finished_utc=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            status=status,
            exit_code=code,
            plan=plan.mode,
            cost_eur=float(kpis["cost_eur"]["total"]),
            objective=float(plan.solution.objective),
            gap=float(kpis["solver"]["gap"]),
            flags=[f.as_dict() for f in flags],
            state_from=state.run_id,
            scenario=str(Path(scenario_file).resolve()),
            scenario_sha256=_sha256(Path(scenario_file)),
            out=str(Path(out).resolve()),
            pecopt_version=__version__,
        )
        run_id = store.record(record, trajs, before_commit=lambda: progress("commit state"))
        if cfg.keep_days is not None:
            progress("prune old runs")
            store.prune(cfg.keep_days)
    seconds["total"] = time.perf_counter() - t0
    return DispatchRun(
        window, plan.mode, status, code, flags, kpis, run_id, out, seconds, start_info
    )


def prune_runs(state_dir: Path, keep_days: float) -> tuple[int, int]:
    """``pecopt runs prune``: under the store's lock, delete the runs whose delivery window
    ended more than ``keep_days`` days before the newest run's (the newest is kept) and
    compact the file. Returns (runs deleted, bytes freed).

    Raises
    ------
    OptionError
        ``keep_days`` is not from 0 to 36500.
    DataError
        No usable, writable state store in ``state_dir``.
    """
    from pecopt.errors import DataError
    from pecopt.state import STORE_FILE

    if not 0 <= keep_days <= 36500:
        raise OptionError("--keep-days", f"from 0 to 36500 days (got {keep_days})")
    if not (Path(state_dir) / STORE_FILE).is_file():
        raise DataError(state_dir, "--state", f"no state store here ({STORE_FILE} is missing)")
    with locked(state_dir), StateStore(state_dir) as store:
        return store.prune(keep_days)


def _ensemble_plan(
    day_s: Scenario,
    tables: dict[str, pd.DataFrame],
    file: str,
    window: Window,
    cfg: Dispatch,
    ens: Members,
    deadline: float,
) -> tuple[Any, dict[str, Any], dict[str, pd.DataFrame], str | None]:
    """The scenario-based plan of the day (members drawn around the day's inputs), its
    ``scenario_based`` KPIs and ``members.parquet``; (None, {}, {}, why) when it fails,
    so that the deterministic plan is made instead."""
    from pecopt.errors import InfeasibleError, SolverError
    from pecopt.ingest.forecasts import members, overlay, read_members
    from pecopt.workflows.stochastic import plan_members

    if ens.file is not None:
        given = read_members(ens.file)
        draws = [overlay(tables, g, window.end, ens.file) for g in given]
    else:
        draws = members(tables, ens.count, ens.size, start=window.start, end=window.end,
                        horizon_end=window.horizon_end, day=window.day, step=window.step,
                        tz=window.tz, seed=ens.seed)  # fmt: skip
    n = int((window.horizon_end - window.start) / window.step)
    commit = window.steps
    if ens.commit_hours is not None:
        commit = int(round(ens.commit_hours * 3600 / window.step.total_seconds()))
    try:
        sp = plan_members(
            day_s, draws, file, position_steps=window.steps, commit_steps=min(commit, n),
            spread_eur_per_kwh=cfg.imbalance_spread_eur_per_kwh, cvar_alpha=ens.cvar_alpha,
            cvar_weight=ens.cvar_weight, deadline=deadline,
        )  # fmt: skip
    except (InfeasibleError, SolverError) as exc:
        return None, {}, {}, f"the scenario-based plan failed ({exc}): deterministic plan"
    kpis = {
        "members": len(draws), "member_noise": None if ens.file else ens.size,
        "member_seed": None if ens.file else ens.seed,
        "members_file": None if ens.file is None else str(ens.file.resolve()),
        "commit_steps": min(commit, n), "position_steps": window.steps,
        "imbalance_spread_eur_per_kwh": cfg.imbalance_spread_eur_per_kwh,
        "expected_cost_eur": sp.expected_cost_eur, "cvar_alpha": ens.cvar_alpha,
        "cvar_weight": ens.cvar_weight, "cvar_eur": sp.cvar_eur,
        "member_costs_eur": sp.costs_eur.tolist(), "extensive_form": sp.size,
        "seconds": sp.seconds,
    }  # fmt: skip
    return sp.plan, kpis, {"members": sp.members()}, None


def _inputs(
    base: Scenario,
    cfg: Dispatch,
    state: StartState,
    first_night: bool,
    window: Window,
    scenario_file: Path,
    strict: bool = False,
) -> tuple[Scenario, Any, Start, list[Flag], dict[str, pd.DataFrame]]:
    """The day's scenario and its inputs, the flags of what was filled in or looks
    implausible (:mod:`pecopt.ingest.forecast_checks`; refused with ``strict``), and the
    ingested tables.

    Every unit is fitted to the rolling horizon by its technology, the day is ingested,
    then each technology reads its carried state into its units
    (:mod:`pecopt.workflows.carry`)."""
    from pecopt.ingest.district import horizon_index, ingest, to_inputs
    from pecopt.workflows.carry import apply_start, rolling_assets

    file = str(scenario_file)
    assets = rolling_assets(base, cfg)
    doc = base.model_dump()
    doc["horizon"] = {
        "start": window.start.isoformat(),
        "end": window.horizon_end.isoformat(),
        "resolution": cfg.resolution,
    }
    doc["assets"] = assets
    day_s = _validate(doc, file)
    index = horizon_index(day_s, file)
    in_window = np.asarray(index < window.end)
    flags: list[Flag] = []
    doubts: list[Finding] = []

    weather = None
    w = day_s.weather
    if w.source == "forecast":
        from pecopt.ingest.forecast import read_forecast
        from pecopt.ingest.forecast_checks import weather_findings

        assert w.path is not None
        site = day_s.site
        fc = read_forecast(
            w.path, index, latitude=site.latitude, longitude=site.longitude,
            altitude=site.altitude_m, columns=w.columns, time_column=w.time_column,
            tz=w.timezone, fill=True,
        )  # fmt: skip
        weather = fc.frame
        gap_in_day = bool((fc.missing & in_window).any())
        for note in fc.notes:
            level = DEGRADED if gap_in_day and "missing for" in note else NOTICE
            flags.append(Flag(level, "weather_filled", note))
        doubts += weather_findings(
            fc, w.path, latitude=site.latitude, longitude=site.longitude,
            altitude=site.altitude_m, tz=window.tz,
        )  # fmt: skip
    tables = ingest(day_s, file, weather)
    doubts += _price_doubts(day_s, index, window.tz)
    if doubts and strict:
        first = doubts[0]
        raise DataError(first.file, first.field, f"{first.problem} (refused: --strict)")
    for d in doubts:
        flags.append(Flag(DEGRADED, "implausible_forecast", f"{d}; planned on as it is"))
    stand_in = NOTICE if cfg.stand_ins == "allowed" else DEGRADED
    if w.source == "typical_year" and "weather" in tables:
        flags.append(
            Flag(stand_in, "stand_in", "weather: the embedded typical year (no forecast given)")
        )

    start = Start(
        at=window.start,
        dispatch=cfg,
        values=state.values,
        tables=tables,
        first_night=first_night,
        run_id=state.run_id,
        run_day=state.run_day,
        timezone=window.tz,
    )
    apply_start(assets, start)
    doc["assets"] = assets
    final = _validate(doc, file).with_set_options(base.set_options)
    inputs = to_inputs(final, tables, file)
    flags += price_flags(final, tables, in_window, index, window.tz, stand_in)
    return final, inputs, start, flags, tables


def _price_doubts(s: Scenario, index: pd.DatetimeIndex, tz: str) -> list[Finding]:
    """The price file's known prices on the horizon against the recent range
    (:func:`pecopt.ingest.forecast_checks.price_findings`); none for stand-in or inline
    prices (``pecopt validate`` checks those)."""
    parts: Any = s.assets
    grid = parts.grid
    if grid is None or grid.tariff.spot.source != "file":
        return []
    from pecopt.ingest.forecast_checks import price_findings
    from pecopt.ingest.spot import read_spot_known

    sp = grid.tariff.spot
    assert sp.path is not None
    known, recent = read_spot_known(
        sp.path, index, unit=sp.unit, vat_included=sp.vat_included, column=sp.column,
        time_column=sp.time_column, tz=sp.timezone, history_days=sp.history_days,
    )  # fmt: skip
    return price_findings(index, known, recent, sp.path, sp.column, tz=tz)


def _validate(doc: dict[str, Any], file: str) -> Scenario:
    from pydantic import ValidationError

    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ScenarioError(file, where, f"{err['msg']} (in the day's scenario)") from None


def _start_info(
    state: StartState, start: Start, states: dict[tuple[str, str], np.ndarray]
) -> dict[str, Any]:
    """Where the start state came from; what each asset was given to start from
    (``state``), and what the solved model started from (``model``, read back from its
    variables), by asset and quantity (:mod:`pecopt.model.carry`)."""
    model: dict[str, dict[str, float]] = {}
    for (asset, quantity), values in states.items():
        model.setdefault(asset, {})[quantity] = float(values[0])
    return {
        "at_utc": state.at.isoformat(),
        "source": state.source,
        "run_id": state.run_id,
        "state": start.used,
        "model": model,
    }

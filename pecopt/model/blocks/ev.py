"""EV fleets, per vehicle: a battery that charges only while plugged in and is emptied
by driving.

Per vehicle v and step t: charging power ``c[v,t] in [0, P]`` exists only where the
vehicle is plugged in (no variable that can only be zero). The per-step model is

    e[v,t] = e[v,t-1] + eta dt c[v,t] - drive[v,t] + u[v,t],   0 <= e[v,t] <= E
    demand flow of vehicle v = -c[v,t]   (carrier electricity)

with ``0 <= u[v,t] <= drive[v,t]`` the shortfall (energy that had to come from elsewhere,
at a penalty; never more than was driven).

**Exact reduction.** Between two driving steps the energy only rises (charging) or
stays put (parked), so the bounds ``0 <= e <= E`` can bind only at the end of a drive
step (lowest point) or at the end of a run of steps without driving (highest point).
pecopt keeps a state variable ``s[v,j]`` only at those points j, and one row each:

    s[v,j] = s[v,j-1] + eta dt sum_{t in segment j} c[v,t] - D[v,j] + u[v,j],
    0 <= u[v,j] <= D[v,j]

where segment j is the steps since the previous point and ``D`` the energy driven in it.
Every per-step energy is a partial sum inside one segment, so the reduced model has
exactly the feasible set (projected onto ``c``) of the per-step one; it just has
~2 rows per trip instead of one per step. Start: ``s[v,-1] = s[v,J-1]`` (cyclic) or
the vehicle's given initial energy ``S0[v]`` (``initial_energy_kwh`` per vehicle, e.g.
carried from last night's run, else the fleet's ``soc_initial_kwh``);
``end: initial`` asks ``s[v,J-1] >= S0[v]``.

Session mode (arrival, departure, energy wanted): for each session k of vehicle v,

    W_k - d_k - u_k <= eta dt sum_{t in session k} c[v,t] <= min(E, W_k + A_k - d_k),
    0 <= u_k <= W_k - d_k

with ``W_k`` the energy the session wants by its last step in the horizon plus the share
of its wish before the horizon (pro rata to its steps: a horizon that cuts a session
asks for its energy pro rata), ``A_k`` the share after the horizon and ``d_k`` what the
session received before the horizon's start: carried from the previous night
(``session_delivered_kwh``), else taken as its pro-rata share. A session thus never takes
in more than it wants, nor more than the battery holds (a wish above ``E`` is met only up
to ``E`` and the rest is reported unmet), and a session the previous day left short gets
the rest. Shortfall costs ``penalty * u`` [EUR]; ``shortfall_penalty_eur_per_kwh: null``
forbids it. The state carried is ``session_kwh``: what the session in progress at the end
of a step has received so far, 0 for a vehicle between sessions.

Sources: files (``sessions``, ``availability``) or the synthetic district fleets of
:mod:`pecopt.ingest.ev_synthetic` (``residents`` and ``workplace`` per vehicle,
``public_chargers`` as sessions, one "vehicle" per charger), deterministic by seed and
by local date. With ``copies: k`` each vehicle stands for k identical ones: ``P``, ``E``,
driving and session energies are k times one vehicle's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from numpy.typing import NDArray
from pydantic import Field, model_validator

from pecopt.errors import ScenarioError
from pecopt.ingest.ev_synthetic import PublicChargers, ResidentsFleet, WorkplaceFleet
from pecopt.model.capacity import capacity
from pecopt.model.carry import NOTICE, Flag, Start, StateReader, given, with_start
from pecopt.model.linear import FloatArray, Term, add_rows, add_var, term
from pecopt.model.technology import (
    Common,
    Contribution,
    Flow,
    IngestContext,
    LevelReader,
    Tables,
    Technology,
    ValueOf,
)
from pecopt.scenario.types import (
    Capacity,
    Efficiency,
    End,
    Fraction,
    NonNeg,
    Positive,
    Strict,
    TimeZone,
)
from pecopt.units import ELECTRICITY

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.settings import Dispatch


class SyntheticCommuters(Strict):
    """A deterministic commuter fleet: away on working days, driving out and back."""

    vehicles: Annotated[int, Field(ge=1)]
    """Number of vehicles."""
    depart_local_h: Annotated[int, Field(ge=0, le=23)] = 7
    """Hour the cars leave on working days [local hour] (each car adds 0-1 h)."""
    return_local_h: Annotated[int, Field(ge=0, le=23)] = 17
    """Hour the cars come back [local hour] (each car adds 0-2 h)."""
    drive_kwh_per_day: NonNeg = 8.0
    """Energy driven per working day [kWh]."""
    weekend_trip_share: Fraction = 0.3
    """Share of weekend days and holidays with a trip (of half that energy) [1]."""
    seed: int = 0
    """Random seed (the fleet is deterministic given it)."""


class EVFleet(Strict):
    """Per-vehicle EVs; exactly one source:

    * ``sessions``: a file with columns vehicle, arrival, departure, energy_kwh (wanted
      by departure);
    * ``availability``: a file with columns timestamp, vehicle, plugged (bool), drive_kwh
      (per step);
    * ``residents``: residents' cars charging at home, trips spread over the day by day
      type (:class:`pecopt.ingest.ev_synthetic.ResidentsFleet`);
    * ``workplace``: commuters' cars plugged in at the offices on working days
      (:class:`pecopt.ingest.ev_synthetic.WorkplaceFleet`);
    * ``public_chargers``: street chargers with sessions of different cars, one
      "vehicle" per charger (:class:`pecopt.ingest.ev_synthetic.PublicChargers`);
    * ``synthetic``: the simple commuter pattern of pecopt 0.1 (:class:`SyntheticCommuters`).

    ``copies``: each vehicle (or charger) stands for this many identical ones; its charger
    power, battery, driving and session energy are multiplied by it (a smaller model of a
    large fleet, at the price of less variety between vehicles).
    """

    name: str = "ev"
    """The fleet's name."""
    charger_kw: NonNeg = 11.0
    """Charging power of one charger [kW]."""
    site_max_kw: Capacity | None = None
    """The charging site's connection [kW], shared by the fleet's chargers (load management):
    ``sum_v c[v,t] <= site_max_kw``; a Size lets the optimiser choose it."""
    efficiency: Efficiency = 0.92
    """Charging efficiency [1]."""
    capacity_kwh: Positive = 60.0
    """Battery capacity of one vehicle [kWh]."""
    soc_initial_kwh: NonNeg | None = None
    """Energy of each vehicle at the start [kWh]; None: not given (cyclic)."""
    initial_energy_kwh: dict[str, NonNeg] = {}
    """Per-vehicle energy at the start [kWh] (e.g. from last night's run); overrides soc_initial_kwh
    for the vehicles it names."""
    session_delivered_kwh: dict[str, NonNeg] = {}
    """Session mode: per vehicle (charger), the energy one car already received [kWh] in the session
    in progress at the horizon's start (carried by dispatch)."""
    end: End = "cyclic"
    """How the horizon ends for each vehicle (``cyclic``, ``initial``, ``free``)."""
    end_reserve: bool = False
    """A rolling horizon (set by dispatch): each vehicle should end holding what it drives after the
    horizon before it next plugs in, short at the shortfall penalty."""
    shortfall_penalty_eur_per_kwh: NonNeg | None = 1.0
    """Price of energy a car had to get elsewhere [EUR/kWh]; None: no shortfall allowed."""
    copies: Annotated[int, Field(ge=1)] = 1
    """Each vehicle (or charger) stands for this many identical ones."""
    sessions: Path | None = None
    """A sessions file (vehicle, arrival, departure, energy_kwh)."""
    availability: Path | None = None
    """An availability file (timestamp, vehicle, plugged, drive_kwh)."""
    synthetic: SyntheticCommuters | None = None
    """The simple commuter pattern of pecopt 0.1."""
    residents: ResidentsFleet | None = None
    """Residents' cars charging at home."""
    workplace: WorkplaceFleet | None = None
    """Commuters' cars at the district's workplaces."""
    public_chargers: PublicChargers | None = None
    """Public street chargers with sessions of different cars."""
    timezone: TimeZone = "UTC"
    """The time zone of naive times in the sessions or availability file."""

    @property
    def session_mode(self) -> bool:
        """Sessions (energy wanted by departure) rather than per-vehicle driving."""
        return self.sessions is not None or self.public_chargers is not None

    @model_validator(mode="after")
    def _one_source(self) -> EVFleet:
        sources = (
            self.sessions,
            self.availability,
            self.synthetic,
            self.residents,
            self.workplace,
            self.public_chargers,
        )
        if sum(x is not None for x in sources) != 1:
            raise ValueError(
                "give exactly one of 'sessions', 'availability', 'residents', 'workplace', "
                "'public_chargers' or 'synthetic'"
            )
        too_big = [v for v, e in self.initial_energy_kwh.items() if e > self.capacity_kwh]
        if too_big or (self.soc_initial_kwh or 0.0) > self.capacity_kwh:
            raise ValueError(f"initial energy above capacity_kwh for {too_big or 'the fleet'}")
        start_given = self.soc_initial_kwh is not None or bool(self.initial_energy_kwh)
        if self.end == "cyclic" and start_given:
            raise ValueError(
                "a start energy is given with end: cyclic, which would ignore it; "
                "use end: initial or free"
            )
        if self.end == "value":
            raise ValueError("end: value is not available for EV fleets (use initial or free)")
        if self.end != "cyclic" and not start_given and not self.session_mode:
            raise ValueError(
                f"end: {self.end} needs the start energy (soc_initial_kwh, or "
                "initial_energy_kwh for every vehicle)"
            )
        return self


AVAILABILITY = "ev_fleets_availability"
SESSIONS = "ev_fleets_sessions"
RESERVE = "ev_fleets_reserve"
#: the penalty item of a vehicle that ends a rolling horizon short of its next trips
RESERVE_PENALTY = "ev_reserve_penalty"


@dataclass(frozen=True)
class FleetData:
    """One EV fleet, per vehicle.

    Availability mode: ``plugged[v, t]`` and ``drive_kwh[v, t]`` (energy taken out by
    driving in step t). Session mode: sessions with the energy wanted by departure.
    """

    spec: EVFleet
    vehicles: tuple[str, ...]
    plugged: NDArray[np.bool_]  # (vehicles, steps)
    drive_kwh: FloatArray  # (vehicles, steps)
    mode: str  # "availability" or "sessions"
    #: energy in each vehicle at the start [kWh]; None: not given (the horizon is cyclic)
    initial_kwh: FloatArray | None = None
    # session mode: one row per session, step range [first, last] and energy wanted
    session_vehicle: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    session_first: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    session_last: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    session_energy_kwh: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: the shares of each session's wish before and after the horizon [kWh]
    session_before_kwh: FloatArray = field(default_factory=lambda: np.zeros(0))
    session_after_kwh: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: what each session received before the horizon [kWh]: carried, else its pro-rata share
    session_done_kwh: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: energy each vehicle drives after the horizon before it next plugs in [kWh]
    reserve_kwh: FloatArray | None = None

    @property
    def charger_kw(self) -> float:
        """Charging power of one vehicle times its copies [kW]."""
        return self.spec.charger_kw * self.spec.copies

    @property
    def capacity_kwh(self) -> float:
        """Battery of one vehicle times its copies [kWh]."""
        return self.spec.capacity_kwh * self.spec.copies


def ingest(units: Sequence[EVFleet], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """Tables ``ev_fleets_availability`` (``timestamp, fleet, vehicle, plugged, drive_kwh``)
    and ``ev_fleets_sessions`` (``fleet, vehicle, first_utc, last_utc, energy_kwh``: the
    first and last plugged step of each session and the energy wanted), read or drawn by
    :func:`pecopt.ingest.ev_fleets.fleet_tables`."""
    from pecopt.ingest.ev_fleets import fleet_tables

    step = pd.Timedelta(ctx.scenario.horizon.resolution)
    availability, sessions, reserve = fleet_tables(units, ctx.index, ctx.timezone, step, ctx.file)
    return {AVAILABILITY: availability, SESSIONS: sessions, RESERVE: reserve}


def prepare(units: Sequence[EVFleet], tables: Tables, common: Common) -> tuple[FleetData, ...]:
    n = common.n
    avail, sessions = tables[AVAILABILITY], tables[SESSIONS]
    fleets = []
    for f in units:
        rows = avail[avail["fleet"] == f.name]
        vehicles = tuple(str(x) for x in pd.unique(rows["vehicle"].to_numpy()))
        nv = len(vehicles)
        plugged = rows["plugged"].to_numpy(bool).reshape(nv, n)
        drive = rows["drive_kwh"].to_numpy(float).reshape(nv, n)
        field_ = f"assets.ev_fleets.{f.name}.initial_energy_kwh"
        unknown = sorted(set(f.initial_energy_kwh) - set(vehicles))
        if unknown:
            more = " ..." if len(vehicles) > 5 else ""
            raise ScenarioError(
                common.file,
                field_,
                f"no such vehicle(s): {unknown[:5]} (the fleet has {list(vehicles[:5])}{more})",
            )
        initial = None
        if f.soc_initial_kwh is not None or f.initial_energy_kwh:
            initial = np.array([f.initial_energy_kwh.get(v, np.nan) for v in vehicles])
            if f.soc_initial_kwh is not None:
                initial[np.isnan(initial)] = f.soc_initial_kwh
            if np.isnan(initial).any():
                missing = [v for v, e in zip(vehicles, initial, strict=True) if np.isnan(e)]
                raise ScenarioError(
                    common.file, field_, f"no start energy for {missing[:5]} (give soc_initial_kwh)"
                )
        k = float(f.copies)
        if initial is not None:
            initial = initial * k
        if f.session_mode:
            ss = sessions[sessions["fleet"] == f.name]
            vid = np.searchsorted(np.asarray(vehicles, dtype=object), ss["vehicle"].to_numpy())
            first = common.index.searchsorted(pd.DatetimeIndex(ss["first_utc"])).astype(np.int64)
            zero = np.zeros(len(ss))
            before = ss["energy_before_kwh"].to_numpy(float) if "energy_before_kwh" in ss else zero
            after = ss["energy_after_kwh"].to_numpy(float) if "energy_after_kwh" in ss else zero
            done = before.copy()
            for i in np.flatnonzero((first == 0) & (before > 0)):
                got = f.session_delivered_kwh.get(vehicles[vid[i]])
                done[i] = before[i] if got is None else got
            fleets.append(
                FleetData(
                    f, vehicles, plugged, drive, "sessions", initial,
                    vid.astype(np.int64), first,
                    common.index.searchsorted(pd.DatetimeIndex(ss["last_utc"])).astype(np.int64),
                    ss["energy_kwh"].to_numpy(float) * k, before * k, after * k, done * k,
                )
            )  # fmt: skip
        else:
            reserve = None
            table = tables.get(RESERVE)
            if f.end_reserve and table is not None and len(table):
                mine = table[table["fleet"] == f.name].set_index("vehicle")["reserve_kwh"]
                reserve = mine.reindex(list(vehicles)).fillna(0.0).to_numpy(float) * k
            fleets.append(
                FleetData(
                    f, vehicles, plugged, drive * k, "availability", initial, reserve_kwh=reserve
                )
            )
    return tuple(fleets)


def state_points(plugged: np.ndarray, drive: np.ndarray) -> np.ndarray:
    """Steps at whose end a vehicle's energy can reach a bound.

    The end of every drive step, and the end of every run of non-drive steps that holds a
    plugged step. Returns sorted step indices.
    """
    drive_step = drive > 0
    pts = list(np.flatnonzero(drive_step))
    # end of runs of non-drive steps containing a plugged step
    nd = ~drive_step
    run_id = np.cumsum(np.r_[True, nd[1:] != nd[:-1]])
    plug_nd = plugged & nd
    if plug_nd.any():
        ids = np.unique(run_id[plug_nd])
        last = np.r_[run_id[1:] != run_id[:-1], True]
        ends = np.flatnonzero(last & np.isin(run_id, ids))
        pts += list(ends)
    return np.unique(np.asarray(pts, dtype=np.int64))


def _availability(b: pyo.Block, common: Common, ev: FleetData) -> Contribution:
    spec, n, dt = ev.spec, common.n, common.dt_h
    nv = len(ev.vehicles)
    pv_idx, pt_idx = np.nonzero(ev.plugged)  # (vehicle, step) of every charging variable
    c = add_var(b, "charge", pv_idx.size, 0.0, ev.charger_kw)
    seg_vehicle: list[np.ndarray] = []
    seg_chain: list[np.ndarray] = []
    seg_point: list[np.ndarray] = []
    drive_seg: list[np.ndarray] = []
    seg_of_charge = np.full(pv_idx.size, -1, np.int64)
    offset = 0
    starts = np.searchsorted(pv_idx, np.arange(nv + 1))
    # each vehicle's timeline is one chain of state points; under typical periods, one
    # cyclic chain per representative period (each stands for weeks that repeat it)
    per = common.periods
    blocks = (
        [(0, n)] if per is None else [(p * per.length, (p + 1) * per.length) for p in range(per.k)]
    )
    for v in range(nv):
        parts = [
            (state_points(ev.plugged[v, lo:hi], ev.drive_kwh[v, lo:hi]) + lo, lo, p)
            for p, (lo, hi) in enumerate(blocks)
        ]
        parts = [(pts, lo, p) for pts, lo, p in parts if pts.size]
        if not parts:
            continue
        pts = np.concatenate([x[0] for x in parts])
        seg_vehicle.append(np.full(pts.size, v))
        seg_chain.append(
            np.concatenate([np.full(x[0].size, v * len(blocks) + x[2]) for x in parts])
        )
        seg_point.append(pts)
        cum = np.r_[0.0, np.cumsum(ev.drive_kwh[v])]
        ends = pts + 1
        begins = np.concatenate([np.r_[lo, x[:-1] + 1] for x, lo, _ in parts])
        d = cum[ends] - cum[begins]
        drive_seg.append(d)
        a, z = starts[v], starts[v + 1]
        steps_v = pt_idx[a:z]
        seg = np.searchsorted(pts, steps_v)  # first point at or after the step
        # a plugged step always lies in a run that ends in a point, so none is after the last
        assert not (seg == pts.size).any()
        seg_of_charge[a:z] = offset + seg
        offset += pts.size
    j = offset
    veh = np.concatenate(seg_vehicle) if seg_vehicle else np.zeros(0, np.int64)
    chain = np.concatenate(seg_chain) if seg_chain else np.zeros(0, np.int64)
    point = np.concatenate(seg_point) if seg_point else np.zeros(0, np.int64)
    dj = np.concatenate(drive_seg) if drive_seg else np.zeros(0)
    first = np.r_[True, chain[1:] != chain[:-1]] if j else np.zeros(0, bool)
    last = np.r_[chain[1:] != chain[:-1], True] if j else np.zeros(0, bool)
    s0 = ev.initial_kwh  # per vehicle, or None (cyclic)
    fixed_start = spec.end != "cyclic" and s0 is not None
    s_lb = np.zeros(j)
    if spec.end == "initial" and s0 is not None:
        s_lb[last] = s0[veh[last]]  # end no lower than the start, vehicle by vehicle
    s = add_var(b, "energy", j, s_lb, ev.capacity_kwh)
    penalty: dict[str, list[Term]] = {}
    if ev.reserve_kwh is not None and spec.end != "cyclic" and j:
        # s[v, last] + r[v] >= min(R[v], E): ends short of its next trips at a price
        want = np.minimum(ev.reserve_kwh[veh[last]], ev.capacity_kwh)
        ends = np.flatnonzero(last)[want > 0]
        want = want[want > 0]
        if ends.size:
            r = add_var(b, "reserve_short", ends.size, 0.0, want)
            rows = np.arange(ends.size)
            what = f"EV fleet {spec.name} energy for the next trips"
            add_rows(b, "reserve", ends.size, [term(s, 1.0, ends, rows), term(r, 1.0)],
                     lower=want, what=what)  # fmt: skip
            price = spec.shortfall_penalty_eur_per_kwh
            penalty[RESERVE_PENALTY] = [term(r, 1.0 if price is None else price)]
    prev = np.arange(j) - 1
    rhs = -dj.copy()
    if fixed_start:
        assert s0 is not None
        rhs[first] += s0[veh[first]]
        has_prev = ~first
    else:
        prev[first] = np.flatnonzero(last)  # cyclic: previous of the first is the last
        has_prev = np.ones(j, bool)
    terms = [
        term(s, 1.0),
        term(s, -1.0, prev[has_prev], np.flatnonzero(has_prev)),
        term(c, -spec.efficiency * dt, np.arange(pv_idx.size), seg_of_charge),
    ]
    unmet: dict[str, list[Term]] = {spec.name: []}
    short = None
    if spec.shortfall_penalty_eur_per_kwh is not None:
        short_rows = np.flatnonzero(dj > 0)
        short = add_var(b, "shortfall", short_rows.size, 0.0, dj[short_rows])
        terms.append(term(short, -1.0, None, short_rows))
        w = 1.0 if common.weight is None else common.weight[point[short_rows]]
        penalty["ev_shortfall_penalty"] = [term(short, spec.shortfall_penalty_eur_per_kwh * w)]
        unmet[spec.name] = [term(short, 1.0)]
    add_rows(b, "energy_balance", j, terms, equal=rhs, what=f"EV fleet {spec.name} energy")

    flows = []
    for v, name in enumerate(ev.vehicles):
        a, z = starts[v], starts[v + 1]
        if z > a:
            flows.append(
                Flow(
                    f"{spec.name}/{name}",
                    ELECTRICITY,
                    "demand",
                    (term(c, -1.0, np.arange(a, z), pt_idx[a:z]),),
                )
            )

    def levels(v: int, value: ValueOf) -> FloatArray:
        """Vehicle v's energy at the horizon's start and at the end of each step [kWh]
        (all its copies), from the solved charging, driving and shortfall."""
        cv = np.zeros(n)
        a, z = starts[v], starts[v + 1]
        cv[pt_idx[a:z]] = value(c)[a:z]
        net = spec.efficiency * dt * cv - ev.drive_kwh[v]
        if short is not None:
            rows_v = np.flatnonzero((veh == v)[dj > 0])
            pts_v = point[dj > 0][rows_v]
            np.add.at(net, pts_v, value(short)[rows_v])
        mine = np.flatnonzero(veh == v)
        if mine.size == 0:
            return np.full(n + 1, 0.0 if s0 is None else float(s0[v]))
        e = np.r_[0.0, np.cumsum(net)]
        # anchor on the state at the first point: e[p0 + 1] = s[first]
        e += value(s)[mine[0]] - e[point[mine[0]] + 1]
        return e

    storage: dict[str, LevelReader] = {}
    state: dict[tuple[str, str], StateReader] = {}

    def reader(v: int, ends_only: bool) -> Callable[[ValueOf], FloatArray]:
        def read(value: ValueOf) -> FloatArray:
            e = levels(v, value)
            return e[1:] if ends_only else e

        return read

    for v, name in enumerate(ev.vehicles):
        asset = f"{spec.name}/{name}"
        storage[asset] = reader(v, True)
        state[(asset, "soc_kwh")] = reader(v, False)
    return Contribution(flows=flows, penalty=penalty, storage=storage, unmet=unmet, state=state)


def _sessions(b: pyo.Block, common: Common, ev: FleetData) -> Contribution:
    spec, dt = ev.spec, common.dt_h
    pv_idx, pt_idx = np.nonzero(ev.plugged)
    c = add_var(b, "charge", pv_idx.size, 0.0, ev.charger_kw)
    # map each charging variable to its session
    key = pv_idx * common.n + pt_idx
    ns = ev.session_vehicle.size
    sess_rows: list[np.ndarray] = []
    sess_vars: list[np.ndarray] = []
    for k in range(ns):
        lo = ev.session_vehicle[k] * common.n + ev.session_first[k]
        hi = ev.session_vehicle[k] * common.n + ev.session_last[k]
        a, z = np.searchsorted(key, [lo, hi + 1])
        sess_vars.append(np.arange(a, z))
        sess_rows.append(np.full(z - a, k))
    rows = np.concatenate(sess_rows) if sess_rows else np.zeros(0, np.int64)
    idx = np.concatenate(sess_vars) if sess_vars else np.zeros(0, np.int64)
    terms = [term(c, spec.efficiency * dt, idx, rows)]
    done = ev.session_done_kwh if ev.session_done_kwh.size == ns else np.zeros(ns)
    before = ev.session_before_kwh if ev.session_before_kwh.size == ns else np.zeros(ns)
    after = ev.session_after_kwh if ev.session_after_kwh.size == ns else np.zeros(ns)
    wanted = np.maximum(0.0, ev.session_energy_kwh + before - done)
    most = np.minimum(ev.capacity_kwh, wanted + after)
    penalty: dict[str, list[Term]] = {}
    unmet: dict[str, list[Term]] = {spec.name: []}
    if spec.shortfall_penalty_eur_per_kwh is not None:
        u = add_var(b, "shortfall", ns, 0.0, wanted)
        terms.append(term(u, 1.0))
        # under typical periods a session counts as often as its start step
        w = 1.0 if common.weight is None else common.weight[ev.session_first]
        penalty["ev_shortfall_penalty"] = [term(u, spec.shortfall_penalty_eur_per_kwh * w)]
        unmet[spec.name] = [term(u, 1.0)]
    add_rows(
        b,
        "session_energy",
        ns,
        terms,
        lower=wanted,
        what=f"EV fleet {spec.name} session energy",
    )
    add_rows(
        b,
        "session_capacity",
        ns,
        terms[:1],
        upper=most,
        what=f"EV fleet {spec.name} session capacity",
    )
    flows = []
    starts = np.searchsorted(pv_idx, np.arange(len(ev.vehicles) + 1))
    for v, name in enumerate(ev.vehicles):
        a, z = starts[v], starts[v + 1]
        if z > a:
            flows.append(
                Flow(
                    f"{spec.name}/{name}",
                    ELECTRICITY,
                    "demand",
                    (term(c, -1.0, np.arange(a, z), pt_idx[a:z]),),
                )
            )
    n = common.n
    # what the session in progress at the end of each step has received, if it goes on
    # after the step (into the next horizon when it is cut at the end)
    goes_on = np.zeros((len(ev.vehicles), n + 1), bool)
    base = np.zeros((len(ev.vehicles), n + 1))
    for k in range(ns):
        v, f0, l0 = ev.session_vehicle[k], ev.session_first[k], ev.session_last[k]
        goes_on[v, f0 + 1 : l0 + 1] = True
        goes_on[v, l0 + 1] = after[k] > 0
        if f0 == 0 and before[k] > 0:
            goes_on[v, 0] = True
            base[v, 0] = done[k]

    def delivered(v: int) -> Callable[[ValueOf], FloatArray]:
        def read(value: ValueOf) -> FloatArray:
            got = np.zeros(n + 1)
            a, z = starts[v], starts[v + 1]
            got[pt_idx[a:z] + 1] = spec.efficiency * dt * value(c)[a:z]
            out = np.zeros(n + 1)
            for k in np.flatnonzero(ev.session_vehicle == v):
                f0, l0 = ev.session_first[k], ev.session_last[k]
                out[f0 + 1 : l0 + 2] = base[v, f0] + np.cumsum(got[f0 + 1 : l0 + 2])
            out[0] = base[v, 0]
            return np.where(goes_on[v], out, 0.0)

        return read

    state = {
        (f"{spec.name}/{name}", "session_kwh"): delivered(v) for v, name in enumerate(ev.vehicles)
    }
    return Contribution(flows=flows, penalty=penalty, unmet=unmet, state=state)


def build(block: pyo.Block, fleets: tuple[FleetData, ...], common: Common) -> Contribution:
    """One sub-block per fleet; one demand flow per vehicle."""
    out = Contribution()
    for ev in fleets:
        b = pyo.Block()
        block.add_component(ev.spec.name, b)
        mode = _availability if ev.mode == "availability" else _sessions
        out.add(mode(b, common, ev))
        for v, name in enumerate(ev.vehicles):
            plugged = ev.plugged[v].astype(np.float64)
            first = plugged[0] if plugged.size else 0.0
            out.state[(f"{ev.spec.name}/{name}", "plugged")] = given(with_start(first, plugged))
            copies = np.full(common.n + 1, float(ev.spec.copies))
            out.state[(f"{ev.spec.name}/{name}", "copies")] = given(copies)
        if ev.spec.site_max_kw is not None:
            site = capacity(b, "site_kw", ev.spec.site_max_kw)
            _, steps = np.nonzero(ev.plugged)  # the step of every charging variable
            charge = term(b.charge, 1.0, np.arange(steps.size), steps)
            site.limit(b, "site_max", [charge], common.n)
            out.capacities[ev.spec.name] = {"site_kw": site.amount()}
            if site.sized:
                out.cost.setdefault("investment", []).extend(site.cost(common))
    return out


def rolling(rec: dict[str, Any], cfg: Dispatch) -> None:
    """A fleet on a rolling horizon ends ``dispatch.ev_end`` instead of ``cyclic``; with no
    start energy given, each vehicle starts at ``dispatch.initial_share`` of its battery."""
    if rec["end"] == "cyclic":
        rec["end"] = cfg.ev_end
    rec["end_reserve"] = cfg.ev_reserve
    if rec["soc_initial_kwh"] is None and not rec["initial_energy_kwh"]:
        rec["soc_initial_kwh"] = cfg.initial_share * float(rec["capacity_kwh"])


def start(rec: dict[str, Any], st: Start) -> None:
    """Each vehicle the fleet has today starts with its carried energy.

    The store keeps a vehicle row's energy over all its copies (``soc_kwh``, as in
    ``storage.parquet``) and how many copies it stood for (``copies``); one vehicle's
    energy is ``soc_kwh / copies`` (clipped to ``[0, capacity_kwh]``), which the model
    multiplies by today's ``copies`` again. Vehicles with nothing carried start at
    ``soc_initial_kwh``; a vehicle whose carried plug state differs from today's
    availability at the start is a notice.
    """
    name, cap, k_now = rec["name"], float(rec["capacity_kwh"]), int(rec["copies"])
    avail = st.tables.get(AVAILABILITY)
    rows = avail[avail["fleet"] == name] if avail is not None else None
    vehicles = [] if rows is None else [str(v) for v in pd.unique(rows["vehicle"].to_numpy())]
    energy = {str(k): float(v) for k, v in rec["initial_energy_kwh"].items()}
    new: list[str] = []
    carried = 0
    for v in vehicles:
        asset = f"{name}/{v}"
        total = st.get(asset, "soc_kwh")
        if total is None:
            new.append(v)
            continue
        carried += 1
        k_then = st.get(asset, "copies") or float(k_now)
        energy[v] = st.clip(total / k_then, cap, f"{asset} energy of one vehicle")
    rec["initial_energy_kwh"] = energy
    sessions = rec.get("sessions") is not None or rec.get("public_chargers") is not None
    default = rec["soc_initial_kwh"]
    if new and carried:
        st.flags.append(
            Flag(
                NOTICE,
                "ev_new",
                f"{name}: {len(new)} vehicle(s) without carried energy (e.g. {new[0]}) "
                f"start at {default:g} kWh",
            )
        )
    elif new and not sessions:
        st.missing(name, f"{default:g} kWh per vehicle")
    for v in vehicles:
        e = energy.get(v, default)
        if e is not None and not sessions:
            st.use(f"{name}/{v}", "soc_kwh", e * k_now)
    if sessions:
        rec["session_delivered_kwh"] = _delivered(rec, st, vehicles, k_now)
    if rows is not None and len(rows):
        first = rows[pd.DatetimeIndex(rows["timestamp"]) == st.at]
        differ = [
            f"{name}/{v}"
            for v, plugged in first[["vehicle", "plugged"]].itertuples(index=False)
            if (was := st.get(f"{name}/{v}", "plugged")) is not None
            and bool(was > 0.5) != bool(plugged)
        ]
        if differ:
            st.flags.append(
                Flag(
                    NOTICE,
                    "ev_plug_changed",
                    f"{len(differ)} EV(s) of {name} planned in the other plug state at the "
                    f"start than the availability now says (e.g. {differ[0]})",
                )
            )


def _delivered(
    rec: dict[str, Any], st: Start, vehicles: Sequence[str], k_now: int
) -> dict[str, float]:
    """Per vehicle (charger) of a session fleet whose session goes on from before the
    horizon: what one car received so far [kWh] (carried ``session_kwh`` over the row's
    copies then, clipped to the battery)."""
    name, cap = rec["name"], float(rec["capacity_kwh"])
    out = {str(k): float(v) for k, v in rec.get("session_delivered_kwh", {}).items()}
    sess = st.tables.get(SESSIONS)
    if sess is None or not len(sess) or "energy_before_kwh" not in sess:
        return out
    mine = sess[(sess["fleet"] == name) & (sess["energy_before_kwh"] > 0)]
    going_on = set(mine.loc[pd.DatetimeIndex(mine["first_utc"]) == st.at, "vehicle"].astype(str))
    for v in vehicles:
        if v not in going_on:
            continue
        asset = f"{name}/{v}"
        total = st.get(asset, "session_kwh")
        if total is None:
            continue
        k_then = st.get(asset, "copies") or float(k_now)
        out[v] = st.clip(total / k_then, cap, f"{asset} energy received in its session")
        st.use(asset, "session_kwh", out[v] * k_now)
    return out


TECHNOLOGY = Technology(
    key="ev_fleets",
    unit=EVFleet,
    build=build,
    ingest=ingest,
    prepare=prepare,
    rolling=rolling,
    start=start,
)

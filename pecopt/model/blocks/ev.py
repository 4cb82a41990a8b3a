"""EV fleet, per vehicle: a battery that charges only while plugged in and is emptied
by driving.

Per vehicle v and step t: charging power ``c[v,t] in [0, P]`` exists only where the
vehicle is plugged in (no variable that can only be zero). The per-step model is

    e[v,t] = e[v,t-1] + eta dt c[v,t] - drive[v,t] + u[v,t],   0 <= e[v,t] <= E
    inj_elec[t] = -sum_v c[v,t]

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

    wanted_k - u_k <= eta dt sum_{t in session k} c[v,t] <= E,    0 <= u_k <= wanted_k

Shortfall costs ``penalty * u`` [EUR]; ``shortfall_penalty_eur_per_kwh: null`` forbids it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs, EVInputs
from pecopt.model.interface import Contribution, Injection, ValueOf
from pecopt.model.linear import FloatArray, add_rows, add_var, term
from pecopt.units import ELECTRICITY


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


def _availability(b: pyo.Block, inputs: DistrictInputs, ev: EVInputs) -> Contribution:
    spec, n, dt = ev.spec, inputs.n, inputs.dt_h
    nv = len(ev.vehicles)
    pv_idx, pt_idx = np.nonzero(ev.plugged)  # (vehicle, step) of every charging variable
    c = add_var(b, "charge", pv_idx.size, 0.0, spec.charger_kw)
    seg_vehicle: list[np.ndarray] = []
    seg_point: list[np.ndarray] = []
    drive_seg: list[np.ndarray] = []
    seg_of_charge = np.full(pv_idx.size, -1, np.int64)
    offset = 0
    starts = np.searchsorted(pv_idx, np.arange(nv + 1))
    for v in range(nv):
        pts = state_points(ev.plugged[v], ev.drive_kwh[v])
        if pts.size == 0:
            continue
        seg_vehicle.append(np.full(pts.size, v))
        seg_point.append(pts)
        cum = np.r_[0.0, np.cumsum(ev.drive_kwh[v])]
        ends = pts + 1
        begins = np.r_[0, ends[:-1]]
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
    point = np.concatenate(seg_point) if seg_point else np.zeros(0, np.int64)
    dj = np.concatenate(drive_seg) if drive_seg else np.zeros(0)
    first = np.r_[True, veh[1:] != veh[:-1]] if j else np.zeros(0, bool)
    last = np.r_[veh[1:] != veh[:-1], True] if j else np.zeros(0, bool)
    s0 = ev.initial_kwh  # per vehicle, or None (cyclic)
    fixed_start = spec.end != "cyclic" and s0 is not None
    s_lb = np.zeros(j)
    if spec.end == "initial" and s0 is not None:
        s_lb[last] = s0[veh[last]]  # end no lower than the start, vehicle by vehicle
    s = add_var(b, "energy", j, s_lb, spec.capacity_kwh)
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
    cost: dict[str, list] = {}
    unmet: dict[str, list] = {}
    short = None
    if spec.shortfall_penalty_eur_per_kwh is not None:
        short_rows = np.flatnonzero(dj > 0)
        short = add_var(b, "shortfall", short_rows.size, 0.0, dj[short_rows])
        terms.append(term(short, -1.0, None, short_rows))
        cost["ev_shortfall_penalty"] = [term(short, spec.shortfall_penalty_eur_per_kwh)]
        unmet[spec.name] = [term(short, 1.0)]
    add_rows(b, "energy_balance", j, terms, equal=rhs, what=f"EV fleet {spec.name} energy")

    injections = []
    for v, name in enumerate(ev.vehicles):
        a, z = starts[v], starts[v + 1]
        if z > a:
            injections.append(
                Injection(
                    f"{spec.name}/{name}",
                    ELECTRICITY,
                    (term(c, -1.0, np.arange(a, z), pt_idx[a:z]),),
                )
            )

    def energy_of(v: int) -> Callable[[ValueOf], FloatArray]:
        def read(value: ValueOf) -> FloatArray:
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
                return np.full(n, 0.0 if s0 is None else float(s0[v]))
            e = np.cumsum(net)
            # anchor on the state at the first point: e[p0] = s[first]
            e += value(s)[mine[0]] - e[point[mine[0]]]
            return e

        return read

    storage = {f"{spec.name}/{name}": energy_of(v) for v, name in enumerate(ev.vehicles)}
    delivered = {spec.name: [term(c, dt)]}
    return Contribution(
        injections=injections, cost=cost, storage=storage, unmet=unmet, delivered=delivered
    )


def _sessions(b: pyo.Block, inputs: DistrictInputs, ev: EVInputs) -> Contribution:
    spec, dt = ev.spec, inputs.dt_h
    pv_idx, pt_idx = np.nonzero(ev.plugged)
    c = add_var(b, "charge", pv_idx.size, 0.0, spec.charger_kw)
    # map each charging variable to its session
    key = pv_idx * inputs.n + pt_idx
    ns = ev.session_vehicle.size
    sess_rows: list[np.ndarray] = []
    sess_vars: list[np.ndarray] = []
    for k in range(ns):
        lo = ev.session_vehicle[k] * inputs.n + ev.session_first[k]
        hi = ev.session_vehicle[k] * inputs.n + ev.session_last[k]
        a, z = np.searchsorted(key, [lo, hi + 1])
        sess_vars.append(np.arange(a, z))
        sess_rows.append(np.full(z - a, k))
    rows = np.concatenate(sess_rows) if sess_rows else np.zeros(0, np.int64)
    idx = np.concatenate(sess_vars) if sess_vars else np.zeros(0, np.int64)
    terms = [term(c, spec.efficiency * dt, idx, rows)]
    cost: dict[str, list] = {}
    unmet: dict[str, list] = {}
    if spec.shortfall_penalty_eur_per_kwh is not None:
        u = add_var(b, "shortfall", ns, 0.0, ev.session_energy_kwh)
        terms.append(term(u, 1.0))
        cost["ev_shortfall_penalty"] = [term(u, spec.shortfall_penalty_eur_per_kwh)]
        unmet[spec.name] = [term(u, 1.0)]
    add_rows(
        b,
        "session_energy",
        ns,
        terms,
        lower=ev.session_energy_kwh,
        what=f"EV fleet {spec.name} session energy",
    )
    add_rows(
        b,
        "session_capacity",
        ns,
        terms[:1],
        upper=spec.capacity_kwh,
        what=f"EV fleet {spec.name} session capacity",
    )
    injections = []
    starts = np.searchsorted(pv_idx, np.arange(len(ev.vehicles) + 1))
    for v, name in enumerate(ev.vehicles):
        a, z = starts[v], starts[v + 1]
        if z > a:
            injections.append(
                Injection(
                    f"{spec.name}/{name}",
                    ELECTRICITY,
                    (term(c, -1.0, np.arange(a, z), pt_idx[a:z]),),
                )
            )
    return Contribution(
        injections=injections, cost=cost, unmet=unmet, delivered={spec.name: [term(c, dt)]}
    )


def build(block: pyo.Block, inputs: DistrictInputs) -> Contribution | None:
    if not inputs.ev_fleets:
        return None
    out = Contribution()
    for ev in inputs.ev_fleets:
        b = pyo.Block()
        block.add_component(ev.spec.name, b)
        part = (
            _availability(b, inputs, ev) if ev.mode == "availability" else _sessions(b, inputs, ev)
        )
        out.injections += part.injections
        out.storage.update(part.storage)
        out.unmet.update(part.unmet)
        out.delivered.update(part.delivered)
        for k, v in part.cost.items():
            out.cost.setdefault(k, []).extend(v)
    return out

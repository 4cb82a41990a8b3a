"""Synthetic EV fleets of a district: residents' cars, commuters' cars at the workplaces,
and public street chargers with sessions. Deterministic by seed, and **independent of
where the horizon starts**: every random number is keyed by (seed, local date, vehicle),
so a given local date always gives the same trips and sessions, and adding vehicles
leaves the others unchanged.

Day types in local time: working day (Mon-Fri, not a Finnish public holiday), Saturday,
Sunday or public holiday (``holidays.Finland``, as
:func:`pecopt.ingest.timeseries.effective_weekday`).

Figures (FACTS-HEAT-TARIFFS-COSTS section 6; FACTS: EV charging):

* a car drives **13,794 km/yr** (2018, Statistics Finland via vapausvalitaauto.fi);
  the 2021 national travel survey counts 34 km per person-day, 84 % of km by car;
* where EVs charged in 2024: **home ~76 %**, public 15 %, closed/fleet (work) 9 %
  (etn.fi on Traficom's market review); a public session costs ~6.5 EUR;
* Norway: 4.4 home and 1.1 work charges a week (TØI ELAN); residents arriving home in
  the evening make the peak (mn.uio.no);
* no Helsinki-region departure/arrival distributions were retrieved (FACTS-HEAT gaps 5):
  every time-of-day figure below is an **[assumption]**, as is 0.18 kWh/km (a mid-size EV
  over a Finnish year, winter included).

**Spread of plug-in times.** Residents plug in when back home: on working days the
commuters (55 %) at 7.5 + 9.5 h, sd sqrt(0.5^2 + 1^2 + 2 x 0.5^2) = 1.3 h (day to day and
habit), the others at 11 + 3.5 h, sd 3.3 h: quartiles 14.6, 16.4 and 17.6 local time
[assumption; the evening peak is what mn.uio.no reports for Norwegian residents].
Commuters plug in at the offices at 8.25 h, sd 0.8 h [assumption]. Each vehicle draws its
own times every day, but with ``copies: k`` its k copies plug in at the same step: the
busiest hourly step of 2025 sees 40 % of Kera's 180 residents' cars plug in with 20
profiles x 9 copies, 37 % with 60 x 3 and 24 % with 180 distinct cars; 83 %, 58 % and
50 % of the 120 commuters' cars with 12 x 10, 40 x 3 and 120 x 1.

Each generator returns per-vehicle arrays on the horizon (availability: ``plugged`` and
``drive_kwh`` per step, the format of
:func:`pecopt.ingest.ev.read_availability`) or sessions (``vehicle, arrival, departure,
energy_kwh``, the format of :func:`pecopt.ingest.ev.read_sessions`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field

from pecopt.ingest.timeseries import effective_weekday, step_hours
from pecopt.scenario.types import Fraction, NonNeg, Positive, Strict

__all__ = [
    "PublicChargers",
    "ResidentsFleet",
    "Trip",
    "WorkplaceFleet",
    "charger_names",
    "public_sessions",
    "residents",
    "workplace",
]

Hour = Annotated[float, Field(ge=0.0, le=24.0)]
Peak = tuple[Hour, Positive, Positive]  # (mean local hour, sd [h], weight)

#: Random streams, so that no two uses share numbers.
_TRAITS, _DAYS, _SESSIONS = 1, 2, 3
#: Day-number origin (days since), positive for any date pecopt meets.
_EPOCH = pd.Timestamp("1900-01-01")


class Trip(Strict):
    """One away period a day: leave at ``depart_mean_h`` +- ``depart_sd_h`` (local hour),
    stay away ``duration_mean_h`` +- ``duration_sd_h`` (normal, clipped)."""

    depart_mean_h: Hour
    """Mean departure time [local hour]."""
    depart_sd_h: NonNeg = 1.0
    """Standard deviation of the departure time [h]."""
    duration_mean_h: Positive
    """Mean time away [h]."""
    duration_sd_h: NonNeg = 1.0
    """Standard deviation of the time away [h]."""


class ResidentsFleet(Strict):
    """Residents' cars charging at home: one trip a day when used, back in the evening.

    A share ``commuter_share`` of the cars commute on working days (``commute``); the
    others run errands (``errand``); at weekends all follow ``saturday`` / ``sunday``.
    Each car has its own habit (its mean departure and duration shifted by a normal of
    sd ``habit_sd_h``, and a distance factor, lognormal with cv ``vehicle_km_cv``); each
    day adds its own variation (``depart_sd_h``, ``duration_sd_h``, distance cv
    ``daily_km_cv``). A car is used on a day with ``use_*`` probability, else it stays
    home (plugged in all day). Energy taken from the home charger per used day:

        E = km_per_year / (365.25 u) * f_vehicle * f_day * kwh_per_km * home_share,
        u = (5 use_working_day + use_saturday + use_sunday) / 7

    so the fleet's mean is ``km_per_year / 365.25 * kwh_per_km * home_share`` a day
    (13,794 km/yr, 0.18 kWh/km, 76 %: 5.12 kWh per car-day), capped at
    ``max_day_share`` of the battery. Plugged in whenever at home [assumption].
    """

    vehicles: Annotated[int, Field(ge=1)]
    """Number of cars."""
    seed: int = 0
    """Random seed (the fleet is deterministic given it and the local date)."""
    km_per_year: Positive = 13794.0  # [src: Statistics Finland 2018 via FACTS-HEAT 6]
    """Distance a car drives per year [km/yr] (Statistics Finland 2018)."""
    kwh_per_km: Positive = 0.18  # [assumption]
    """Energy use per km [kWh/km] [assumption]."""
    home_share: Fraction = 0.76  # [src: Traficom 2024 market review via etn.fi]
    """Share of the driving energy charged at home [1] (Traficom 2024)."""
    commuter_share: Fraction = 0.55  # [assumption]
    """Share of the cars that commute on working days [1] [assumption]."""
    use_working_day: Fraction = 0.85  # [assumption]
    """Probability a car is used on a working day [1] [assumption]."""
    use_saturday: Fraction = 0.65  # [assumption]
    """Probability a car is used on a Saturday [1] [assumption]."""
    use_sunday: Fraction = 0.5  # [assumption]
    """Probability a car is used on a Sunday [1] [assumption]."""
    commute: Trip = Trip(depart_mean_h=7.5, depart_sd_h=0.5, duration_mean_h=9.5, duration_sd_h=1.0)
    """The commuters' working-day trip."""
    errand: Trip = Trip(depart_mean_h=11.0, depart_sd_h=2.5, duration_mean_h=3.5, duration_sd_h=2.0)
    """The other cars' working-day trip."""
    saturday: Trip = Trip(
        depart_mean_h=11.0, depart_sd_h=2.0, duration_mean_h=4.0, duration_sd_h=2.0
    )
    """The Saturday trip."""
    sunday: Trip = Trip(depart_mean_h=12.0, depart_sd_h=2.5, duration_mean_h=4.0, duration_sd_h=2.0)
    """The Sunday trip."""
    habit_sd_h: NonNeg = 0.5
    """Standard deviation of a car's own shift of departure and duration [h]."""
    vehicle_km_cv: NonNeg = 0.3
    """Coefficient of variation of a car's own distance factor [1]."""
    daily_km_cv: NonNeg = 0.5
    """Coefficient of variation of the distance from day to day [1]."""
    max_day_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    """Cap on a day's energy as a share of the battery [1]."""


class WorkplaceFleet(Strict):
    """Commuters' cars plugged in at the district's workplaces on working days.

    Present on a working day with probability ``presence`` (remote work, leave); arrives
    at ``arrive`` (:class:`Trip`: mean, sd; stays ``duration`` hours); per-car habits as
    for residents. Between two stays the car is away (driving home, at home, back): the
    energy to be charged at work is taken out by that drive, half when it leaves, half
    before it arrives:

        E = commute_km * f_vehicle * f_day * kwh_per_km * work_share  per day present

    (30 km round trip [assumption], 0.18 kWh/km: 5.4 kWh a day at ``work_share`` 1, i.e.
    cars that rely on the workplace charger for their commute).
    """

    vehicles: Annotated[int, Field(ge=1)]
    """Number of cars."""
    seed: int = 0
    """Random seed (the fleet is deterministic given it and the local date)."""
    presence: Fraction = 0.8  # [assumption: hybrid work]
    """Probability a car is at work on a working day [1] [assumption: hybrid work]."""
    arrive: Trip = Trip(depart_mean_h=8.25, depart_sd_h=0.6, duration_mean_h=8.5, duration_sd_h=0.8)
    """Arrival (mean, sd) and stay (mean, sd) at work."""
    commute_km: Positive = 30.0  # round trip [assumption]
    """Round-trip commute [km] [assumption]."""
    kwh_per_km: Positive = 0.18  # [assumption]
    """Energy use per km [kWh/km] [assumption]."""
    work_share: Fraction = 1.0  # [assumption]
    """Share of the commute's energy charged at work [1] [assumption]."""
    habit_sd_h: NonNeg = 0.5
    """Standard deviation of a car's own shift of arrival and stay [h]."""
    vehicle_km_cv: NonNeg = 0.4
    """Coefficient of variation of a car's own distance factor [1]."""
    daily_km_cv: NonNeg = 0.2
    """Coefficient of variation of the distance from day to day [1]."""


class PublicChargers(Strict):
    """Public street chargers (the smart poles of Kera: 19 poles, FACTS-HEAT 6) with
    charging sessions by different cars.

    Per charger and day: the number of sessions is Poisson with mean ``sessions_*``
    (at most 8); arrival times from a mixture of normals (``arrivals_*``: mean hour, sd,
    weight); stays lognormal (mean ``duration_mean_h``, cv ``duration_cv``, 0.5-12 h);
    energy wanted lognormal with mean ``energy_mean_kwh`` [estimate: a public session
    costs ~6.5 EUR (FACTS-HEAT 6) at ~0.45 EUR/kWh: ~14 kWh], at most the battery. Times
    are on the quarter-hour grid. A charger takes one car at a time: a car arriving while
    it is busy plugs in when it frees up (15 min later), and goes elsewhere if that is
    after 23:00; sessions end by midnight.

    **Wishes are consistent with stays**: a car stays at least until it can have charged
    its wish at 90 % of ``charger_kw`` x efficiency (``rate``) in whole clock hours,

        leave >= ceil(arrive) + ceil(wish / rate),

    so that every session is feasible at hourly and 15-minute resolution alike and gets
    all it wants, except where midnight cuts the stay (then ``rate`` x the whole hours
    left). What the fleet is asked for therefore falls short of ``chargers x sessions x
    energy_mean_kwh`` only by the Poisson draw, cars turned away by a busy charger and
    the midnight cut; Kera's 19 poles over 2025: 218.9 MWh configured, 215.6 drawn,
    12.8 turned away (938 sessions), 2.6 cut at midnight: 200.1 MWh wanted. (With the
    stay drawn apart from the wish, as pecopt did before, 3,093 sessions whose stay held no
    whole clock hour were dropped, 42.7 MWh, and 4,969 wishes were cut to the stay,
    34.2 MWh: 138.7 MWh, 37 % below the configured demand.)
    """

    chargers: Annotated[int, Field(ge=1)]
    """Number of chargers."""
    seed: int = 0
    """Random seed (the sessions are deterministic given it and the local date)."""
    sessions_working_day: NonNeg = 2.5  # [assumption]
    """Mean sessions per charger on a working day [1/d] [assumption]."""
    sessions_saturday: NonNeg = 2.0  # [assumption]
    """Mean sessions per charger on a Saturday [1/d] [assumption]."""
    sessions_sunday: NonNeg = 1.5  # [assumption]
    """Mean sessions per charger on a Sunday [1/d] [assumption]."""
    arrivals_working_day: list[Peak] = [(8.5, 1.0, 0.25), (12.5, 2.0, 0.35), (17.5, 1.5, 0.4)]
    """Arrival times on working days: a mixture of normals, (mean local hour, sd [h], weight)."""
    arrivals_weekend: list[Peak] = [(11.5, 2.0, 0.5), (16.0, 2.5, 0.5)]
    """Arrival times at weekends: (mean local hour, sd [h], weight)."""
    duration_mean_h: Positive = 2.5  # [assumption]
    """Mean stay [h] [assumption]."""
    duration_cv: NonNeg = 0.6
    """Coefficient of variation of the stay [1]."""
    energy_mean_kwh: Positive = 14.0  # [estimate]
    """Mean energy wanted per session [kWh] [estimate]."""
    energy_cv: NonNeg = 0.5
    """Coefficient of variation of the energy wanted [1]."""


# ---------------------------------------------------------------------------- helpers


def _uniform(seed: int, stream: int, key: int, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Uniforms in (0, 1] keyed by (seed, stream, key); rows are vehicles, so a row does
    not depend on how many rows are drawn."""
    rng = np.random.default_rng([abs(seed), int(seed < 0), stream, key])
    out: NDArray[np.float64] = 1.0 - rng.random(shape)
    return out


def _normal(u1: NDArray[np.float64], u2: NDArray[np.float64]) -> NDArray[np.float64]:
    """Standard normals from uniforms in (0, 1] (Box-Muller)."""
    out: NDArray[np.float64] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return out


def _lognormal_factor(z: NDArray[np.float64], cv: float) -> NDArray[np.float64]:
    """Lognormal factors of mean 1 and coefficient of variation ``cv`` from normals ``z``."""
    s = np.sqrt(np.log1p(cv * cv))
    out: NDArray[np.float64] = np.exp(s * z - 0.5 * s * s)
    return out


class _Days:
    """The local dates of a horizon: day numbers, day types and each date's steps."""

    def __init__(self, index: pd.DatetimeIndex, tz: str) -> None:
        local = index.tz_convert(tz)
        self.dt = step_hours(index) if len(index) > 1 else 1.0
        self.clock = np.asarray(local.hour + local.minute / 60.0, dtype=float)
        dates = pd.DatetimeIndex(local.tz_localize(None)).normalize()
        self.number = np.asarray((dates - _EPOCH).days, dtype=np.int64)
        weekday = effective_weekday(index, tz=tz)
        self.kind = np.where(weekday < 5, 0, np.where(weekday == 5, 1, 2))  # work/sat/sun
        self.days, self.first = np.unique(self.number, return_index=True)
        self.last = np.r_[self.first[1:], len(index)]

    def __iter__(self) -> Iterator[tuple[int, int, int, int]]:
        """(day number, first step, end step, day type) of each local date."""
        for d, a, b in zip(self.days, self.first, self.last, strict=True):
            yield int(d), int(a), int(b), int(self.kind[a])


def _away(
    clock: NDArray[np.float64],
    start_h: NDArray[np.float64],
    end_h: NDArray[np.float64],
    dt: float,
) -> NDArray[np.bool_]:
    """(vehicles, steps) mask of the steps whose start lies in [start, end) local hours;
    a stay shorter than a step takes the step that holds its start."""
    mask = (clock[None, :] >= start_h[:, None]) & (clock[None, :] < end_h[:, None])
    short = ~mask.any(axis=1) & (end_h > start_h)
    if short.any():
        holds = (clock[None, :] <= start_h[short, None]) & (
            clock[None, :] + dt > start_h[short, None]
        )
        mask[short] = holds
    return mask


def _names(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{v:03d}" for v in range(n))


def charger_names(n: int) -> tuple[str, ...]:
    """The names of ``n`` public chargers (``pole000`` ...)."""
    return _names("pole", n)


# ------------------------------------------------------------------------ generators


def residents(
    index: pd.DatetimeIndex, p: ResidentsFleet, capacity_kwh: float, *, tz: str
) -> tuple[tuple[str, ...], NDArray[np.bool_], NDArray[np.float64]]:
    """Residents' cars (see :class:`ResidentsFleet`).

    Returns
    -------
    (vehicles, plugged[v, t], drive_kwh[v, t])
        ``drive_kwh`` is the energy taken from the battery by driving in the step [kWh]:
        half in the first step away, half in the last.
    """
    nv, n = p.vehicles, len(index)
    days = _Days(index, tz)
    trait = _uniform(p.seed, _TRAITS, 0, (nv, 6))
    commuter = trait[:, 0] <= p.commuter_share
    habit_dep = p.habit_sd_h * _normal(trait[:, 1], trait[:, 2])
    habit_dur = p.habit_sd_h * _normal(trait[:, 3], trait[:, 2])
    km_vehicle = _lognormal_factor(_normal(trait[:, 4], trait[:, 5]), p.vehicle_km_cv)
    use = (p.use_working_day, p.use_saturday, p.use_sunday)
    mean_use = (5 * use[0] + use[1] + use[2]) / 7.0
    km_used_day = p.km_per_year / 365.25 / mean_use if mean_use > 0 else 0.0
    plugged = np.ones((nv, n), bool)
    drive = np.zeros((nv, n))
    for day, a, b, kind in days:
        u = _uniform(p.seed, _DAYS, day, (nv, 7))
        used = u[:, 0] <= use[kind]
        if kind == 0:
            pattern = [(commuter, p.commute), (~commuter, p.errand)]
        else:
            pattern = [(np.ones(nv, bool), p.saturday if kind == 1 else p.sunday)]
        start = np.zeros(nv)
        length = np.zeros(nv)
        for who, trip in pattern:
            z_dep, z_dur = _normal(u[:, 1], u[:, 2]), _normal(u[:, 3], u[:, 4])
            start = np.where(who, trip.depart_mean_h + habit_dep + trip.depart_sd_h * z_dep, start)
            dur = trip.duration_mean_h + habit_dur + trip.duration_sd_h * z_dur
            length = np.where(who, dur, length)
        start = np.clip(start, 5.0, 22.0)
        end = np.minimum(start + np.maximum(length, 0.5), 23.75)
        km = km_used_day * km_vehicle * _lognormal_factor(_normal(u[:, 5], u[:, 6]), p.daily_km_cv)
        energy = np.minimum(km * p.kwh_per_km * p.home_share, p.max_day_share * capacity_kwh)
        clock = days.clock[a:b]
        away = _away(clock, start, end, days.dt) & used[:, None]
        _drive_out_and_back(
            away, energy, plugged[:, a:b], drive[:, a:b], clock, start, end, days.dt
        )
    return _names("res", nv), plugged, drive


def workplace(
    index: pd.DatetimeIndex, p: WorkplaceFleet, *, tz: str
) -> tuple[tuple[str, ...], NDArray[np.bool_], NDArray[np.float64]]:
    """Commuters' cars at the workplaces (see :class:`WorkplaceFleet`).

    Returns
    -------
    (vehicles, plugged[v, t], drive_kwh[v, t])
        Plugged while at work; the day's commute energy is taken out half in the step
        after the car leaves work and half in the step before it arrives (steps outside
        the horizon are cut).
    """
    nv, n = p.vehicles, len(index)
    days = _Days(index, tz)
    trait = _uniform(p.seed, _TRAITS, 0, (nv, 6))
    habit_arr = p.habit_sd_h * _normal(trait[:, 1], trait[:, 2])
    habit_dur = p.habit_sd_h * _normal(trait[:, 3], trait[:, 2])
    km_vehicle = _lognormal_factor(_normal(trait[:, 4], trait[:, 5]), p.vehicle_km_cv)
    plugged = np.zeros((nv, n), bool)
    drive = np.zeros((nv, n))
    t = p.arrive
    for day, a, b, kind in days:
        if kind != 0:
            continue
        u = _uniform(p.seed, _DAYS, day, (nv, 7))
        present = u[:, 0] <= p.presence
        start = np.clip(
            t.depart_mean_h + habit_arr + t.depart_sd_h * _normal(u[:, 1], u[:, 2]), 5, 20
        )
        stay = t.duration_mean_h + habit_dur + t.duration_sd_h * _normal(u[:, 3], u[:, 4])
        end = np.minimum(start + np.maximum(stay, 1.0), 23.75)
        daily = _lognormal_factor(_normal(u[:, 5], u[:, 6]), p.daily_km_cv)
        energy = p.commute_km * km_vehicle * daily * p.kwh_per_km * p.work_share
        at_work = _away(days.clock[a:b], start, end, days.dt) & present[:, None]
        plugged[:, a:b] = at_work
        rows = np.flatnonzero(at_work.any(axis=1))
        first = a + np.argmax(at_work[rows], axis=1)
        last = b - 1 - np.argmax(at_work[rows, ::-1], axis=1)
        before, after = first - 1 >= 0, last + 1 < n  # driving in, driving home
        np.add.at(drive, (rows[before], first[before] - 1), energy[rows[before]] / 2)
        np.add.at(drive, (rows[after], last[after] + 1), energy[rows[after]] / 2)
    return _names("work", nv), plugged, drive


def public_sessions(
    index: pd.DatetimeIndex,
    p: PublicChargers,
    *,
    charger_kw: float,
    efficiency: float,
    capacity_kwh: float,
    tz: str,
) -> pd.DataFrame:
    """Charging sessions at public chargers (see :class:`PublicChargers`) on every local
    date the horizon touches.

    Returns
    -------
    pandas.DataFrame
        ``vehicle`` (the charger, ``pole000`` ...: its sessions never overlap),
        ``arrival``, ``departure`` (tz-aware UTC), ``energy_kwh`` (wanted by departure).
    """
    days = _Days(index, tz)
    nc, cap = p.chargers, 8
    rate = 0.9 * charger_kw * efficiency  # [kWh] a car stores in one whole clock hour
    rows: list[tuple[int, int, float, float, float]] = []  # charger, day, from, to [h], kWh
    for day, _, _, kind in days:
        u = _uniform(p.seed, _SESSIONS, day, (nc, 1 + 7 * cap))
        mean = (p.sessions_working_day, p.sessions_saturday, p.sessions_sunday)[kind]
        count = _poisson(u[:, 0], mean, cap)
        peaks = np.asarray(p.arrivals_working_day if kind == 0 else p.arrivals_weekend, float)
        weight = np.cumsum(peaks[:, 2]) / peaks[:, 2].sum()
        draws = u[:, 1:].reshape(nc, cap, 7)
        which = np.minimum(np.searchsorted(weight, draws[..., 0]), len(peaks) - 1)
        hour = peaks[which, 0] + peaks[which, 1] * _normal(draws[..., 1], draws[..., 2])
        z_stay = _normal(draws[..., 3], draws[..., 4])
        stay = p.duration_mean_h * _lognormal_factor(z_stay, p.duration_cv)
        z_want = _normal(draws[..., 5], draws[..., 6])
        want = p.energy_mean_kwh * _lognormal_factor(z_want, p.energy_cv)
        for c in range(nc):
            k = int(count[c])
            free = 0.0
            order = np.argsort(hour[c, :k], kind="stable")
            for h, st, e in zip(hour[c, order], stay[c, order], want[c, order], strict=True):
                arrive = max(_quarter(min(max(float(h), 0.0), 23.0)), free)
                if arrive > 23.0:  # the charger is busy until too late: the car goes elsewhere
                    continue
                wish = min(float(e), capacity_kwh)
                need_h = np.ceil(wish / rate - 1e-9)  # whole clock hours the wish takes
                leave = _quarter(arrive + min(max(float(st), 0.5), 12.0))
                leave = min(max(leave, np.ceil(arrive) + need_h), 24.0)
                whole_h = np.floor(leave) - np.ceil(arrive)  # >= 1: arrive <= 23
                energy = min(wish, rate * whole_h)  # less only where midnight cuts the stay
                rows.append((c, day, arrive, leave, energy))
                free = leave + 0.25
    table = np.array(rows, dtype=float).reshape(-1, 5)
    names = np.asarray(charger_names(nc), dtype=object)
    base = _EPOCH + pd.to_timedelta(table[:, 1], unit="D")
    return pd.DataFrame(
        {
            "vehicle": names[table[:, 0].astype(np.int64)],
            "arrival": _local(base, table[:, 2], tz),
            "departure": _local(base, table[:, 3], tz),
            "energy_kwh": table[:, 4],
        }
    )


def _drive_out_and_back(
    away: NDArray[np.bool_],
    energy: NDArray[np.float64],
    plugged: NDArray[np.bool_],
    drive: NDArray[np.float64],
    clock: NDArray[np.float64],
    start_h: NDArray[np.float64],
    end_h: NDArray[np.float64],
    dt: float,
) -> None:
    """Mark ``away`` steps unplugged (in place) and put half of each car's ``energy`` in
    its first away step and half in its last; a half whose drive (leaving at ``start_h``,
    returning at ``end_h``) lies outside these steps (the horizon cuts the day) is left
    out."""
    plugged &= ~away
    rows = np.flatnonzero(away.any(axis=1))
    first = np.argmax(away[rows], axis=1)
    last = away.shape[1] - 1 - np.argmax(away[rows, ::-1], axis=1)
    # the day's first (last) away step on the full day lies in these steps
    out = start_h[rows] > clock[0] - dt + 1e-9
    back = end_h[rows] <= clock[-1] + dt + 1e-9
    np.add.at(drive, (rows[out], first[out]), energy[rows[out]] / 2)
    np.add.at(drive, (rows[back], last[back]), energy[rows[back]] / 2)


def _poisson(u: NDArray[np.float64], mean: float, cap: int) -> NDArray[np.int64]:
    """Poisson counts of mean ``mean`` by inverting the CDF at ``u``; the tail above
    ``cap`` counts as ``cap``."""
    k = np.arange(cap + 1)
    log_pmf = k * np.log(max(mean, 1e-300)) - mean - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(log_pmf))
    cdf[-1] = np.inf
    out: NDArray[np.int64] = np.searchsorted(cdf, u).astype(np.int64)
    return out


def _quarter(hour: float) -> float:
    """``hour`` rounded to the quarter hour."""
    return round(hour * 4.0) / 4.0


def _local(dates: pd.DatetimeIndex, hours: NDArray[np.float64], tz: str) -> pd.DatetimeIndex:
    """UTC instants of local ``dates`` + ``hours`` (24.0 = next midnight); an ambiguous
    local time (autumn DST change) is read as summer time, a missing one moves forward."""
    naive = pd.DatetimeIndex(dates + pd.to_timedelta(hours, unit="h"))
    local = naive.tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    return local.tz_convert("UTC")

"""The EV fleets' tables: each fleet's vehicles read from a file (availability or
sessions) or drawn by :mod:`pecopt.ingest.ev_synthetic`, on the horizon, per vehicle.
Called by the EV technology's ingest hook (:mod:`pecopt.model.blocks.ev`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pecopt.errors import DataError, ScenarioError
from pecopt.ingest import ev as ev_io
from pecopt.ingest import ev_synthetic as gen

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.model.blocks.ev import EVFleet

__all__ = ["fleet_tables"]


#: how far beyond a horizon a vehicle's next plug-in is looked for [days]
RESERVE_DAYS = 7
RESERVE_COLUMNS = ["fleet", "vehicle", "reserve_kwh"]


def next_trips_kwh(plugged: np.ndarray, drive: np.ndarray) -> np.ndarray:
    """Per vehicle, the energy it drives from the first step given until it is next
    plugged in [kWh] (all of it when it is not plugged in again): what it must hold at a
    horizon's end that these steps follow. ``plugged``, ``drive``: (vehicles, steps)."""
    out = np.zeros(plugged.shape[0])
    for v in range(plugged.shape[0]):
        at = np.flatnonzero(plugged[v])
        stop = int(at[0]) if at.size else plugged.shape[1]
        out[v] = float(drive[v, :stop].sum())
    return out


def reserve_table(availability: pd.DataFrame, after: pd.Timestamp) -> pd.DataFrame:
    """``ev_fleets_reserve`` from an availability table that goes on past ``after``: per
    fleet and vehicle, the energy driven from ``after`` until the vehicle next plugs in
    (within the rows given) [kWh, one vehicle of the row]: :func:`next_trips_kwh`, for all
    vehicles at once (rows in any order; vehicles in their order at the first step)."""
    ts = pd.DatetimeIndex(availability["timestamp"])
    later = availability[ts >= after].sort_values("timestamp", kind="stable")
    fleet, fleets = pd.factorize(later["fleet"], sort=False)
    vehicle, vehicles = pd.factorize(later["vehicle"], sort=False)
    code, pairs = pd.factorize(fleet.astype(np.int64) * max(len(vehicles), 1) + vehicle, sort=False)
    n = len(pairs)
    # a row counts until its vehicle's first plugged row (rows are in time order)
    row = np.arange(len(code))
    plugged = later["plugged"].to_numpy(bool)
    first = np.full(n, len(code))
    np.minimum.at(first, code[plugged], row[plugged])
    drive = np.where(row < first[code], later["drive_kwh"].to_numpy(float), 0.0)
    keys = np.asarray(pairs, dtype=np.int64)
    return pd.DataFrame(
        {
            "fleet": np.asarray(fleets, dtype=object)[keys // max(len(vehicles), 1)],
            "vehicle": np.asarray(vehicles, dtype=object)[keys % max(len(vehicles), 1)],
            "reserve_kwh": np.bincount(code, weights=drive, minlength=n).astype(float),
        }
    ).astype({"fleet": later["fleet"].dtype, "vehicle": later["vehicle"].dtype})


def fleet_tables(
    units: Sequence[EVFleet],
    index: pd.DatetimeIndex,
    tz: str,
    step: pd.Timedelta,
    file: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tables ``ev_fleets_availability`` (``timestamp, fleet, vehicle, plugged, drive_kwh``)
    and ``ev_fleets_sessions`` (``fleet, vehicle, first_utc, last_utc, energy_kwh,
    energy_before_kwh, energy_after_kwh``: the first and last plugged step of each
    session inside the horizon, the energy wanted by the last, and the shares of the
    session's wish before and after the horizon: :class:`pecopt.ingest.ev.Placed`), and
    ``ev_fleets_reserve`` (``fleet, vehicle, reserve_kwh``: for the residents' and
    workplace fleets, what a vehicle drives after the horizon before it next plugs in,
    :func:`next_trips_kwh`)."""
    ev_frames, sess_frames = [], []
    reserves: list[pd.DataFrame] = []
    n = len(index)
    # the district fleets are drawn day by day: drawn a week further, their next trips
    # after the horizon are known (the horizon's own days are drawn the same)
    beyond = pd.date_range(index[-1] + step, periods=int(pd.Timedelta(days=RESERVE_DAYS) / step),
                           freq=step)  # fmt: skip
    longer = pd.DatetimeIndex(index.append(beyond))
    for f in units:
        strict = f.shortfall_penalty_eur_per_kwh is None  # no unmet energy allowed
        if f.session_mode:
            if f.sessions is not None:
                placed = ev_io.read_sessions(
                    f.sessions,
                    index,
                    f.timezone,
                    capacity_kwh=f.capacity_kwh,
                    max_store_kw=f.charger_kw * f.efficiency if strict else None,
                )
            else:
                assert f.public_chargers is not None
                table = gen.public_sessions(
                    index,
                    f.public_chargers,
                    charger_kw=f.charger_kw,
                    efficiency=f.efficiency,
                    capacity_kwh=f.capacity_kwh,
                    tz=tz,
                )
                placed = ev_io.place_sessions(
                    table["vehicle"].to_numpy(object),
                    pd.DatetimeIndex(table["arrival"]),
                    pd.DatetimeIndex(table["departure"]),
                    table["energy_kwh"].to_numpy(float),
                    index,
                )
            names, plugged = placed.vehicles, placed.plugged
            if not names and f.public_chargers is not None:  # no session in the horizon
                names = gen.charger_names(f.public_chargers.chargers)
                plugged = np.zeros((len(names), len(index)), bool)
            drive = np.zeros(plugged.shape)
            sess_frames.append(
                pd.DataFrame(
                    {
                        "fleet": f.name,
                        "vehicle": np.asarray(names, object)[placed.session_vehicle],
                        "first_utc": index[placed.first],
                        "last_utc": index[placed.last],
                        "energy_kwh": placed.energy_kwh,
                        "energy_before_kwh": placed.before_kwh,
                        "energy_after_kwh": placed.after_kwh,
                    }
                )
            )
        elif f.availability is not None:
            names, plugged, drive = ev_io.read_availability(f.availability, index, f.timezone)
        elif f.residents is not None:
            names, plugged, drive = gen.residents(longer, f.residents, f.capacity_kwh, tz=tz)
            reserves.append(_reserve(f.name, names, plugged[:, n:], drive[:, n:]))
            plugged, drive = plugged[:, :n], drive[:, :n]
        elif f.workplace is not None:
            names, plugged, drive = gen.workplace(longer, f.workplace, tz=tz)
            reserves.append(_reserve(f.name, names, plugged[:, n:], drive[:, n:]))
            plugged, drive = plugged[:, :n], drive[:, :n]
        else:
            g = f.synthetic
            assert g is not None
            names, plugged, drive = ev_io.synthetic_commuters(
                index,
                g.vehicles,
                depart_local_h=g.depart_local_h,
                return_local_h=g.return_local_h,
                drive_kwh_per_day=g.drive_kwh_per_day,
                weekend_trip_share=g.weekend_trip_share,
                seed=g.seed,
                tz=tz,
            )
        trip = ev_io.trip_beyond(plugged, drive, f.capacity_kwh) if strict else None
        if trip is not None:
            v, leave, back, energy = trip
            problem = (
                f"vehicle {names[v]} drives {energy:g} kWh between {index[leave]} and "
                f"{index[back] + step} (UTC) without being plugged in, more than "
                f"its battery holds (capacity_kwh {f.capacity_kwh:g} kWh); set "
                "shortfall_penalty_eur_per_kwh to accept energy from elsewhere"
            )
            if f.availability is not None:
                raise DataError(f.availability, "drive_kwh", problem)
            where = "workplace.commute_km" if f.workplace is not None else None
            where = where or ("residents.km_per_year" if f.residents is not None else None)
            raise ScenarioError(
                file,
                f"assets.ev_fleets.{f.name}.{where or 'synthetic.drive_kwh_per_day'}",
                problem,
            )
        ev_frames.append(ev_io.tidy(index, f.name, names, plugged, drive))
    sess_cols = ["fleet", "vehicle", "first_utc", "last_utc", "energy_kwh",
                 "energy_before_kwh", "energy_after_kwh"]  # fmt: skip
    sessions = (
        pd.concat(sess_frames, ignore_index=True)
        if sess_frames
        else pd.DataFrame({c: pd.Series(dtype=object) for c in sess_cols})
    )
    reserve = (
        pd.concat(reserves, ignore_index=True)
        if reserves
        else pd.DataFrame(
            {c: pd.Series(dtype=float if c == "reserve_kwh" else object) for c in RESERVE_COLUMNS}
        )  # fmt: skip
    )
    return pd.concat(ev_frames, ignore_index=True), sessions, reserve


def _reserve(
    fleet: str, names: Sequence[str], plugged: np.ndarray, drive: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame({"fleet": fleet, "vehicle": list(names),
                         "reserve_kwh": next_trips_kwh(plugged, drive)})  # fmt: skip

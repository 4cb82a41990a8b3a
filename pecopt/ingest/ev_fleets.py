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


def fleet_tables(
    units: Sequence[EVFleet],
    index: pd.DatetimeIndex,
    tz: str,
    step: pd.Timedelta,
    file: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables ``ev_fleets_availability`` (``timestamp, fleet, vehicle, plugged, drive_kwh``)
    and ``ev_fleets_sessions`` (``fleet, vehicle, first_utc, last_utc, energy_kwh,
    energy_before_kwh, energy_after_kwh``: the first and last plugged step of each
    session inside the horizon, the energy wanted by the last, and the shares of the
    session's wish before and after the horizon: :class:`pecopt.ingest.ev.Placed`)."""
    ev_frames, sess_frames = [], []
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
            names, plugged, drive = gen.residents(index, f.residents, f.capacity_kwh, tz=tz)
        elif f.workplace is not None:
            names, plugged, drive = gen.workplace(index, f.workplace, tz=tz)
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
    return pd.concat(ev_frames, ignore_index=True), sessions

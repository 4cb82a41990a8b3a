"""EV fleets: per-vehicle plug-in availability and driving energy, from a file, from
charging sessions, or from a deterministic synthetic commuter pattern.

The tidy form (written to ``ev.parquet``) has one row per (timestamp, vehicle):
``plugged`` (bool) and ``drive_kwh`` (energy taken out of the battery by driving in the
step [kWh]).
"""

from __future__ import annotations

from pathlib import Path

import holidays
import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest.timeseries import step_hours


def _read(path: Path, field: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(path, field, "file not found")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a data error
        raise DataError(path, field, f"cannot be read: {exc}".splitlines()[0]) from None


def _times(raw: pd.Series, path: Path, col: str, tz: str) -> pd.DatetimeIndex:
    try:
        t = pd.DatetimeIndex(pd.to_datetime(raw, utc=False))
    except (ValueError, TypeError) as exc:
        raise DataError(path, col, f"not valid timestamps: {exc}".splitlines()[0]) from None
    if t.tz is None:
        try:
            t = t.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        except Exception as exc:  # noqa: BLE001
            raise DataError(
                path, col, f"local time does not exist or is ambiguous: {exc}"
            ) from None
    return t.tz_convert("UTC")


def read_availability(
    path: Path, index: pd.DatetimeIndex, tz: str = "UTC"
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Read ``timestamp, vehicle, plugged, drive_kwh`` onto ``index``.

    A file at a coarser step than the horizon (hourly file, 15-min horizon) repeats the plug
    state and splits each step's driving energy evenly.

    Returns
    -------
    (vehicles, plugged[v, t], drive_kwh[v, t])
    """
    df = _read(path, "<file>")
    for col in ("timestamp", "vehicle", "plugged", "drive_kwh"):
        if col not in df.columns:
            raise DataError(path, col, "required column is missing")
    t = _times(df["timestamp"], path, "timestamp", tz)
    drive = pd.to_numeric(df["drive_kwh"], errors="coerce").to_numpy(float)
    if not np.isfinite(drive).all() or (drive < 0).any():
        raise DataError(path, "drive_kwh", "values must be finite and >= 0")
    frame = pd.DataFrame(
        {
            "t": t,
            "v": df["vehicle"].astype(str).to_numpy(),
            "p": df["plugged"].astype(bool).to_numpy(),
            "d": drive,
        }
    )
    if frame.duplicated(["t", "v"]).any():
        raise DataError(path, "timestamp", "duplicated (timestamp, vehicle) rows")
    vehicles = tuple(sorted(frame["v"].unique()))
    times = pd.DatetimeIndex(np.sort(frame["t"].unique()))
    step = times[1] - times[0] if len(times) > 1 else index[1] - index[0]
    ratio = step / (index[1] - index[0]) if len(index) > 1 else 1.0
    if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
        raise DataError(
            path, "timestamp", f"step {step} must be a whole multiple of the horizon's step"
        )
    r = int(round(ratio))
    coarse = index.floor(step) if r > 1 else index
    need = pd.DatetimeIndex(coarse.unique())
    if not need.isin(times).all():
        raise DataError(path, "timestamp", f"horizon {index[0]} .. {index[-1]} not covered")
    p = frame.pivot(index="t", columns="v", values="p").reindex(index=need, columns=list(vehicles))
    d = frame.pivot(index="t", columns="v", values="d").reindex(index=need, columns=list(vehicles))
    if p.isna().any().any():
        raise DataError(path, "plugged", "missing rows for some (timestamp, vehicle)")
    pos = need.get_indexer(coarse)
    plugged = p.to_numpy(bool)[pos].T
    drive_kwh = (d.to_numpy(float)[pos] / r).T
    return vehicles, plugged, drive_kwh


def read_sessions(
    path: Path, index: pd.DatetimeIndex, tz: str = "UTC"
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read ``vehicle, arrival, departure, energy_kwh`` sessions.

    A session is plugged over the steps that lie wholly inside [arrival, departure); a
    session cut by the horizon asks for its energy pro rata to the steps inside.

    Returns
    -------
    (vehicles, plugged[v,t], session_vehicle, first_step, last_step, energy_kwh)
    """
    df = _read(path, "<file>")
    for col in ("vehicle", "arrival", "departure", "energy_kwh"):
        if col not in df.columns:
            raise DataError(path, col, "required column is missing")
    arr = _times(df["arrival"], path, "arrival", tz)
    dep = _times(df["departure"], path, "departure", tz)
    energy = pd.to_numeric(df["energy_kwh"], errors="coerce").to_numpy(float)
    if not np.isfinite(energy).all() or (energy < 0).any():
        raise DataError(path, "energy_kwh", "values must be finite and >= 0")
    if (dep <= arr).any():
        raise DataError(path, "departure", "departure must be after arrival")
    step = index[1] - index[0]
    vehicles = tuple(sorted(df["vehicle"].astype(str).unique()))
    vid = np.searchsorted(vehicles, df["vehicle"].astype(str).to_numpy())
    plugged = np.zeros((len(vehicles), len(index)), bool)
    first_all = index.searchsorted(arr.ceil(step))
    last_all = index.searchsorted(dep.floor(step)) - 1
    full = ((dep.floor(step) - arr.ceil(step)) / step).to_numpy(float)
    keep = (last_all >= first_all) & (full > 0)
    sv, sf, sl, se = [], [], [], []
    for k in np.flatnonzero(keep):
        f, last = int(first_all[k]), int(last_all[k])
        if plugged[vid[k], f : last + 1].any():
            raise DataError(path, "arrival", f"sessions of vehicle {vehicles[vid[k]]} overlap")
        plugged[vid[k], f : last + 1] = True
        sv.append(vid[k])
        sf.append(f)
        sl.append(last)
        se.append(energy[k] * min(1.0, (last - f + 1) / full[k]))
    return (
        vehicles,
        plugged,
        np.asarray(sv, np.int64),
        np.asarray(sf, np.int64),
        np.asarray(sl, np.int64),
        np.asarray(se, float),
    )


def synthetic_commuters(
    index: pd.DatetimeIndex,
    vehicles: int,
    *,
    depart_local_h: int = 7,
    return_local_h: int = 17,
    drive_kwh_per_day: float = 8.0,
    weekend_trip_share: float = 0.3,
    seed: int = 0,
    tz: str = "Europe/Helsinki",
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """A deterministic commuter fleet (an assumption, not data).

    On working days (Mon-Fri, not a Finnish public holiday) each vehicle leaves at
    ``depart_local_h`` plus 0-1 h and returns at ``return_local_h`` plus 0-2 h (its own
    fixed offsets drawn once from ``seed``), using ``drive_kwh_per_day`` (half in the first
    away step, half in the last). On a share of weekend days and holidays it makes a
    10:00-14:00 trip with half that energy. Depends on local dates only, not on where the
    horizon starts.
    """
    rng = np.random.default_rng(seed)
    local = index.tz_convert(tz)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    dates = local.normalize().tz_localize(None)
    fi = holidays.Finland(years=sorted(set(dates.year)))
    hol = pd.DatetimeIndex([pd.Timestamp(d) for d in fi])
    workday = np.asarray((dates.day_of_week < 5) & ~dates.isin(hol))
    day_no = (dates - pd.Timestamp("2000-01-01")).days.to_numpy()
    names = tuple(f"ev{v:03d}" for v in range(vehicles))
    plugged = np.ones((vehicles, len(index)), bool)
    drive = np.zeros((vehicles, len(index)))
    dep_off = rng.uniform(0, 1, vehicles)
    ret_off = rng.uniform(0, 2, vehicles)
    salt = rng.integers(0, 2**31 - 1, vehicles)
    for v in range(vehicles):
        # weekend trip decision: a fixed hash of (vehicle, day) -> deterministic per date
        h = (day_no * 2654435761 + int(salt[v])) % 1000 / 1000.0
        leisure = ~workday & (h < weekend_trip_share)
        away = (
            workday & (hour >= depart_local_h + dep_off[v]) & (hour < return_local_h + ret_off[v])
        ) | (leisure & (hour >= 10) & (hour < 14))
        plugged[v] = ~away
        edges = np.flatnonzero(np.diff(np.r_[False, away, False].astype(np.int8)))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            energy = drive_kwh_per_day * (1.0 if workday[a] else 0.5)
            drive[v, a] += energy / 2
            drive[v, b - 1] += energy / 2
    return names, plugged, drive


def tidy(
    index: pd.DatetimeIndex,
    fleet: str,
    vehicles: tuple[str, ...],
    plugged: np.ndarray,
    drive: np.ndarray,
) -> pd.DataFrame:
    """The tidy ``ev.parquet`` rows of one fleet."""
    nv, n = plugged.shape
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(
                np.tile(index.tz_convert("UTC").tz_localize(None).values, nv)
            ).tz_localize("UTC"),
            "fleet": fleet,
            "vehicle": np.repeat(np.asarray(vehicles, dtype=object), n),
            "plugged": plugged.ravel(),
            "drive_kwh": drive.ravel(),
        }
    )


__all__ = ["read_availability", "read_sessions", "synthetic_commuters", "tidy", "step_hours"]

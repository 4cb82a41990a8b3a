"""EV fleets: per-vehicle plug-in availability and driving energy, from a file, from
charging sessions, or from a deterministic synthetic commuter pattern.

The tidy form (written to ``ev.parquet``) has one row per (timestamp, vehicle):
``plugged`` (bool) and ``drive_kwh`` (energy taken out of the battery by driving in the
step [kWh]).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import holidays
import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest.timeseries import parse_times, read_table, row_name, step_hours, zone_for


class Placed(NamedTuple):
    """Sessions laid on a horizon's steps (:func:`place_sessions`).

    ``energy_kwh`` is what a session wants by the end of its steps inside the horizon
    (pro rata to them when the horizon cuts it); ``before_kwh`` and ``after_kwh`` are
    the shares of its wish, pro rata, that fall on its steps before the horizon's first
    step and after its last (0 for a session wholly inside), so that a rolling horizon
    can carry what a session has received so far (:mod:`pecopt.model.blocks.ev`)."""

    vehicles: tuple[str, ...]
    plugged: np.ndarray  # (vehicles, steps) bool
    session_vehicle: np.ndarray
    first: np.ndarray
    last: np.ndarray
    energy_kwh: np.ndarray
    before_kwh: np.ndarray
    after_kwh: np.ndarray


#: Cell values read as a plug state (compared in lower case; bool columns pass as they are).
_TRUE, _FALSE = {"true", "1", "1.0"}, {"false", "0", "0.0"}


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read an EV file and check that it holds ``columns``."""
    df = read_table(path, ", ".join(columns))
    for col in columns:
        if col not in df.columns:
            found = ", ".join(map(str, df.columns))
            raise DataError(path, col, f"required column is missing (found: {found})")
    if df.empty:
        raise DataError(path, columns[0], "the file holds no rows")
    return df


def _numbers(raw: pd.Series, path: Path, col: str) -> np.ndarray:
    """Finite, non-negative floats; the first bad cell is named with its row."""
    x = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=float)
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        cell = raw.iloc[i]
        if pd.isna(cell) or str(cell).strip() == "":
            what = "missing value"
        elif np.isnan(x[i]):
            what = f"not a number: {str(cell)!r}"
        else:
            what = f"{x[i]} is not a finite value >= 0"
        raise DataError(path, col, f"{what} in {row_name(path, i)}")
    return x


def _booleans(raw: pd.Series, path: Path, col: str) -> np.ndarray:
    """A plug-state column: a bool column, or true/false/1/0 (any case); nothing else.

    ``yes``/``no``, ``on``/``off`` or ``x`` are refused rather than guessed: pandas'
    ``astype(bool)`` reads every non-empty text, ``"no"`` too, as True.
    """
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.to_numpy(bool)
    text = raw.astype(str).str.strip().str.lower()
    ok = text.isin(_TRUE | _FALSE).to_numpy()
    if not ok.all():
        bad = pd.unique(raw[~ok].astype(str))
        shown = ", ".join(repr(v) for v in bad[:4]) + (" ..." if len(bad) > 4 else "")
        first = row_name(path, int(np.flatnonzero(~ok)[0]))
        raise DataError(path, col, f"not true/false or 1/0: {shown} (first in {first})")
    return text.isin(_TRUE).to_numpy()


def _times(raw: pd.Series, path: Path, col: str, tz: str) -> pd.DatetimeIndex:
    """Times as in every other data file (:func:`pecopt.ingest.timeseries.parse_times`):
    ISO 8601, naive times local in ``tz``; rows keep their order."""
    return parse_times(raw, path, col, zone_for(tz, path, col))


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
    df = _read(path, ("timestamp", "vehicle", "plugged", "drive_kwh"))
    t = _times(df["timestamp"], path, "timestamp", tz)
    frame = pd.DataFrame(
        {
            "t": t,
            "v": _vehicles(df["vehicle"], path),
            "p": _booleans(df["plugged"], path, "plugged"),
            "d": _numbers(df["drive_kwh"], path, "drive_kwh"),
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


def _vehicles(raw: pd.Series, path: Path) -> np.ndarray:
    names = raw.astype(str).str.strip()
    empty = (names == "") | raw.isna()
    if empty.any():
        row = row_name(path, int(np.flatnonzero(empty.to_numpy())[0]))
        raise DataError(path, "vehicle", f"missing vehicle name in {row}")
    return names.to_numpy(dtype=object)


def read_sessions(
    path: Path,
    index: pd.DatetimeIndex,
    tz: str = "UTC",
    *,
    capacity_kwh: float | None = None,
    max_store_kw: float | None = None,
) -> Placed:
    """Read ``vehicle, arrival, departure, energy_kwh`` sessions.

    A session is plugged over the steps that lie wholly inside [arrival, departure); a
    session cut by the horizon asks for its energy pro rata to the steps inside.
    ``energy_kwh`` is the energy wanted in the battery by departure [kWh].

    Parameters
    ----------
    capacity_kwh : float, optional
        Battery capacity [kWh]; a session wanting more is an error (no battery can hold
        it, so it is a typing slip or a wrong capacity, not a shortfall).
    max_store_kw : float, optional
        Charger power times charging efficiency [kW], the most a session can store per
        hour. When given, a session wanting more than its plugged steps can store is an
        error; leave it out when unmet energy is allowed at a penalty (the model then
        reports the shortfall).

    Returns
    -------
    Placed
        vehicles, plugged[v,t], and per session its vehicle, first and last step, the
        energy wanted inside the horizon and the shares before and after it.
    """
    df = _read(path, ("vehicle", "arrival", "departure", "energy_kwh"))
    names = _vehicles(df["vehicle"], path)
    arr = _times(df["arrival"], path, "arrival", tz)
    dep = _times(df["departure"], path, "departure", tz)
    energy = _numbers(df["energy_kwh"], path, "energy_kwh")
    if (dep <= arr).any():
        row = row_name(path, int(np.flatnonzero(np.asarray(dep <= arr))[0]))
        raise DataError(path, "departure", f"departure must be after arrival ({row})")
    if capacity_kwh is not None and (energy > capacity_kwh).any():
        i = int(np.flatnonzero(energy > capacity_kwh)[0])
        raise DataError(
            path,
            "energy_kwh",
            f"{row_name(path, i)}: vehicle {names[i]} wants {energy[i]:g} kWh, more than its "
            f"battery holds (capacity_kwh {capacity_kwh:g} kWh)",
        )
    return place_sessions(names, arr, dep, energy, index, path=path, max_store_kw=max_store_kw)


def place_sessions(
    names: np.ndarray,
    arr: pd.DatetimeIndex,
    dep: pd.DatetimeIndex,
    energy: np.ndarray,
    index: pd.DatetimeIndex,
    *,
    path: Path | None = None,
    max_store_kw: float | None = None,
) -> Placed:
    """Lay sessions (vehicle, arrival, departure [UTC], energy wanted [kWh]) on ``index``:
    plugged over the steps wholly inside [arrival, departure); a session cut by the
    horizon wants its energy pro rata to its steps inside, the shares of its steps
    before and after the horizon are kept apart (:class:`Placed`). ``path`` names the
    sessions file in errors (None: generated sessions)."""

    def row(k: int) -> str:
        return row_name(path, k) if path is not None else f"session {k + 1}"

    step = index[1] - index[0]
    vehicles = tuple(sorted(set(names)))
    vid = np.searchsorted(vehicles, names)
    plugged = np.zeros((len(vehicles), len(index)), bool)
    first_all = index.searchsorted(arr.ceil(step))
    last_all = index.searchsorted(dep.floor(step)) - 1
    full = ((dep.floor(step) - arr.ceil(step)) / step).to_numpy(float)
    keep = (last_all >= first_all) & (full > 0)
    n_before = np.maximum(0.0, ((index[0] - arr.ceil(step)) / step).to_numpy(float))
    n_after = np.maximum(0.0, ((dep.floor(step) - (index[-1] + step)) / step).to_numpy(float))
    step_h = step / pd.Timedelta(hours=1)
    sv, sf, sl, se, sb, sa = [], [], [], [], [], []
    for k in np.flatnonzero(keep):
        f, last = int(first_all[k]), int(last_all[k])
        if plugged[vid[k], f : last + 1].any():
            raise DataError(path, "arrival", f"sessions of vehicle {vehicles[vid[k]]} overlap")
        plugged[vid[k], f : last + 1] = True
        want = energy[k] * min(1.0, (last - f + 1) / full[k])
        most = None if max_store_kw is None else max_store_kw * (last - f + 1) * step_h
        if most is not None and want > most * (1 + 1e-9):
            raise DataError(
                path,
                "energy_kwh",
                f"{row(int(k))}: vehicle {names[k]} wants {want:g} kWh but can "
                f"store at most {most:g} kWh in its {(last - f + 1) * step_h:g} h plugged in "
                "(charger_kw x efficiency); set shortfall_penalty_eur_per_kwh to accept "
                "unmet energy",
            )
        sv.append(vid[k])
        sf.append(f)
        sl.append(last)
        se.append(want)
        sb.append(energy[k] * n_before[k] / full[k])
        sa.append(energy[k] * n_after[k] / full[k])
    return Placed(
        vehicles,
        plugged,
        np.asarray(sv, np.int64),
        np.asarray(sf, np.int64),
        np.asarray(sl, np.int64),
        np.asarray(se, float),
        np.asarray(sb, float),
        np.asarray(sa, float),
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


def trip_beyond(
    plugged: np.ndarray, drive_kwh: np.ndarray, capacity_kwh: float
) -> tuple[int, int, int, float] | None:
    r"""The first trip that needs more energy than a full battery holds, or None.

    A trip is a run of steps in which the vehicle is not plugged in; it cannot charge in
    it, so it needs :math:`\sum_{t \in trip} drive_{v,t} \le E` to be driven on the
    battery alone. A longer trip needs energy from elsewhere (the model's shortfall, at
    its penalty) or is an input error.

    Returns
    -------
    (vehicle, first step, last step, energy [kWh]) or None
    """
    for v in range(plugged.shape[0]):
        away = ~plugged[v]
        edges = np.flatnonzero(np.diff(np.r_[0, away.astype(np.int8), 0]))
        cum = np.r_[0.0, np.cumsum(drive_kwh[v])]
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            energy = float(cum[b] - cum[a])
            if energy > capacity_kwh * (1 + 1e-9):
                return v, int(a), int(b - 1), energy
    return None


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


__all__ = [
    "read_availability",
    "Placed",
    "place_sessions",
    "read_sessions",
    "step_hours",
    "synthetic_commuters",
    "tidy",
    "trip_beyond",
]

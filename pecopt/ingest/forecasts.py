"""Forecasts of a horizon's inputs, made from the truth as a nightly planner would see it.

A replay (:mod:`pecopt.workflows.replay`) plans each night on a forecast of the data it
then settles against. What is forecast: every power column of a time-series table
(``*_kw``: the buildings' loads; ``*_kw_per_kwp``: the PV available) and the spot price
(``grid_prices.spot_eur_per_kwh``, with the export price moving by the same amount).
Everything else (tariff components, COPs, EV plug-in data) is taken as known.

Modes (``--forecast``):

``perfect``
    the truth itself;
``persistence``
    loads and PV: the day before the delivery day, repeated over the look-ahead
    (``x_t = y_{t - 24 h (1 + floor((t - t_0) / 24 h))}``, with ``t_0`` the delivery day's
    start: 24-hour shifts in UTC, so a daylight-saving day is off by an hour at its
    edges); spot price: the delivery day's day-ahead prices are known when the plan is
    made, the look-ahead's are forecast from the recent level on the embedded shape
    (:func:`pecopt.ingest.spot.fill_missing_prices`);
``noisy:SIZE``
    the truth with autocorrelated errors of relative size ``SIZE`` (e.g. ``noisy:0.1``):
    loads and PV ``x_t = max(0, y_t (1 + SIZE e_t))``, the look-ahead's spot price
    ``p_t + SIZE mean|p| e_t`` (the day-ahead prices are known); ``e`` an AR(1) series of
    unit variance, ``e_t = rho e_{t-1} + sqrt(1 - rho^2) z_t``, ``rho = exp(-dt / 6 h)``
    [assumption: a 6-hour error memory], one stream per series, seeded by
    ``(seed, delivery day, series)``;
``DIR`` (a folder)
    forecasts as they were issued: one file per issue time, named by it in UTC,
    ``YYYY-MM-DDTHHMMZ.parquet`` (or ``.csv``), e.g. ``2025-03-02T1200Z.parquet``, with
    columns ``timestamp`` (UTC), ``series`` and ``value``. A series names an input table,
    the entity and the column, as in a run's ``inputs/`` folder:
    ``loads/<building>/elec_kw`` (also ``space_heat_kw``, ``hot_water_kw``),
    ``pv_available/<array>/pv_ac_kw_per_kwp``, ``grid_prices/spot_eur_per_kwh``. Each night
    uses the latest file issued before its delivery window starts; a series' steps the
    file does not cover are filled by persistence (and counted,
    ``forecast_filled_steps``); series no file names are taken as known (the truth),
    and the delivery day's spot prices are known (day-ahead) whatever the file says.
    The file's values a night uses are checked (:mod:`pecopt.ingest.forecast_checks`):
    the look-ahead's spot prices against the last 7 days of the truth, PV available
    while the sun is down (with the site given); :attr:`Forecaster.doubts` holds what the
    last horizon's file made doubtful.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pecopt.errors import DataError, OptionError

if TYPE_CHECKING:
    from pecopt.scenario.plausibility import Finding

__all__ = [
    "ERROR_MEMORY_H",
    "Forecaster",
    "Mode",
    "members",
    "overlay",
    "parse_mode",
    "read_members",
]

#: e-folding time of the noisy mode's forecast errors [h] (assumption)
ERROR_MEMORY_H = 6.0
SPOT = ("grid_prices", "spot_eur_per_kwh")
EXPORT = ("grid_prices", "export_eur_per_kwh")


@dataclass(frozen=True)
class Mode:
    """A forecast mode: ``perfect``, ``persistence`` or ``noisy`` with its ``size``."""

    kind: str
    size: float = 0.0
    folder: Path | None = None


#: a forecast file's name: its issue time in UTC
ISSUED = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})Z\.(parquet|csv)$")


def parse_mode(text: str) -> Mode:
    """``perfect``, ``persistence``, ``noisy:SIZE`` (0 <= SIZE <= 2) or a folder of
    forecast files."""
    if text in ("perfect", "persistence"):
        return Mode(text)
    if Path(text).is_dir():
        return Mode("folder", folder=Path(text))
    if text.startswith("noisy:"):
        try:
            size = float(text.split(":", 1)[1])
        except ValueError:
            size = float("nan")
        if not 0.0 <= size <= 2.0:
            raise OptionError("--forecast", f"noisy:SIZE needs 0 <= SIZE <= 2, got {text!r}")
        return Mode("noisy", size)
    raise OptionError(
        "--forecast",
        f"{text!r} is not a mode or a folder: give perfect, persistence, noisy:SIZE or a "
        "folder of forecast files",
    )


def issued_files(folder: Path) -> list[tuple[pd.Timestamp, Path]]:
    """The forecast files of ``folder`` by issue time (UTC), oldest first."""
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".parquet", ".csv"):
            continue
        m = ISSUED.match(path.name)
        if m is None:
            raise DataError(
                path, "file name", "is not an issue time YYYY-MM-DDTHHMMZ (UTC), e.g. "
                "2025-03-02T1200Z.parquet",
            )  # fmt: skip
        try:
            at = pd.Timestamp(f"{m[1]}T{m[2]}:{m[3]}", tz="UTC")
        except ValueError as exc:
            raise DataError(path, "file name", f"is not a valid time ({exc})") from None
        out.append((at, path))
    if not out:
        raise DataError(folder, "--forecast", "holds no forecast file YYYY-MM-DDTHHMMZ.parquet")
    return sorted(out, key=lambda x: x[0])


def _read_raw(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - a user's file
        raise DataError(path, "file", f"cannot be read ({type(exc).__name__}: {exc})") from None


def read_forecast(path: Path) -> dict[tuple[str, str, str], pd.Series]:
    """A forecast file's series by (table, entity, column): values indexed by UTC
    timestamp. Errors name the file, the field and the problem."""
    return _series_of(_read_raw(path), path)


def _series_of(raw: pd.DataFrame, path: Path) -> dict[tuple[str, str, str], pd.Series]:
    from pecopt.ingest.timeseries import parse_times

    missing = [c for c in ("timestamp", "series", "value") if c not in raw.columns]
    if missing:
        raise DataError(path, missing[0], "missing column (give timestamp, series, value)")
    ts = parse_times(raw["timestamp"], path, "timestamp", "UTC")
    value = pd.to_numeric(raw["value"], errors="coerce").to_numpy(float)
    if not np.isfinite(value).all():
        row = int(np.flatnonzero(~np.isfinite(value))[0])
        raise DataError(path, "value", f"row {row + 2}: not a finite number")
    out: dict[tuple[str, str, str], pd.Series] = {}
    for name, rows in raw.groupby("series", sort=False).indices.items():
        parts = str(name).split("/")
        key = (parts[0], "/".join(parts[1:-1]), parts[-1]) if len(parts) >= 2 else None
        if key is None:
            raise DataError(path, "series", f"{name!r}: give TABLE/ENTITY/COLUMN or TABLE/COLUMN")
        s = pd.Series(value[rows], index=pd.DatetimeIndex(ts[rows]))
        if s.index.has_duplicates:
            raise DataError(path, "timestamp", f"{name!r} has a timestamp twice")
        out[key] = s.sort_index()
    return out


def _forecast_columns(name: str, table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` a forecast changes (powers; the spot price)."""
    if "timestamp" not in table.columns:
        return []
    cols = [c for c in table.columns if c.endswith(("_kw", "_kw_per_kwp"))]
    if name == SPOT[0] and SPOT[1] in table.columns:
        cols.append(SPOT[1])
    return cols


def _keys(table: pd.DataFrame) -> list[str]:
    """The columns naming a series' entity (building, array, vehicle ...)."""
    return [
        c
        for c in table.columns
        if c != "timestamp" and not pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]  # fmt: skip


def _ar1(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    z = rng.standard_normal(n)
    e = np.empty(n)
    prev = z[0] if n else 0.0
    scale = np.sqrt(max(0.0, 1.0 - rho * rho))
    for t in range(n):
        prev = prev if t == 0 else rho * prev + scale * z[t]
        e[t] = prev
    return e


@dataclass
class Forecaster:
    """Forecasts of a replay's horizons (see the module docstring)."""

    mode: Mode
    truth: Mapping[str, pd.DataFrame]
    index: pd.DatetimeIndex
    step: pd.Timedelta
    tz: str
    seed: int = 0
    _history: dict[tuple[str, str], pd.Series] = field(default_factory=dict)
    #: folder mode: the names of the files the nights used
    used_files: set[str] = field(default_factory=set)
    _files: list[tuple[pd.Timestamp, Path]] = field(default_factory=list)
    _read: dict[Path, dict[tuple[str, str, str], pd.Series]] = field(default_factory=dict)
    #: the site (latitude [deg], longitude [deg], altitude [m]) for the PV-at-night check
    site: tuple[float, float, float] | None = None
    #: folder mode: the doubts about the values the last horizon used from its file
    doubts: list[Finding] = field(default_factory=list)

    def _series(self, name: str, column: str) -> pd.Series:
        """The truth's column as one series keyed by (timestamp, entity...)."""
        key = (name, column)
        got = self._history.get(key)
        if got is None:
            t = self.truth[name]
            keys = _keys(t)
            got = t.set_index(["timestamp", *keys])[column]
            self._history[key] = got
        return got

    def forecast(
        self,
        tables: Mapping[str, pd.DataFrame],
        start: pd.Timestamp,
        end: pd.Timestamp,
        horizon_end: pd.Timestamp,
        day: date,
    ) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
        """The forecast of a horizon's ``tables`` (the truth on ``[start, horizon_end)``;
        the delivery window is ``[start, end)``) and each forecast series' error on the
        delivery window: relative mean absolute error for powers [1], mean absolute error
        for prices [EUR/kWh] over the whole horizon."""
        out = dict(tables)
        errors: dict[str, float] = {}
        self.doubts = []
        if self.mode.kind == "perfect":
            return out, errors
        if self.mode.kind == "folder":
            return self._from_file(tables, start, end, day)
        for name, table in tables.items():
            cols = _forecast_columns(name, table)
            if not cols:
                continue
            t = table.copy()
            ts = pd.DatetimeIndex(t["timestamp"])
            window = np.asarray(ts < end)
            for col in cols:
                truth = t[col].to_numpy(float)
                if (name, col) == SPOT:
                    fc = self._price(t, ts, truth, start, end, day)
                    if EXPORT[1] in t.columns:
                        t[EXPORT[1]] = t[EXPORT[1]].to_numpy(float) + (fc - truth)
                    errors[f"{name}_{col}"] = float(np.mean(np.abs(fc - truth)))
                else:
                    fc = self._power(name, col, t, ts, truth, start, day)
                    scale = float(np.abs(truth[window]).sum())
                    err = float(np.abs(fc - truth)[window].sum())
                    errors[f"{name}_{col}"] = err / scale if scale > 0 else 0.0
                t[col] = fc
            out[name] = t
        return out, errors

    def issue(self, start: pd.Timestamp) -> tuple[pd.Timestamp, Path]:
        """The latest forecast file issued before ``start`` (folder mode)."""
        assert self.mode.folder is not None
        if not self._files:
            self._files = issued_files(self.mode.folder)
        before = [(at, p) for at, p in self._files if at < start]
        if not before:
            first = self._files[0]
            raise DataError(
                first[1], "file name", f"no forecast issued before {start} (UTC): the first "
                f"is {first[0]}",
            )  # fmt: skip
        return before[-1]

    def _from_file(
        self, tables: Mapping[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp,
        day: date,
    ) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:  # fmt: skip
        at, path = self.issue(start)
        self.used_files.add(path.name)
        if path not in self._read:
            self._read = {path: read_forecast(path)}
        given = self._read[path]
        out = dict(tables)
        errors: dict[str, float] = {"issued_h_before": float((start - at) / pd.Timedelta(hours=1))}
        filled = 0
        used: set[tuple[str, str, str]] = set()
        for name, table in tables.items():
            cols = _forecast_columns(name, table)
            mine = {k: v for k, v in given.items() if k[0] == name}
            if not cols or not mine:
                continue
            t = table.copy()
            ts = pd.DatetimeIndex(t["timestamp"])
            keys = _keys(t)
            entity = t[keys[0]].astype(str).to_numpy() if keys else np.full(len(t), "")
            window = np.asarray(ts < end)
            for col in cols:
                series = {k[1]: v for k, v in mine.items() if k[2] == col}
                if not series:
                    continue
                truth = t[col].to_numpy(float)
                if (name, col) == SPOT:
                    fc = self._price(t, ts, truth, start, end, day, Mode("persistence"))
                else:
                    fc = self._power(name, col, t, ts, truth, start, day, Mode("persistence"))
                for who, values in series.items():
                    rows = np.flatnonzero(entity == who)
                    if rows.size == 0:
                        known = sorted(set(entity.tolist()))
                        what = keys[0] if keys else "entity"
                        raise DataError(
                            path, "series", f"{name}/{who}/{col}: no such {what} (the "
                            f"horizon has {known[:5]})",
                        )  # fmt: skip
                    used.add((name, who, col))
                    got = values.reindex(ts[rows]).to_numpy(float)
                    self._check(path, (name, who, col), pd.DatetimeIndex(ts[rows]), got,
                                start, end)  # fmt: skip
                    if (name, col) == SPOT:  # the delivery day's day-ahead prices are known
                        got = np.where(np.asarray(ts[rows] < end), truth[rows], got)
                    filled += int(np.isnan(got).sum())
                    fc[rows] = np.where(np.isnan(got), fc[rows], got)
                if (name, col) == SPOT:
                    if EXPORT[1] in t.columns:
                        t[EXPORT[1]] = t[EXPORT[1]].to_numpy(float) + (fc - truth)
                    errors[f"{name}_{col}"] = float(np.mean(np.abs(fc - truth)))
                else:
                    scale = float(np.abs(truth[window]).sum())
                    err = float(np.abs(fc - truth)[window].sum())
                    errors[f"{name}_{col}"] = err / scale if scale > 0 else 0.0
                t[col] = fc
            out[name] = t
        unknown = sorted(set(given) - used)
        if unknown:
            bad = "/".join(x for x in unknown[0] if x)
            raise DataError(
                path, "series", f"{bad!r} is not a forecast input of this scenario (give "
                "loads/<building>/elec_kw, space_heat_kw, hot_water_kw, "
                "pv_available/<array>/pv_ac_kw_per_kwp or grid_prices/spot_eur_per_kwh)",
            )  # fmt: skip
        errors["filled_steps"] = float(filled)
        return out, errors

    def _check(self, path: Path, key: tuple[str, str, str], ts: pd.DatetimeIndex,
               values: np.ndarray, start: pd.Timestamp, end: pd.Timestamp) -> None:  # fmt: skip
        """Add the doubts about a series' file values to :attr:`doubts`: the look-ahead's
        spot prices (the delivery day's are the day-ahead ones) against the last 7 days
        of the truth; PV available while the sun is down."""
        from pecopt.ingest import forecast_checks as checks

        name = "/".join(x for x in key if x)
        if (key[0], key[2]) == SPOT:
            ahead = np.where(np.asarray(ts >= end), values, np.nan)
            self.doubts += checks.price_findings(
                ts, ahead, self._recent_spot(start), path, f"series {name}", tz=self.tz
            )
        elif key[0] == "pv_available" and self.site is not None:
            lat, lon, alt = self.site
            self.doubts += checks.pv_findings(
                ts, values, path, f"series {name}", latitude=lat, longitude=lon,
                altitude=alt, tz=self.tz,
            )  # fmt: skip

    def _recent_spot(self, start: pd.Timestamp) -> pd.Series:
        """The truth's spot prices [EUR/kWh] of the 7 days before ``start``."""
        hist = self._series(*SPOT)
        if hist.index.nlevels > 1:
            hist = hist.droplevel(list(range(1, hist.index.nlevels)))
        return hist[(hist.index < start) & (hist.index >= start - pd.Timedelta(days=7))]

    def _power(self, name: str, col: str, t: pd.DataFrame, ts: pd.DatetimeIndex,
               truth: np.ndarray, start: pd.Timestamp, day: date,
               mode: Mode | None = None) -> np.ndarray:  # fmt: skip
        if (mode or self.mode).kind == "persistence":
            day_h = pd.Timedelta(hours=24)
            back = day_h * (1 + ((ts - start) // day_h))
            src = ts - back
            keys = _keys(t)
            history = self._series(name, col)
            idx = pd.MultiIndex.from_arrays([src, *[t[k] for k in keys]])
            got = history.reindex(idx).to_numpy(float)
            return np.where(np.isnan(got), truth, got)
        rho = float(np.exp(-(self.step / pd.Timedelta(hours=1)) / ERROR_MEMORY_H))
        out = np.empty_like(truth)
        keys = _keys(t)
        groups = t.groupby(keys, sort=False).indices if keys else {(): np.arange(len(t))}
        for gk, rows in groups.items():
            label = f"{name}/{col}/{gk}"
            rng = np.random.default_rng([self.seed, day.toordinal(), zlib.crc32(label.encode())])
            e = _ar1(rng, len(rows), rho)
            out[rows] = np.maximum(0.0, truth[rows] * (1.0 + self.mode.size * e))
        return out

    def _price(self, t: pd.DataFrame, ts: pd.DatetimeIndex, truth: np.ndarray,
               start: pd.Timestamp, end: pd.Timestamp, day: date,
               mode: Mode | None = None) -> np.ndarray:  # fmt: skip
        ahead = np.asarray(ts >= end)  # beyond the day-ahead prices known at planning time
        if not ahead.any():
            return truth.copy()
        if (mode or self.mode).kind == "persistence":
            from pecopt.ingest.spot import fill_missing_prices

            known = np.where(ahead, np.nan, truth)
            recent = self._recent_spot(start)
            if recent.empty:
                recent = pd.Series(truth[~ahead], index=ts[~ahead])
            filled, _ = fill_missing_prices(pd.DatetimeIndex(ts), known, recent, tz=self.tz)
            return np.asarray(filled, dtype=float)
        rho = float(np.exp(-(self.step / pd.Timedelta(hours=1)) / ERROR_MEMORY_H))
        rng = np.random.default_rng([self.seed, day.toordinal(), zlib.crc32(b"spot")])
        e = _ar1(rng, len(truth), rho)
        level = float(np.mean(np.abs(truth))) or 0.01
        return np.where(ahead, truth + self.mode.size * level * e, truth)


def members(
    tables: Mapping[str, pd.DataFrame],
    count: int,
    size: float,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    horizon_end: pd.Timestamp,
    day: date,
    step: pd.Timedelta,
    tz: str,
    seed: int = 0,
) -> list[dict[str, pd.DataFrame]]:
    """An ensemble of ``count`` forecasts around a horizon's forecast ``tables``, drawn
    from the ``noisy:SIZE`` error model (module docstring) around them: member ``m``'s
    loads and PV ``x_t (1 + SIZE e^m_t)`` (at least 0), its look-ahead spot price
    ``p_t + SIZE mean|p| e^m_t`` (the day-ahead prices are known), ``e^m`` the AR(1)
    errors seeded by ``(seed, m)``, the delivery day and the series. Member 0 is the
    forecast itself (the plan's own view); with ``size`` 0 every member is."""
    out = [dict(tables)]
    index = pd.DatetimeIndex(pd.date_range(start, horizon_end, freq=step, inclusive="left"))
    for m in range(1, count):
        member_seed = int(np.random.SeedSequence([seed, m]).generate_state(1)[0])
        fc = Forecaster(Mode("noisy", size), tables, index, step, tz, member_seed)
        got, _ = fc.forecast(tables, start, end, horizon_end, day)
        out.append(got)
    return out


def read_members(path: Path) -> list[dict[tuple[str, str, str], pd.Series]]:
    """An ensemble file (``--members-file``): the forecast-file columns (``timestamp``
    UTC, ``series``, ``value``; module docstring) and ``member`` (0, 1, ... N-1), one
    forecast per member. Returns each member's series, in member order. Errors name the
    file, the field and the problem."""
    raw = _read_raw(path)
    if "member" not in raw.columns:
        raise DataError(path, "member", "missing column (give member, timestamp, series, value)")
    member = pd.to_numeric(raw["member"], errors="coerce")
    numbers = sorted(member.dropna().unique().tolist())
    if member.isna().any() or numbers != list(range(len(numbers))):
        raise DataError(path, "member", f"members must be numbered 0, 1, ... (got {numbers[:5]})")
    return [_series_of(raw[member == m].drop(columns="member"), path) for m in numbers]


def overlay(
    tables: Mapping[str, pd.DataFrame],
    given: Mapping[tuple[str, str, str], pd.Series],
    end: pd.Timestamp,
    path: Path,
) -> dict[str, pd.DataFrame]:
    """The horizon's ``tables`` with the ``given`` series (:func:`read_forecast`) in
    place of theirs where they cover a step (the others keep the tables' values); the
    delivery day's spot prices (before ``end``) stay the known day-ahead ones, and the
    export price moves with the spot price. A series the horizon has no place for is an
    error naming it."""
    out = dict(tables)
    used: set[tuple[str, str, str]] = set()
    for name, table in tables.items():
        cols = _forecast_columns(name, table)
        mine = {k: v for k, v in given.items() if k[0] == name and k[2] in cols}
        if not mine:
            continue
        t = table.copy()
        ts = pd.DatetimeIndex(t["timestamp"])
        keys = _keys(t)
        entity = t[keys[0]].astype(str).to_numpy() if keys else np.full(len(t), "")
        for (_, who, col), values in mine.items():
            rows = np.flatnonzero(entity == who)
            if rows.size == 0:
                continue
            used.add((name, who, col))
            now = t[col].to_numpy(float)
            got = values.reindex(ts[rows]).to_numpy(float)
            if (name, col) == SPOT:
                got = np.where(np.asarray(ts[rows] < end), np.nan, got)
            new = now.copy()
            new[rows] = np.where(np.isnan(got), now[rows], got)
            if (name, col) == SPOT and EXPORT[1] in t.columns:
                t[EXPORT[1]] = t[EXPORT[1]].to_numpy(float) + (new - now)
            t[col] = new
        out[name] = t
    unknown = sorted(set(given) - used)
    if unknown:
        bad = "/".join(x for x in unknown[0] if x)
        raise DataError(path, "series", f"{bad!r} is not a forecast input of this horizon")
    return out

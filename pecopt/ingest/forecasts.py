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
    ``(seed, delivery day, series)``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from pecopt.errors import OptionError

__all__ = ["ERROR_MEMORY_H", "Forecaster", "Mode", "parse_mode"]

#: e-folding time of the noisy mode's forecast errors [h] (assumption)
ERROR_MEMORY_H = 6.0
SPOT = ("grid_prices", "spot_eur_per_kwh")
EXPORT = ("grid_prices", "export_eur_per_kwh")


@dataclass(frozen=True)
class Mode:
    """A forecast mode: ``perfect``, ``persistence`` or ``noisy`` with its ``size``."""

    kind: str
    size: float = 0.0


def parse_mode(text: str) -> Mode:
    """``perfect``, ``persistence`` or ``noisy:SIZE`` (0 <= SIZE <= 2)."""
    if text in ("perfect", "persistence"):
        return Mode(text)
    if text.startswith("noisy:"):
        try:
            size = float(text.split(":", 1)[1])
        except ValueError:
            size = float("nan")
        if not 0.0 <= size <= 2.0:
            raise OptionError("--forecast", f"noisy:SIZE needs 0 <= SIZE <= 2, got {text!r}")
        return Mode("noisy", size)
    raise OptionError(
        "--forecast", f"{text!r} is not a mode: give perfect, persistence or noisy:SIZE"
    )


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
        if self.mode.kind == "perfect":
            return out, errors
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

    def _power(self, name: str, col: str, t: pd.DataFrame, ts: pd.DatetimeIndex,
               truth: np.ndarray, start: pd.Timestamp, day: date) -> np.ndarray:  # fmt: skip
        if self.mode.kind == "persistence":
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
               start: pd.Timestamp, end: pd.Timestamp, day: date) -> np.ndarray:  # fmt: skip
        ahead = np.asarray(ts >= end)  # beyond the day-ahead prices known at planning time
        if not ahead.any():
            return truth
        if self.mode.kind == "persistence":
            from pecopt.ingest.spot import fill_missing_prices

            known = np.where(ahead, np.nan, truth)
            hist = self._series(*SPOT)
            hist = (
                hist.droplevel(list(range(1, hist.index.nlevels)))
                if hist.index.nlevels > 1
                else hist
            )
            recent = hist[(hist.index < start) & (hist.index >= start - pd.Timedelta(days=7))]
            if recent.empty:
                recent = pd.Series(truth[~ahead], index=ts[~ahead])
            filled, _ = fill_missing_prices(pd.DatetimeIndex(ts), known, recent, tz=self.tz)
            return np.asarray(filled, dtype=float)
        rho = float(np.exp(-(self.step / pd.Timedelta(hours=1)) / ERROR_MEMORY_H))
        rng = np.random.default_rng([self.seed, day.toordinal(), zlib.crc32(b"spot")])
        e = _ar1(rng, len(truth), rho)
        level = float(np.mean(np.abs(truth))) or 0.01
        return np.where(ahead, truth + self.mode.size * level * e, truth)

"""Read a results folder into one frozen object: the only module that knows the file layout.

A report is a pure function of a results folder. Everything the figures need comes from
:func:`load_run` (one solve) or :func:`load_folder` (a solve, a comparison or a Pareto
front); a figure whose data is absent gets ``None`` and is rendered as "n/a".

Tables of a run (see :mod:`pecopt.units` for the vocabulary):

- ``schedule.parquet``: ``timestamp`` (UTC), ``asset``, ``carrier``, ``flow_kw``
  (> 0 supplies the bus), ``role`` (``import``, ``export``, ``generation``,
  ``conversion``, ``storage``, ``demand``); required.
- ``storage.parquet``: ``timestamp``, ``asset``, ``soc_kwh`` (end of step); optional.
- ``carbon.parquet``: ``timestamp``, ``source``, ``co2_kg`` (export credit < 0); optional.
- ``prices.parquet``: ``timestamp``, ``carrier``, ``bus``, ``eur_per_kwh`` (the marginal
  price of one more kWh of demand); optional.
- ``kpis.json``, ``manifest.json``: read through :data:`HEADLINE` and the helpers below
  (``marginal_values.capacities``: the value of one more unit of each capacity and, for a
  sized one, its limits; ``sized``: what the optimiser chose; ``aggregation``: the typical
  periods a design was sized on).
- ``inputs/scenario.json``: the scenario as solved (EV fleets and their copies); optional.

Multi-run folders: ``comparison.parquet`` (``variant`` + numeric KPI columns) with
``variants/<name>/``; ``pareto.parquet`` (``point``, ``cost_total_eur``, ``co2_net_kg``,
...) with ``points/<k>/``. Each member is a run folder as above.
"""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.units import KPIS, unit_of

DEFAULT_TZ = "Europe/Helsinki"
ROLES = ("import", "export", "generation", "conversion", "storage", "demand")

#: Headline KPIs: (name with unit suffix, label, path in kpis.json), from the one table
#: of key figures (:data:`pecopt.units.KPIS`). Names match the numeric columns of
#: ``comparison.parquet``; a path missing in a run gives ``None``.
HEADLINE: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
    (k.name, k.label, k.path) for k in KPIS
)


#: Columns of a comparison or Pareto table that are bookkeeping, not key figures.
BOOKKEEPING = ("wall_s", "cpu_s", "solve_s", "solver_gap", "horizon_h")
#: A table with at most this many numeric columns shows them all in charts and hovers.
FEW_COLUMNS = 16


def numeric_columns(table: pd.DataFrame, key: str) -> list[str]:
    """The numeric columns of a comparison or Pareto table, in table order."""
    return [
        c
        for c in table.columns
        if c != key
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]


def key_columns(table: pd.DataFrame, key: str) -> list[str]:
    """The columns worth a chart or a hover line: every numeric column of a small table;
    of a wide one (``pecopt compare`` and ``pecopt pareto`` write about 60) the epsilon
    bound, the minimised cost, the :data:`HEADLINE` figures, capacities that differ
    between rows, investment, peaks and unmet energy, in that order."""
    cols = [c for c in numeric_columns(table, key) if c not in BOOKKEEPING]
    if len(cols) <= FEW_COLUMNS:
        return cols
    head = ["eps_co2_kg", "cost_objective_eur", *(n for n, _, _ in HEADLINE)]
    picked = [c for c in head if c in cols]
    for prefix in ("capacity_", "investment", "peak_", "unmet_total"):
        picked += [c for c in cols if c.startswith(prefix) and c not in picked]
    # every asset has a capacity: only those that differ between the rows tell something
    return [c for c in picked if not c.startswith("capacity_") or table[c].nunique() > 1]


@dataclass(frozen=True)
class PedVerdict:
    """The PED verdict on one basis: ``value`` in ``unit``; ``is_ped`` None when unknown."""

    basis: str
    is_ped: bool | None
    value: float | None
    unit: str


@dataclass(frozen=True)
class Run:
    """One solve's results folder, loaded.

    ``schedule`` always has a ``role`` column; ``storage``/``carbon``/``prices`` are None
    when absent. ``capacities`` holds every capacity, given or sized (``"asset what"`` ->
    value); ``capacity_values`` the value of one more unit of each capacity that was valued
    (:class:`CapacityValue`).
    """

    path: Path
    name: str
    schedule: pd.DataFrame
    storage: pd.DataFrame | None
    carbon: pd.DataFrame | None
    kpis: dict[str, Any]
    manifest: dict[str, Any]
    timezone: str
    step_h: float
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    is_full_year: bool
    headline: dict[str, float | None]
    ped: tuple[PedVerdict, ...]
    capacities: dict[str, float]
    prices: pd.DataFrame | None = None
    capacity_values: tuple[CapacityValue, ...] = ()
    sized: frozenset[str] = frozenset()
    fleets: tuple[Fleet, ...] = ()


@dataclass(frozen=True)
class Fleet:
    """An EV fleet of the scenario: each of its rows (``fleet/row`` in the schedule) stands
    for ``copies`` identical vehicles of ``capacity_kwh`` each; ``chargers`` when its rows
    are public chargers rather than vehicles."""

    name: str
    copies: int
    capacity_kwh: float | None
    chargers: bool = False


@dataclass(frozen=True)
class CapacityValue:
    """The value of one more unit of a capacity: ``eur_per_unit_yr`` [EUR/yr per
    ``unit``]; ``break_even_eur_per_unit`` the capex at which one more unit would pay
    (sized capacities, else None)."""

    asset: str
    key: str
    unit: str
    capacity: float | None
    eur_per_unit_yr: float
    break_even_eur_per_unit: float | None = None
    max: float | None = None
    capex_eur_per_unit: float | None = None


@dataclass(frozen=True)
class Folder:
    """What a report is made of: one run, a comparison of variants or a Pareto front.

    ``table`` is ``comparison.parquet`` (first row = base) or ``pareto.parquet``, with the
    member's name in ``key``; ``members`` maps each name to its run (None when absent).
    """

    path: Path
    kind: Literal["run", "comparison", "pareto"]
    run: Run | None = None
    table: pd.DataFrame | None = None
    key: str = ""
    members: dict[str, Run | None] = field(default_factory=dict)


def _read_parquet(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(path, "-", f"cannot read Parquet: {exc}") from None
    for c in columns:
        if c not in df.columns:
            raise DataError(path, c, "column missing")
    return df


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(path, "-", f"cannot read JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(path, "-", "expected a JSON object")
    return data


def _utc(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    ts = df["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        if not pd.api.types.is_datetime64_any_dtype(ts):
            raise DataError(path, "timestamp", "not a timestamp column")
        ts = ts.dt.tz_localize("UTC")
    return df.assign(timestamp=ts.dt.tz_convert("UTC"))


def get(d: dict[str, Any], path: tuple[str, ...]) -> Any:
    """``d[path[0]][path[1]]...``, or None where a key is missing."""
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _timezone(manifest: dict[str, Any], kpis: dict[str, Any], path: Path) -> str:
    for d, p in (
        (manifest, ("site", "timezone")),
        (manifest, ("timezone",)),
        (kpis, ("site", "timezone")),
        (kpis, ("horizon", "timezone")),
    ):
        tz = get(d, p)
        if tz is not None:
            try:
                zoneinfo.ZoneInfo(str(tz))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise DataError(path, ".".join(p), f"unknown time zone {tz!r}") from None
            return str(tz)
    return DEFAULT_TZ


def _ped(kpis: dict[str, Any]) -> tuple[PedVerdict, ...]:
    out = []
    for basis, v in (get(kpis, ("ped",)) or {}).items():
        if not isinstance(v, dict):
            continue
        is_ped = v.get("is_ped")
        key = next((k for k in ("surplus_kwh", "net_co2_kg") if k in v), None)
        value = v.get(key) if key else None
        unit = unit_of(key) if key else ""
        out.append(
            PedVerdict(
                basis.replace("_", " "),
                None if is_ped is None else bool(is_ped),
                None if value is None else float(value),
                unit,
            )
        )
    return tuple(out)


def _capacities(kpis: dict[str, Any]) -> dict[str, float]:
    cap = get(kpis, ("capacities",)) or get(kpis, ("sizing", "capacities")) or {}
    out: dict[str, float] = {}
    for k, v in cap.items() if isinstance(cap, dict) else ():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(v2, int | float):
                    out[f"{k} {k2}"] = float(v2)
        elif isinstance(v, int | float):
            out[k] = float(v)
    return out


def _capacity_values(kpis: dict[str, Any]) -> tuple[CapacityValue, ...]:
    caps = get(kpis, ("marginal_values", "capacities"))
    out = []
    for asset, keys in caps.items() if isinstance(caps, dict) else ():
        for key, v in keys.items() if isinstance(keys, dict) else ():
            value = _number(v.get("value_eur_per_unit_yr")) if isinstance(v, dict) else None
            if value is None:
                continue
            out.append(
                CapacityValue(
                    str(asset),
                    str(key),
                    str(v.get("unit", "unit")),
                    _number(v.get("capacity")),
                    value,
                    _number(v.get("break_even_capex_eur_per_unit")),
                    _number(v.get("max")),
                    _number(v.get("capex_eur_per_unit")),
                )
            )
    return tuple(out)


def _sized(kpis: dict[str, Any]) -> frozenset[str]:
    """The capacities the optimiser chose (``"asset what"``, as in :attr:`Run.capacities`)."""
    sized = get(kpis, ("sized",))
    out = set()
    for asset, keys in sized.items() if isinstance(sized, dict) else ():
        for key in keys if isinstance(keys, dict) else ():
            out.add(f"{asset} {key}")
    return frozenset(out)


def _fleets(scenario: dict[str, Any]) -> tuple[Fleet, ...]:
    out = []
    for f in get(scenario, ("assets", "ev_fleets")) or ():
        if not isinstance(f, dict) or "name" not in f:
            continue
        copies = f.get("copies")
        out.append(
            Fleet(
                str(f["name"]),
                int(copies) if isinstance(copies, int) and copies >= 1 else 1,
                _number(f.get("capacity_kwh")),
                bool(f.get("public_chargers")),
            )
        )
    return tuple(out)


def load_run(path: Path, name: str = "") -> Run:
    """Load one solve's results folder; raises :class:`DataError` if it is not one."""
    path = Path(path)
    sched_file = path / "schedule.parquet"
    if not sched_file.is_file():
        raise DataError(path, "schedule.parquet", "not a pecopt results folder (file missing)")
    schedule = _utc(
        _read_parquet(sched_file, ("timestamp", "asset", "carrier", "role", "flow_kw")), sched_file
    )
    if schedule.empty:
        raise DataError(sched_file, "-", "no rows")
    schedule = schedule.astype({"asset": "category", "carrier": "category"})
    storage = carbon = None
    if (path / "storage.parquet").is_file():
        storage = _utc(
            _read_parquet(path / "storage.parquet", ("timestamp", "asset", "soc_kwh")),
            path / "storage.parquet",
        )
    if (path / "carbon.parquet").is_file():
        carbon = _utc(
            _read_parquet(path / "carbon.parquet", ("timestamp", "source", "co2_kg")),
            path / "carbon.parquet",
        )
    prices = None
    if (path / "prices.parquet").is_file():
        prices = _utc(
            _read_parquet(path / "prices.parquet", ("timestamp", "carrier", "eur_per_kwh")),
            path / "prices.parquet",
        )
    kpis = _read_json(path / "kpis.json")
    manifest = _read_json(path / "manifest.json")
    scenario = _read_json(path / "inputs" / "scenario.json")
    for c in ("asset", "carrier", "role"):
        schedule[c] = schedule[c].astype("category")

    steps = pd.DatetimeIndex(schedule["timestamp"].drop_duplicates().sort_values())
    step_h = get(kpis, ("horizon", "step_h"))
    if step_h is None:
        gaps = np.diff(steps.to_numpy()) / np.timedelta64(1, "s")
        step_h = float(np.median(gaps)) / 3600 if len(gaps) else 1.0
    step_h = float(step_h)
    start = steps[0]
    end = steps[-1] + pd.Timedelta(hours=step_h)
    full = get(kpis, ("horizon", "full_year"))
    if full is None:
        full = len(steps) * step_h >= 8760 - 1e-9
    return Run(
        path=path,
        name=name or path.name,
        schedule=schedule,
        storage=storage,
        carbon=carbon,
        kpis=kpis,
        manifest=manifest,
        timezone=_timezone(manifest, kpis, path),
        step_h=step_h,
        start_utc=start,
        end_utc=end,
        is_full_year=bool(full),
        headline={n: _number(get(kpis, p)) for n, _, p in HEADLINE},
        ped=_ped(kpis),
        capacities=_capacities(kpis),
        prices=prices,
        capacity_values=_capacity_values(kpis),
        sized=_sized(kpis),
        fleets=_fleets(scenario),
    )


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _members(path: Path, sub: str, names: list[str]) -> dict[str, Run | None]:
    out: dict[str, Run | None] = {}
    for n in names:
        folder = path / sub / n
        out[n] = load_run(folder, n) if (folder / "schedule.parquet").is_file() else None
    return out


def load_folder(path: Path) -> Folder:
    """Load a results folder of any kind; raises :class:`DataError` for anything else."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(path, "RUN_DIR", "no such folder")
    if (path / "comparison.parquet").is_file():
        f = path / "comparison.parquet"
        table = _read_parquet(f, ("variant",))
        if table.empty:
            raise DataError(f, "variant", "no variants")
        table = table.assign(variant=table["variant"].astype(str))
        names = list(table["variant"])
        return Folder(path, "comparison", None, table, "variant", _members(path, "variants", names))
    if (path / "pareto.parquet").is_file():
        f = path / "pareto.parquet"
        table = _read_parquet(f, ("point", "cost_total_eur", "co2_net_kg"))
        if table.empty:
            raise DataError(f, "point", "no points")
        table = table.assign(point=table["point"].astype(str))
        names = list(table["point"])
        return Folder(path, "pareto", None, table, "point", _members(path, "points", names))
    if not (path / "schedule.parquet").is_file():
        raise DataError(
            path,
            "RUN_DIR",
            "not a pecopt results folder (no schedule.parquet, comparison.parquet "
            "or pareto.parquet)",
        )
    return Folder(path, "run", load_run(path))

"""The numbers behind each figure: pure functions of a loaded :class:`~pecopt.report.data.Run`.

Energy in a step is ``flow_kw * step_h`` [kWh]; months and weeks are local (the run's
time zone), timestamps stay UTC until :func:`local` turns them into the axis values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pecopt.report.data import ROLES, Fleet, Run
from pecopt.units import HEAT_CARRIERS

ELECTRICITY = "electricity"
#: Carriers whose demand is heat: pecopt's space heat and hot water, and a plain ``heat``
#: (a results folder written by other tools, or by the tests).
HEAT = ("heat", *HEAT_CARRIERS)


def series_label(asset: str, role: str) -> str:
    """The name a flow is shown under: imports and exports per connection, all generation
    and all demand of a carrier together, conversion and storage per asset (an EV fleet's
    vehicles ``fleet/vehicle`` together as ``fleet``)."""
    if role in ("import", "export"):
        return asset if role in asset else f"{asset} {role}"
    if role in ("generation", "demand"):
        return role
    return asset.split("/")[0]


def _order(label: str, role: str) -> tuple[int, str]:
    return (ROLES.index(role) if role in ROLES else len(ROLES), label)


def by_series(run: Run) -> pd.DataFrame:
    """Flows per ``timestamp, carrier, series``: ``supply_kw`` (>= 0) and ``draw_kw`` (<= 0).

    Supply and draw are summed separately over the assets of a series, so a store that
    charges in one step and discharges in the next shows both.
    """
    s = run.schedule
    asset = s["asset"].astype("category")
    role = s["role"].astype("category")
    n_roles = len(role.cat.categories)
    pair = asset.cat.codes.to_numpy(np.int64) * n_roles + role.cat.codes.to_numpy(np.int64)
    uniq, inverse = np.unique(pair, return_inverse=True)
    labels = [
        series_label(str(asset.cat.categories[u // n_roles]), str(role.cat.categories[u % n_roles]))
        for u in uniq
    ]
    names = sorted(set(labels))
    codes = np.array([names.index(lab) for lab in labels], dtype=np.int64)[inverse]
    f = s["flow_kw"].to_numpy(dtype=float)
    t = pd.DataFrame(
        {
            "timestamp": s["timestamp"].array,
            "carrier": s["carrier"].astype("category").array,
            "series": pd.Categorical.from_codes(codes, pd.Index(names)),
            "supply_kw": np.clip(f, 0.0, None),
            "draw_kw": np.clip(f, None, 0.0),
        }
    )
    keys = ["timestamp", "carrier", "series"]
    out = t.groupby(keys, sort=True, observed=True, as_index=False).sum()
    for c in ("carrier", "series"):
        out[c] = out[c].astype(str)
    return out


def series_order(run: Run) -> list[str]:
    """Every series label of the run, in role order (imports first, demand last)."""
    pairs = run.schedule[["asset", "role"]].drop_duplicates()
    keys = {series_label(a, r): _order(series_label(a, r), r) for a, r in pairs.values}
    return sorted(keys, key=lambda k: keys[k])


def local(ts: pd.Series | pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """UTC timestamps as naive local wall-clock times (the axis values of the figures)."""
    return pd.DatetimeIndex(ts).tz_convert(tz).tz_localize(None)


def steps(run: Run) -> pd.DatetimeIndex:
    """The run's time steps (UTC), sorted."""
    return pd.DatetimeIndex(run.schedule["timestamp"].drop_duplicates().sort_values())


def monthly_energy(run: Run, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Energy per local month, carrier and series: ``supply_kwh`` >= 0, ``draw_kwh`` <= 0.

    ``month`` is ``YYYY-MM`` in the run's time zone (a step belongs to the month its start
    falls in locally).
    """
    t = by_series(run) if table is None else table
    idx = steps(run)
    month = pd.Series(idx.tz_convert(run.timezone).strftime("%Y-%m"), index=idx)
    e = t.assign(
        month=t["timestamp"].map(month),
        supply_kwh=t["supply_kw"] * run.step_h,
        draw_kwh=t["draw_kw"] * run.step_h,
    )
    cols = ["month", "carrier", "series"]
    return e.groupby(cols, as_index=False)[["supply_kwh", "draw_kwh"]].sum()


def _per_step(run: Run, table: pd.DataFrame, mask: pd.Series, column: str) -> pd.Series:
    """``table[column]`` summed per step where ``mask`` holds, 0 at steps without rows."""
    return table.loc[mask].groupby("timestamp")[column].sum().reindex(steps(run), fill_value=0.0)


def heat_demand_kw(run: Run, table: pd.DataFrame | None = None) -> pd.Series:
    """Heat demand per step [kW] (>= 0): space heat and hot water together (:data:`HEAT`),
    0 when the run has no heat demand."""
    t = by_series(run) if table is None else table
    return -_per_step(run, t, t["carrier"].isin(HEAT) & t["series"].eq("demand"), "draw_kw")


def generation_kw(run: Run, table: pd.DataFrame | None = None) -> pd.Series:
    """Electricity generation per step [kW] (PV and any other generator)."""
    t = by_series(run) if table is None else table
    mask = t["carrier"].eq(ELECTRICITY) & t["series"].eq("generation")
    return _per_step(run, t, mask, "supply_kw")


def duration_curves(run: Run, table: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """Load-duration curves [kW], each sorted from the highest step down.

    One per import connection (grid, district heat) and the heat demand; a curve is left
    out when the run has no such flow.
    """
    t = by_series(run) if table is None else table
    roles = run.schedule[["asset", "role"]].drop_duplicates()
    imports = sorted({series_label(a, r) for a, r in roles.values if r == "import"})
    out: dict[str, np.ndarray] = {}
    for name in imports:
        v = _per_step(run, t, t["series"].eq(name), "supply_kw")
        out[name] = np.sort(v.to_numpy())[::-1]
    if (t["carrier"].isin(HEAT) & t["series"].eq("demand")).any():
        out["heat demand"] = np.sort(heat_demand_kw(run, t).to_numpy())[::-1]
    return out


def pick_week(
    values: pd.Series, tz: str, step_h: float, peak: bool = False
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The 7 local days with the largest mean of ``values`` (UTC-indexed, one per step);
    with ``peak``, of the weeks that hold the step of the highest value (the first such
    step), so that the week shows the peak itself.

    Candidate weeks start at a local midnight (or at the first step) and must lie wholly
    inside the horizon; a week across a DST change has 167 or 169 hourly steps, hence the
    mean rather than the sum. The first of equal weeks wins. Returns ``[start, end)`` in
    UTC; the whole horizon when it is shorter than a week.
    """
    idx = pd.DatetimeIndex(values.index)
    end_all = idx[-1] + pd.Timedelta(hours=step_h)
    loc = idx.tz_convert(tz)
    starts = idx[(loc.hour == 0) & (loc.minute == 0)]
    cands = [idx[0]] + [s for s in starts if s != idx[0]]
    v = values.to_numpy(dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(v)])
    top = idx[int(np.argmax(v))] if peak and len(v) else None
    best: tuple[float, pd.Timestamp, pd.Timestamp] | None = None
    for s in cands:
        e = (s.tz_convert(tz) + pd.DateOffset(days=7)).tz_convert("UTC")
        if e > end_all or (top is not None and not s <= top < e):
            continue
        i, j = idx.searchsorted(s), idx.searchsorted(e)
        total = (cum[j] - cum[i]) / (j - i)
        if best is None or total > best[0] + 1e-9 * max(1.0, abs(best[0])):
            best = (total, s, e)
    return (idx[0], end_all) if best is None else (best[1], best[2])


def weeks(
    run: Run, table: pd.DataFrame | None = None
) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """The dispatch windows to show: ``(title, start, end)`` in UTC.

    A winter week (the highest heat demand among the weeks that hold its peak step) and a
    summer week (highest generation); one window when they coincide, the whole horizon
    when it is a week or shorter.
    """
    t = by_series(run) if table is None else table
    if run.end_utc - run.start_utc <= pd.Timedelta(days=7):
        return [("Dispatch over the whole horizon", run.start_utc, run.end_utc)]
    w = pick_week(heat_demand_kw(run, t), run.timezone, run.step_h, peak=True)
    s = pick_week(generation_kw(run, t), run.timezone, run.step_h)
    if w == s:
        return [("Dispatch in the week of highest heat demand and generation", *w)]
    return [
        ("Winter week: dispatch in the week of the peak heat demand", *w),
        ("Summer week: dispatch in the week of highest generation", *s),
    ]


@dataclass(frozen=True)
class Store:
    """One store of the storage view: ``label`` for people (an EV fleet's rows together,
    named with their copies), ``capacity_kwh`` (None when the folder does not tell) and
    the stored energy at the end of each step, ``soc_kwh`` [kWh] (UTC-indexed)."""

    label: str
    capacity_kwh: float | None
    soc_kwh: pd.Series


def _fleet_label(fleet: Fleet | None, name: str, rows: int) -> str:
    if fleet is None:
        return f"{name} ({rows} stores)"
    what = "chargers" if fleet.chargers else "profiles"
    if fleet.copies == 1:
        return f"{name} ({rows} {'chargers' if fleet.chargers else 'vehicles'})"
    return f"{name} ({rows} {what} \u00d7 {fleet.copies} cars = {rows * fleet.copies} cars)"


def storage_levels(run: Run) -> list[Store]:
    """The stores of the run, an EV fleet's rows (``fleet/row``) summed into one store;
    empty when the folder has no ``storage.parquet``.

    A store's capacity is its ``energy_kwh`` in ``kpis.json`` ``capacities``; a fleet's is
    rows x copies x one vehicle's battery (``inputs/scenario.json``)."""
    if run.storage is None or run.storage.empty:
        return []
    st = run.storage
    group = st["asset"].astype(str).str.split("/").str[0]
    fleets = {f.name: f for f in run.fleets}
    out = []
    for key, d in st.assign(group=group).groupby("group", sort=False):
        name = str(key)
        assets = d["asset"].astype(str).unique()
        soc = d.groupby("timestamp")["soc_kwh"].sum().reindex(steps(run)).astype(float)
        if len(assets) == 1 and assets[0] == name:
            cap = run.capacities.get(f"{name} energy_kwh")
            out.append(Store(name, cap if cap else None, soc))
            continue
        fleet = fleets.get(name)
        cap = None
        if fleet is not None and fleet.capacity_kwh:
            cap = fleet.capacity_kwh * fleet.copies * len(assets)
        out.append(Store(_fleet_label(fleet, name, len(assets)), cap, soc))
    return out


def daily(values: pd.Series, tz: str) -> pd.DataFrame:
    """``values`` (UTC-indexed) per local day: ``min``, ``mean`` and ``max``, indexed by
    the local date (naive midnight)."""
    day = pd.DatetimeIndex(values.index).tz_convert(tz).tz_localize(None).normalize()
    return values.groupby(day).agg(["min", "mean", "max"])


def carbon_by_source(run: Run) -> dict[str, float] | None:
    """Emissions per source over the horizon [kg CO2e] (credits < 0), or None if unknown."""
    if run.carbon is not None and not run.carbon.empty:
        s = run.carbon.groupby(run.carbon["source"].astype(str))["co2_kg"].sum()
        return {str(k): float(v) for k, v in s.items()}
    by_source = run.kpis.get("co2_kg", {}).get("by_source")
    if isinstance(by_source, dict) and by_source:
        return {str(k): float(v) for k, v in by_source.items()}
    return None


def price_grid(run: Run, carrier: str) -> pd.DataFrame | None:
    """The marginal price of ``carrier`` [EUR/kWh] as a local day x hour grid: one row per
    local date, one column per local hour 0-23, the mean over the hour's steps (a step of
    15 minutes counts a quarter); a day without a given hour (the spring DST change) has
    NaN there, and the repeated autumn hour holds the mean of both. None without prices."""
    p = run.prices
    if p is None:
        return None
    d = p[p["carrier"] == carrier]
    v = d["eur_per_kwh"].to_numpy(dtype=float)
    if not np.isfinite(v).any():
        return None
    t = pd.DatetimeIndex(d["timestamp"]).tz_convert(run.timezone)
    frame = pd.DataFrame({"day": t.strftime("%Y-%m-%d"), "hour": t.hour, "price": v})
    grid = frame.pivot_table(index="day", columns="hour", values="price", aggfunc="mean")
    return grid.reindex(columns=range(24))


def price_carriers(run: Run) -> list[str]:
    """The carriers that have marginal prices, electricity first."""
    if run.prices is None:
        return []
    present = [str(c) for c in dict.fromkeys(run.prices["carrier"])]
    first = [c for c in (ELECTRICITY,) if c in present]
    return first + [c for c in present if c not in first]


#: Words for the parts of cost item names (``dh_power_fee`` -> "district heat power fee").
_COST_WORDS = {"dh": "district heat", "ev": "EV", "vat": "VAT", "pv": "PV"}


def cost_label(item: str) -> str:
    """A cost item's name in words: ``dh_power_fee`` -> "district heat power fee";
    ``investment`` -> "investment (annualised, with fixed O&M)"."""
    if item == "investment":
        return "investment (annualised, with fixed O&M)"
    return " ".join(_COST_WORDS.get(w, w) for w in item.split("_"))


def cost_items(kpis: dict[str, object]) -> dict[str, float]:
    """The cost items of a run [EUR over the horizon] that are not zero (to the cent),
    investment included, with the carbon price's share when the total holds it."""
    cost = kpis.get("cost_eur")
    if not isinstance(cost, dict):
        return {}
    items = cost.get("items")
    out = {
        str(k): float(v)
        for k, v in (items.items() if isinstance(items, dict) else ())
        if isinstance(v, int | float) and not isinstance(v, bool) and abs(v) >= 0.005
    }
    carbon, total = cost.get("carbon_cost"), cost.get("total")
    if isinstance(carbon, int | float) and isinstance(total, int | float) and abs(carbon) >= 0.005:
        if abs(sum(out.values()) + carbon - total) <= 1e-6 * max(1.0, abs(total)):
            out["carbon price"] = float(carbon)
    return out

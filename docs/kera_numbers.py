"""The figures the README's "The default Kera result" quotes, read off one run folder.

    python docs/kera_numbers.py RUN_DIR                 # print them as JSON
    python docs/kera_numbers.py RUN_DIR --write FILE    # write them (docs/kera_result_numbers.json)
    python docs/kera_numbers.py RUN_DIR --check FILE    # exit 1 if any figure differs
    python docs/kera_numbers.py RUN_DIR --tables        # the README's month and week tables

``RUN_DIR`` is the output of ``pecopt solve scenarios/kera.yaml --out RUN_DIR`` (the quick
start). Every figure is computed here from the run's files (``kpis.json``,
``schedule.parquet``, ``storage.parquet``, ``carbon.parquet``, ``inputs/``) with pandas,
so the README's numbers can be refreshed and checked (``.ci/run`` checks a fresh run
against the stored file; ``tests/test_readme.py`` checks that the README quotes it).
Assets are found by kind in the run's own ``inputs/scenario.json``, never by a list of
names. Units: energy MWh/yr, power kW, money EUR/yr, CO2 t/yr, prices EUR/MWh; months,
hours and weeks in the site's local time.

``--check`` compares each number at the precision it is stored with (half a unit of its
last decimal, plus 1e-9 relative), and every text field exactly.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

MWH = 1000.0  # kWh per MWh


def _r(x: float, nd: int = 1) -> float:
    return round(float(x), nd) + 0.0  # no -0.0


class Run:
    """One run folder's tables, hourly energy per step (``dt_h``), in local time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.kpis = json.loads((folder / "kpis.json").read_text())
        self.scenario = json.loads((folder / "inputs" / "scenario.json").read_text())
        self.tz = self.scenario["site"]["timezone"]
        s = pd.read_parquet(folder / "schedule.parquet")
        self.s = s
        idx = pd.DatetimeIndex(sorted(s["timestamp"].unique()))
        self.index = idx
        self.dt_h = float((idx[1] - idx[0]) / pd.Timedelta(hours=1))
        self.local = idx.tz_convert(self.tz)
        self.weather = self._by_time(pd.read_parquet(folder / "inputs" / "weather.parquet"))
        self.grid_prices = self._by_time(pd.read_parquet(folder / "inputs" / "grid_prices.parquet"))
        dh = folder / "inputs" / "district_heating_prices.parquet"
        self.dh_prices = self._by_time(pd.read_parquet(dh)) if dh.exists() else None
        self.storage = pd.read_parquet(folder / "storage.parquet")
        assets = self.scenario["assets"]
        self.heat_pumps = [h["name"] for h in assets.get("heat_pumps", [])]
        self.ground_pumps = [
            h["name"] for h in assets.get("heat_pumps", []) if h["source"] == "ground"
        ]
        self.boilers = [b["name"] for b in assets.get("electric_boilers", [])]
        self.batteries = {b["name"]: b for b in assets.get("batteries", [])}
        self.stores = {t["name"]: t for t in assets.get("thermal_stores", [])}
        self.fleets = [f["name"] for f in assets.get("ev_fleets", [])]
        self.buildings = [b["name"] for b in self.scenario["buildings"]]
        self.kwp = sum(p["kwp"] for b in self.scenario["buildings"] for p in b.get("pv") or [])

    def _by_time(self, t: pd.DataFrame) -> pd.DataFrame:
        t = t.set_index(pd.DatetimeIndex(t["timestamp"])).drop(columns="timestamp")
        return t.reindex(self.index)

    def flow(self, *, asset: str | list[str] | None = None, carrier: str | None = None,
             role: str | None = None, fleet: bool = False) -> pd.Series:  # fmt: skip
        """The summed flow [kW] per step of the rows selected (> 0 supplies the bus)."""
        s = self.s
        m = pd.Series(True, index=s.index)
        if asset is not None:
            names = [asset] if isinstance(asset, str) else asset
            m &= s["asset"].isin(names)
        if carrier is not None:
            m &= s["carrier"] == carrier
        if role is not None:
            m &= s["role"] == role
        if fleet:
            m &= s["asset"].astype(str).str.contains("/")
        return s[m].groupby("timestamp")["flow_kw"].sum().reindex(self.index, fill_value=0.0)

    def mwh(self, kw: pd.Series) -> float:
        return float(kw.sum()) * self.dt_h / MWH


def numbers(folder: Path) -> dict[str, Any]:
    r = Run(folder)
    k = r.kpis
    el = "electricity"
    buildings = -r.flow(asset=r.buildings, carrier=el, role="demand")
    ev = -r.flow(carrier=el, role="demand", fleet=True)
    hp_el = -r.flow(asset=r.heat_pumps, carrier=el)
    boiler_el = -r.flow(asset=r.boilers, carrier=el)
    battery = r.flow(asset=list(r.batteries), carrier=el)
    space = -r.flow(carrier="space_heat", role="demand")
    hot = -r.flow(carrier="hot_water", role="demand")
    pv = r.flow(carrier=el, role="generation")
    imp = r.flow(asset="grid", role="import")
    exp = -r.flow(asset="grid", role="export")
    dh = r.flow(asset="district_heat", role="import")
    spot = r.grid_prices["spot_eur_per_kwh"] * MWH  # EUR/MWh
    out: dict[str, Any] = {
        "_about": (
            "Key numbers quoted in the README's 'The default Kera result', from `pecopt solve "
            "scenarios/kera.yaml` (full year, hourly), computed by docs/kera_numbers.py. Energy "
            "MWh/yr, power kW, money EUR/yr, CO2 t/yr, prices EUR/MWh; months, hours and weeks "
            "local (Europe/Helsinki)."
        ),
        "meta": {
            "command": "pecopt solve scenarios/kera.yaml --out runs/kera",
            "steps": len(r.index),
            "solver_status": k["solver"]["status"],
        },
    }
    out["energy_mwh"] = {
        "electricity_buildings": _r(r.mwh(buildings)),
        "electricity_ev": _r(r.mwh(ev)),
        "electricity_heat_pumps": _r(r.mwh(hp_el)),
        "electricity_e_boiler": _r(r.mwh(boiler_el)),
        "battery_losses": _r(-r.mwh(battery)),
        "space_heat_demand": _r(r.mwh(space)),
        "hot_water_demand": _r(r.mwh(hot)),
        "pv_generation": _r(r.mwh(pv)),
        "grid_import": _r(r.mwh(imp)),
        "grid_export": _r(r.mwh(exp)),
        "district_heat_import": _r(r.mwh(dh)),
    }
    yield_kwh_kwp = r.mwh(pv) * MWH / r.kwp if r.kwp else float("nan")
    out["pv"] = {
        "kwp": _r(r.kwp),
        "yield_kwh_per_kwp": _r(yield_kwh_kwp, 0),
        "self_consumption": _r(k["self_consumption"], 3),
        "self_sufficiency": _r(k["self_sufficiency"], 3),
        "export_hours": int((exp > 1e-6).sum()),
    }
    # heat: each heat pump by sink, its seasonal COP; the store's cycles
    heat: dict[str, float] = {}
    temp = r.weather["temp_air_c"]
    for hp in r.heat_pumps:
        sp = r.flow(asset=hp, carrier="space_heat")
        hw = r.flow(asset=hp, carrier="hot_water")
        e = -r.flow(asset=hp, carrier=el)
        heat[hp] = _r(r.mwh(sp + hw))
        heat[f"{hp}_space_heat"] = _r(r.mwh(sp))
        heat[f"{hp}_hot_water"] = _r(r.mwh(hw))
        heat[f"{hp}_seasonal_cop"] = _r(r.mwh(sp + hw) / r.mwh(e), 2)
        heat[f"{hp}_full_load_hours"] = _r(r.mwh(sp + hw) * MWH / _heat_rating(r, hp), 0)
        if hp in r.ground_pumps:
            heat[f"{hp}_ground_heat"] = _r(r.mwh(sp + hw - e))
        else:
            off = (temp < -20.0) & ((sp + hw) <= 1e-6)
            heat[f"{hp}_off_hours_below_minus20c"] = int(off.sum())
    boiler_heat = r.flow(asset=r.boilers, carrier="hot_water") + r.flow(
        asset=r.boilers, carrier="space_heat"
    )
    heat["e_boiler"] = _r(r.mwh(boiler_heat))
    heat["district_heat"] = _r(r.mwh(dh))
    heat["district_heat_to_space_heat"] = _r(
        r.mwh(r.flow(asset="heat_cascade", carrier="space_heat"))
    )
    store = r.flow(asset=list(r.stores), role="storage")
    heat["store_charge"] = _r(r.mwh(-store.clip(upper=0)))
    heat["store_discharge"] = _r(r.mwh(store.clip(lower=0)))
    heat["store_loss"] = _r(-r.mwh(store))
    heat["heat_demand_peak_kw"] = _r((space + hot).max(), 0)
    peak_at = (space + hot).idxmax().tz_convert(r.tz)
    heat["heat_demand_peak_local"] = peak_at.strftime("%Y-%m-%d %H:%M")  # type: ignore[assignment]
    out["heat_mwh"] = heat
    # by local month
    month = pd.Series(r.local.month, index=r.index)
    monthly: dict[str, dict[str, float]] = {}
    gpk = {
        key.rsplit(".", 1)[1]: v
        for key, v in k["figures"].items()
        if key.startswith("grid.billing_peak_kw.")
    }
    for m, g in month.groupby(month):
        sel = g.index
        row = {hp: _r(r.mwh(r.flow(asset=hp, carrier="space_heat")[sel]
                            + r.flow(asset=hp, carrier="hot_water")[sel]), 0)
               for hp in r.heat_pumps}  # fmt: skip
        row["e_boiler"] = _r(r.mwh(boiler_heat[sel]), 0)
        row["district_heat"] = _r(r.mwh(dh[sel]), 0)
        row["store_out"] = _r(r.mwh(store[sel].clip(lower=0)), 0)
        row["demand"] = _r(r.mwh((space + hot)[sel]), 0)
        row["temp_c"] = _r(temp[sel].mean(), 1)
        row["spot_eur_per_mwh"] = _r(spot[sel].mean(), 0)
        if r.dh_prices is not None:
            row["dh_eur_per_mwh"] = _r(r.dh_prices["eur_per_kwh"][sel].mean() * MWH, 0)
        ym = f"{r.local[r.index.get_indexer(sel[:1])[0]].year}-{int(str(m)):02d}"
        row["grid_peak_kw"] = _r(gpk.get(ym, float(imp[sel].max())), 0)
        monthly[str(m)] = row
    out["monthly"] = monthly
    items = {name: _r(v, 2) for name, v in k["cost_eur"]["items"].items()}
    out["cost_eur"] = {**items, "total": _r(k["cost_eur"]["total"], 2)}
    elec = ["electricity_spot", "electricity_tax", "electricity_network", "electricity_margin",
            "electricity_power_fee", "electricity_basic_fee", "electricity_vat_energy",
            "electricity_vat_network"]  # fmt: skip
    it = k["cost_eur"]["items"]
    dh_items = [n for n in it if n.startswith("dh_")]
    out["cost_rates_eur_per_mwh"] = {
        "electricity_all_in_per_mwh_imported": _r(sum(it.get(n, 0.0) for n in elec) / r.mwh(imp)),
        "spot_import_weighted": _r(float((spot * imp).sum() / imp.sum())),
        "spot_time_mean": _r(float(spot.mean())),
        "district_heat_all_in": _r(sum(it[n] for n in dh_items) / r.mwh(dh)) if r.mwh(dh) else 0.0,
        "district_heat_energy_only": _r(it.get("dh_energy", 0.0) / r.mwh(dh)) if r.mwh(dh) else 0.0,
        "eur_per_m2": _r(k["cost_eur"]["total"] / _floor_area(r), 2),
        "tax_share": _r(it.get("electricity_tax", 0.0) / k["cost_eur"]["total"], 3),
    }
    co2 = k["co2_kg"]
    src = co2["by_source"]
    out["co2_t"] = {
        "gross": _r(co2["gross"] / 1e3),
        "net": _r(co2["net"] / 1e3),
        "grid_import": _r(src.get("grid_import", 0.0) / 1e3),
        "district_heat": _r(src.get("district_heat_import", 0.0) / 1e3),
        "export_credit": _r(src.get("grid_export", 0.0) / 1e3, 2),
    }
    ped = k["ped"]
    grid_w = r.scenario["assets"]["grid"].get("ped_weight", 1.0)
    grid_co2 = r.grid_prices["co2_kg_per_kwh"].mean()
    per_mwp = yield_kwh_kwp  # MWh per MWp
    out["ped"] = {
        "final_energy_balance_mwh": _r(ped["final_energy"]["per_year"] / MWH),
        "weighted_energy_balance_mwh": _r(ped["weighted_energy"]["per_year"] / MWH),
        "ghg_net_t": _r(ped["ghg"]["per_year"] / 1e3),
        "is_ped": {b: bool(ped[f]["is_ped"]) for b, f in
                   (("final", "final_energy"), ("weighted", "weighted_energy"), ("ghg", "ghg"))},
        "extra_pv_to_close_mwp": {
            "final": _r(max(0.0, -ped["final_energy"]["per_year"] / MWH) / per_mwp),
            "weighted": _r(max(0.0, -ped["weighted_energy"]["per_year"] / MWH)
                           / (per_mwp * grid_w)),
            "ghg": _r(max(0.0, ped["ghg"]["per_year"] / 1e3) / (per_mwp * grid_co2)),
        },
    }  # fmt: skip
    dh_peak = float(k["figures"].get("district_heat.billing_peak_kw", 0.0))
    window = int(
        r.scenario["assets"].get("district_heating", {}).get("tariff", {}).get("peak_window_h", 3)
    )
    rolling = dh.rolling(max(1, round(window / r.dt_h))).mean()
    first = rolling[rolling >= dh_peak - 1e-6 * max(1.0, dh_peak)].index
    out["peaks"] = {
        "grid_import_peak_kw": _r(imp.max()),
        "grid_import_peak_month": r.local[int(imp.to_numpy().argmax())].strftime("%Y-%m"),
        "grid_monthly_billing_peak_kw": {m: _r(v) for m, v in sorted(gpk.items())},
        "district_heat_billing_peak_kw": _r(dh_peak),
        "district_heat_billing_peak_first_window_end_local":
            (first[0] + pd.Timedelta(hours=r.dt_h)).tz_convert(r.tz).strftime("%Y-%m-%d %H:%M")
            if len(first) else "",
        "district_heat_hourly_peak_kw": _r(dh.max()),
        "district_heat_hourly_peak_local": dh.idxmax().tz_convert(r.tz).strftime("%Y-%m-%d %H:%M"),
    }  # fmt: skip
    weeks = (("cold", _coldest_week(r)), ("midsummer", _midsummer(r)))
    first, last = r.local[0].normalize(), r.local[-1].normalize()
    out["weeks"] = {name: _week(r, start, spot, battery, store) for name, start in weeks
                    if first <= pd.Timestamp(start.date(), tz=r.tz) <= last}  # fmt: skip
    out["storage_year"] = _storage(r, r.index, spot, battery, store)
    evs: dict[str, Any] = {}
    hour = pd.Series(r.local.hour, index=r.index)
    night = (hour >= 22) | (hour < 6)
    day = (hour >= 8) & (hour < 17)
    for f in r.fleets:
        rows = r.s[r.s["asset"].astype(str).str.startswith(f + "/") & (r.s["role"] == "demand")]
        copies = _copies(r, f)
        kw = -rows.groupby("timestamp")["flow_kw"].sum().reindex(r.index, fill_value=0.0)
        e = r.mwh(kw)
        evs[f] = {
            "vehicles": copies,
            "energy_mwh": _r(e),
            "peak_kw": _r(kw.max(), 0),
            "unmet_kwh": _r(k["unmet_kwh"].get(f, 0.0), 1),
            "share_22_to_06": _r(r.mwh(kw[night]) / e, 2) if e else 0.0,
            "share_08_to_17": _r(r.mwh(kw[day]) / e, 2) if e else 0.0,
        }
    evs["total_energy_mwh"] = _r(r.mwh(ev))
    evs["total_peak_kw"] = _r(ev.max(), 0)
    out["ev"] = evs
    return out


def _heat_rating(r: Run, hp: str) -> float:
    h = next(h for h in r.scenario["assets"]["heat_pumps"] if h["name"] == hp)
    sized = r.kpis.get("capacities", {})
    cap = h.get("capacity_kw_heat")
    if isinstance(cap, dict) or cap is None:
        cap = sized.get(f"{hp}.capacity_kw_heat", float("nan"))
    return float(cap)


def _floor_area(r: Run) -> float:
    return sum(
        float((b.get("archetype") or {}).get("floor_area_m2", 0.0)) for b in r.scenario["buildings"]
    )


def _copies(r: Run, fleet: str) -> int:
    f = next(f for f in r.scenario["assets"]["ev_fleets"] if f["name"] == fleet)
    names = r.s.loc[r.s["asset"].astype(str).str.startswith(fleet + "/"), "asset"].unique()
    return int(len(names) * int(f.get("copies") or 1))


def _coldest_week(r: Run) -> pd.Timestamp:
    """The first local day of the 7 consecutive local days with the lowest mean air
    temperature (the design cold spell)."""
    t = pd.Series(r.weather["temp_air_c"].to_numpy(), index=r.local)
    daily = t.groupby(t.index.date).mean()
    week = daily.rolling(7).mean()
    end = week.idxmin()
    return pd.Timestamp(daily.index[daily.index.get_loc(end) - 6])


def _midsummer(r: Run) -> pd.Timestamp:
    """The Monday of the week of Midsummer Eve (the Friday between 19 and 25 June)."""
    year = r.local[len(r.local) // 2].year
    eve = next(d for d in pd.date_range(f"{year}-06-19", f"{year}-06-25") if d.weekday() == 4)
    return pd.Timestamp(eve - pd.Timedelta(days=4))


def _storage(
    r: Run, sel: pd.Index, spot: pd.Series, battery: pd.Series, store: pd.Series
) -> dict[str, float]:
    out: dict[str, float] = {}
    cap_b = sum(float(b["capacity_kwh"]) for b in r.batteries.values())
    cap_s = sum(float(s["capacity_kwh"]) for s in r.stores.values())
    b, s, p = battery[sel], store[sel], spot[sel]
    dis, ch = b.clip(lower=0), -b.clip(upper=0)
    out["battery_full_cycles"] = _r(float(dis.sum()) * r.dt_h / cap_b, 1) if cap_b else 0.0
    out["battery_charge_mean_spot_eur_mwh"] = (
        _r(float((p * ch).sum() / ch.sum()), 1) if ch.sum() else 0.0
    )
    out["battery_discharge_mean_spot_eur_mwh"] = (
        _r(float((p * dis).sum() / dis.sum()), 1) if dis.sum() else 0.0
    )
    sdis, sch = s.clip(lower=0), -s.clip(upper=0)
    out["store_full_cycles"] = _r(float(sdis.sum()) * r.dt_h / cap_s, 1) if cap_s else 0.0
    out["store_charge_mean_spot_eur_mwh"] = (
        _r(float((p * sch).sum() / sch.sum()), 1) if sch.sum() else 0.0
    )
    out["store_discharge_mean_spot_eur_mwh"] = (
        _r(float((p * sdis).sum() / sdis.sum()), 1) if sdis.sum() else 0.0
    )
    return out


def _week(
    r: Run, start: pd.Timestamp, spot: pd.Series, battery: pd.Series, store: pd.Series
) -> dict[str, Any]:
    lo = pd.Timestamp(start.date(), tz=r.tz)
    hi = lo + pd.DateOffset(days=7)
    sel = r.index[(r.local >= lo) & (r.local < hi)]
    t = r.weather["temp_air_c"][sel]
    return {"start_local": lo.strftime("%Y-%m-%d"), "mean_temp_c": _r(t.mean()),
            "min_temp_c": _r(t.min()), "hours_below_minus20c": int((t < -20).sum()),
            **_storage(r, sel, spot, battery, store)}  # fmt: skip


def tables(folder: Path) -> str:
    """The README's month table and its two weeks' daily table, in Markdown."""
    r = Run(folder)
    n = numbers(folder)
    hps = r.heat_pumps
    head = ["month", "T °C", *[h.upper() for h in hps], "e-boiler", "district heat", "store out",
            "demand", "spot EUR/MWh", "DH EUR/MWh", "grid peak kW"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|---|" + "--:|" * (len(head) - 1)]
    for m, row in n["monthly"].items():
        name = pd.Timestamp(2025, int(m), 1).strftime("%b")
        rest = ("e_boiler", "district_heat", "store_out", "demand", "spot_eur_per_mwh",
                "dh_eur_per_mwh", "grid_peak_kw")  # fmt: skip
        cells = [name, f"{row['temp_c']:.1f}", *[f"{row[h]:,.0f}" for h in hps],
                 *[f"{row[c]:,.0f}" for c in rest]]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    el = "electricity"
    t = r.weather["temp_air_c"]
    demand = -(
        r.flow(carrier="space_heat", role="demand") + r.flow(carrier="hot_water", role="demand")
    )
    heat = {
        h: r.flow(asset=h, carrier="space_heat") + r.flow(asset=h, carrier="hot_water") for h in hps
    }
    boiler = r.flow(asset=r.boilers, carrier="hot_water") + r.flow(
        asset=r.boilers, carrier="space_heat"
    )
    dh = r.flow(asset="district_heat", role="import")
    store = r.flow(asset=list(r.stores), role="storage")
    pv = r.flow(carrier=el, role="generation")
    imp = r.flow(asset="grid", role="import")
    bat = r.flow(asset=list(r.batteries), carrier=el)
    spot = r.grid_prices["spot_eur_per_kwh"] * MWH
    head = ["day", "T mean (min) °C", "heat demand", *[h.upper() for h in hps], "e-boiler", "DH",
            "store net", "PV", "grid (max)", "battery out kWh", "spot (min–max)"]  # fmt: skip
    lines += ["", "| " + " | ".join(head) + " |", "|---|" + "--:|" * (len(head) - 1)]
    for week in n["weeks"].values():
        lo = pd.Timestamp(week["start_local"], tz=r.tz)
        for d in range(7):
            a, b = lo + pd.DateOffset(days=d), lo + pd.DateOffset(days=d + 1)
            sel = r.index[(r.local >= a) & (r.local < b)]
            sn = store[sel].mean()
            cells = [a.strftime("%a %-d %b"), f"{t[sel].mean():.1f} ({t[sel].min():.1f})",
                     f"{demand[sel].mean():,.0f}", *[f"{heat[h][sel].mean():,.0f}" for h in hps],
                     f"{boiler[sel].mean():,.0f}", f"{dh[sel].mean():,.0f}",
                     "0" if round(sn) == 0 else f"{sn:+,.0f}", f"{pv[sel].mean():,.0f}",
                     f"{imp[sel].mean():,.0f} ({imp[sel].max():,.0f})",
                     f"{bat[sel].clip(lower=0).sum() * r.dt_h:,.0f}",
                     f"{spot[sel].mean():.0f} ({spot[sel].min():.0f}–{spot[sel].max():.0f})",
                     ]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _differ(got: Any, want: Any, path: str = "") -> list[str]:
    if isinstance(want, dict) and isinstance(got, dict):
        keys = sorted(set(want) | set(got))
        return [d for key in keys for d in _differ(got.get(key), want.get(key), f"{path}.{key}")]
    if isinstance(want, bool) or isinstance(got, bool) or isinstance(want, str) or want is None:
        return [] if got == want or path == "._about" else [f"{path}: {got!r} != {want!r}"]
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        text = repr(float(want))
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
        tol = 0.5 * 10.0**-decimals + 1e-9 * abs(float(want))
        return [] if math.isclose(got, want, abs_tol=tol) else [f"{path}: {got} != {want}"]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--write", type=Path)
    ap.add_argument("--check", type=Path)
    ap.add_argument("--tables", action="store_true")
    a = ap.parse_args(argv)
    if a.tables:
        sys.stdout.write(tables(a.run))
        return 0
    got = numbers(a.run)
    if a.check:
        diffs = _differ(got, json.loads(a.check.read_text()))
        for d in diffs:
            print(f"{a.check}: {d}", file=sys.stderr)
        if not diffs:
            print(f"every figure of {a.check} recomputed from {a.run}")
        return 1 if diffs else 0
    text = json.dumps(got, indent=1, ensure_ascii=False) + "\n"
    if a.write:
        tmp = a.write.with_name(f".{a.write.name}.tmp")
        tmp.write_text(text)
        tmp.replace(a.write)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Key figures of a solved district (pure functions of inputs and results).

PED balance, three ways (JPI Urban Europe PED framework; Finnish carrier factors from
Government Decree 788/2017: electricity 1.2, district heat 0.5):

- final energy:    surplus = sum(exports) - sum(imports)                 [kWh]
- weighted energy: surplus = sum_c f_c (export_c - import_c)             [kWh weighted]
- GHG:             net = sum(carbon.parquet)  (export credit negative)   [kg CO2e]

The district is a PED on a basis when the surplus is >= 0 (net GHG <= 0).

Self-consumption = PV used on site / PV produced, with PV used on site = PV - export
(clipped to [0, PV]); self-sufficiency = PV used on site / electricity used on site,
with electricity used on site = PV used on site + grid import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pecopt.ingest.tariffs import rolling_peak_kw
from pecopt.inputs import DistrictInputs
from pecopt.results.extract import Results
from pecopt.solve import SolveOutcome
from pecopt.units import ELECTRICITY, HEAT


def kpis(inputs: DistrictInputs, res: Results, out: SolveOutcome) -> dict[str, Any]:
    """All KPIs as a JSON-ready dict (energy kWh, power kW, money EUR, CO2 kg)."""
    dt = inputs.dt_h
    sched = res.schedule
    e = sched.assign(kwh=sched["flow_kw"] * dt)

    pv_names = set(inputs.pv.names)
    pv_kwh = float(e.loc[e["asset"].isin(pv_names), "kwh"].sum())
    pv_avail = float(inputs.pv.available_kw.sum() * dt)
    imp = float(res.grid_import_kw.sum() * dt)
    exp = float(res.grid_export_kw.sum() * dt)
    dh_imp = float(res.dh_import_kw.sum() * dt)
    dh_exp = float(res.dh_export_kw.sum() * dt)
    on_site_pv = min(max(pv_kwh - exp, 0.0), pv_kwh)
    ev_kwh = sum(res.delivered_kwh.values())
    co2 = res.carbon.groupby("source")["co2_kg"].sum().to_dict()
    net_co2 = float(sum(co2.values()))
    gross_co2 = float(sum(v for v in co2.values() if v > 0))
    f_el, f_dh = inputs.ped.electricity_factor, inputs.ped.district_heat_factor
    final = (exp + dh_exp) - (imp + dh_imp)
    weighted = f_el * (exp - imp) + f_dh * (dh_exp - dh_imp)
    cost = {k: round(v, 6) for k, v in sorted(res.cost_items_eur.items())}
    cp = inputs.objective.carbon_price_eur_per_kg
    priced = (
        net_co2
        if inputs.objective.carbon_priced_on == "net"
        else float(sum(v for k, v in co2.items() if k in ("grid_import", "dh_import")))
    )
    k = max(1, round(inputs.dh_tariff.peak_window_h / dt))
    return {
        "horizon": {
            "start_utc": inputs.index[0].isoformat(),
            "end_utc": (inputs.index[-1] + (inputs.index[1] - inputs.index[0])).isoformat(),
            "steps": inputs.n,
            "step_h": dt,
        },
        "cost_eur": {
            "items": cost,
            "total": round(float(sum(res.cost_items_eur.values())), 6),
            "carbon_cost": round(cp * priced, 6),
            "objective": out.objective,
        },
        "energy_kwh": {
            ELECTRICITY: {
                "building_demand": float(inputs.elec_demand_kw.sum() * dt),
                "heat_pumps": _draw(e, [h.spec.name for h in inputs.heat_pumps], ELECTRICITY),
                "electric_boilers": _draw(e, [b.name for b in inputs.boilers], ELECTRICITY),
                "ev_charging": ev_kwh,
                "pv_available": pv_avail,
                "pv_produced": pv_kwh,
                "pv_curtailed": pv_avail - pv_kwh,
                "grid_import": imp,
                "grid_export": exp,
            },
            HEAT: {
                "building_demand": float(inputs.heat_demand_kw.sum() * dt),
                "heat_pumps": _supply(e, [h.spec.name for h in inputs.heat_pumps], HEAT),
                "electric_boilers": _supply(e, [b.name for b in inputs.boilers], HEAT),
                "district_heat_import": dh_imp,
                "district_heat_export": dh_exp,
            },
        },
        "ped": {
            "boundary": inputs.ped.boundary,
            "final_energy": {"surplus_kwh": final, "is_ped": bool(final >= 0)},
            "weighted_energy": {
                "factors": {ELECTRICITY: f_el, "district_heat": f_dh},
                "surplus_kwh": weighted,
                "is_ped": bool(weighted >= 0),
            },
            "ghg": {"net_co2_kg": net_co2, "is_ped": bool(net_co2 <= 0)},
        },
        "co2_kg": {"by_source": co2, "gross": gross_co2, "net": net_co2},
        "self_consumption": on_site_pv / pv_kwh if pv_kwh > 0 else None,
        "self_sufficiency": on_site_pv / (on_site_pv + imp) if on_site_pv + imp > 0 else None,
        "peak_grid_import_kw": float(res.grid_import_kw.max(initial=0.0)),
        "dh_billing_peak_kw": float(rolling_peak_kw(res.dh_import_kw, k))
        if res.dh_import_kw.any()
        else 0.0,
        "ev": {
            "delivered_kwh": ev_kwh,
            "unmet_kwh": float(sum(res.unmet_kwh.values())),
            "by_fleet_unmet_kwh": res.unmet_kwh,
        },
        "balance": balance_residuals(sched),
        "solver": {
            "status": out.status.value,
            "objective": out.objective,
            "bound": out.bound,
            "gap": out.gap,
            **out.size,
        },
    }


def balance_residuals(schedule: Any) -> dict[str, float]:
    """Largest |sum of flows| over the steps, per carrier [kW], and the largest flow [kW]:
    every bus must balance at every step (the residual is solver tolerance)."""
    sums = schedule.groupby(["timestamp", "carrier"], sort=False)["flow_kw"].sum().abs()
    out = {f"max_residual_{c}_kw": float(v) for c, v in sums.groupby(level="carrier").max().items()}
    out["max_abs_flow_kw"] = float(schedule["flow_kw"].abs().max()) if len(schedule) else 0.0
    return out


def _draw(e: Any, assets: list[str], carrier: str) -> float:
    rows = e[e["asset"].isin(assets) & (e["carrier"] == carrier)]
    return float(-np.minimum(rows["kwh"].to_numpy(), 0).sum())


def _supply(e: Any, assets: list[str], carrier: str) -> float:
    rows = e[e["asset"].isin(assets) & (e["carrier"] == carrier)]
    return float(np.maximum(rows["kwh"].to_numpy(), 0).sum())

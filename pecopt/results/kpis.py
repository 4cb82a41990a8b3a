"""Key figures of a solved district: pure functions of the results and the flows' tags.

Energy by carrier and role (``energy_kwh``): for every carrier, the energy each role
supplies to the bus (flow > 0) and draws from it (flow < 0) [kWh], and the same per asset.

PED balance, three ways (JPI Urban Europe PED framework), over the flows tagged
``import`` and ``export`` whatever their technology:

- final energy:    surplus = sum(exports) - sum(imports)                       [kWh]
- weighted energy: surplus = sum_f w_f (export_f - import_f)                   [kWh weighted]
  (w_f: each flow's ``ped_weight``, e.g. Finnish carrier factors electricity 1.2,
  district heat 0.5, Government Decree 788/2017)
- GHG:             net = sum of every flow's emissions (export credit negative) [kg CO2e]

The district is a PED on a basis when the **annual** surplus is >= 0 (net GHG <= 0).
The verdict is given for a whole year only; a shorter or longer horizon reports the
balance and its pro-rata annual value with the status ``not a full year``.

Self-consumption and self-sufficiency, per carrier that has both local generation and
imports: on-site use of generation = generation - export (clipped to [0, generation]);
self-consumption = on-site use / generation; self-sufficiency = on-site use /
(on-site use + import).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pecopt.model.core import DistrictModel
from pecopt.results.extract import Results
from pecopt.results.marginal import capacity_values, price_summary
from pecopt.solver import SolveOutcome

#: A horizon counts as a full year between 365 and 366 days (DST does not change UTC length).
FULL_YEAR_H = (8760.0, 8784.0)


class Groups:
    """Row groups of a schedule by some of its key columns, sorted by key (as
    ``DataFrame.groupby(keys, sort=True)``, rows in their order within a group).

    Each key column is factorised once; the KPIs take their groups from here instead
    of grouping the (long, text-keyed) schedule again and again, and add up exactly the
    values pandas' group frames held, in the same order."""

    def __init__(self, schedule: pd.DataFrame) -> None:
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._schedule = schedule

    def codes(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted factor codes of column ``key`` (-1 for missing) and its labels."""
        if key not in self._codes:
            codes, labels = pd.factorize(self._schedule[key], sort=True)
            self._codes[key] = (np.asarray(codes, np.int64), np.asarray(labels, dtype=object))
        return self._codes[key]

    def __call__(
        self, keys: tuple[str, ...], where: np.ndarray | None = None
    ) -> list[tuple[tuple[Any, ...], np.ndarray]]:
        """``[(key values, row indices)]`` per group of rows (``where``: a row mask)."""
        combined = np.zeros(len(self._schedule), np.int64)
        valid = np.ones(len(self._schedule), bool) if where is None else where.copy()
        labels = []
        for k in keys:
            codes, lab = self.codes(k)
            combined = combined * max(len(lab), 1) + codes
            valid &= codes >= 0  # groupby drops missing keys
            labels.append(lab)
        rows = np.flatnonzero(valid)
        rows = rows[np.argsort(combined[rows], kind="stable")]
        ids = combined[rows]
        cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        out = []
        for part in np.split(rows, cuts) if rows.size else []:
            code, key = int(combined[part[0]]), []
            for lab in reversed(labels):
                code, c = divmod(code, max(len(lab), 1))
                key.append(lab[c])
            out.append((tuple(reversed(key)), part))
        return out


def _sum(values: np.ndarray) -> float:
    """``Series.sum()`` of the values (missing values skipped)."""
    return float(pd.Series(values).sum())


def energy_by_role(
    schedule: pd.DataFrame, dt_h: float, groups: Groups | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """``{carrier: {role: {"supply": kWh, "draw": kWh}}}`` (draws as positive numbers)."""
    groups = groups or Groups(schedule)
    kwh_all = (schedule["flow_kw"] * dt_h).to_numpy()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (carrier, role), rows in groups(("carrier", "role")):
        kwh = kwh_all[rows]
        out.setdefault(str(carrier), {})[str(role)] = {
            "supply": float(np.maximum(kwh, 0).sum()),
            "draw": float(-np.minimum(kwh, 0).sum()),
        }
    return out


def energy_by_asset(
    schedule: pd.DataFrame, dt_h: float, groups: Groups | None = None
) -> dict[str, dict[str, float]]:
    """``{asset: {"<carrier>_<role>_kwh": net energy into the bus}}``."""
    groups = groups or Groups(schedule)
    kwh_all = (schedule["flow_kw"] * dt_h).to_numpy()
    out: dict[str, dict[str, float]] = {}
    for (asset, carrier, role), rows in groups(("asset", "carrier", "role")):
        out.setdefault(str(asset), {})[f"{carrier}_{role}_kwh"] = _sum(kwh_all[rows])
    return out


def _verdict(value: float, years: float, full_year: bool, positive_is_good: bool) -> dict[str, Any]:
    per_year = value / years if years > 0 else float("nan")
    ok = per_year >= 0 if positive_is_good else per_year <= 0
    return {
        "per_year": per_year,
        "is_ped": bool(ok) if full_year else None,
        "status": ("PED" if ok else "not a PED") if full_year else "not a full year",
    }


def ped_balance(
    dm: DistrictModel, schedule: pd.DataFrame, net_co2: float, groups: Groups | None = None
) -> dict[str, Any]:
    """The PED balance on every basis, from the import/export tags."""
    groups = groups or Groups(schedule)
    dt, years, full = dm.inputs.dt_h, _years(dm), _full_year(dm)
    weights: dict[tuple[Any, ...], float | None] = {
        (f.asset, f.carrier, f.role): f.ped_weight for f in dm.flows if dm.counted(f)
    }
    flow = schedule["flow_kw"].to_numpy()
    exchange = np.asarray(schedule["role"].isin(["import", "export"]))
    imp = exp = w_surplus = 0.0
    by: dict[str, dict[str, float]] = {}
    ped = dm.inputs.scenario.ped
    for v in ped.virtual_supply:  # contracted off-site supply: counted as local
        kwh = v.kwh_per_yr * years
        imp -= kwh
        w_surplus += v.ped_weight * kwh
        by[f"{v.name}_virtual"] = {"supply_kwh": kwh, "weight": v.ped_weight}
    for (asset, carrier, role), rows in groups(("asset", "carrier", "role"), exchange):
        if (asset, carrier, role) not in weights:  # not counted under this boundary
            continue
        kwh = float(_sum(flow[rows]) * dt)  # import > 0, export < 0
        w = weights.get((asset, carrier, role))
        w = 1.0 if w is None else w
        if role == "import":
            imp += kwh
        else:
            exp += -kwh
        w_surplus -= w * kwh
        by.setdefault(f"{asset}_{carrier}", {})[f"{role}_kwh"] = abs(kwh)
        by[f"{asset}_{carrier}"]["weight"] = w
    final = exp - imp
    return {
        "boundary": dm.inputs.scenario.ped.boundary,
        "full_year": full,
        "final_energy": {
            "import_kwh": imp,
            "export_kwh": exp,
            "surplus_kwh": final,
            **_verdict(final, years, full, True),
        },
        "weighted_energy": {
            "by_connection": by,
            "surplus_kwh": w_surplus,
            **_verdict(w_surplus, years, full, True),
        },
        "ghg": {"net_co2_kg": net_co2, **_verdict(net_co2, years, full, False)},
    }


def _years(dm: DistrictModel) -> float:
    return dm.inputs.n * dm.inputs.dt_h / 8760.0


def _full_year(dm: DistrictModel) -> bool:
    hours = dm.inputs.n * dm.inputs.dt_h
    return FULL_YEAR_H[0] <= hours <= FULL_YEAR_H[1]


def self_use(
    schedule: pd.DataFrame,
    dt_h: float,
    roles: dict[str, dict[str, dict[str, float]]] | None = None,
) -> dict[str, dict[str, float | None]]:
    """Self-consumption and self-sufficiency per carrier with generation and imports
    (``roles``: :func:`energy_by_role` of the schedule, if already at hand)."""
    roles = roles if roles is not None else energy_by_role(schedule, dt_h)
    out: dict[str, dict[str, float | None]] = {}
    for carrier, r in roles.items():
        gen = r.get("generation", {}).get("supply", 0.0)
        if gen <= 0:
            continue
        exp = r.get("export", {}).get("draw", 0.0)
        imp = r.get("import", {}).get("supply", 0.0)
        used = min(max(gen - exp, 0.0), gen)
        out[carrier] = {
            "generation_kwh": gen,
            "self_consumption": used / gen,
            "self_sufficiency": used / (used + imp) if used + imp > 0 else None,
        }
    return out


def peaks(schedule: pd.DataFrame, groups: Groups | None = None) -> dict[str, float]:
    """Highest import per importing asset [kW]."""
    groups = groups or Groups(schedule)
    flow = schedule["flow_kw"].to_numpy()
    imports = np.asarray(schedule["role"] == "import")
    by_asset = groups(("asset",), imports)
    return {str(a): float(pd.Series(flow[rows]).max()) for (a,), rows in by_asset}


def kpis(dm: DistrictModel, res: Results, out: SolveOutcome) -> dict[str, Any]:
    """All KPIs as a JSON-ready dict (energy kWh, power kW, money EUR, CO2 kg)."""
    inp = dm.inputs
    dt, obj = inp.dt_h, inp.common.objective
    sched = res.schedule
    co2 = res.carbon.groupby("source")["co2_kg"].sum().to_dict()
    net_co2 = float(sum(co2.values()))
    gross_co2 = float(sum(v for v in co2.values() if v > 0))
    imports = {e.source for e in dm.emissions() if e.role == "import"}
    priced = net_co2 if obj.carbon_priced_on == "net" else sum(co2.get(s, 0.0) for s in imports)
    groups = Groups(sched)
    roles = energy_by_role(sched, dt, groups)
    use = self_use(sched, dt, roles)
    el = use.get("electricity", {})
    peak = peaks(sched, groups)
    return {
        "horizon": {
            "start_utc": inp.index[0].isoformat(),
            "end_utc": (inp.index[-1] + pd.Timedelta(hours=dt)).isoformat(),
            "steps": inp.n,
            "step_h": dt,
            "years": _years(dm),
            "full_year": _full_year(dm),
        },
        "cost_eur": {
            "items": {k: round(v, 6) for k, v in sorted(res.cost_items_eur.items())},
            "total": round(float(sum(res.cost_items_eur.values())), 6),
            "carbon_cost": round(obj.carbon_price_eur_per_kg * float(priced), 6),
            "objective": out.objective,
        },
        "energy_kwh": roles,
        "energy_by_asset_kwh": energy_by_asset(sched, dt, groups),
        "ped": ped_balance(dm, sched, net_co2, groups),
        "co2_kg": {"by_source": co2, "gross": gross_co2, "net": net_co2},
        "self_use": use,
        "self_consumption": el.get("self_consumption"),
        "self_sufficiency": el.get("self_sufficiency"),
        "peak_import_kw": peak,
        "figures": res.figures,
        "targets": target_status(dm, res),
        "capacities": res.capacities,
        "sized": res.sized,
        "unmet_kwh": res.unmet_kwh,
        **marginal_values(dm, res),
        "balance": balance_residuals(sched),
        "solver": {
            "status": out.status.value,
            "objective": out.objective,
            "bound": out.bound,
            "gap": out.gap,
            "stages": out.stages,
            **out.size,
        },
    }


def marginal_values(dm: DistrictModel, res: Results) -> dict[str, Any]:
    """``{"marginal_values": ...}`` when the model has duals (else nothing): the mean,
    lowest and highest marginal price of each carrier [EUR/kWh] and the value of one more
    unit of every tagged capacity [EUR/yr per unit] (:mod:`pecopt.results.marginal`)."""
    values = capacity_values(dm)
    if values is None:
        return {}
    return {"marginal_values": {"prices": price_summary(res.prices), **values}}


def target_status(dm: DistrictModel, res: Results) -> dict[str, dict[str, Any]]:
    """Each target: the value reached, its limit (``value <= limit``: the negative PED
    surplus, or net emissions [kWh or kg]), whether it is met and any shortfall taken."""
    from pecopt.results.extract import ValueCache, total

    value = ValueCache()
    out = {}
    for name, (terms, const, limit) in dm.targets.items():
        v = total(terms, value) + const
        short = res.unmet_kwh.get(f"target_{name}", 0.0)
        out[name] = {
            "value": v,
            "limit": limit,
            "shortfall": short,
            "met": bool(v <= limit + 1e-6 * max(1.0, abs(limit))),
        }
    return out


def balance_residuals(schedule: pd.DataFrame) -> dict[str, float]:
    """Largest |sum of flows| over the steps, per carrier [kW], and the largest flow [kW]:
    every bus must balance at every step (the residual is solver tolerance)."""
    sums = schedule.groupby(["timestamp", "carrier"], sort=False)["flow_kw"].sum().abs()
    out = {f"max_residual_{c}_kw": float(v) for c, v in sums.groupby(level="carrier").max().items()}
    out["max_abs_flow_kw"] = float(schedule["flow_kw"].abs().max()) if len(schedule) else 0.0
    return out

"""One flat row of key figures per solve: the columns of ``comparison.parquet`` and
``pareto.parquet``. A pure function of a ``kpis.json`` dict.

Numeric columns carry their unit in the name (``_eur``, ``_kwh``, ``_kw``, ``_kg``,
``_h``, ``_s``; fractions have none); text columns end in ``_status``. Only what a run
has is written, so rows of different districts may have different columns.

=======================================  ====================================================
column                                   from ``kpis.json``
=======================================  ====================================================
``cost_total_eur``                       ``cost_eur.total`` (money over the horizon)
``cost_<item>_eur``                      each of ``cost_eur.items`` (``cost_dh_energy_eur`` ...)
``cost_carbon_eur``                      ``cost_eur.carbon_cost`` (the carbon price's share)
``cost_<key>_eur``                       any other number in ``cost_eur`` (e.g. investment,
                                         annualised capital cost), nested keys joined by ``_``
``investment_eur``                       ``investment_eur``, or ``cost_eur.items.investment``
                                         (annualised capex and fixed O&M), when a run has it
``capacity_<asset>_<what>_<unit>``       ``capacities`` (``capacity_gshp_power_el_kw``,
                                         ``capacity_hot_water_store_energy_kwh``)
``<carrier>_<role>_kwh``                 ``energy_kwh``: what imports and generation supply,
                                         what exports and demand draw
``<carrier>_<role>_supply_kwh``,         ``energy_kwh`` of conversion and storage, both ways
``<carrier>_<role>_draw_kwh``
``co2_gross_kg``, ``co2_net_kg``         ``co2_kg``
``co2_<source>_kg``                      ``co2_kg.by_source`` (export credit < 0)
``ped_<basis>_surplus_kwh``              ``ped.final_energy`` and ``ped.weighted_energy``
``ped_<basis>_per_year_kwh``             the same, pro rata for a year
``ped_ghg_net_co2_kg``,                  ``ped.ghg``
``ped_ghg_per_year_kg``
``ped_<basis>_status``                   ``PED``, ``not a PED`` or ``not a full year``
``self_sufficiency``,                    electricity, fractions of 1
``self_consumption``
``peak_<asset>_import_kw``               ``peak_import_kw`` (``peak_grid_import_kw``)
``unmet_<asset>_kwh``, ``unmet_total_kwh`` ``unmet_kwh``
``<figure>``                             ``figures`` (``district_heat_billing_peak_kw``)
``horizon_h``                            steps x step length
``solver_status``, ``solver_gap``        ``solver``
=======================================  ====================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Row = dict[str, float | str | None]

#: Roles whose energy is one-way: the direction kept for ``<carrier>_<role>_kwh``.
_ONE_WAY = {"import": "supply", "generation": "supply", "export": "draw", "demand": "draw"}
_UNIT_INSIDE = re.compile(r"^(?P<head>.*?)_(?P<unit>kwh|kwp|kw)_(?P<tail>[a-z0-9_]+)$")


def _key(text: str) -> str:
    """A column-safe name: lower case, ``.``, ``/``, ``-`` and spaces as ``_``."""
    return re.sub(r"[^a-z0-9_]+", "_", str(text).lower()).strip("_")


def _unit_last(name: str) -> str:
    """``power_kw_el`` -> ``power_el_kw``: the unit at the end of the name."""
    m = _UNIT_INSIDE.match(name)
    return f"{m['head']}_{m['tail']}_{m['unit']}" if m else name


def capacity_column(asset: str, what: str, prefix: str = "capacity") -> str:
    """The column of one capacity: ``<prefix>_<asset>_<what>_<unit>``, the unit last
    (``gshp``, ``power_kw_el`` -> ``capacity_gshp_power_el_kw``)."""
    return f"{prefix}_{_key(asset)}_{_unit_last(_key(what))}"


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) + 0.0  # no -0.0


def _money(prefix: str, tree: Mapping[str, Any], row: Row, skip: tuple[str, ...] = ()) -> None:
    for k, v in tree.items():
        if k in skip:
            continue
        name = f"{prefix}_{_key(k)}"
        if isinstance(v, Mapping):
            _money(name, v, row)
        elif _number(v) is not None:
            row[name if name.endswith("_eur") else name + "_eur"] = _number(v)


def _get(tree: Mapping[str, Any], *path: str) -> Any:
    for k in path:
        if not isinstance(tree, Mapping) or k not in tree:
            return None
        tree = tree[k]
    return tree


def flat_kpis(kpis: Mapping[str, Any]) -> Row:
    """The key figures of one solve as one flat row (see the module docstring)."""
    row: Row = {}
    cost = kpis.get("cost_eur") or {}
    row["cost_total_eur"] = _number(cost.get("total"))
    for item, v in sorted((cost.get("items") or {}).items()):
        row[f"cost_{_key(item)}_eur"] = _number(v)
    row["cost_carbon_eur"] = _number(cost.get("carbon_cost"))
    _money("cost", cost, row, skip=("total", "items", "carbon_cost", "objective"))
    inv = kpis.get("investment_eur")
    if isinstance(inv, Mapping):
        _money("investment", inv, row)
    elif _number(inv) is not None:
        row["investment_eur"] = _number(inv)
    elif _number((cost.get("items") or {}).get("investment")) is not None:
        row["investment_eur"] = _number(cost["items"]["investment"])  # annualised, with O&M
    for asset, caps in sorted((kpis.get("capacities") or {}).items()):
        for what, v in (caps or {}).items():
            if _number(v) is not None:
                row[capacity_column(asset, what)] = _number(v)
    for carrier, roles in sorted((kpis.get("energy_kwh") or {}).items()):
        for role, e in sorted((roles or {}).items()):
            base = f"{_key(carrier)}_{_key(role)}"
            if role in _ONE_WAY:
                row[f"{base}_kwh"] = _number(e.get(_ONE_WAY[role]))
            else:
                row[f"{base}_supply_kwh"] = _number(e.get("supply"))
                row[f"{base}_draw_kwh"] = _number(e.get("draw"))
    co2 = kpis.get("co2_kg") or {}
    row["co2_gross_kg"] = _number(co2.get("gross"))
    row["co2_net_kg"] = _number(co2.get("net"))
    for source, v in sorted((co2.get("by_source") or {}).items()):
        row[f"co2_{_key(source)}_kg"] = _number(v)
    for basis in ("final_energy", "weighted_energy"):
        b = _get(kpis, "ped", basis) or {}
        if b:
            row[f"ped_{basis}_surplus_kwh"] = _number(b.get("surplus_kwh"))
            row[f"ped_{basis}_per_year_kwh"] = _number(b.get("per_year"))
            row[f"ped_{basis}_status"] = b.get("status")
    ghg = _get(kpis, "ped", "ghg") or {}
    if ghg:
        row["ped_ghg_net_co2_kg"] = _number(ghg.get("net_co2_kg"))
        row["ped_ghg_per_year_kg"] = _number(ghg.get("per_year"))
        row["ped_ghg_status"] = ghg.get("status")
    row["self_sufficiency"] = _number(kpis.get("self_sufficiency"))
    row["self_consumption"] = _number(kpis.get("self_consumption"))
    for asset, v in sorted((kpis.get("peak_import_kw") or {}).items()):
        row[f"peak_{_key(asset)}_import_kw"] = _number(v)
    unmet = kpis.get("unmet_kwh") or {}
    for asset, v in sorted(unmet.items()):
        row[f"unmet_{_key(asset)}_kwh"] = _number(v)
    row["unmet_total_kwh"] = float(sum(_number(v) or 0.0 for v in unmet.values()))
    for name, v in sorted((kpis.get("figures") or {}).items()):
        row[_unit_last(_key(name))] = _number(v)
    steps, step_h = _get(kpis, "horizon", "steps"), _get(kpis, "horizon", "step_h")
    if _number(steps) is not None and _number(step_h) is not None:
        row["horizon_h"] = float(steps) * float(step_h)
    row["solver_status"] = _get(kpis, "solver", "status")
    row["solver_gap"] = _number(_get(kpis, "solver", "gap"))
    return row

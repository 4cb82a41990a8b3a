"""pecopt's vocabulary: canonical column names, units and the sign convention.

Every table pecopt writes uses these names; the unit is part of the name.

=====================  ========  =============================================================
name                   unit      meaning
=====================  ========  =============================================================
``timestamp``          UTC       start of the step; values are means over the step
``flow_kw``            kW        power into a bus: > 0 supplies the bus, < 0 draws from it
``soc_kwh``            kWh       stored energy at the END of the step
``co2_kg``             kg CO2e   emissions in the step; export credit is negative
``cost_eur``           EUR       money, excluding VAT unless the tariff says otherwise
``elec_kw``            kW        electricity demand (mean over the step)
``heat_kw``            kW        heat demand (space heat + hot water)
``pv_ac_kw``           kW        PV AC output available (before curtailment)
``cop``                1         heat-pump coefficient of performance (heat out / electricity in)
``*_eur_per_kwh``      EUR/kWh   prices
``eur_per_kwh``        EUR/kWh   a marginal price (``prices.parquet``): the cost of one more
                                 kWh of demand on a bus at a step, from the duals
``*_kg_per_kwh``       kg/kWh    emission factors
=====================  ========  =============================================================

Energy in a step is ``power [kW] * dt_h [h]``. The carriers are ``electricity``,
``space_heat`` (the buildings' heating loop at its weather-compensated supply temperature)
and ``hot_water`` (domestic hot water at 55-60 degC). Heat at the hot-water temperature can
always serve space heating (the ``heat_cascade``), never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

ELECTRICITY: Final = "electricity"
SPACE_HEAT: Final = "space_heat"
HOT_WATER: Final = "hot_water"
HEAT_CARRIERS: Final = (SPACE_HEAT, HOT_WATER)

TIMESTAMP: Final = "timestamp"
FLOW_KW: Final = "flow_kw"
SOC_KWH: Final = "soc_kwh"
CO2_KG: Final = "co2_kg"

#: Units written into Parquet schema metadata, by column name.
COLUMN_UNITS: Final[dict[str, str]] = {
    TIMESTAMP: "UTC, start of step",
    FLOW_KW: "kW, > 0 supplies the bus",
    SOC_KWH: "kWh at end of step",
    CO2_KG: "kg CO2e per step",
    "elec_kw": "kW",
    "heat_kw": "kW",
    "space_heat_kw": "kW",
    "hot_water_kw": "kW",
    "pv_ac_kw": "kW AC",
    "cop": "1",
    "ghi_w_m2": "W/m2",
    "dni_w_m2": "W/m2",
    "dhi_w_m2": "W/m2",
    "temp_air_c": "degC",
    "wind_speed_m_s": "m/s",
    "drive_kwh": "kWh per step",
    "plugged": "bool",
    "eur_per_kwh": "EUR/kWh",
}

#: The unit a name carries in its suffix, tried in this order (``cost_total_eur`` -> EUR).
SUFFIX_UNITS: Final = (
    ("_eur_per_kwh", "EUR/kWh"),
    ("_kg_per_kwh", "kg CO2e/kWh"),
    ("_kw_per_kwp", "kW/kWp"),
    ("_eur", "EUR"),
    ("_kwp", "kWp"),
    ("_kw_heat", "kW heat"),
    ("_kw_el", "kW el"),
    ("_kwh", "kWh"),
    ("_kw", "kW"),
    ("_m2", "m2"),
    ("_kg", "kg CO2e"),
    ("_h", "h"),
    ("_s", "s"),
)


def unit_of(name: str, default: str = "1") -> str:
    """The unit of a column or KPI name from its suffix (or a unit inside it:
    ``capacity_gshp_power_kw_el``), ``default`` when it has none (a fraction)."""
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix) or f"{suffix}_" in name:
            return unit
    return default


@dataclass(frozen=True)
class Kpi:
    """A key figure: its flat name (a column of ``comparison.parquet``, unit in the
    suffix), its label for people, where it is in ``kpis.json``, and whether the short
    views (the CLI summary, a sweep's report) show it."""

    name: str
    label: str
    path: tuple[str, ...]
    short: bool = False

    @property
    def unit(self) -> str:
        """Its unit (``%`` for a fraction shown as a percentage)."""
        return "%" if unit_of(self.name) == "1" else unit_of(self.name)


#: The key figures every view reads: the CLI summary, the reports, compare and sweeps.
KPIS: Final = (
    Kpi("cost_total_eur", "total cost", ("cost_eur", "total"), short=True),
    Kpi("investment_eur", "of which investment", ("cost_eur", "items", "investment")),
    Kpi("co2_gross_kg", "CO2, gross", ("co2_kg", "gross")),
    Kpi("co2_net_kg", "CO2, net", ("co2_kg", "net"), short=True),
    Kpi(
        "ped_final_energy_surplus_kwh",
        "PED surplus, final energy",
        ("ped", "final_energy", "surplus_kwh"),
        short=True,
    ),  # fmt: skip
    Kpi(
        "ped_weighted_energy_surplus_kwh",
        "PED surplus, weighted energy",
        ("ped", "weighted_energy", "surplus_kwh"),
    ),  # fmt: skip
    Kpi("self_sufficiency", "self-sufficiency", ("self_sufficiency",), short=True),
    Kpi("self_consumption", "self-consumption", ("self_consumption",)),
    Kpi("peak_grid_import_kw", "peak grid import", ("peak_import_kw", "grid"), short=True),
    Kpi(
        "electricity_import_kwh",
        "electricity import",
        ("energy_kwh", "electricity", "import", "supply"),
        short=True,
    ),  # fmt: skip
    Kpi(
        "electricity_export_kwh",
        "electricity export",
        ("energy_kwh", "electricity", "export", "draw"),
    ),  # fmt: skip
    Kpi(
        "electricity_generation_kwh",
        "local electricity generation",
        ("energy_kwh", "electricity", "generation", "supply"),
    ),  # fmt: skip
    Kpi(
        "hot_water_import_kwh",
        "heat import (district heat, hot water)",
        ("energy_kwh", "hot_water", "import", "supply"),
    ),  # fmt: skip
)


def label_of(name: str) -> str:
    """The label of a key figure's name (its name in words when it has none)."""
    for k in KPIS:
        if k.name == name:
            return k.label
    return name.replace("_", " ")

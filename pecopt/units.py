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

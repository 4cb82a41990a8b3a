"""The explicit registry of technology block builders, in build order."""

from __future__ import annotations

from pecopt.model.blocks import demand, district_heat, ev, grid, heat_pump, pv, storage
from pecopt.model.interface import BlockBuilder

REGISTRY: dict[str, BlockBuilder] = {
    "demand": demand.build,
    "grid": grid.build,
    "pv": pv.build,
    "battery": storage.build_batteries,
    "heat_pump": heat_pump.build_heat_pumps,
    "electric_boiler": heat_pump.build_boilers,
    "thermal_store": storage.build_thermal_stores,
    "district_heat": district_heat.build,
    "ev": ev.build,
}

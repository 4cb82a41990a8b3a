"""The explicit registry of technologies, in build order: the one place that lists them.

Adding a technology = one new file in :mod:`pecopt.model.blocks` declaring a
:class:`~pecopt.model.technology.Technology`, plus one line here. The scenario schema
(``assets.<key>``), ingest, the model, the KPIs and the PED balance follow from it.
"""

from __future__ import annotations

from pecopt.model.blocks import (
    demand,
    district_heat,
    electric_boiler,
    ev,
    grid,
    heat_pump,
    pv,
    solar_thermal,
    storage,
    waste_heat,
)
from pecopt.model.technology import Technology

TECHNOLOGIES: dict[str, Technology] = {
    t.key: t
    for t in (
        demand.TECHNOLOGY,
        grid.TECHNOLOGY,
        pv.TECHNOLOGY,
        solar_thermal.TECHNOLOGY,
        waste_heat.TECHNOLOGY,
        storage.BATTERY,
        heat_pump.TECHNOLOGY,
        electric_boiler.TECHNOLOGY,
        storage.THERMAL_STORE,
        district_heat.TECHNOLOGY,
        ev.TECHNOLOGY,
    )
}

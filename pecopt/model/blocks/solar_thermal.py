"""Solar thermal collectors feeding a heat temperature (``sink``: hot water by default,
or space heat), with stagnation (unused heat is not taken).

Per field f and step t, the heat the collectors can give [kW] is the quasi-steady
collector equation (EN ISO 9806) on pvlib's plane-of-array irradiance:

    q[t] = eta0 (K_b(theta) G_b + K_d G_d) - a1 (T_m - T_a) - a2 (T_m - T_a)^2     [W/m2]
    A[t] = area * max(0, q[t]) / 1000 * (1 - losses_pct / 100)                     [kW]
    0 <= used[t] <= A[t],      generation flow (heat) = used[t]

(``area_m2`` may be a :class:`~pecopt.scenario.types.Size`: the optimiser chooses it.)

with G_b, G_d the beam and diffuse plane-of-array irradiance (Hay-Davies transposition,
:func:`pecopt.ingest.pv.plane_of_array`), K_b the ASHRAE incidence-angle modifier
(:func:`pvlib.iam.ashrae`, ``iam_b0``), K_d a constant diffuse modifier, T_m the mean
fluid temperature and T_a the air temperature. The collectors must run hotter than the
sink they feed: T_m[t] = T_sink[t] + ``approach_k`` (a time series for space heat on its
weather-compensated curve), unless ``mean_fluid_temp_c`` fixes it. The collector is off
when q <= 0. Pump electricity is neglected (about 1 % of the heat).

Defaults: a good flat-plate collector, eta0 0.775, a1 3.75 W/m2K, a2 0.02 W/m2K2
(FACTS-HEAT-TARIFFS-COSTS section 9, after UdK-VPT BuildingSystems FlatSolarCollector1);
an evacuated tube is about 0.75 / 2.0 / 0.005. Yields in Finland: at most about
400 kWh/m2/yr for flat plates, 500 for evacuated tubes (energiakauppa.com, FACTS).
K_d 0.9 and 10 % loop losses are assumptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field

from pecopt.model.capacity import capacity
from pecopt.model.linear import FloatArray, add_var, term
from pecopt.model.technology import Common, Contribution, Flow, IngestContext, Tables, Technology
from pecopt.scenario.types import Capacity, Fraction, NonNeg, Strict, upper


class SolarThermal(Strict):
    """A field of solar thermal collectors (gross area, orientation, efficiency curve)."""

    name: str
    """The field's name."""
    area_m2: Capacity
    """Gross collector area [m2]: a number, or a Size the optimiser chooses."""
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 45.0
    """Tilt from horizontal [degrees]."""
    azimuth_deg: Annotated[float, Field(ge=0, le=360)] = 180.0
    """Azimuth clockwise from north [degrees] (180 = south)."""
    eta0: Annotated[float, Field(gt=0, le=1)] = 0.775
    """Peak (zero-loss) collector efficiency [1] (EN ISO 9806)."""
    a1_w_m2k: NonNeg = 3.75
    """First-order heat-loss coefficient a1 [W/m2K]."""
    a2_w_m2k2: NonNeg = 0.02
    """Second-order heat-loss coefficient a2 [W/m2K2]."""
    iam_b0: Fraction = 0.1
    """ASHRAE incidence-angle modifier coefficient b0 [1] (pvlib.iam.ashrae)."""
    diffuse_modifier: Fraction = 0.9
    """Incidence-angle modifier of diffuse irradiance K_d [1] (0.9 [assumption])."""
    sink: Literal["hot_water", "space_heat"] = "hot_water"
    """The heat temperature the collectors feed."""
    approach_k: NonNeg = 5.0
    """How much hotter the mean fluid runs than the sink it feeds [K]."""
    mean_fluid_temp_c: float | None = None
    """A fixed mean fluid temperature [degC]; None: the sink's temperature plus ``approach_k``."""
    losses_pct: Annotated[float, Field(ge=0, lt=100)] = 10.0
    """Loop (piping) losses [%] (10 [assumption])."""


AVAILABLE = "solar_thermal_available"


def collector_heat_w_m2(
    beam_w_m2: FloatArray,
    diffuse_w_m2: FloatArray,
    aoi_deg: FloatArray,
    temp_air_c: FloatArray,
    spec: SolarThermal,
    mean_fluid_temp_c: FloatArray | float = 50.0,
) -> FloatArray:
    """Useful heat per m2 of collector [W/m2] (the module docstring's equation), >= 0,
    at the mean fluid temperature ``mean_fluid_temp_c`` [degC]."""
    import pvlib

    k_b = np.nan_to_num(np.asarray(pvlib.iam.ashrae(aoi_deg, b=spec.iam_b0), dtype=float))
    dt = np.asarray(mean_fluid_temp_c, dtype=float) - np.asarray(temp_air_c, dtype=float)
    absorbed = spec.eta0 * (k_b * beam_w_m2 + spec.diffuse_modifier * diffuse_w_m2)
    q = absorbed - spec.a1_w_m2k * dt - spec.a2_w_m2k2 * dt * np.abs(dt)
    out: FloatArray = np.where(absorbed > 0, np.maximum(q, 0.0), 0.0)
    return out


def ingest(units: Sequence[SolarThermal], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``solar_thermal_available`` table: ``timestamp, field, heat_kw_per_m2``."""
    from pecopt.ingest.pv import plane_of_array

    site, wx = ctx.scenario.site, ctx.weather
    frames = []
    for f in units:
        poa = plane_of_array(
            wx, site.latitude, site.longitude, site.altitude_m, f.tilt_deg, f.azimuth_deg
        )
        q = collector_heat_w_m2(
            poa["poa_direct_w_m2"].to_numpy(),
            poa["poa_diffuse_w_m2"].to_numpy(),
            poa["aoi_deg"].to_numpy(),
            wx["temp_air_c"].to_numpy(float),
            f,
            f.mean_fluid_temp_c
            if f.mean_fluid_temp_c is not None
            else ctx.sink_temperature_c(f.sink) + f.approach_k,
        )
        per_m2 = q / 1000.0 * (1.0 - f.losses_pct / 100.0)
        frames.append(
            pd.DataFrame({"timestamp": ctx.index, "field": f.name, "heat_kw_per_m2": per_m2})
        )
    return {AVAILABLE: pd.concat(frames, ignore_index=True)}


@dataclass(frozen=True)
class SolarThermalData:
    names: tuple[str, ...]
    sinks: tuple[str, ...]
    per_m2: FloatArray  # (fields, steps) [kW/m2]
    areas: tuple[Capacity, ...]

    @property
    def heat_kw(self) -> FloatArray:
        """Heat the fields can give at their (largest) area [kW]."""
        out: FloatArray = self.per_m2 * np.array([upper(a) for a in self.areas])[:, None]
        return out


def prepare(units: Sequence[SolarThermal], tables: Tables, common: Common) -> SolarThermalData:
    t = tables[AVAILABLE]
    names = tuple(f.name for f in units)
    per_m2 = t["heat_kw_per_m2"].to_numpy(np.float64).reshape(len(names), common.n)
    return SolarThermalData(
        names, tuple(f.sink for f in units), per_m2, tuple(f.area_m2 for f in units)
    )


def build(block: pyo.Block, d: SolarThermalData, common: Common) -> Contribution:
    c = Contribution()
    for k, name in enumerate(d.names):
        b = pyo.Block()
        block.add_component(name, b)
        area = capacity(b, "area_m2", d.areas[k])
        used = add_var(b, "used", common.n, 0.0, d.per_m2[k] * area.upper)
        area.bound(used, d.per_m2[k])
        if area.sized:
            area.limit(b, "available", [term(used, 1.0)], common.n, d.per_m2[k])
            c.cost.setdefault("investment", []).extend(area.cost(common))
        c.flows.append(Flow(name, d.sinks[k], "generation", (term(used, 1.0),)))
        c.capacities[name] = {"area_m2": area.amount()}
    return c


TECHNOLOGY = Technology(
    key="solar_thermal", unit=SolarThermal, build=build, ingest=ingest, prepare=prepare
)

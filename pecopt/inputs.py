"""DistrictInputs: the one frozen hand-off from ingest to the model.

Every series is a numpy array aligned to ``index`` (UTC, step starts) in canonical
units: power in kW (mean over the step), prices in EUR/kWh, emission factors in
kg CO2e/kWh. Technology records are the validated, frozen scenario records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pecopt.scenario import schema as s

F = NDArray[np.float64]


@dataclass(frozen=True)
class PVInputs:
    """PV arrays: ``available_kw[a, t]`` AC power that can be used or curtailed [kW]."""

    names: tuple[str, ...]
    available_kw: F  # (arrays, steps)


@dataclass(frozen=True)
class HeatPumpInputs:
    spec: s.HeatPump
    cop: F  # (steps,)


@dataclass(frozen=True)
class EVInputs:
    """One EV fleet, per vehicle.

    Availability mode: ``plugged[v, t]`` and ``drive_kwh[v, t]`` (energy taken out by
    driving in step t). Session mode: sessions with the energy wanted by departure.
    """

    spec: s.EVFleet
    vehicles: tuple[str, ...]
    plugged: NDArray[np.bool_]  # (vehicles, steps)
    drive_kwh: F  # (vehicles, steps)
    mode: str  # "availability" or "sessions"
    #: energy in each vehicle at the start [kWh]; None: not given (the horizon is cyclic)
    initial_kwh: F | None = None
    # session mode: one row per session, step range [first, last] and energy wanted
    session_vehicle: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    session_first: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    session_last: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    session_energy_kwh: F = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class ElectricityPrices:
    """Import price components [EUR/kWh, before VAT] and the export price."""

    spot: F
    retail_margin: F
    network: F
    tax: F
    vat: float
    export: F

    @property
    def import_total(self) -> F:
        """``(spot + margin + network + tax) * (1 + vat)`` [EUR/kWh]."""
        total: F = (self.spot + self.retail_margin + self.network + self.tax) * (1.0 + self.vat)
        return total


@dataclass(frozen=True)
class DistrictInputs:
    """Everything the model needs, aligned to ``index``."""

    name: str
    index: pd.DatetimeIndex
    dt_h: float
    timezone: str
    elec_demand_kw: F
    heat_demand_kw: F
    pv: PVInputs
    prices: ElectricityPrices
    dh_price_eur_per_kwh: F
    grid_co2_kg_per_kwh: F
    dh_co2_kg_per_kwh: F
    grid: s.Grid
    batteries: tuple[s.Battery, ...]
    heat_pumps: tuple[HeatPumpInputs, ...]
    boilers: tuple[s.ElectricBoiler, ...]
    thermal_stores: tuple[s.ThermalStore, ...]
    district_heating: s.DistrictHeating | None
    dh_tariff: s.DistrictHeatTariff
    ev_fleets: tuple[EVInputs, ...]
    carbon: s.Carbon
    ped: s.PED
    objective: s.Objective
    solver: s.SolverOptions

    @property
    def n(self) -> int:
        """Number of steps."""
        return len(self.index)

    @property
    def years(self) -> float:
        """Horizon length in years (8760 h = 1), for annual fees."""
        return self.n * self.dt_h / 8760.0

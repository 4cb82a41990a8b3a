"""The scenario schema: every key a scenario YAML file may hold, validated by pydantic.

Unknown or misspelt keys are errors (``extra="forbid"``). Units are in the key names.
Relative paths are resolved against the scenario file's folder by the loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from pecopt.timezones import check_zone

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
#: An IANA time-zone name that zoneinfo (and so pandas) can load, e.g. ``Europe/Helsinki``.
TimeZone = Annotated[str, AfterValidator(check_zone)]


class Strict(BaseModel):
    """Base: unknown keys are errors, numbers are finite and models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Site(Strict):
    name: str = "district"
    latitude: Annotated[float, Field(ge=-90, le=90)] = 60.2055
    longitude: Annotated[float, Field(ge=-180, le=180)] = 24.6559
    altitude_m: float = 20.0
    timezone: TimeZone = "Europe/Helsinki"


class Horizon(Strict):
    """``start`` inclusive, ``end`` exclusive; naive times are local (site time zone)."""

    start: str
    end: str
    resolution: Literal["1h", "15min"] = "1h"


class Weather(Strict):
    source: Literal["typical_year", "file"] = "typical_year"
    path: Path | None = None
    kind: Literal["epw", "tmy3", "pvgis"] = "epw"

    @model_validator(mode="after")
    def _path_for_file(self) -> Weather:
        if self.source == "file" and self.path is None:
            raise ValueError("source 'file' needs 'path'")
        return self


class Archetype(Strict):
    use: Literal["apartment", "office", "school", "retail"]
    floor_area_m2: Positive
    elec_kwh_m2_yr: NonNeg
    space_heat_kwh_m2_yr: NonNeg
    hot_water_kwh_m2_yr: NonNeg = 0.0


class Metered(Strict):
    """A metered load file (CSV or Parquet) with electricity and/or heat columns."""

    path: Path
    time_column: str = "timestamp"
    timezone: TimeZone = "UTC"
    unit: Literal["kw", "kwh"] = "kw"
    elec_column: str | None = None
    heat_column: str | None = None


class PVArray(Strict):
    name: str
    kwp: NonNeg
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    azimuth_deg: Annotated[float, Field(ge=0, le=360)] = 180.0
    losses_pct: Annotated[float, Field(ge=0, lt=100)] = 14.0


class SeriesFile(Strict):
    """One column of a time-series file (CSV or Parquet)."""

    path: Path
    column: str
    time_column: str = "timestamp"
    timezone: TimeZone = "UTC"


class Building(Strict):
    name: str
    archetype: Archetype | None = None
    metered: Metered | None = None
    pv: list[PVArray] = []

    @model_validator(mode="after")
    def _one_load(self) -> Building:
        if (self.archetype is None) == (self.metered is None):
            raise ValueError("give exactly one of 'archetype' or 'metered'")
        return self


class Grid(Strict):
    """``binaries`` overrides ``solver.binaries`` for import/export exclusivity."""

    import_max_kw: NonNeg = 1e4
    export_max_kw: NonNeg = 1e4
    binaries: Literal["auto", "always", "never"] | None = None


class PVSeries(Strict):
    """PV whose available AC power comes from a file (e.g. another tool's forecast)."""

    name: str
    series: SeriesFile


class Battery(Strict):
    name: str
    capacity_kwh: NonNeg
    power_kw: NonNeg
    eta_charge: Efficiency = 0.95
    eta_discharge: Efficiency = 0.95
    loss_per_h: Fraction = 0.0
    soc_initial_kwh: NonNeg | None = None
    end: Literal["cyclic", "initial", "free"] = "cyclic"
    wear_eur_per_kwh: NonNeg = 0.0
    binaries: Literal["auto", "always", "never"] | None = None

    @model_validator(mode="after")
    def _soc(self) -> Battery:
        _check_soc(self.capacity_kwh, self.soc_initial_kwh)
        return self


def _check_soc(capacity: float, soc: float | None) -> None:
    if soc is not None and soc > capacity:
        raise ValueError("soc_initial_kwh must not exceed capacity_kwh")


class HeatPump(Strict):
    """COP = min(cop_max, carnot_efficiency * T_sink / (T_sink - T_source)), T in kelvin."""

    name: str
    source: Literal["air", "ground", "series"] = "air"
    capacity_kw_el: NonNeg
    min_part_load: Fraction = 0.0
    carnot_efficiency: Efficiency = 0.45
    sink_temp_c: float = 45.0
    ground_temp_c: float = 5.0
    cop_max: Positive = 6.0
    cop_series: SeriesFile | None = None
    binaries: Literal["auto", "always", "never"] | None = None

    @model_validator(mode="after")
    def _series(self) -> HeatPump:
        if self.source == "series" and self.cop_series is None:
            raise ValueError("source 'series' needs 'cop_series'")
        return self


class ElectricBoiler(Strict):
    name: str
    capacity_kw: NonNeg
    efficiency: Efficiency = 0.99


class ThermalStore(Strict):
    name: str
    capacity_kwh: NonNeg
    power_kw: NonNeg
    eta_charge: Efficiency = 0.98
    eta_discharge: Efficiency = 0.98
    loss_per_h: Fraction = 0.005
    soc_initial_kwh: NonNeg | None = None
    end: Literal["cyclic", "initial", "free"] = "cyclic"
    binaries: Literal["auto", "always", "never"] | None = None

    @model_validator(mode="after")
    def _soc(self) -> ThermalStore:
        _check_soc(self.capacity_kwh, self.soc_initial_kwh)
        return self


class DistrictHeating(Strict):
    import_max_kw: NonNeg = 1e4
    export_max_kw: NonNeg = 0.0
    export_price_eur_per_kwh: float = 0.0


class SyntheticCommuters(Strict):
    """A deterministic commuter fleet: away on working days, driving out and back."""

    vehicles: Annotated[int, Field(ge=1)]
    depart_local_h: Annotated[int, Field(ge=0, le=23)] = 7
    return_local_h: Annotated[int, Field(ge=0, le=23)] = 17
    drive_kwh_per_day: NonNeg = 8.0
    weekend_trip_share: Fraction = 0.3
    seed: int = 0


class EVFleet(Strict):
    """Per-vehicle EVs; exactly one of ``sessions``, ``availability`` or ``synthetic``.

    sessions file columns: vehicle, arrival, departure, energy_kwh (wanted by departure).
    availability file columns: timestamp, vehicle, plugged (bool), drive_kwh (per step).
    """

    name: str = "ev"
    charger_kw: NonNeg = 11.0
    efficiency: Efficiency = 0.92
    capacity_kwh: Positive = 60.0
    soc_initial_kwh: NonNeg | None = None
    #: per-vehicle energy at the start [kWh] (e.g. from last night's run); overrides
    #: soc_initial_kwh for the vehicles it names
    initial_energy_kwh: dict[str, NonNeg] = {}
    end: Literal["cyclic", "initial", "free"] = "cyclic"
    shortfall_penalty_eur_per_kwh: NonNeg | None = 1.0
    sessions: Path | None = None
    availability: Path | None = None
    synthetic: SyntheticCommuters | None = None
    timezone: TimeZone = "UTC"

    @model_validator(mode="after")
    def _one_source(self) -> EVFleet:
        given = [x is not None for x in (self.sessions, self.availability, self.synthetic)]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'sessions', 'availability' or 'synthetic'")
        too_big = [v for v, e in self.initial_energy_kwh.items() if e > self.capacity_kwh]
        if too_big or (self.soc_initial_kwh or 0.0) > self.capacity_kwh:
            raise ValueError(f"initial energy above capacity_kwh for {too_big or 'the fleet'}")
        return self


class Assets(Strict):
    grid: Grid = Grid()
    pv_series: list[PVSeries] = []
    batteries: list[Battery] = []
    heat_pumps: list[HeatPump] = []
    electric_boilers: list[ElectricBoiler] = []
    thermal_stores: list[ThermalStore] = []
    district_heating: DistrictHeating | None = None
    ev_fleets: list[EVFleet] = []


class SpotPrice(Strict):
    source: Literal["typical_year", "file"] = "typical_year"
    path: Path | None = None
    column: str = "spot"
    time_column: str = "timestamp"
    timezone: TimeZone = "UTC"
    unit: Literal["eur_per_mwh", "c_per_kwh", "eur_per_kwh"] = "eur_per_mwh"
    vat_included: bool = False

    @model_validator(mode="after")
    def _path_for_file(self) -> SpotPrice:
        if self.source == "file" and self.path is None:
            raise ValueError("source 'file' needs 'path'")
        return self


class TouBand(Strict):
    """A network-fee band, in local time: applies when month, weekday and hour all match."""

    eur_per_kwh: NonNeg
    months: list[Annotated[int, Field(ge=1, le=12)]] = list(range(1, 13))
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = list(range(7))
    hours: list[Annotated[int, Field(ge=0, le=23)]] = list(range(24))


class Network(Strict):
    default_eur_per_kwh: NonNeg = 0.0
    bands: list[TouBand] = []


class ElectricityTariff(Strict):
    spot: SpotPrice = SpotPrice()
    retail_margin_eur_per_kwh: float = 0.0
    export_margin_eur_per_kwh: float = 0.0
    network: Network = Network()
    tax_class: Literal["I", "II", "none"] = "I"
    vat: Fraction = 0.0


class DistrictHeatTariff(Strict):
    """Energy price (one of constant, summer/winter or monthly) and a power fee on the
    billing peak, the highest ``peak_window_h``-hour average import."""

    energy_eur_per_kwh: NonNeg | None = None
    summer_eur_per_kwh: NonNeg | None = None
    winter_eur_per_kwh: NonNeg | None = None
    monthly_eur_per_kwh: list[NonNeg] | None = None
    price_series: SeriesFile | None = None
    power_fee_eur_per_kw_yr: NonNeg = 0.0
    peak_window_h: Annotated[int, Field(ge=1, le=24)] = 3

    @model_validator(mode="after")
    def _one_price(self) -> DistrictHeatTariff:
        given = [
            self.energy_eur_per_kwh is not None,
            self.summer_eur_per_kwh is not None or self.winter_eur_per_kwh is not None,
            self.monthly_eur_per_kwh is not None,
            self.price_series is not None,
        ]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of energy_eur_per_kwh, summer/winter_eur_per_kwh, "
                "monthly_eur_per_kwh or price_series"
            )
        if given[1] and (self.summer_eur_per_kwh is None or self.winter_eur_per_kwh is None):
            raise ValueError("give both summer_eur_per_kwh and winter_eur_per_kwh")
        if self.monthly_eur_per_kwh is not None and len(self.monthly_eur_per_kwh) != 12:
            raise ValueError("monthly_eur_per_kwh needs 12 values")
        return self


class Tariffs(Strict):
    electricity: ElectricityTariff = ElectricityTariff()
    district_heat: DistrictHeatTariff = DistrictHeatTariff(energy_eur_per_kwh=0.065)


class EmissionFactor(Strict):
    constant_kg_per_kwh: NonNeg | None = None
    series: SeriesFile | None = None

    @model_validator(mode="after")
    def _one(self) -> EmissionFactor:
        if (self.constant_kg_per_kwh is None) == (self.series is None):
            raise ValueError("give exactly one of constant_kg_per_kwh or series")
        return self


class Carbon(Strict):
    grid: EmissionFactor = EmissionFactor(constant_kg_per_kwh=0.06)
    district_heat: EmissionFactor = EmissionFactor(constant_kg_per_kwh=0.1078)
    export_credit: bool = True


class PED(Strict):
    electricity_factor: NonNeg = 1.2
    district_heat_factor: NonNeg = 0.5
    boundary: Literal["geographical", "functional", "virtual"] = "geographical"


class Objective(Strict):
    """cost: money (+ carbon_price on priced emissions); emissions: kg CO2e;
    cost_co2_cap: money subject to total emissions <= co2_cap_kg."""

    kind: Literal["cost", "emissions", "cost_co2_cap"] = "cost"
    carbon_price_eur_per_kg: NonNeg = 0.0
    carbon_priced_on: Literal["imports", "net"] = "imports"
    co2_cap_kg: NonNeg | None = None

    @model_validator(mode="after")
    def _cap(self) -> Objective:
        if self.kind == "cost_co2_cap" and self.co2_cap_kg is None:
            raise ValueError("kind 'cost_co2_cap' needs co2_cap_kg")
        return self


class SolverOptions(Strict):
    time_limit_s: Positive = 600.0
    mip_rel_gap: NonNeg = 1e-4
    threads: Annotated[int, Field(ge=0)] = 0
    binaries: Literal["auto", "always", "never"] = "auto"
    presolve: Literal["on", "off", "choose"] = "choose"
    #: MILPs only: ``lp_rounding`` hands HiGHS a feasible start from the LP relaxation,
    #: rounded and re-solved with the binaries fixed (see :func:`pecopt.solve.lp_rounding_start`);
    #: ``auto`` does so from 500 binaries up (a few binaries HiGHS settles on its own faster
    #: than the extra LP solves take)
    mip_start: Literal["auto", "lp_rounding", "none"] = "auto"
    method: Literal["choose", "simplex", "ipm", "pdlp"] = "choose"


class Scenario(Strict):
    """A whole scenario file."""

    site: Site = Site()
    horizon: Horizon
    weather: Weather = Weather()
    buildings: list[Building] = []
    assets: Assets = Assets()
    tariffs: Tariffs = Tariffs()
    carbon: Carbon = Carbon()
    ped: PED = PED()
    objective: Objective = Objective()
    solver: SolverOptions = SolverOptions()
    demand: SeriesDemand | None = None


class SeriesDemand(Strict):
    """District-level demand from files, in addition to the buildings' loads."""

    elec: SeriesFile | None = None
    heat: SeriesFile | None = None


Scenario.model_rebuild()

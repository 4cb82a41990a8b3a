"""The district-wide sections of a scenario (site, horizon, weather, heat system, carbon,
PED, targets, economics, aggregation, objective, solver, dispatch): everything that does
not depend on the technologies, so that the layers below the registry (the solver, the
technology interface) can read them without composing the whole schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from pecopt.scenario.types import NonNeg, Positive, Strict, TimeZone

__all__ = [
    "PED",
    "Aggregation",
    "Carbon",
    "Dispatch",
    "Economics",
    "HeatSystem",
    "Horizon",
    "Objective",
    "PEDTarget",
    "Site",
    "SolverOptions",
    "SpaceHeatCurve",
    "Targets",
    "VirtualSupply",
    "Weather",
]


class Site(Strict):
    name: str = "district"
    """The district's name (shown in reports)."""
    latitude: Annotated[float, Field(ge=-90, le=90)] = 60.2055
    """Latitude [degrees north] (default: Kera, Espoo)."""
    longitude: Annotated[float, Field(ge=-180, le=180)] = 24.6559
    """Longitude [degrees east]."""
    altitude_m: float = 20.0
    """Altitude above sea level [m] (solar position and air mass for PV)."""
    timezone: TimeZone = "Europe/Helsinki"
    """The site's time zone (an IANA name): naive horizon times are read in it and local days,
    months and tariff hours are its."""


class Horizon(Strict):
    """``start`` inclusive, ``end`` exclusive; naive times are local (site time zone)."""

    start: str
    """First step, inclusive (ISO 8601; a naive time is in the site's time zone)."""
    end: str
    """End of the horizon, exclusive (ISO 8601; a naive time is in the site's time zone)."""
    resolution: Literal["1h", "15min"] = "1h"
    """Length of a step: one hour or 15 minutes."""


class Weather(Strict):
    """``typical_year`` (embedded), a typical-year ``file`` (EPW, TMY3, PVGIS) or a weather
    ``forecast`` (CSV or Parquet, see :mod:`pecopt.ingest.forecast`): ``time_column``,
    ``timezone`` of naive times and ``columns`` (canonical name -> file column, e.g.
    ``{ghi_w_m2: GHI}``) apply to forecasts."""

    source: Literal["typical_year", "file", "forecast"] = "typical_year"
    """``typical_year``: the embedded synthetic Helsinki-Vantaa year; ``file``: a typical-year file
    (``path``, ``kind``); ``forecast``: a forecast file (``path`` and the keys below)."""
    path: Path | None = None
    """The weather file (``source: file`` or ``forecast``), relative to the scenario file."""
    kind: Literal["epw", "tmy3", "pvgis"] = "epw"
    """Format of a typical-year file: EnergyPlus EPW, TMY3 or PVGIS TMY."""
    time_column: str = "timestamp"
    """Forecasts: the column holding the time stamps."""
    timezone: TimeZone = "UTC"
    """Forecasts: the time zone of naive time stamps."""
    columns: dict[str, str] = {}
    """Forecasts: canonical name -> file column (``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` [W/m2],
    ``temp_air_c`` [degC], ``wind_speed_m_s`` [m/s])."""

    @model_validator(mode="after")
    def _path_for_file(self) -> Weather:
        if self.source in ("file", "forecast") and self.path is None:
            raise ValueError(f"source '{self.source}' needs 'path'")
        known = {"ghi_w_m2", "dni_w_m2", "dhi_w_m2", "temp_air_c", "wind_speed_m_s"}
        unknown = sorted(set(self.columns) - known)
        if unknown:
            raise ValueError(f"columns: unknown canonical name(s) {unknown} (use {sorted(known)})")
        return self


class SpaceHeatCurve(Strict):
    """The buildings' heating loop: supply temperature on a straight line between two
    points (outdoor, supply) [degC], flat outside them. Default: VTT's radiator curve,
    60 degC at -30 degC to 20 degC at +20 degC (floor heating: 40 to 20 degC)."""

    outdoor_c: tuple[float, float] = (-30.0, 20.0)
    """The two outdoor temperatures of the curve, colder first [degC]."""
    supply_c: tuple[float, float] = (60.0, 20.0)
    """The space-heating supply temperatures at those two outdoor temperatures [degC]."""

    @model_validator(mode="after")
    def _ordered(self) -> SpaceHeatCurve:
        if not self.outdoor_c[0] < self.outdoor_c[1]:
            raise ValueError("outdoor_c must be increasing (colder point first)")
        return self


class HeatSystem(Strict):
    """The temperatures heat is needed at.

    ``space_heat``: the weather-compensated supply curve of the buildings' heating;
    ``hot_water_c``: domestic hot water supply, >= 55 degC at every tap by Finnish decree
    1047/2017, 58 degC in the district-heating guideline K1 (FACTS-HEAT section 2).
    """

    space_heat: SpaceHeatCurve = SpaceHeatCurve()
    """The weather-compensated supply-temperature curve of the buildings' space heating."""
    hot_water_c: Annotated[float, Field(ge=40.0, le=90.0)] = 58.0
    """Domestic hot-water supply temperature [degC] (>= 55 degC at every tap, Finnish decree
    1047/2017; 58 degC in guideline K1)."""


class Carbon(Strict):
    """``export_credit``: exports earn a credit at their emission factor."""

    export_credit: bool = True
    """Exports earn an emission credit at their emission factor [kg CO2e/kWh exported]."""


class VirtualSupply(Strict):
    """Off-site renewable supply contracted for the district (a share of a wind farm, a
    PPA) [kWh per year, pro rata over the horizon], counted only under a virtual boundary,
    on the energy bases, weighted like the import it stands for."""

    name: str
    """The contract's name (e.g. a wind-farm share)."""
    kwh_per_yr: Annotated[float, Field(ge=0.0)]
    """Energy the contract supplies [kWh per year], pro rata over the horizon."""
    ped_weight: Annotated[float, Field(ge=0.0)] = 1.2
    """Weighting factor of this supply in the weighted-energy PED balance [1] (default 1.2, like
    grid electricity)."""


class PED(Strict):
    """What the positive-energy balance counts (the PED framework's boundaries, after
    +CityxChange; FACTS: PED definition and balance):

    - ``geographical``: what crosses the district's physical boundary (the default);
    - ``functional``: also counts, as local supply, imports from sources functionally tied
      to the district (flows tagged ``functional``: e.g. waste heat from a nearby data
      centre outside the boundary, ``assets.waste_heat[].location: outside``);
    - ``virtual``: also counts contracted off-site renewable supply (``virtual_supply``)
      on the energy bases (not on the GHG basis: location-based emissions are unchanged).
    """

    boundary: Literal["geographical", "functional", "virtual"] = "geographical"
    """What the PED balance counts: ``geographical`` (the physical boundary), ``functional`` (also
    functionally tied imports) or ``virtual`` (also ``virtual_supply``)."""
    virtual_supply: list[VirtualSupply] = []
    """Contracted off-site renewable supply, counted only with ``boundary: virtual``."""

    @model_validator(mode="after")
    def _virtual(self) -> PED:
        if self.virtual_supply and self.boundary != "virtual":
            raise ValueError("virtual_supply counts only with boundary: virtual")
        return self


class PEDTarget(Strict):
    """The district must be positive-energy on ``basis``: its annual surplus at least
    ``margin_per_yr`` (kWh for the energy bases; for ``ghg``, net emissions at most
    ``-margin_per_yr`` kg CO2e), pro rata over the horizon. With
    ``shortfall_penalty_eur_per_kwh`` (EUR per kWh, or per kg for ``ghg``) the target may
    be missed at that price (reported), else it is a hard constraint."""

    basis: Literal["final_energy", "weighted_energy", "ghg"] = "final_energy"
    """The balance the target is on: final energy, weighted energy [kWh] or greenhouse gases [kg
    CO2e]."""
    margin_per_yr: float = 0.0
    """Required annual surplus [kWh/yr; for ``ghg``: net emissions at most minus this, kg CO2e/yr],
    pro rata over the horizon."""
    shortfall_penalty_eur_per_kwh: NonNeg | None = None
    """Price of missing the target [EUR/kWh, or EUR/kg for ``ghg``]; None: a hard constraint."""


class Targets(Strict):
    """Design targets as constraints: PED balances and a CO2 cap [kg CO2e per year, net
    of export credit, pro rata over the horizon]."""

    ped: list[PEDTarget] = []
    """Positive-energy targets the design must meet (one per basis)."""
    co2_max_kg_per_yr: float | None = None
    """Cap on net emissions, net of export credit [kg CO2e per year], pro rata over the horizon;
    None: no cap."""


class Economics(Strict):
    """Annualising investments: ``discount_rate`` [1/yr] (default 4 %: PyPSA's decentral
    rate; EU Better Regulation social rate 3 %; REopt 6.24 %; FACTS-HEAT section 7)."""

    discount_rate: Annotated[float, Field(ge=0.0, le=0.5)] = 0.04
    """Discount rate for annualising investments [1/yr] (4 %: PyPSA's decentral rate)."""


class Aggregation(Strict):
    """Design on typical periods (:mod:`pecopt.aggregation`): the horizon is cut into
    periods of ``period_h`` hours, ``typical_periods`` of them (real periods picked by
    tsam's hierarchical clustering, medoids) stand for all, each weighted by its cluster's
    size, and stores carry energy across the year through the original period order
    (Kotzur et al. 2018). The sizes found there are then fixed and the whole horizon is
    dispatched with them: the schedule, costs and KPIs are those of the whole horizon, and
    ``kpis.aggregation`` says how far the typical-period optimum was from it."""

    typical_periods: Annotated[int, Field(ge=1)]
    """How many typical periods stand for the horizon (medoids of tsam's hierarchical clustering).
    """
    period_h: Annotated[int, Field(ge=1, le=2208)] = 168
    """Length of a period [h] (168: a week; 24: a day)."""


class Objective(Strict):
    """cost: money (+ carbon_price on priced emissions); emissions: kg CO2e, then money
    (the cheapest of the least-emitting plans); cost_co2_cap: money subject to net
    emissions over the horizon <= co2_cap_kg. Penalties (energy not served, targets
    missed) come first under every objective; ``tie_tolerance`` is the relative slack a
    later stage may take from an earlier one's optimum."""

    kind: Literal["cost", "emissions", "cost_co2_cap"] = "cost"
    """``cost`` (money), ``emissions`` (kg CO2e, then money) or ``cost_co2_cap`` (money with net
    emissions <= ``co2_cap_kg``)."""
    carbon_price_eur_per_kg: NonNeg = 0.0
    """Carbon price added to the cost objective [EUR/kg CO2e]."""
    carbon_priced_on: Literal["imports", "net"] = "imports"
    """What the carbon price applies to: import emissions, or net emissions (after export credit).
    """
    co2_cap_kg: float | None = None
    """Cap on net emissions over the horizon [kg CO2e] (``kind: cost_co2_cap``)."""
    tie_tolerance: Annotated[float, Field(ge=0.0, le=0.1)] = 1e-6
    """Relative slack a later objective stage may take from an earlier stage's optimum [1]."""

    @model_validator(mode="after")
    def _cap(self) -> Objective:
        if self.kind == "cost_co2_cap" and self.co2_cap_kg is None:
            raise ValueError("kind 'cost_co2_cap' needs co2_cap_kg")
        return self


class SolverOptions(Strict):
    time_limit_s: Positive = 600.0
    """Wall-clock limit of a solve [s]."""
    mip_rel_gap: NonNeg = 1e-4
    """Relative MIP gap at which HiGHS stops [1]."""
    threads: Annotated[int, Field(ge=0, le=1024)] = 0
    """HiGHS threads (0: HiGHS chooses)."""
    binaries: Literal["auto", "always", "never"] = "auto"
    """Where binaries are used (exclusivity, on/off): ``auto`` only where they can change the
    optimum, ``always``, or ``never`` (the LP relaxation)."""
    presolve: Literal["on", "off", "choose"] = "choose"
    """HiGHS presolve: on, off or HiGHS's choice."""
    mip_start: Literal["auto", "lp_rounding", "none"] = "auto"
    """MILPs only: ``lp_rounding`` hands HiGHS a feasible start from the LP relaxation, rounded and
    re-solved with the binaries fixed (see :func:`pecopt.solver.highs.lp_rounding_start`);
    ``auto`` does so from 500 binaries up (a few binaries HiGHS settles on its own faster than
    the extra LP solves take)."""
    method: Literal["choose", "simplex", "ipm", "pdlp"] = "choose"
    """The LP algorithm: HiGHS's choice, simplex, interior point (ipm) or PDLP."""


class Dispatch(Strict):
    """``pecopt dispatch``: the nightly (or intraday) plan from the carried state.

    A run plans the delivery day (local midnight to midnight: 23, 24 or 25 hours) or,
    with ``--from``, the rest of it, plus ``lookahead_h`` hours, in ``resolution`` steps.
    Stores whose file says ``end: cyclic`` end ``store_end`` instead (a rolling horizon
    has no cycle): ``value`` credits what is left at ``end_value_eur_per_kwh`` (by store
    name, else by carrier), ``initial`` keeps at least the start level, ``free`` lets it
    run down. EV fleets end ``ev_end``. Without a carried state (the first night), a store
    starts at ``initial_share`` of its capacity unless the file gives ``soc_initial_kwh``.

    Missing day-ahead prices (``missing_prices: fill``) are forecast from the recent level
    on the embedded shape (:func:`pecopt.ingest.spot.fill_missing_prices`) over the
    last ``price_history_days`` days the file holds. Raising the district-heat billing
    peak above the highest so far costs the power fee for ``peak_fee_years`` years; the
    peak so far restarts every ``billing_peak_reset``. ``time_limit_s`` bounds the whole
    run (``--time-limit`` overrides it); a plan that needs slack pays
    ``slack_penalty_eur_per_unit`` per kWh (or kW) of violation.
    """

    resolution: Literal["1h", "15min"] = "15min"
    """Length of a step of the nightly plan: 15 minutes or one hour."""
    lookahead_h: Annotated[int, Field(ge=0, le=168)] = 24
    """Hours planned beyond the delivery day [h]."""
    store_end: Literal["value", "initial", "free"] = "value"
    """How stores whose file says ``end: cyclic`` end a rolling horizon: ``value`` (what is left is
    credited), ``initial`` (at least the start level) or ``free``."""
    end_value_eur_per_kwh: dict[str, NonNeg] = {
        "electricity": 0.05,
        "hot_water": 0.02,
        "space_heat": 0.02,
    }
    """Value of energy left in a store at the horizon's end, by store name or else by carrier
    [EUR/kWh]."""
    ev_end: Literal["free", "initial"] = "free"
    """How EV fleets end the horizon: ``free`` or ``initial`` (each car at least its start energy).
    """
    ev_reserve: bool = True
    """Each residents' or workplace car ends the horizon holding what it drives before it next plugs
    in (the Monday commute of a car that leaves work on Friday), short at the fleet's shortfall
    penalty (the penalty item ``ev_reserve_penalty``)."""
    ground_value_eur_per_kwh: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    """What a kWh of a borehole's annual cap left for later is worth to a plan on the year so far
    [EUR/kWh of ground heat] (``borehole.ground_value_eur_per_kwh``, set on every borehole; None:
    the file's own); the dual of the cap in a full-year optimum is the figure to give."""
    initial_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    """Without a carried state (the first night), a store starts at this share of its capacity [1]
    unless its file gives ``soc_initial_kwh``."""
    missing_prices: Literal["fill", "error"] = "fill"
    """Missing day-ahead prices: ``fill`` (forecast from the recent level on the embedded shape) or
    ``error``."""
    price_history_days: Annotated[int, Field(ge=1, le=60)] = 7
    """Days of known prices the fill uses [d]."""
    peak_fee_years: NonNeg = 1.0
    """Years a raise of the district-heat billing peak is paid for [yr]."""
    billing_peak_reset: Literal["never", "month", "year"] = "never"
    """When the billing peak so far restarts: never, every month or every year."""
    time_limit_s: Positive = 60.0
    """Wall-clock limit of a whole dispatch run [s] (``--time-limit`` overrides it)."""
    slack_penalty_eur_per_unit: Positive = 1000.0
    """Price of a plan's slack [EUR per kWh, or per kW, of violation]."""
    stand_ins: Literal["degraded", "allowed"] = "degraded"
    """A night planned on pecopt's embedded stand-ins (typical-year weather or spot-price shape) is
    degraded (exit 10) unless they are ``allowed`` (a demonstration on a fresh install): an
    operator who forgot the price file must not get plans on made-up prices night after night
    with exit 0."""
    imbalance_spread_eur_per_kwh: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    """Imbalance settlement of a replayed day [EUR/kWh]: the plan's net grid import on the delivery
    day is the day-ahead position; a settled day's deviation from it, short or long, costs this
    spread over the day-ahead price (the single-price imbalance price taken against the district:
    an assumption while no FI imbalance price series is at hand; 0: no imbalance is billed)."""
    keep_days: Annotated[float, Field(gt=0, le=36500)] | None = None
    """After each run, delete the runs whose delivery window ended more than this many days before
    the newest one's (``pecopt runs prune --keep-days``); None keeps all."""

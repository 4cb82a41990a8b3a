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
    """``typical_year`` (embedded), a typical-year ``file`` (EPW, TMY3, PVGIS) or a weather
    ``forecast`` (CSV or Parquet, see :mod:`pecopt.ingest.forecast`): ``time_column``,
    ``timezone`` of naive times and ``columns`` (canonical name -> file column, e.g.
    ``{ghi_w_m2: GHI}``) apply to forecasts."""

    source: Literal["typical_year", "file", "forecast"] = "typical_year"
    path: Path | None = None
    kind: Literal["epw", "tmy3", "pvgis"] = "epw"
    time_column: str = "timestamp"
    timezone: TimeZone = "UTC"
    columns: dict[str, str] = {}

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
    supply_c: tuple[float, float] = (60.0, 20.0)

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
    hot_water_c: Annotated[float, Field(ge=40.0, le=90.0)] = 58.0


class Carbon(Strict):
    """``export_credit``: exports earn a credit at their emission factor."""

    export_credit: bool = True


class VirtualSupply(Strict):
    """Off-site renewable supply contracted for the district (a share of a wind farm, a
    PPA) [kWh per year, pro rata over the horizon], counted only under a virtual boundary,
    on the energy bases, weighted like the import it stands for."""

    name: str
    kwh_per_yr: Annotated[float, Field(ge=0.0)]
    ped_weight: Annotated[float, Field(ge=0.0)] = 1.2


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
    virtual_supply: list[VirtualSupply] = []

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
    margin_per_yr: float = 0.0
    shortfall_penalty_eur_per_kwh: NonNeg | None = None


class Targets(Strict):
    """Design targets as constraints: PED balances and a CO2 cap [kg CO2e per year, net
    of export credit, pro rata over the horizon]."""

    ped: list[PEDTarget] = []
    co2_max_kg_per_yr: float | None = None


class Economics(Strict):
    """Annualising investments: ``discount_rate`` [1/yr] (default 4 %: PyPSA's decentral
    rate; EU Better Regulation social rate 3 %; REopt 6.24 %; FACTS-HEAT section 7)."""

    discount_rate: Annotated[float, Field(ge=0.0, le=0.5)] = 0.04


class Aggregation(Strict):
    """Design on typical periods (:mod:`pecopt.aggregation`): the horizon is cut into
    periods of ``period_h`` hours, ``typical_periods`` of them (real periods picked by
    tsam's hierarchical clustering, medoids) stand for all, each weighted by its cluster's
    size, and stores carry energy across the year through the original period order
    (Kotzur et al. 2018). The sizes found there are then fixed and the whole horizon is
    dispatched with them: the schedule, costs and KPIs are those of the whole horizon, and
    ``kpis.aggregation`` says how far the typical-period optimum was from it."""

    typical_periods: Annotated[int, Field(ge=1)]
    period_h: Annotated[int, Field(ge=1, le=2208)] = 168


class Objective(Strict):
    """cost: money (+ carbon_price on priced emissions); emissions: kg CO2e, then money
    (the cheapest of the least-emitting plans); cost_co2_cap: money subject to net
    emissions over the horizon <= co2_cap_kg. Penalties (energy not served, targets
    missed) come first under every objective; ``tie_tolerance`` is the relative slack a
    later stage may take from an earlier one's optimum."""

    kind: Literal["cost", "emissions", "cost_co2_cap"] = "cost"
    carbon_price_eur_per_kg: NonNeg = 0.0
    carbon_priced_on: Literal["imports", "net"] = "imports"
    co2_cap_kg: float | None = None
    tie_tolerance: Annotated[float, Field(ge=0.0, le=0.1)] = 1e-6

    @model_validator(mode="after")
    def _cap(self) -> Objective:
        if self.kind == "cost_co2_cap" and self.co2_cap_kg is None:
            raise ValueError("kind 'cost_co2_cap' needs co2_cap_kg")
        return self


class SolverOptions(Strict):
    time_limit_s: Positive = 600.0
    mip_rel_gap: NonNeg = 1e-4
    threads: Annotated[int, Field(ge=0, le=1024)] = 0
    binaries: Literal["auto", "always", "never"] = "auto"
    presolve: Literal["on", "off", "choose"] = "choose"
    #: MILPs only: ``lp_rounding`` hands HiGHS a feasible start from the LP relaxation,
    #: rounded and re-solved with the binaries fixed (see
    #: :func:`pecopt.solver.highs.lp_rounding_start`); ``auto`` does so from 500 binaries up
    #: (a few binaries HiGHS settles on its own faster than the extra LP solves take)
    mip_start: Literal["auto", "lp_rounding", "none"] = "auto"
    method: Literal["choose", "simplex", "ipm", "pdlp"] = "choose"


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
    lookahead_h: Annotated[int, Field(ge=0, le=168)] = 24
    store_end: Literal["value", "initial", "free"] = "value"
    end_value_eur_per_kwh: dict[str, NonNeg] = {
        "electricity": 0.05,
        "hot_water": 0.02,
        "space_heat": 0.02,
    }
    ev_end: Literal["free", "initial"] = "free"
    #: each residents' or workplace car ends the horizon holding what it drives before it
    #: next plugs in (the Monday commute of a car that leaves work on Friday), short at
    #: the fleet's shortfall penalty (the penalty item ``ev_reserve_penalty``)
    ev_reserve: bool = True
    #: what a kWh of a borehole's annual cap left for later is worth to a plan on the year
    #: so far [EUR/kWh of ground heat] (``borehole.ground_value_eur_per_kwh``, set on every
    #: borehole; None: the file's own); the dual of the cap in a full-year optimum is the
    #: figure to give
    ground_value_eur_per_kwh: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    initial_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    missing_prices: Literal["fill", "error"] = "fill"
    price_history_days: Annotated[int, Field(ge=1, le=60)] = 7
    peak_fee_years: NonNeg = 1.0
    billing_peak_reset: Literal["never", "month", "year"] = "never"
    time_limit_s: Positive = 60.0
    slack_penalty_eur_per_unit: Positive = 1000.0
    #: a night planned on pecopt's embedded stand-ins (typical-year weather or spot-price
    #: shape) is degraded (exit 10) unless they are ``allowed`` (a demonstration on a
    #: fresh install): an operator who forgot the price file must not get plans on
    #: made-up prices night after night with exit 0
    stand_ins: Literal["degraded", "allowed"] = "degraded"
    #: imbalance settlement of a replayed day [EUR/kWh]: the plan's net grid import on the
    #: delivery day is the day-ahead position; a settled day's deviation from it, short or
    #: long, costs this spread over the day-ahead price (the single-price imbalance price
    #: taken against the district: an assumption while no FI imbalance price series is at
    #: hand; 0: no imbalance is billed)
    imbalance_spread_eur_per_kwh: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    #: after each run, delete the runs whose delivery window ended more than this many
    #: days before the newest one's (``pecopt runs prune --keep-days``); None keeps all
    keep_days: Annotated[float, Field(gt=0, le=36500)] | None = None

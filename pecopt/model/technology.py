"""The technology interface: what one technology file declares, and what its block returns.

A technology is **one module** in :mod:`pecopt.model.blocks` that declares a
:class:`Technology`: its parameter record (a pydantic model: the scenario schema is
composed from these), what it reads from the inputs (``ingest``: Parquet tables derived
from the scenario, weather and files; ``prepare``: frozen arrays for the build), and its
equations (``build``: a Pyomo block). The block returns a :class:`Contribution` whose
**flows are tagged** (carrier, role, emission factor, PED weight, functional supply). The model
core sums flows into bus balances; the objective, the carbon balance, the KPIs and the
PED balance are sums over the tags. No list of technology names exists anywhere else:
:mod:`pecopt.model.registry` is the one place where technologies are listed.

Roles (what a flow is, seen from the district boundary):

==============  ==============================================================
``import``      energy bought from outside (grid, district heat, waste heat)
``export``      energy sold outside (grid export, district-heat feed-in)
``generation``  local production (PV, solar thermal)
``conversion``  a carrier turned into another (heat pump, boiler): both sides
``storage``     discharge minus charge of a store
``demand``      a draw that must be met (buildings, EVs)
``slack``       energy no asset could supply or absorb (only in a plan that had to
                violate its limits, e.g. nightly dispatch's slack plan)
==============  ==============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import BaseModel

from pecopt.ingest.sources import climate_degree_hours, series_values, weather_for
from pecopt.model.capacity import Amount
from pecopt.model.carry import Start, StateReader
from pecopt.model.linear import FloatArray, Term

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.schema import Scenario
    from pecopt.scenario.settings import Carbon, Dispatch, Objective, SolverOptions

Role = Literal["import", "export", "generation", "conversion", "storage", "demand", "slack"]
ROLES: tuple[str, ...] = get_args(Role)

#: Reads a vector variable's solution values.
ValueOf = Callable[[pyo.Var], FloatArray]


@dataclass(frozen=True)
class Flow:
    """Power an asset puts into a bus at each step [kW]: ``sum(terms)[t] + constant[t]``
    (> 0 supplies the bus, < 0 draws from it; each term's ``row`` is the step), with tags.

    Attributes
    ----------
    co2_kg_per_kwh
        Emission factor [kg CO2e/kWh] per step (or a constant). The flow emits
        ``factor * flow * dt`` [kg], so an export (a negative flow) earns a credit.
    ped_weight
        Weighting factor [1] of an import or export in the weighted-energy PED balance
        (e.g. the Finnish carrier factors of Decree 788/2017: electricity 1.2, district
        heat 0.5).
    functional
        An import from a source functionally tied to the district (counted as local
        supply under the PED's functional boundary).
    """

    asset: str
    carrier: str
    role: Role
    terms: tuple[Term, ...] = ()
    constant: FloatArray | None = None
    co2_kg_per_kwh: FloatArray | float | None = None
    ped_weight: float | None = None
    functional: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"{self.asset}: unknown role {self.role!r}")


#: Reads a store's energy at the end of each step [kWh] from the solution.
LevelReader = Callable[[ValueOf], FloatArray]


@dataclass
class Contribution:
    """What one technology block adds to the district model.

    ``cost`` maps a cost item (``electricity_spot``, ``dh_power_fee`` ...) to terms in EUR
    (the objective's money); ``penalty`` maps a penalty (energy not served, a target
    missed) to terms in EUR: penalties come first under every objective (see
    :mod:`pecopt.model.core`); ``storage`` maps an asset to its level reader; ``unmet``
    maps an asset to terms of energy it could not serve [kWh] (shortfall at a penalty);
    ``figures`` are asset-specific key figures computed from the solution (e.g. a
    district-heat billing peak [kW]); ``capacities`` map an asset to its capacities
    (``{"power_kw": number or Amount, "energy_kwh": ...}``; sized ones are Amounts);
    ``state`` maps (asset, quantity) to a reader of what the asset carries to the next
    run (:mod:`pecopt.model.carry`: ``n + 1`` values, the first at the horizon's start).
    """

    flows: list[Flow] = field(default_factory=list)
    cost: dict[str, list[Term]] = field(default_factory=dict)
    penalty: dict[str, list[Term]] = field(default_factory=dict)
    storage: dict[str, LevelReader] = field(default_factory=dict)
    unmet: dict[str, list[Term]] = field(default_factory=dict)
    figures: dict[str, Callable[[ValueOf], float]] = field(default_factory=dict)
    capacities: dict[str, dict[str, Amount | float]] = field(default_factory=dict)
    state: dict[tuple[str, str], StateReader] = field(default_factory=dict)

    def add(self, other: Contribution) -> None:
        """Merge ``other`` into this contribution (cost items of the same name add up)."""
        self.flows += other.flows
        for k, v in other.cost.items():
            self.cost.setdefault(k, []).extend(v)
        for k, v in other.penalty.items():
            self.penalty.setdefault(k, []).extend(v)
        self.storage.update(other.storage)
        self.unmet.update(other.unmet)
        self.figures.update(other.figures)
        self.capacities.update(other.capacities)
        self.state.update(other.state)


@dataclass(frozen=True)
class Periods:
    """Typical periods (design mode): the horizon's steps are ``k`` representative periods
    of ``length`` steps each, one after the other; ``order[d]`` is the representative that
    stands for original period d (in time order), so a store can carry its level from one
    original period to the next (:mod:`pecopt.aggregation`)."""

    length: int
    k: int
    order: np.ndarray  # (original periods,) representative of each
    original: np.ndarray  # (k,) the original period each representative is
    month_labels: tuple[str, ...] = ()
    """The horizon's local billing months (``YYYY-MM``)."""
    month_share: np.ndarray | None = None
    """Share of each billing month inside the horizon (1 for a whole month)."""
    month_of_period: np.ndarray | None = None
    """Billing month of each original period (by its middle step)."""

    def period_of_step(self, n: int) -> np.ndarray:
        """The representative of each step (``0 .. k-1``)."""
        return np.arange(n) // self.length


@dataclass(frozen=True)
class Common:
    """What every block may read: the time grid and the district-wide settings.

    ``import_price_min`` is the lowest marginal import price over all importing
    technologies at each step [EUR/kWh]: where it is negative, energy has a negative
    value and a store may profit from charging and discharging at once.

    ``weight`` (typical periods): how many real steps each step stands for (None: one);
    every per-step energy cost or emission is counted with ``dtw = dt * weight``
    [h per step], and ``periods`` describes the representatives.
    """

    name: str
    index: pd.DatetimeIndex
    dt_h: float
    timezone: str
    objective: Objective
    solver: SolverOptions
    carbon: Carbon
    import_price_min: FloatArray
    file: str | None = None  # the scenario file, named in error messages
    discount_rate: float = 0.04
    weight: FloatArray | None = None
    periods: Periods | None = None

    @property
    def n(self) -> int:
        """Number of steps."""
        return len(self.index)

    @property
    def dtw(self) -> FloatArray:
        """Hours each step counts for in energy sums [h]: ``dt``, times the step's weight
        under typical periods."""
        if self.weight is None:
            return np.full(self.n, self.dt_h)
        out: FloatArray = self.dt_h * self.weight
        return out

    @property
    def years(self) -> float:
        """Horizon length in years (8760 h = 1), for annual fees (the represented length
        under typical periods)."""
        if self.weight is None:
            return self.n * self.dt_h / 8760.0
        return float(self.weight.sum()) * self.dt_h / 8760.0

    def steps(self) -> np.ndarray:
        """``0 .. n-1``."""
        return np.arange(self.n)


class IngestContext:
    """What a technology's ``ingest`` may read: the scenario, the horizon and the weather
    (computed once, on first use, so that no pvlib import is paid where nothing needs it).
    """

    def __init__(
        self, scenario: Scenario, file: str | None, index: pd.DatetimeIndex, weather: Any = None
    ) -> None:
        self.scenario = scenario
        self.file = file
        self.index = index
        self._weather = weather

    @property
    def n(self) -> int:
        return len(self.index)

    @property
    def timezone(self) -> str:
        return str(self.scenario.site.timezone)

    @cached_property
    def weather(self) -> pd.DataFrame:
        """The weather on the horizon (columns of :data:`pecopt.ingest.weather.WEATHER_COLUMNS`)."""
        if self._weather is not None:
            return self._weather
        return weather_for(self.scenario, self.index)

    def sink_temperature_c(self, carrier: str) -> FloatArray:
        """Temperature heat must be delivered at on a heat carrier, per step [degC]:
        the space-heating supply curve on the outdoor temperature, or the hot-water
        temperature (``heat:`` section of the scenario)."""
        from pecopt.ingest.cop import supply_temperature_c
        from pecopt.units import HOT_WATER, SPACE_HEAT

        heat = self.scenario.heat
        if carrier == HOT_WATER:
            return np.full(self.n, float(heat.hot_water_c))
        if carrier != SPACE_HEAT:
            raise ValueError(f"no sink temperature for carrier {carrier!r}")
        curve = heat.space_heat
        points = tuple(zip(curve.outdoor_c, curve.supply_c, strict=True))
        return supply_temperature_c(self.weather["temp_air_c"].to_numpy(float), points)  # type: ignore[arg-type]

    @cached_property
    def reference_degree_hours_kh(self) -> float | None:
        """Annual heating degree-hours (base 17 degC) of the weather source's whole year
        [K h], that annual space-heat figures refer to; None: the embedded typical year's
        constant (:data:`pecopt.ingest.loads.HELSINKI_DEGREE_HOURS_17C`)."""
        return climate_degree_hours(self.scenario)

    def series(self, spec: Any, field: str, *, negative: bool = False) -> FloatArray:
        """A per-step array from a number, an inline list or a file column
        (:class:`pecopt.scenario.schema.SeriesFile`)."""
        return series_values(spec, self.index, field, self.file, negative=negative)


Tables = Mapping[str, pd.DataFrame]
IngestHook = Callable[[Sequence[Any], IngestContext], dict[str, pd.DataFrame]]
PrepareHook = Callable[[Sequence[Any], Tables, Common], Any]
BuildHook = Callable[[pyo.Block, Any, Common], Contribution | None]
#: ``rolling(record, dispatch)``: fit one unit's record (a dict) to a rolling horizon
RollingHook = Callable[[dict[str, Any], "Dispatch"], None]
#: ``start(record, start)``: read the carried state into one unit's record (a dict)
StartHook = Callable[[dict[str, Any], Start], None]


def _assets_units(key: str) -> Callable[[Any], list[Any]]:
    def units(scenario: Any) -> list[Any]:
        value = getattr(scenario.assets, key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    return units


@dataclass(frozen=True)
class Technology:
    """One technology: its parameter record, what it reads, and its block.

    Attributes
    ----------
    key
        Its key under ``assets:`` in a scenario (and its block's name in the model).
    unit
        The parameter record of one unit (a frozen pydantic model, unknown keys rejected).
    build
        ``build(block, data, common) -> Contribution``: adds variables and constraints to
        ``block`` and returns the tagged flows, cost items and levels.
    many
        ``assets.<key>`` is a list of units (else one optional unit).
    ingest
        ``ingest(units, ctx) -> {table: DataFrame}``: the series the units need, read from
        files or derived from the weather, in canonical units with a UTC ``timestamp``
        column; written as Parquet by ``pecopt ingest`` and read back by
        ``pecopt solve --inputs``. Table names start with the key.
    prepare
        ``prepare(units, tables, common) -> data``: validated arrays for ``build``;
        default: the units themselves.
    import_price
        ``import_price(data) -> array``: the marginal price of this technology's imports
        [EUR/kWh] per step, if it imports.
    units
        ``units(scenario) -> list``: where its units are in a scenario (default
        ``assets.<key>``).
    in_assets
        Whether the scenario schema gets ``assets.<key>`` from ``unit``.
    default
        For ``many=False``: the unit used when the scenario gives none (None: absent).
    rolling
        ``rolling(record, dispatch)``: make one unit's scenario record (a dict) fit a
        nightly rolling horizon before any state is carried (end conditions, a default
        start, how missing data are filled); may raise ScenarioError.
    start
        ``start(record, start)``: read the carried state (:class:`~pecopt.model.carry.Start`)
        into one unit's record; what the block carries back is its contribution's
        ``state`` (:mod:`pecopt.model.carry`).
    """

    key: str
    unit: type[BaseModel]
    build: BuildHook
    many: bool = True
    ingest: IngestHook | None = None
    prepare: PrepareHook | None = None
    import_price: Callable[[Any], FloatArray] | None = None
    units: Callable[[Any], list[Any]] | None = None
    in_assets: bool = True
    default: BaseModel | None = None
    rolling: RollingHook | None = None
    start: StartHook | None = None

    def units_of(self, scenario: Any) -> list[Any]:
        """This technology's units in ``scenario``."""
        return (self.units or _assets_units(self.key))(scenario)

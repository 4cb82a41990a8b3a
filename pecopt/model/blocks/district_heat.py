"""District-heating connection: heat import with an energy price, a power fee on the
usage power (and an optional reserve fee on the contracted power), VAT, and optional
export (feed-in of surplus heat).

Variables: import ``d[t] in [0, D]``, export ``x[t] in [0, X]`` [kW]; usage power
``peak`` [kW], the highest w-hour rolling mean import; with a contracted power C, the
reserve ``r >= 0`` [kW]:

    peak >= (1 / k) sum_{s=t}^{t+k-1} d[s]     for every window start t, k = w / dt
    peak >= P0                                  (usage power already in the billing memory)
    r >= C - peak                               (reserve = contracted minus usage, if > 0)
    import flow = d[t],  export flow = -x[t]   (carrier hot_water: district heat arrives
                                               hot enough for hot water, and the heat
                                               cascade passes it on to space heating)
    cost = (1 + vat) [dt sum_t price[t] d[t] + years (fee peak + fee_r r)]
           - dt sum_t export_price x[t]
    co2  = dt sum_t f[t] d[t]

Fees are in EUR per kW per year; ``years`` is the horizon length over 8760 h, or the
tariff's ``power_fee_years`` (how long a new peak is billed, e.g. for a day's plan).

**Fortum Viisas** (Espoo, Kauniainen, Kirkkonummi; replaced Kestolämpö and Tarkkalämpö
on 1 Apr 2023; FACTS: Espoo and Espoo Clean Heat, FACTS-HEAT-TARIFFS-COSTS 4):

* the energy fee varies by **month** with production cost (higher in winter, lower in
  summer): ``monthly_eur_per_kwh`` (12 values, local months). The EUR/MWh tables were not
  retrievable; :data:`pecopt.ingest.tariffs.FORTUM_ESPOO_2025_MONTHLY_EXAMPLE_EUR_PER_KWH`
  is a documented example [example];
* the power fee is on the **usage power**, the highest measured 3-hour mean over a
  36-month memory, re-checked monthly (``peak_window_h: 3``). A one-year horizon that
  repeats year after year bills every month on that year's highest 3-h mean, so the fee
  is ``fee * peak`` per year: the single-peak formulation above. A shorter horizon pays
  ``years * fee * peak``, pro rata, on its own peak; when the memory already holds a
  higher peak (a winter before), give it as ``previous_peak_kw`` so that shaving below it
  earns nothing;
* companies and housing companies also pay for **reserve power**, contracted minus usage
  power (``contracted_kw``, ``reserve_fee_eur_per_kw_yr``); the customer can lower the
  contracted power. Below the contract a kW more usage power costs ``fee - fee_r`` (it is
  no longer paid as reserve), so the reserve fee makes district heat's peak cheaper at
  the margin while adding ``fee_r (C - peak)`` to the bill. "Sula" (return-side
  connection): -35 % on the usage-power fee and no reserve fee (give the fees
  accordingly);
* VAT (``vat``: 0 in business accounts, 0.255 for a Finnish consumer view from
  1 Sep 2024) on the energy and power fees, reported as the cost item ``dh_vat``, so a
  consumer-view run compares district heat and electricity (``vat_energy``,
  ``vat_network`` of the grid tariff) like with like.

Cost items: ``dh_energy``, ``dh_power_fee``, ``dh_reserve_fee``, ``dh_vat`` (ex VAT
items, then the VAT on them), ``dh_export_revenue``. Figure:
``district_heat.billing_peak_kw`` (the horizon's highest window mean).

A billing peak reached before the horizon (``billing_peak_so_far_kw`` = P0, carried by
nightly dispatch) is paid anyway; the horizon pays the fee only on what it adds:

    excess >= (1 / k) sum_{s=t}^{t+k-1} d[s] - P0,   excess >= 0
    cost  += fee * years * excess          (billing peak = P0 + excess)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field, model_validator

from pecopt.model.capacity import capacity
from pecopt.model.carry import NOTICE, Flag, Start, running_peak, with_start
from pecopt.model.linear import FloatArray, add_rows, add_var, term
from pecopt.model.technology import (
    Common,
    Contribution,
    Flow,
    IngestContext,
    Tables,
    Technology,
    ValueOf,
)
from pecopt.scenario.types import Capacity, EmissionFactor, Fraction, NonNeg, Series, Strict
from pecopt.units import HOT_WATER

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.settings import Dispatch


class DistrictHeatTariff(Strict):
    """Energy price (one of constant, summer/winter, monthly or a series) [EUR/kWh], a
    power fee on the usage power (the highest ``peak_window_h``-hour rolling mean import)
    [EUR/kW/yr], an optional reserve fee on contracted minus usage power [EUR/kW/yr], and
    VAT on both [1]. Prices and fees exclude VAT."""

    energy_eur_per_kwh: NonNeg | None = None
    """One energy price [EUR/kWh, ex VAT]."""
    summer_eur_per_kwh: NonNeg | None = None
    """Summer energy price [EUR/kWh, ex VAT] (with ``winter_eur_per_kwh``)."""
    winter_eur_per_kwh: NonNeg | None = None
    """Winter energy price [EUR/kWh, ex VAT]."""
    monthly_eur_per_kwh: list[NonNeg] | None = None
    """Energy price per local month, January first: 12 values [EUR/kWh, ex VAT]."""
    price_series: Series | None = None
    """Energy price per step [EUR/kWh, ex VAT]: a list or a file column."""
    power_fee_eur_per_kw_yr: NonNeg = 0.0
    """Power fee on the usage power [EUR/kW/yr, ex VAT]."""
    peak_window_h: Annotated[int, Field(ge=1, le=24)] = 3
    """Window of the usage power's rolling mean [h] (Fortum: 3)."""
    previous_peak_kw: NonNeg = 0.0
    """Usage power already in the billing memory before the horizon [kW] (Fortum: 36 months): billed
    again with the horizon's fee, so shaving below it earns nothing."""
    billing_peak_so_far_kw: NonNeg | None = None
    """The billing peak already reached and paid [kW] (nightly dispatch): the fee applies only above
    it."""
    power_fee_years: NonNeg | None = None
    """Years a raise of the billing peak is paid for (default: the horizon's length)."""
    contracted_kw: NonNeg | None = None
    """Contracted power [kW]; the reserve (contracted minus usage power) pays reserve_fee."""
    reserve_fee_eur_per_kw_yr: NonNeg = 0.0
    """Reserve fee on contracted minus usage power [EUR/kW/yr, ex VAT]."""
    vat: Fraction = 0.0
    """VAT rate on the energy and power fees [1] (0: business accounts; 0.255: a Finnish consumer
    view)."""

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
        if self.reserve_fee_eur_per_kw_yr > 0 and self.contracted_kw is None:
            raise ValueError("reserve_fee_eur_per_kw_yr needs contracted_kw")
        return self


class DistrictHeating(Strict):
    """The district-heating connection.

    ``co2``: emission factor (default 0.1078 kg/kWh: Fortum Espoo 2023, benefit-sharing
    method, FACTS). ``ped_weight``: Finnish carrier factor of district heat, 0.5
    (Government Decree 788/2017).
    """

    import_max_kw: Capacity = 1e4
    """Largest import [kW]: a number, or a Size the optimiser chooses."""
    export_max_kw: NonNeg = 0.0
    """Largest export (feed-in of surplus heat) [kW]."""
    export_price_eur_per_kwh: float = 0.0
    """Price paid for exported heat [EUR/kWh]."""
    tariff: DistrictHeatTariff = DistrictHeatTariff(energy_eur_per_kwh=0.065)
    """The district-heat tariff."""
    co2: EmissionFactor = EmissionFactor(constant_kg_per_kwh=0.1078)
    """Emission factor of district heat [kg CO2e/kWh] (0.1078: Fortum Espoo 2023, benefit-sharing
    method)."""
    ped_weight: NonNeg = 0.5
    """Weighting factor of district heat in the weighted-energy PED balance [1] (0.5, Government
    Decree 788/2017)."""


PRICES = "district_heating_prices"


@dataclass(frozen=True)
class DistrictHeatData:
    spec: DistrictHeating
    price: FloatArray  # [EUR/kWh] ex VAT
    co2: FloatArray  # [kg/kWh]

    @property
    def import_price_ex_vat(self) -> FloatArray:
        """Marginal price of heat without VAT [EUR/kWh]."""
        return self.price

    @property
    def import_price(self) -> FloatArray:
        """Marginal price of heat, VAT included: ``price * (1 + vat)`` [EUR/kWh]."""
        out: FloatArray = self.price * (1.0 + self.spec.tariff.vat)
        return out


def ingest(units: Sequence[DistrictHeating], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``district_heating_prices`` table: energy price [EUR/kWh] and CO2 factor."""
    from pecopt.ingest import tariffs

    (spec,) = units
    t, index = spec.tariff, ctx.index
    if t.price_series is not None:
        price = ctx.series(t.price_series, "assets.district_heating.tariff.price_series")
    else:
        price = tariffs.dh_energy_price(
            index,
            monthly=t.monthly_eur_per_kwh,
            summer_winter=(
                None
                if t.summer_eur_per_kwh is None
                else (t.summer_eur_per_kwh, t.winter_eur_per_kwh or 0.0)
            ),
            constant=t.energy_eur_per_kwh,
            tz=ctx.timezone,
        ).to_numpy(float)
    co2 = (
        ctx.series(spec.co2.series, "assets.district_heating.co2.series")
        if spec.co2.series is not None
        else np.full(len(index), float(spec.co2.constant_kg_per_kwh or 0.0))
    )
    frame = pd.DataFrame({"timestamp": index, "eur_per_kwh": price, "co2_kg_per_kwh": co2})
    return {PRICES: frame}


def prepare(units: Sequence[DistrictHeating], tables: Tables, common: Common) -> DistrictHeatData:
    (spec,) = units
    p = tables[PRICES]
    return DistrictHeatData(
        spec, p["eur_per_kwh"].to_numpy(np.float64), p["co2_kg_per_kwh"].to_numpy(np.float64)
    )


def build(block: pyo.Block, data: DistrictHeatData, common: Common) -> Contribution:
    spec, tariff = data.spec, data.spec.tariff
    n, dt = common.n, common.dt_h
    conn = capacity(block, "import_max_kw", spec.import_max_kw)
    d = add_var(block, "imp", n, 0.0, conn.upper)
    conn.bound(d)
    t = common.steps()
    vat = tariff.vat
    c = Contribution(
        flows=[
            Flow(
                "district_heat",
                HOT_WATER,
                "import",
                (term(d, 1.0, t, t),),
                co2_kg_per_kwh=data.co2,
                ped_weight=spec.ped_weight,
            )
        ],  # fmt: skip
        cost={"dh_energy": [term(d, common.dtw * data.price)]},
        capacities={"district_heat": {"import_kw": conn.amount()}},
    )
    if conn.sized:  # the connection (substation) the district buys
        conn.limit(block, "import_max", [term(d, 1.0)], n)
        c.cost["investment"] = conn.cost(common)
    vat_terms = [term(d, vat * common.dtw * data.price)]
    if spec.export_max_kw > 0:
        x = add_var(block, "exp", n, 0.0, spec.export_max_kw)
        c.flows.append(
            Flow(
                "district_heat",
                HOT_WATER,
                "export",
                (term(x, -1.0, t, t),),
                ped_weight=spec.ped_weight,
            )
        )
        c.cost["dh_export_revenue"] = [term(x, -common.dtw * spec.export_price_eur_per_kwh)]
    k = max(1, min(n, round(tariff.peak_window_h / dt)))
    so_far = tariff.billing_peak_so_far_kw or 0.0
    years = common.years if tariff.power_fee_years is None else tariff.power_fee_years
    reserve = tariff.contracted_kw is not None and tariff.reserve_fee_eur_per_kw_yr > 0
    if tariff.power_fee_eur_per_kw_yr > 0 or reserve:
        floor = max(0.0, tariff.previous_peak_kw - so_far)
        peak = add_var(block, "peak", 1, floor, max(conn.upper, floor))  # above so_far
        if conn.upper >= floor:
            conn.bound(peak)
        starts = np.arange(n - k + 1)
        if common.periods is not None:  # typical periods: a window stays in its period
            L = common.periods.length
            starts = starts[starts % L + k <= L]
        rows = np.repeat(np.arange(starts.size), k)
        idx = (starts[:, None] + np.arange(k)[None, :]).ravel()
        add_rows(
            block,
            "peak_window",
            starts.size,
            [
                term(peak, 1.0, np.zeros(starts.size, np.int64)),
                term(d, -1.0 / k, idx, rows),
            ],
            lower=-so_far,
        )
        fee = tariff.power_fee_eur_per_kw_yr * years
        if fee > 0:
            c.cost["dh_power_fee"] = [term(peak, fee)]
            vat_terms.append(term(peak, vat * fee))
        if reserve:
            assert tariff.contracted_kw is not None
            r = add_var(block, "reserve", 1, 0.0, tariff.contracted_kw)
            add_rows(
                block,
                "reserve_power",
                1,
                [term(r, 1.0), term(peak, 1.0)],
                lower=tariff.contracted_kw - so_far,
                what="district-heat reserve power",
            )
            fee_r = tariff.reserve_fee_eur_per_kw_yr * years
            c.cost["dh_reserve_fee"] = [term(r, fee_r)]
            vat_terms.append(term(r, vat * fee_r))
    if vat > 0:
        c.cost["dh_vat"] = vat_terms

    def billing_peak(value: ValueOf) -> float:
        from pecopt.ingest.tariffs import rolling_peak_kw

        flow = value(d)
        peak = float(rolling_peak_kw(flow, k)) if flow.any() else 0.0
        return max(so_far, peak)

    c.figures["district_heat.billing_peak_kw"] = billing_peak
    window_h, dt = float(tariff.peak_window_h), common.dt_h
    c.state[("district_heat", "billing_peak_kw")] = lambda value: with_start(
        so_far, running_peak(value(d), window_h, dt, so_far)
    )
    return c


def rolling(rec: dict[str, Any], cfg: Dispatch) -> None:
    """On a rolling horizon a new billing peak costs the power fee for
    ``dispatch.peak_fee_years`` (unless the tariff says ``power_fee_years``)."""
    if rec["tariff"]["power_fee_years"] is None:
        rec["tariff"]["power_fee_years"] = cfg.peak_fee_years


def start(rec: dict[str, Any], st: Start) -> None:
    """The billing peak so far is the carried one (at least the tariff's
    ``billing_peak_so_far_kw``), restarted every ``dispatch.billing_peak_reset``."""
    tariff = rec["tariff"]
    given = tariff["billing_peak_so_far_kw"] or 0.0
    got = st.get("district_heat", "billing_peak_kw")
    reset = _reset(st)
    if got is not None and reset is None:
        peak = max(got, given)
    else:
        peak = given
        if got is not None:
            where = "" if st.run_id is None else f" (run {st.run_id}, day {st.run_day})"
            st.flags.append(
                Flag(NOTICE, "billing_peak_reset", f"billing peak restarted ({reset}){where}")
            )
    tariff["billing_peak_so_far_kw"] = peak
    st.use("district_heat", "billing_peak_kw", peak)


def _reset(st: Start) -> str | None:
    """Why the billing peak restarts at ``st.at`` (a new month or year), or None."""
    every = st.dispatch.billing_peak_reset
    if every == "never" or st.run_day is None:
        return None
    before = pd.Timestamp(st.run_day)  # the delivery day the state comes from
    now = pd.Timestamp(st.at.tz_convert(st.timezone).date())
    if every == "year" and now.year != before.year:
        return "new year"
    if every == "month" and (now.year, now.month) != (before.year, before.month):
        return "new month"
    return None


TECHNOLOGY = Technology(
    key="district_heating",
    unit=DistrictHeating,
    build=build,
    many=False,
    ingest=ingest,
    prepare=prepare,
    import_price=lambda d: d.import_price,
    rolling=rolling,
    start=start,
)

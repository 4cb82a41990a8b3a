"""District-heating connection: heat import with an energy price and a peak-power fee,
optional export (feed-in of surplus heat).

Variables: import ``d[t] in [0, D]``, export ``x[t] in [0, X]`` [kW]; billing peak
``peak >= 0`` [kW], the highest w-hour average import (Espoo business contracts:
w = 3 h, FACTS: Fortum Aktiivilämpö / Viisas):

    peak >= (1 / k) sum_{s=t}^{t+k-1} d[s]     for every window start t, k = w / dt
    import flow = d[t],  export flow = -x[t]   (carrier heat)
    cost = dt sum_t price[t] d[t] + fee * years * peak - dt sum_t export_price x[t]
    co2  = dt sum_t f[t] d[t]

The fee is in EUR per kW per year; ``years`` is the horizon length over 8760 h, or the
tariff's ``power_fee_years`` (how long a new peak is billed, e.g. for a day's plan).

A billing peak reached before the horizon (``billing_peak_so_far_kw`` = P0, carried by
nightly dispatch) is paid anyway; the horizon pays the fee only on what it adds:

    excess >= (1 / k) sum_{s=t}^{t+k-1} d[s] - P0,   excess >= 0
    cost  += fee * years * excess          (billing peak = P0 + excess)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field, model_validator

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
from pecopt.scenario.types import EmissionFactor, NonNeg, Series, Strict
from pecopt.units import HEAT


class DistrictHeatTariff(Strict):
    """Energy price (one of constant, summer/winter or monthly) and a power fee on the
    billing peak, the highest ``peak_window_h``-hour average import."""

    energy_eur_per_kwh: NonNeg | None = None
    summer_eur_per_kwh: NonNeg | None = None
    winter_eur_per_kwh: NonNeg | None = None
    monthly_eur_per_kwh: list[NonNeg] | None = None
    price_series: Series | None = None
    power_fee_eur_per_kw_yr: NonNeg = 0.0
    peak_window_h: Annotated[int, Field(ge=1, le=24)] = 3
    #: the billing peak already reached [kW]: the fee applies only above it
    billing_peak_so_far_kw: NonNeg | None = None
    #: years a raise of the billing peak is paid for (default: the horizon's length)
    power_fee_years: NonNeg | None = None

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


class DistrictHeating(Strict):
    """The district-heating connection.

    ``co2``: emission factor (default 0.1078 kg/kWh: Fortum Espoo 2023, benefit-sharing
    method, FACTS). ``ped_weight``: Finnish carrier factor of district heat, 0.5
    (Government Decree 788/2017).
    """

    import_max_kw: NonNeg = 1e4
    export_max_kw: NonNeg = 0.0
    export_price_eur_per_kwh: float = 0.0
    tariff: DistrictHeatTariff = DistrictHeatTariff(energy_eur_per_kwh=0.065)
    co2: EmissionFactor = EmissionFactor(constant_kg_per_kwh=0.1078)
    ped_weight: NonNeg = 0.5


PRICES = "district_heating_prices"


@dataclass(frozen=True)
class DistrictHeatData:
    spec: DistrictHeating
    price: FloatArray  # [EUR/kWh]
    co2: FloatArray  # [kg/kWh]


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
    d = add_var(block, "imp", n, 0.0, spec.import_max_kw)
    t = common.steps()
    c = Contribution(
        flows=[
            Flow(
                "district_heat",
                HEAT,
                "import",
                (term(d, 1.0, t, t),),
                co2_kg_per_kwh=data.co2,
                ped_weight=spec.ped_weight,
            )
        ],  # fmt: skip
        cost={"dh_energy": [term(d, dt * data.price)]},
    )
    if spec.export_max_kw > 0:
        x = add_var(block, "exp", n, 0.0, spec.export_max_kw)
        c.flows.append(
            Flow(
                "district_heat", HEAT, "export", (term(x, -1.0, t, t),), ped_weight=spec.ped_weight
            )
        )
        c.cost["dh_export_revenue"] = [term(x, -dt * spec.export_price_eur_per_kwh)]
    k = max(1, min(n, round(tariff.peak_window_h / dt)))
    so_far = tariff.billing_peak_so_far_kw or 0.0
    years = common.years if tariff.power_fee_years is None else tariff.power_fee_years
    if tariff.power_fee_eur_per_kw_yr > 0:
        peak = add_var(block, "peak", 1, 0.0, spec.import_max_kw)  # above so_far
        starts = np.arange(n - k + 1)
        rows = np.repeat(starts, k)
        idx = (starts[:, None] + np.arange(k)[None, :]).ravel()
        add_rows(
            block,
            "peak_window",
            starts.size,
            [
                term(peak, 1.0, np.zeros(starts.size, np.int64), starts),
                term(d, -1.0 / k, idx, rows),
            ],
            lower=-so_far,
        )
        c.cost["dh_power_fee"] = [term(peak, tariff.power_fee_eur_per_kw_yr * years)]

    def billing_peak(value: ValueOf) -> float:
        from pecopt.ingest.tariffs import rolling_peak_kw

        flow = value(d)
        return max(so_far, float(rolling_peak_kw(flow, k)) if flow.any() else 0.0)

    c.figures["district_heat.billing_peak_kw"] = billing_peak
    return c


TECHNOLOGY = Technology(
    key="district_heating",
    unit=DistrictHeating,
    build=build,
    many=False,
    ingest=ingest,
    prepare=prepare,
    import_price=lambda d: d.price,
)

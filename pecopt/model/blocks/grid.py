"""Grid connection: electricity import and export with limits, a retail tariff and an
emission factor.

Variables (per step t, kW): ``imp[t] in [0, P_imp]``, ``exp[t] in [0, P_exp]``.

    import flow  =  imp[t]                (role import, carrier electricity)
    export flow  = -exp[t]                (role export)
    cost = dt sum_t [(spot + margin + network + tax)(1 + vat)] imp[t] - export_price[t] exp[t]
    co2  = dt sum_t f[t] (imp[t] - exp[t])   (export credit only if carbon.export_credit)

Exclusivity (binary ``z[t]``: ``imp <= P_imp z``, ``exp <= P_exp (1 - z)``) is needed only
where exporting pays more than importing costs (``export_price >= import_price``), which
positive network fees and taxes rule out; ``binaries: always`` adds it everywhere.

Tariff (``assets.grid.tariff``): spot from a file or pecopt's embedded typical year
(:func:`pecopt.ingest.tariffs.typical_spot_eur_per_kwh`), retail margin, time-of-use
network energy fee, electricity tax class (Finland: class I 2.253 c/kWh ex VAT), VAT;
export at spot minus a margin (Finnish spot-linked small-producer contracts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

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
    need_binaries,
)
from pecopt.scenario.types import (
    Binaries,
    EmissionFactor,
    Fraction,
    NonNeg,
    Series,
    SeriesFile,
    Strict,
    TimeZone,
)
from pecopt.units import ELECTRICITY


class SpotPrice(Strict):
    """Day-ahead spot price: pecopt's embedded typical year, a file (``path``, ``column``,
    ``unit``, ``vat_included``), or a series in EUR/kWh ex VAT (``series``: a constant,
    one value per step, or a file column).

    ``missing: fill`` (a file only): steps the file has no price for are forecast from
    the last ``history_days`` days of known prices on the embedded shape
    (:func:`pecopt.ingest.tariffs.fill_missing_prices`) and marked ``spot_filled`` in
    the ``grid_prices`` table; ``error`` (default) refuses a file that does not cover
    the horizon."""

    source: Literal["typical_year", "file", "series"] = "typical_year"
    path: Path | None = None
    series: Series | None = None
    column: str = "spot"
    time_column: str = "timestamp"
    timezone: TimeZone = "UTC"
    unit: Literal["eur_per_mwh", "c_per_kwh", "eur_per_kwh"] = "eur_per_mwh"
    vat_included: bool = False
    missing: Literal["error", "fill"] = "error"
    history_days: Annotated[int, Field(ge=1, le=60)] = 7

    @model_validator(mode="after")
    def _path_for_file(self) -> SpotPrice:
        if self.source == "file" and self.path is None:
            raise ValueError("source 'file' needs 'path'")
        if (self.source == "series") != (self.series is not None):
            raise ValueError("source 'series' goes with 'series' (and only with it)")
        return self


class TouBand(Strict):
    """A network-fee band, in local time: applies when month, weekday and hour all match."""

    eur_per_kwh: NonNeg
    months: list[Annotated[int, Field(ge=1, le=12)]] = list(range(1, 13))
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = list(range(7))
    hours: list[Annotated[int, Field(ge=0, le=23)]] = list(range(24))


class Network(Strict):
    """Distribution network energy fee [EUR/kWh]: a default and time-of-use bands."""

    default_eur_per_kwh: NonNeg = 0.0
    bands: list[TouBand] = []


class ElectricityTariff(Strict):
    """What a kWh imported or exported costs (all EUR/kWh, ex VAT unless ``vat`` > 0)."""

    spot: SpotPrice = SpotPrice()
    retail_margin_eur_per_kwh: float = 0.0
    export_margin_eur_per_kwh: float = 0.0
    #: price paid for exports [EUR/kWh]; default: spot - export_margin_eur_per_kwh
    export_price: Series | None = None
    network: Network = Network()
    tax_class: Literal["I", "II", "none"] = "I"
    vat: Fraction = 0.0


class Grid(Strict):
    """The district's grid connection.

    ``co2``: the grid emission factor (default 0.06 kg/kWh: an assumption, Finnish
    consumption-based annual average order of magnitude; give a series where one exists).
    ``ped_weight``: weighting factor of grid electricity in the weighted-energy PED
    balance (Finnish carrier factor 1.2, Government Decree 788/2017).
    ``binaries`` overrides ``solver.binaries`` for import/export exclusivity.
    """

    import_max_kw: NonNeg = 1e4
    export_max_kw: NonNeg = 1e4
    tariff: ElectricityTariff = ElectricityTariff()
    co2: EmissionFactor = EmissionFactor(constant_kg_per_kwh=0.06)
    ped_weight: NonNeg = 1.2
    binaries: Binaries | None = None


PRICES = "grid_prices"


@dataclass(frozen=True)
class GridData:
    """The grid's parameters and per-step prices [EUR/kWh] and factor [kg/kWh]."""

    spec: Grid
    spot: FloatArray
    margin: FloatArray
    network: FloatArray
    tax: FloatArray
    vat: FloatArray
    export: FloatArray
    co2: FloatArray

    @property
    def import_price(self) -> FloatArray:
        """``(spot + margin + network + tax) * (1 + vat)`` [EUR/kWh]."""
        out: FloatArray = (self.spot + self.margin + self.network + self.tax) * (1.0 + self.vat)
        return out


def ingest(units: Sequence[Grid], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``grid_prices`` table: price components [EUR/kWh], VAT rate and CO2 factor."""
    from pecopt.ingest import tariffs

    (g,) = units
    el, index, tz = g.tariff, ctx.index, ctx.timezone
    sp = el.spot
    filled = np.zeros(len(index), bool)
    if sp.source == "file" and sp.missing == "fill":
        assert sp.path is not None
        known, recent = tariffs.read_spot_known(
            sp.path, index, unit=sp.unit, vat_included=sp.vat_included, column=sp.column,
            time_column=sp.time_column, tz=sp.timezone, history_days=sp.history_days,
        )  # fmt: skip
        spot, filled = tariffs.fill_missing_prices(index, known, recent, tz=tz)
    elif sp.source == "file":
        assert sp.path is not None
        if sp.unit == "eur_per_kwh":
            file = SeriesFile(
                path=sp.path, column=sp.column, time_column=sp.time_column, timezone=sp.timezone
            )
            spot = ctx.series(file, "assets.grid.tariff.spot", negative=True)
        else:
            spot = tariffs.read_spot(
                sp.path,
                index,
                unit=sp.unit,
                vat_included=sp.vat_included,
                column=sp.column,
                time_column=sp.time_column,
                tz=sp.timezone,
            ).to_numpy(float)
    elif sp.source == "series":
        spot = ctx.series(sp.series, "assets.grid.tariff.spot.series", negative=True)
    else:
        spot = tariffs.typical_spot_eur_per_kwh(index, tz=tz).to_numpy(float)
    bands: list[tariffs.TouBand] = [
        {"eur_per_kwh": b.eur_per_kwh, "months": b.months, "weekdays": b.weekdays,
         "hours_local": b.hours}
        for b in el.network.bands
    ]  # fmt: skip
    network = tariffs.tou_network_fee(index, bands, el.network.default_eur_per_kwh, tz=tz)
    tax = 0.0 if el.tax_class == "none" else tariffs.ELECTRICITY_TAX_EUR_PER_KWH[el.tax_class]
    n = len(index)
    co2 = (
        ctx.series(g.co2.series, "assets.grid.co2.series")
        if g.co2.series is not None
        else np.full(n, float(g.co2.constant_kg_per_kwh or 0.0))
    )
    table = pd.DataFrame(
        {
            "timestamp": index,
            "spot_eur_per_kwh": spot,
            "spot_filled": filled,
            "retail_margin_eur_per_kwh": np.full(n, el.retail_margin_eur_per_kwh),
            "network_eur_per_kwh": network.to_numpy(float),
            "tax_eur_per_kwh": np.full(n, tax),
            "vat": np.full(n, el.vat),
            "export_eur_per_kwh": spot - el.export_margin_eur_per_kwh
            if el.export_price is None
            else ctx.series(el.export_price, "assets.grid.tariff.export_price", negative=True),
            "co2_kg_per_kwh": co2,
        }
    )
    return {PRICES: table}


def prepare(units: Sequence[Grid], tables: Tables, common: Common) -> GridData:
    (g,) = units
    p = tables[PRICES]

    def col(name: str) -> FloatArray:
        return p[name].to_numpy(np.float64)

    return GridData(
        g,
        col("spot_eur_per_kwh"),
        col("retail_margin_eur_per_kwh"),
        col("network_eur_per_kwh"),
        col("tax_eur_per_kwh"),
        col("vat"),
        col("export_eur_per_kwh"),
        col("co2_kg_per_kwh"),
    )


def build(block: pyo.Block, d: GridData, common: Common) -> Contribution:
    n, dt, g = common.n, common.dt_h, d.spec
    imp = add_var(block, "imp", n, 0.0, g.import_max_kw)
    exp = add_var(block, "exp", n, 0.0, g.export_max_kw)
    obj = common.objective
    cp = obj.carbon_price_eur_per_kg
    credit = common.carbon.export_credit
    import_coef = d.import_price + cp * d.co2
    export_coef = d.export + (cp * d.co2 if credit and obj.carbon_priced_on == "net" else 0.0)
    zs = need_binaries(common, export_coef >= import_coef - 1e-12, g.binaries)
    if zs.size and g.export_max_kw > 0 and g.import_max_kw > 0:
        z = add_var(block, "z", zs.size, binary=True)
        add_rows(
            block, "imp_on", zs.size, [term(imp, 1.0, zs), term(z, -g.import_max_kw)], upper=0.0
        )
        add_rows(
            block,
            "exp_off",
            zs.size,
            [term(exp, 1.0, zs), term(z, g.export_max_kw)],
            upper=g.export_max_kw,
        )
    t = common.steps()
    before_vat = d.spot + d.margin + d.network + d.tax
    return Contribution(
        flows=[
            Flow(
                "grid",
                ELECTRICITY,
                "import",
                (term(imp, 1.0, t),),
                co2_kg_per_kwh=d.co2,
                ped_weight=g.ped_weight,
            ),
            Flow(
                "grid",
                ELECTRICITY,
                "export",
                (term(exp, -1.0, t),),
                co2_kg_per_kwh=d.co2 if credit else None,
                ped_weight=g.ped_weight,
            ),
        ],  # fmt: skip
        cost={
            "electricity_spot": [term(imp, dt * d.spot)],
            "electricity_margin": [term(imp, dt * d.margin)],
            "electricity_network": [term(imp, dt * d.network)],
            "electricity_tax": [term(imp, dt * d.tax)],
            "electricity_vat": [term(imp, dt * d.vat * before_vat)],
            "export_revenue": [term(exp, -dt * d.export)],
        },
    )


TECHNOLOGY = Technology(
    key="grid",
    unit=Grid,
    build=build,
    many=False,
    ingest=ingest,
    prepare=prepare,
    import_price=lambda d: d.import_price,
    default=Grid(),
)

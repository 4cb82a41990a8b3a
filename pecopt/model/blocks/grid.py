"""Grid connection: electricity import and export with limits, a retail and distribution
tariff, and an emission factor.

Variables (per step t, kW): ``imp[t] in [0, P_imp]``, ``exp[t] in [0, P_exp]``; with a
power fee, one billing peak ``Pm[m] >= 0`` per local calendar month m [kW].

    import flow  =  imp[t]                (role import, carrier electricity)
    export flow  = -exp[t]                (role export)
    Pm[m] >= (1/|w|) sum_{t in w} imp[t]  for every metering window w in month m
    cost = dt sum_t [(spot + margin)(1 + vat_e) + (network + tax)(1 + vat_n)] imp[t]
         + (1 + vat_n) sum_m fee s_m Pm[m]  +  (1 + vat_n) basic sum_m s_m
         - dt sum_t export_price[t] exp[t]
    co2  = dt sum_t f[t] (imp[t] - exp[t])   (export credit only if carbon.export_credit)

**Distribution power fee** (``tariff.network.power_fee_eur_per_kw_month``, EUR/kW per
month): on each local month's highest mean import over a clock window of
``power_window_h`` (default 60 min: Energiavirasto rule of Feb 2026, in force at every DSO
by 1 Jan 2029; FACTS-HEAT-TARIFFS-COSTS 5). A month cut by the horizon pays pro rata,
``s_m`` = its hours in the horizon / its hours (see :mod:`pecopt.ingest.power_fee`).
A month's peak reached before the horizon (``billing_peak_so_far_kw[m]`` = P0, carried by
nightly dispatch as the month-to-date peak) is paid already: the fee is on what a new
peak adds, ``f s_m max(0, Pm - P0)``; a nightly plan bills a month in full
(``whole_month``: ``s_m = 1``), since its new peak costs the whole month's fee. The
basic fee (EUR/month) is a constant, reported as the cost item ``electricity_basic_fee``.
Comparators, VAT 0 (FACTS-HEAT 5; Caruna Espoo's power tariff was not found): Turku
Energia LV power tariff 110 EUR/month + 2.60 EUR/kW/month + 0.68 c/kWh, MV 580 EUR/month
+ 1.72 EUR/kW/month + 0.61 c/kWh; Helen household 1.28 EUR/kW/month.

**VAT** by component: ``vat_energy`` on the energy sale (spot and retail margin),
``vat_network`` on the distribution invoice (network energy fee, power and basic fees,
and the electricity tax, which Finnish DSOs bill on it). The two differ when a VAT cut
covers energy only (Finland 1 Dec 2022 - 30 Apr 2023: 10 % on energy, 24 % on
distribution; FACTS). ``vat`` sets both. Exports carry no VAT.

**Electricity tax** by date and class (:func:`pecopt.ingest.tariffs.finnish_electricity_tax`:
class I 2.253 c/kWh, from 1 Apr 2026 2.325 c/kWh, ex VAT).

Exclusivity (binary ``z[t]``: ``imp <= P_imp z``, ``exp <= P_exp (1 - z)``) is needed only
where exporting pays more than importing costs (``export_price >= import_price``), which
positive network fees and taxes rule out; ``binaries: always`` adds it everywhere.

Spot: a file or pecopt's embedded typical year
(:func:`pecopt.ingest.spot.typical_spot_eur_per_kwh`, varying within the hour from the
15-minute market start on 1 Oct 2025); export at spot minus a margin (Finnish spot-linked
small-producer contracts).

Cost items: ``electricity_spot``, ``electricity_margin``, ``electricity_network``,
``electricity_power_fee``, ``electricity_basic_fee``, ``electricity_tax``,
``electricity_vat_energy``, ``electricity_vat_network``, ``export_revenue``. Figures:
``grid.billing_peak_kw.<YYYY-MM>`` per month with a power fee.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field, field_validator, model_validator

from pecopt.ingest.power_fee import BillingWindows, billing_windows
from pecopt.model.capacity import capacity, need_binaries
from pecopt.model.carry import Start, StateReader, with_start
from pecopt.model.linear import FloatArray, Term, add_rows, add_var, term
from pecopt.model.technology import (
    Common,
    Contribution,
    Flow,
    IngestContext,
    Tables,
    Technology,
    ValueOf,
)
from pecopt.scenario.types import (
    Binaries,
    Capacity,
    EmissionFactor,
    Fraction,
    NonNeg,
    Series,
    SeriesFile,
    Strict,
    TimeZone,
    TouBand,
    upper,
)
from pecopt.units import ELECTRICITY

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.settings import Dispatch


class SpotPrice(Strict):
    """Day-ahead spot price: pecopt's embedded typical year, a file (``path``, ``column``,
    ``unit``, ``vat_included``), or a series in EUR/kWh ex VAT (``series``: a constant,
    one value per step, or a file column).

    ``missing: fill`` (a file only): steps the file has no price for are forecast from
    the last ``history_days`` days of known prices on the embedded shape
    (:func:`pecopt.ingest.spot.fill_missing_prices`) and marked ``spot_filled`` in
    the ``grid_prices`` table; ``error`` (default) refuses a file that does not cover
    the horizon."""

    source: Literal["typical_year", "file", "series"] = "typical_year"
    """``typical_year`` (pecopt's embedded price year), ``file`` (``path``, ``column``, ``unit``,
    ``vat_included``) or ``series``."""
    path: Path | None = None
    """The price file (CSV or Parquet), ``source: file``."""
    series: Series | None = None
    """Prices [EUR/kWh ex VAT], ``source: series``: a constant, one value per step or a file column.
    """
    column: str = "spot"
    """The price column of the file."""
    time_column: str = "timestamp"
    """The column holding the time stamps."""
    timezone: TimeZone = "UTC"
    """The time zone of naive time stamps."""
    unit: Literal["eur_per_mwh", "c_per_kwh", "eur_per_kwh"] = "eur_per_mwh"
    """Unit of the file's prices: EUR/MWh, c/kWh or EUR/kWh."""
    vat_included: bool = False
    """The file's prices include VAT (it is taken off at ``vat_energy``)."""
    missing: Literal["error", "fill"] = "error"
    """Steps the file has no price for: ``error`` refuses the file, ``fill`` forecasts them (marked
    ``spot_filled``)."""
    history_days: Annotated[int, Field(ge=1, le=60)] = 7
    """Days of known prices a fill uses [d]."""

    @model_validator(mode="after")
    def _path_for_file(self) -> SpotPrice:
        if self.source == "file" and self.path is None:
            raise ValueError("source 'file' needs 'path'")
        if (self.source == "series") != (self.series is not None):
            raise ValueError("source 'series' goes with 'series' (and only with it)")
        return self


class Network(Strict):
    """Distribution network (DSO) tariff, ex VAT: energy fee [EUR/kWh] (a default and
    time-of-use bands), a monthly power fee [EUR/kW per month] on the month's highest
    ``power_window_h`` mean import, and a basic fee [EUR/month]."""

    default_eur_per_kwh: NonNeg = 0.0
    """Energy fee outside every band [EUR/kWh, ex VAT]."""
    bands: list[TouBand] = []
    """Time-of-use bands of the energy fee: a step takes the fee of the first band that matches its
    local month, weekday and hour."""
    power_fee_eur_per_kw_month: NonNeg = 0.0
    """Power fee on the month's highest ``power_window_h`` mean import [EUR/kW per month]."""
    power_window_h: float = 1.0
    """Metering window of the power fee [h]: 1 (60-min mean, Energiavirasto 2026), 0.5, 0.25."""
    basic_fee_eur_per_month: NonNeg = 0.0
    """Basic fee [EUR/month]."""
    billing_peak_so_far_kw: dict[str, NonNeg] = {}
    """The month's billing peak reached before the horizon [kW], by local month ``YYYY-MM`` (carried
    by nightly dispatch): only what a new peak adds is billed."""
    whole_month: bool = False
    """Bill a month's power fee in full (not pro rata to its hours in the horizon): a nightly plan's
    new peak costs the whole month's fee (set by dispatch)."""

    @field_validator("power_window_h")
    @classmethod
    def _window(cls, v: float) -> float:
        if v not in (0.25, 0.5, 1.0):
            raise ValueError("must be 1 (60 min), 0.5 or 0.25 (15 min)")
        return float(v)


class ElectricityTariff(Strict):
    """What a kWh imported or exported costs (EUR/kWh ex VAT) and the VAT rates.

    ``vat_energy`` applies to spot and retail margin, ``vat_network`` to the distribution
    invoice (network fees and electricity tax); ``vat`` is a shortcut that sets both
    (business accounting: 0; a Finnish consumer view: 0.255 from 1 Sep 2024).
    """

    spot: SpotPrice = SpotPrice()
    """The day-ahead spot price."""
    retail_margin_eur_per_kwh: float = 0.0
    """Retailer's margin on each imported kWh [EUR/kWh, ex VAT]."""
    export_margin_eur_per_kwh: float = 0.0
    """Retailer's margin taken off each exported kWh [EUR/kWh]."""
    export_price: Series | None = None
    """Price paid for exports [EUR/kWh]; default: spot - export_margin_eur_per_kwh."""
    network: Network = Network()
    """The distribution network tariff."""
    tax_class: Literal["I", "II", "none"] = "I"
    """Finnish electricity tax class, rate by date (class I 2.253 c/kWh, 2.325 from 1.4.2026)."""
    vat_energy: Fraction = 0.0
    """VAT rate on spot and retail margin [1] (``vat`` sets this and ``vat_network``)."""
    vat_network: Fraction = 0.0
    """VAT rate on the distribution invoice: network fees and electricity tax [1]."""

    @model_validator(mode="before")
    @classmethod
    def _vat_shortcut(cls, data: Any) -> Any:
        if isinstance(data, dict) and "vat" in data:
            if "vat_energy" in data or "vat_network" in data:
                raise ValueError("give vat (both components) or vat_energy/vat_network, not both")
            vat = data["vat"]
            if not isinstance(vat, int | float) or isinstance(vat, bool) or not 0 <= vat <= 1:
                raise ValueError(f"vat must be a number in [0, 1], got {vat!r}")
            rest = {k: v for k, v in data.items() if k != "vat"}
            return {**rest, "vat_energy": vat, "vat_network": vat}
        return data


class Grid(Strict):
    """The district's grid connection.

    ``co2``: the grid emission factor (default 0.06 kg/kWh: an assumption, Finnish
    consumption-based annual average order of magnitude; give a series where one exists).
    ``ped_weight``: weighting factor of grid electricity in the weighted-energy PED
    balance (Finnish carrier factor 1.2, Government Decree 788/2017).
    ``binaries`` overrides ``solver.binaries`` for import/export exclusivity.
    """

    import_max_kw: Capacity = 1e4
    """Largest import [kW]: a number, or a Size the optimiser chooses."""
    export_max_kw: NonNeg = 1e4
    """Largest export [kW]."""
    tariff: ElectricityTariff = ElectricityTariff()
    """What imported and exported electricity costs."""
    co2: EmissionFactor = EmissionFactor(constant_kg_per_kwh=0.06)
    """Grid emission factor [kg CO2e/kWh] (default 0.06 [assumption]: Finnish consumption-based
    annual order of magnitude)."""
    ped_weight: NonNeg = 1.2
    """Weighting factor of grid electricity in the weighted-energy PED balance [1] (1.2, Government
    Decree 788/2017)."""
    binaries: Binaries | None = None
    """Overrides ``solver.binaries`` for import/export exclusivity; None: the solver's setting."""


PRICES = "grid_prices"


@dataclass(frozen=True)
class GridData:
    """The grid's parameters, per-step prices [EUR/kWh], VAT rates [1] and CO2 factor
    [kg/kWh], and the power fee's metering windows and billing months."""

    spec: Grid
    spot: FloatArray
    margin: FloatArray
    network: FloatArray
    tax: FloatArray
    vat_energy: FloatArray
    vat_network: FloatArray
    export: FloatArray
    co2: FloatArray
    windows: BillingWindows | None = None

    @property
    def import_price_ex_vat(self) -> FloatArray:
        """``spot + margin + network + tax`` [EUR/kWh]."""
        out: FloatArray = self.spot + self.margin + self.network + self.tax
        return out

    @property
    def import_price(self) -> FloatArray:
        """``(spot + margin)(1 + vat_e) + (network + tax)(1 + vat_n)`` [EUR/kWh]."""
        out: FloatArray = (self.spot + self.margin) * (1.0 + self.vat_energy) + (
            self.network + self.tax
        ) * (1.0 + self.vat_network)
        return out


def ingest(units: Sequence[Grid], ctx: IngestContext) -> dict[str, pd.DataFrame]:
    """The ``grid_prices`` table: price components [EUR/kWh], VAT rates and CO2 factor."""
    from pecopt.ingest import spot as spot_prices
    from pecopt.ingest import tariffs

    (g,) = units
    el, index, tz = g.tariff, ctx.index, ctx.timezone
    sp = el.spot
    filled = np.zeros(len(index), bool)
    if sp.source == "file" and sp.missing == "fill":
        assert sp.path is not None
        known, recent = spot_prices.read_spot_known(
            sp.path, index, unit=sp.unit, vat_included=sp.vat_included, column=sp.column,
            time_column=sp.time_column, tz=sp.timezone, history_days=sp.history_days,
        )  # fmt: skip
        spot, filled = spot_prices.fill_missing_prices(index, known, recent, tz=tz)
    elif sp.source == "file":
        assert sp.path is not None
        if sp.unit == "eur_per_kwh":
            file = SeriesFile(
                path=sp.path, column=sp.column, time_column=sp.time_column, timezone=sp.timezone
            )
            spot = ctx.series(file, "assets.grid.tariff.spot", negative=True)
        else:
            spot = spot_prices.read_spot(
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
        spot = spot_prices.typical_spot_eur_per_kwh(index, tz=tz).to_numpy(float)
    network = tariffs.tou_network_fee(
        index, el.network.bands, el.network.default_eur_per_kwh, tz=tz
    )
    tax = tariffs.finnish_electricity_tax(index, el.tax_class, tz=tz)
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
            "tax_eur_per_kwh": tax.to_numpy(float),
            "vat_energy": np.full(n, el.vat_energy),
            "vat_network": np.full(n, el.vat_network),
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
    net = g.tariff.network
    fees = net.power_fee_eur_per_kw_month > 0 or net.basic_fee_eur_per_month > 0

    def col(name: str) -> FloatArray:
        return p[name].to_numpy(np.float64)

    return GridData(
        g,
        col("spot_eur_per_kwh"),
        col("retail_margin_eur_per_kwh"),
        col("network_eur_per_kwh"),
        col("tax_eur_per_kwh"),
        col("vat_energy"),
        col("vat_network"),
        col("export_eur_per_kwh"),
        col("co2_kg_per_kwh"),
        (
            billing_windows(common.index, net.power_window_h, tz=common.timezone, dt_h=common.dt_h)
            if fees
            else None
        ),
    )


def build(block: pyo.Block, d: GridData, common: Common) -> Contribution:
    n, dtw, g = common.n, common.dtw, d.spec
    conn = capacity(block, "import_max_kw", g.import_max_kw)
    imp = add_var(block, "imp", n, 0.0, conn.upper)
    conn.bound(imp)
    exp = add_var(block, "exp", n, 0.0, g.export_max_kw)
    obj = common.objective
    cp = obj.carbon_price_eur_per_kg
    credit = common.carbon.export_credit
    import_coef = d.import_price + cp * d.co2
    export_coef = d.export + (cp * d.co2 if credit and obj.carbon_priced_on == "net" else 0.0)
    zs = need_binaries(common, export_coef >= import_coef - 1e-12, g.binaries)
    if zs.size and g.export_max_kw > 0 and conn.upper > 0:
        z = add_var(block, "z", zs.size, binary=True)
        add_rows(block, "imp_on", zs.size, [term(imp, 1.0, zs), term(z, -conn.upper)], upper=0.0)
        conn.not_valued("the import/export exclusivity binaries take it as their big-M")
        add_rows(
            block,
            "exp_off",
            zs.size,
            [term(exp, 1.0, zs), term(z, g.export_max_kw)],
            upper=g.export_max_kw,
        )
    if conn.sized:  # the connection capacity the district buys
        conn.limit(block, "import_max", [term(imp, 1.0)], n)
    t = common.steps()
    energy_part = d.spot + d.margin
    network_part = d.network + d.tax
    c = Contribution(
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
            "electricity_spot": [term(imp, dtw * d.spot)],
            "electricity_margin": [term(imp, dtw * d.margin)],
            "electricity_network": [term(imp, dtw * d.network)],
            "electricity_tax": [term(imp, dtw * d.tax)],
            "electricity_vat_energy": [term(imp, dtw * d.vat_energy * energy_part)],
            "electricity_vat_network": [term(imp, dtw * d.vat_network * network_part)],
            "export_revenue": [term(exp, -dtw * d.export)],
            **({"investment": conn.cost(common)} if conn.sized else {}),
        },
        capacities={"grid": {"import_kw": conn.amount()}},
    )
    if d.windows is not None:
        _fees(block, d, imp, d.windows, c, common)
    return c


def _fees(
    block: pyo.Block,
    d: GridData,
    imp: pyo.Var,
    bw: BillingWindows,
    c: Contribution,
    common: Common,
) -> None:
    """The monthly power fee (one billing peak per local month, above every window mean of
    the month) and the basic fee, each with VAT on the distribution invoice.

    Under typical periods a representative's windows count in every month it stands for
    (its original periods' months, by their middle step), and the months and their
    shares are the whole horizon's."""
    net = d.spec.tariff.network
    first = np.searchsorted(bw.step_window, np.arange(bw.window_size.size))
    per = common.periods
    if per is None:
        pair_w = np.arange(bw.window_size.size)
        pair_m = bw.window_month
        months, share = bw.months, bw.month_share
    else:
        assert per.month_of_period is not None and per.month_share is not None
        rep = first // per.length
        served = [np.unique(per.month_of_period[per.order == p]) for p in range(per.k)]
        pair_w = np.concatenate([np.full(served[r].size, w) for w, r in enumerate(rep)])
        pair_m = np.concatenate([served[r] for r in rep])
        months, share = per.month_labels, per.month_share
    nm = len(months)
    # VAT on the distribution invoice in force at the first window of each month
    first_pair = np.searchsorted(np.sort(pair_m), np.arange(nm))
    by_month = pair_w[np.argsort(pair_m, kind="stable")]
    vat_n = d.vat_network[first[by_month[np.minimum(first_pair, by_month.size - 1)]]]
    vat_terms: list[Term] = c.cost["electricity_vat_network"]
    fee = net.power_fee_eur_per_kw_month
    if fee > 0:
        fee_share = np.ones(nm) if net.whole_month else share
        so_far = np.array([net.billing_peak_so_far_kw.get(label, 0.0) for label in months])
        size = bw.window_size[pair_w]
        rows = np.repeat(np.arange(pair_w.size), size)
        steps = np.repeat(first[pair_w], size) + (
            np.arange(rows.size) - np.repeat(np.cumsum(size) - size, size)
        )
        # the peak above the month's peak so far: inc[m] >= mean_w - P0[m], inc >= 0
        peak = add_var(block, "peak", nm, 0.0, upper(d.spec.import_max_kw))
        add_rows(
            block,
            "peak_window",
            pair_w.size,
            [
                term(peak, 1.0, pair_m, np.arange(pair_w.size)),
                term(imp, -1.0 / bw.window_size[bw.step_window[steps]], steps, rows),
            ],
            lower=-so_far[pair_m],
            what="grid monthly power peak",
        )
        c.cost["electricity_power_fee"] = [term(peak, fee * fee_share)]
        vat_terms.append(term(peak, vat_n * fee * fee_share))

        def means_of(value: ValueOf) -> FloatArray:
            out: FloatArray = np.bincount(bw.step_window, weights=value(imp)) / bw.window_size
            return out

        def month_peak(m: int) -> Callable[[ValueOf], float]:
            def read(value: ValueOf) -> float:
                mine = pair_w[pair_m == m]
                top = float(means_of(value)[mine].max()) if mine.size else 0.0
                return max(top, float(so_far[m]))

            return read

        for m, label in enumerate(months):
            c.figures[f"grid.billing_peak_kw.{label}"] = month_peak(m)
        if per is None:  # each month's peak so far is a carried quantity of its own
            for m, label in enumerate(months):
                reader = _running_month_peak(bw, so_far, means_of, m)
                c.state[("grid", f"billing_peak_kw.{label}")] = reader

    basic = net.basic_fee_eur_per_month
    if basic > 0:
        # a variable fixed at the billed months, so that the constant is a cost item
        billed_n = float(share.sum())
        billed = add_var(block, "billed_months", 1, billed_n, billed_n)
        c.cost["electricity_basic_fee"] = [term(billed, basic)]
        vat_terms.append(term(billed, float(share @ vat_n) / billed_n * basic))


def _running_month_peak(
    bw: BillingWindows,
    so_far: FloatArray,
    means_of: Callable[[ValueOf], FloatArray],
    m: int,
) -> StateReader:
    """Month m's billing peak so far at the end of each step [kW]: the highest window mean
    of month m among the windows ended by then, and at least its peak before the horizon
    (which is also the first value)."""
    last = np.r_[bw.step_window[1:] != bw.step_window[:-1], True]  # a window ends here
    mine = (bw.window_month[bw.step_window] == m) & last

    def read(value: ValueOf) -> FloatArray:
        means = np.where(mine, means_of(value)[bw.step_window], -np.inf)
        out = np.maximum(np.maximum.accumulate(means), float(so_far[m]))
        return with_start(float(so_far[m]), out)

    return read


def rolling(rec: dict[str, Any], cfg: Dispatch) -> None:
    """On a rolling horizon, day-ahead prices a file lacks are filled as
    ``dispatch.missing_prices`` says, from its last ``dispatch.price_history_days``, and a
    month's power fee is billed in full on what a new peak adds to the month's so far."""
    spot = rec["tariff"]["spot"]
    if spot["source"] == "file":
        spot["missing"] = cfg.missing_prices
        spot["history_days"] = cfg.price_history_days
    rec["tariff"]["network"]["whole_month"] = True


def start(rec: dict[str, Any], st: Start) -> None:
    """The month's billing peak so far is the carried one of the month the run starts in
    (``billing_peak_kw.YYYY-MM``, local month; at least the tariff's given one): a new
    month starts from none."""
    network = rec["tariff"]["network"]
    month = st.at.tz_convert(st.timezone).strftime("%Y-%m")
    got = st.get("grid", f"billing_peak_kw.{month}")
    given = dict(network["billing_peak_so_far_kw"])
    if got is not None:
        given[month] = max(got, given.get(month, 0.0))
    network["billing_peak_so_far_kw"] = given
    if network["power_fee_eur_per_kw_month"] > 0:
        st.use("grid", f"billing_peak_kw.{month}", given.get(month, 0.0))


TECHNOLOGY = Technology(
    key="grid",
    unit=Grid,
    build=build,
    many=False,
    ingest=ingest,
    prepare=prepare,
    import_price=lambda d: d.import_price,
    default=Grid(),
    rolling=rolling,
    start=start,
)

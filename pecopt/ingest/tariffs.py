"""Prices and emission factors: spot, import and export electricity, district heat, CO2.

Everything is in EUR/kWh (or kg/kWh) per step of the canonical UTC index and **excludes
VAT** unless a name or a ``vat`` argument says otherwise. The model does business
accounting (VAT deductible) by default; pass the consumer VAT rate to
:func:`import_price_eur_per_kwh` for a household view.

Finnish facts used here (``/work/shared/reference/FACTS.md``):

* electricity tax incl. security-of-supply fee, ex VAT, by date
  (:func:`finnish_electricity_tax`): class I 2.253 c/kWh, class II 0.063 c/kWh from
  1 Jan 2021 [vero.fi verotaulukot]; 2.325 and 0.135 c/kWh from 1 Apr 2026 (security-of-supply
  fee 0.013 -> 0.085 c/kWh in both classes, HE 194/2025) [FACTS-HEAT-TARIFFS-COSTS 5];
* VAT on electricity: 24 %, 10 % from 1 Dec 2022 to 30 Apr 2023, 25.5 % from 1 Sep 2024;
* DSO time-of-use products: night tariff (22–07 cheaper), seasonal tariff (winter weekday
  = Nov–Mar, Mon–Sat 07–22) [caruna.fi];
* Fortum Espoo seasonal district heat: summer 1 Apr–30 Sep, winter 1 Oct–31 Mar; the
  power fee uses the highest 3-consecutive-hour mean heat power [fortum.fi].
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal, NotRequired, TypedDict, cast

import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest.timeseries import (
    effective_weekday,
    local_year_index,
    parse_times,
    read_series_file,
    read_table,
    step_of,
    zone_for,
)

__all__ = [
    "ELECTRICITY_TAX_EUR_PER_KWH",
    "FORTUM_ESPOO_2025_MONTHLY_EXAMPLE_EUR_PER_KWH",
    "TouBand",
    "dh_energy_price",
    "emission_factor_series",
    "export_price_eur_per_kwh",
    "fill_missing_prices",
    "finnish_electricity_tax",
    "finnish_electricity_vat",
    "hour_range",
    "import_price_eur_per_kwh",
    "night_tariff_bands",
    "read_spot",
    "read_spot_known",
    "rolling_peak_kw",
    "scale_monthly_prices",
    "seasonal_tariff_bands",
    "tou_network_fee",
    "typical_spot_eur_per_kwh",
]

#: Finnish electricity tax incl. the security-of-supply fee, excluding VAT [EUR/kWh], in
#: force 1 Jan 2021 - 31 Mar 2026 (see :func:`finnish_electricity_tax` for other dates).
ELECTRICITY_TAX_EUR_PER_KWH: Final[dict[str, float]] = {"I": 0.02253, "II": 0.00063}

#: Finnish electricity tax (energy tax + security-of-supply fee) excluding VAT by first local
#: date in force [EUR/kWh]: (date, class I, class II).
_FI_ELECTRICITY_TAX: Final = (
    # vero.fi verotaulukot, "Voimassa 1.1.2019 - 31.12.2020": I 2.24 + 0.013, II 0.69 + 0.013 c/kWh
    ("2019-01-01", 0.02253, 0.00703),
    # vero.fi verotaulukot, "Voimassa 1.1.2021 alkaen": I 2.24 + 0.013, II 0.05 + 0.013 c/kWh
    ("2021-01-01", 0.02253, 0.00063),
    # HE 194/2025 (security-of-supply fee 0.013 -> 0.085 c/kWh, both classes, from 1.4.2026);
    # FACTS-HEAT-TARIFFS-COSTS section 5: I 2.325, II 0.135 c/kWh
    ("2026-04-01", 0.02325, 0.00135),
)

#: First local delivery day of the 15-minute day-ahead market (SDAC MTU, FACTS: 15-minute
#: time resolution); from it the embedded typical spot price varies within the hour.
QUARTER_HOUR_MARKET_START: Final = "2025-10-01"

#: Finnish VAT on electricity by first local date in force [-].
_FI_VAT: Final = (
    ("1900-01-01", 0.22),
    ("2010-07-01", 0.23),
    ("2013-01-01", 0.24),
    ("2022-12-01", 0.10),
    ("2023-05-01", 0.24),
    ("2024-09-01", 0.255),
)

_SPOT_CSV: Final = Path(__file__).resolve().parents[1] / "data" / "typical_spot_monthly.csv"
_NAME: Final = "eur_per_kwh"


class TouBand(TypedDict):
    """One time-of-use band; a step matches if its local month, weekday and hour all match.

    Omitted ``months``/``weekdays``/``hours_local`` match everything. Weekdays are
    0 = Monday … 6 = Sunday; hours are local hours 0–23 (see :func:`hour_range`).
    """

    eur_per_kwh: float
    months: NotRequired[Sequence[int]]
    weekdays: NotRequired[Sequence[int]]
    hours_local: NotRequired[Sequence[int]]


def finnish_electricity_vat(index: pd.DatetimeIndex, *, tz: str = "Europe/Helsinki") -> pd.Series:
    """Finnish VAT rate on electricity in force at each step's local date.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware step-start labels.
    tz : str
        Zone whose calendar date decides the rate (default Europe/Helsinki).

    Returns
    -------
    pandas.Series
        VAT rate [-] (e.g. 0.24), named ``vat``. 22 % before 1 Jul 2010, 23 % to 2012,
        24 % from 2013, 10 % 1 Dec 2022–30 Apr 2023, 24 % to 31 Aug 2024, 25.5 % after.
    """
    rates = np.array([r for _, r in _FI_VAT])
    pos = _in_force(index, [d for d, _ in _FI_VAT], tz)
    return pd.Series(rates[pos], index=index, name="vat")


def finnish_electricity_tax(
    index: pd.DatetimeIndex, tax_class: Literal["I", "II", "none"], *, tz: str = "Europe/Helsinki"
) -> pd.Series:
    """Finnish electricity tax (energy tax + security-of-supply fee) in force at each step's
    local date [EUR/kWh], excluding VAT.

    ======================  ==========  ===========  =======================================
    in force from           class I     class II     source
    ======================  ==========  ===========  =======================================
    1 Jan 2019              2.253 c     0.703 c      vero.fi verotaulukot 2019-2020
    1 Jan 2021              2.253 c     0.063 c      vero.fi verotaulukot 2021-
    1 Apr 2026              2.325 c     0.135 c      HE 194/2025: security-of-supply fee
                                                     0.013 -> 0.085 c/kWh (FACTS-HEAT 5)
    ======================  ==========  ===========  =======================================

    Dates before 2019 take the 2019 figures (pecopt carries no older table). Class I:
    households, services, public buildings; class II: industry, data centres (until
    1 Jul 2026), heat pumps and e-boilers of >= 0.5 MW feeding district heat (FACTS).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware step-start labels.
    tax_class : {"I", "II", "none"}
        The tax class; ``none`` gives 0 (e.g. self-consumed PV, tax-exempt).
    tz : str
        Zone whose calendar date decides the rate (default Europe/Helsinki).

    Returns
    -------
    pandas.Series
        Tax [EUR/kWh] ex VAT, named ``eur_per_kwh``.
    """
    if tax_class not in ("I", "II", "none"):
        raise ValueError(f"tax class must be 'I', 'II' or 'none', got {tax_class!r}")
    if tax_class == "none":
        return pd.Series(0.0, index=index, name=_NAME)
    column = 1 if tax_class == "I" else 2
    rates = np.array([row[column] for row in _FI_ELECTRICITY_TAX], dtype=float)
    pos = _in_force(index, [row[0] for row in _FI_ELECTRICITY_TAX], tz)
    return pd.Series(rates[np.maximum(pos, 0)], index=index, name=_NAME)


def _in_force(index: pd.DatetimeIndex, first_days: Sequence[str], tz: str) -> np.ndarray:
    """Position of the table row in force at each step's local date (-1: before the first)."""
    local_date = pd.DatetimeIndex(index.tz_convert(tz).tz_localize(None)).normalize()
    starts = pd.DatetimeIndex(list(first_days)).as_unit("us")
    return np.searchsorted(starts.asi8, local_date.as_unit("us").asi8, side="right") - 1


def read_spot(
    path: str | Path,
    index: pd.DatetimeIndex,
    *,
    unit: Literal["eur_per_mwh", "c_per_kwh"],
    vat_included: bool,
    column: str,
    time_column: str = "timestamp",
    tz: str = "UTC",
) -> pd.Series:
    """Read a spot price file onto ``index``, in EUR/kWh excluding VAT.

    .. math:: p_t = \\frac{x_t \\cdot u}{1 + v(d_t)}

    with :math:`x_t` the file value, :math:`u` = 1/1000 (EUR/MWh) or 1/100 (c/kWh), and
    :math:`v(d_t)` the Finnish VAT at the local Helsinki date :math:`d_t` when
    ``vat_included`` (else 0). VAT also scales negative prices (sahkotin.fi convention).
    Hourly prices on a 15-min index hold within the hour; 15-min prices on an hourly index
    are averaged.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV or Parquet file.
    index : pandas.DatetimeIndex
        Canonical UTC index.
    unit : {"eur_per_mwh", "c_per_kwh"}
        Unit of ``column``.
    vat_included : bool
        Whether the file's prices include Finnish VAT.
    column, time_column : str
        Price and timestamp columns.
    tz : str
        Zone of naive timestamps (default UTC).

    Returns
    -------
    pandas.Series
        Spot price [EUR/kWh] ex VAT, named ``eur_per_kwh``.
    """
    scale = {"eur_per_mwh": 1e-3, "c_per_kwh": 1e-2}
    if unit not in scale:
        raise ValueError(f"unit must be one of {sorted(scale)}, got {unit!r}")
    frame = read_series_file(
        path, {column: _NAME}, index, time_column=time_column, tz=tz, allow_negative=True
    )
    price = frame[_NAME] * scale[unit]
    if vat_included:
        price = price / (1.0 + finnish_electricity_vat(index))
    return price.rename(_NAME)


def import_price_eur_per_kwh(
    spot: pd.Series,
    *,
    retail_margin: float = 0.0,
    network_energy_fee: float | pd.Series = 0.0,
    electricity_tax: float | str = "I",
    vat: float | pd.Series = 0.0,
) -> pd.Series:
    """Price of imported electricity per kWh.

    .. math:: c^{imp}_t = (p_t + m + n_t + \\tau)(1 + v)

    Parameters
    ----------
    spot : pandas.Series
        Spot price :math:`p_t` [EUR/kWh] ex VAT.
    retail_margin : float
        Retailer margin :math:`m` [EUR/kWh] ex VAT (FI spot contracts: about
        0.0038–0.0069).
    network_energy_fee : float or pandas.Series
        DSO energy fee :math:`n_t` [EUR/kWh] ex VAT: a constant, or a series on the same
        index from :func:`tou_network_fee`.
    electricity_tax : float or {"I", "II"}
        Electricity tax :math:`\\tau` [EUR/kWh] ex VAT, or a tax class of
        :data:`ELECTRICITY_TAX_EUR_PER_KWH` (default class I).
    vat : float or pandas.Series
        VAT rate :math:`v` [-]. Default 0: business accounting, VAT excluded. Use e.g.
        0.255 for a consumer view.

    Returns
    -------
    pandas.Series
        :math:`c^{imp}_t` [EUR/kWh], named ``eur_per_kwh``.
    """
    tax = _tax(electricity_tax)
    price = (spot + retail_margin + network_energy_fee + tax) * (1.0 + vat)
    return price.rename(_NAME)


def export_price_eur_per_kwh(spot: pd.Series, margin: float = 0.0) -> pd.Series:
    """Price paid for exported electricity: :math:`c^{exp}_t = p_t - m` [EUR/kWh].

    Negative when the spot price is negative: the exporter then pays (FI spot-linked
    small-producer contracts). No tax, no VAT.

    Parameters
    ----------
    spot : pandas.Series
        Spot price :math:`p_t` [EUR/kWh] ex VAT.
    margin : float
        Buyer's margin :math:`m` [EUR/kWh].
    """
    return (spot - margin).rename(_NAME)


def hour_range(start: int, end: int) -> list[int]:
    """Local hours of the half-open range [start, end), wrapping at midnight.

    ``hour_range(22, 7)`` is 22, 23, 0, …, 6; ``hour_range(7, 22)`` is 7 … 21.
    """
    if not (0 <= start <= 23 and 0 <= end <= 24):
        raise ValueError(f"hours must be in 0..24, got {start}, {end}")
    if start < end:
        return list(range(start, end))
    return list(range(start, 24)) + list(range(0, end))


def night_tariff_bands(night_eur_per_kwh: float) -> list[TouBand]:
    """Bands of a Finnish night tariff: the night price applies 22–07 local, every day."""
    return [{"hours_local": hour_range(22, 7), "eur_per_kwh": night_eur_per_kwh}]


def seasonal_tariff_bands(winter_day_eur_per_kwh: float) -> list[TouBand]:
    """Bands of a Finnish seasonal tariff: winter day = Nov–Mar, Mon–Sat, 07–22 local."""
    return [
        {
            "months": [11, 12, 1, 2, 3],
            "weekdays": [0, 1, 2, 3, 4, 5],
            "hours_local": hour_range(7, 22),
            "eur_per_kwh": winter_day_eur_per_kwh,
        }
    ]


def tou_network_fee(
    index: pd.DatetimeIndex,
    bands: Sequence[TouBand],
    default_eur_per_kwh: float,
    *,
    tz: str = "Europe/Helsinki",
) -> pd.Series:
    """Time-of-use network energy fee, evaluated in local time.

    Each step takes the fee of the first band whose months, weekdays and local hours all
    contain the step's local month, weekday and hour; otherwise ``default_eur_per_kwh``.
    Public holidays are not treated specially (weekday as on the calendar).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index.
    bands : sequence of TouBand
        E.g. :func:`night_tariff_bands` or :func:`seasonal_tariff_bands`.
    default_eur_per_kwh : float
        Fee outside every band [EUR/kWh] ex VAT.
    tz : str
        Local zone (default Europe/Helsinki).

    Returns
    -------
    pandas.Series
        Fee [EUR/kWh] ex VAT, named ``eur_per_kwh``.
    """
    local = index.tz_convert(tz)
    month = np.asarray(local.month)
    weekday = np.asarray(local.day_of_week)
    hour = np.asarray(local.hour)
    fee = np.full(len(index), float(default_eur_per_kwh))
    free = np.ones(len(index), dtype=bool)
    for band in bands:
        unknown = set(band) - {"eur_per_kwh", "months", "weekdays", "hours_local"}
        if unknown:
            raise ValueError(f"unknown time-of-use band keys: {sorted(unknown)}")
        match = free.copy()
        for key, values, valid in (
            ("months", month, range(1, 13)),
            ("weekdays", weekday, range(7)),
            ("hours_local", hour, range(24)),
        ):
            chosen = cast("Sequence[int] | None", band.get(key))
            if chosen is not None:
                if not set(chosen) <= set(valid):
                    raise ValueError(f"{key} must be within {valid}, got {list(chosen)}")
                match &= np.isin(values, list(chosen))
        fee[match] = float(band["eur_per_kwh"])
        free &= ~match
    return pd.Series(fee, index=index, name=_NAME)


def dh_energy_price(
    index: pd.DatetimeIndex,
    *,
    monthly: Sequence[float] | None = None,
    summer_winter: tuple[float, float] | None = None,
    constant: float | None = None,
    tz: str = "Europe/Helsinki",
) -> pd.Series:
    """District-heat energy price per step [EUR/kWh]; exactly one form must be given.

    * ``monthly``: 12 prices, January first, by local month (e.g. Helen monthly heat);
    * ``summer_winter``: (summer, winter); summer = 1 Apr–30 Sep local (Fortum seasonal);
    * ``constant``: one price.

    The power fee (on the highest 3-hour mean heat power) belongs in the model; see
    :func:`rolling_peak_kw` for reporting.

    Returns
    -------
    pandas.Series
        Energy price [EUR/kWh], named ``eur_per_kwh``.
    """
    given = [x is not None for x in (monthly, summer_winter, constant)]
    if sum(given) != 1:
        raise ValueError("give exactly one of monthly, summer_winter, constant")
    month = np.asarray(index.tz_convert(tz).month)
    if monthly is not None:
        if len(monthly) != 12:
            raise ValueError(f"monthly needs 12 prices, got {len(monthly)}")
        price = np.asarray(monthly, dtype=float)[month - 1]
    elif summer_winter is not None:
        summer, winter = summer_winter
        price = np.where((month >= 4) & (month <= 9), float(summer), float(winter))
    else:
        price = np.full(len(index), float(constant))  # type: ignore[arg-type]
    return pd.Series(price, index=index, name=_NAME)


#: Fortum Espoo district heat, Viisas-style monthly energy fee, 2025 [EUR/kWh] ex VAT,
#: January first. **[example]**: Fortum's monthly EUR/MWh table was not retrievable
#: (FACTS-HEAT-TARIFFS-COSTS gaps 1). Shape: a cosine through Helen's 2025 monthly heat
#: prices incl. 25.5 % VAT, Jan 121.75, Jul 40.60, Dec 109.95 EUR/MWh [src: FACTS,
#: helen.fi kuukausilampo-koti], i.e. 81.175 + 42.524 cos(2 pi (m - 1) / 12 - 0.30397);
#: level: scaled with :func:`scale_monthly_prices` so that the heat-weighted mean equals
#: Fortum Espoo's 2025 energy fee 65.38 EUR/MWh [src: FACTS, Omakotiliitto 2025;
#: assumption: incl. 25.5 % VAT, as consumer comparisons are], then divided by 1.255.
#: Weights: an apartment block's monthly heat, space heat 55 kWh/m2 by degree-days
#: (17 degC base, typical-year monthly means) plus hot water 35 kWh/m2 by days (the Kera
#: apartment archetype). Weighted mean 52.10 EUR/MWh ex VAT; January 68.5, July 22.9.
FORTUM_ESPOO_2025_MONTHLY_EXAMPLE_EUR_PER_KWH: Final = (
    0.0685, 0.0691, 0.0633, 0.0529, 0.0405, 0.0295,
    0.0229, 0.0223, 0.0281, 0.0385, 0.0509, 0.0619,
)  # fmt: skip


def scale_monthly_prices(
    shape: Sequence[float], weights: Sequence[float], mean: float
) -> np.ndarray:
    """Monthly prices with the seasonal ``shape`` whose ``weights``-weighted mean is ``mean``.

    .. math:: p_m = \\frac{\\bar p}{\\sum_j w_j s_j / \\sum_j w_j}\\, s_m

    Parameters
    ----------
    shape : sequence of float
        Seasonal shape :math:`s_m` (any unit; e.g. another utility's monthly prices).
    weights : sequence of float
        Weights :math:`w_m` (e.g. the monthly heat use) [any unit, >= 0, not all 0].
    mean : float
        The weighted mean wanted :math:`\\bar p` [unit of the result, e.g. EUR/kWh].

    Returns
    -------
    numpy.ndarray
        :math:`p_m`, same length as ``shape``.
    """
    s = np.asarray(shape, dtype=float)
    w = np.asarray(weights, dtype=float)
    if s.shape != w.shape or (w < 0).any() or w.sum() <= 0:
        raise ValueError("shape and weights need the same length and weights >= 0, not all 0")
    out: np.ndarray = s * (mean * w.sum() / float(w @ s))
    return out


def rolling_peak_kw(heat_kw: np.ndarray, window_steps: int) -> float:
    """Highest mean power over ``window_steps`` consecutive steps.

    .. math:: \\hat P = \\max_t \\frac{1}{w}\\sum_{j=0}^{w-1} P_{t+j}

    Fortum's business DH power fee uses :math:`w` = 3 hours (3 steps hourly, 12 at 15 min).

    Parameters
    ----------
    heat_kw : numpy.ndarray
        Power per step [kW].
    window_steps : int
        Window length :math:`w` [steps], 1 ≤ w ≤ len(heat_kw).

    Returns
    -------
    float
        :math:`\\hat P` [kW].
    """
    x = np.asarray(heat_kw, dtype=float)
    if not 1 <= window_steps <= len(x):
        raise ValueError(f"window_steps must be in 1..{len(x)}, got {window_steps}")
    windows = np.lib.stride_tricks.sliding_window_view(x, window_steps)
    return float(windows.mean(axis=1).max())


def emission_factor_series(
    index: pd.DatetimeIndex,
    constant: float | None = None,
    path: str | Path | None = None,
    *,
    column: str = "kg_per_kwh",
    unit: Literal["kg_per_kwh", "g_per_kwh"] = "kg_per_kwh",
    time_column: str = "timestamp",
    tz: str = "UTC",
) -> pd.Series:
    """Emission factor per step [kg CO2e/kWh], constant or read from a file.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index.
    constant : float, optional
        One factor [kg/kWh] (e.g. Espoo district heat 2023: 0.1078).
    path : str or pathlib.Path, optional
        CSV/Parquet file with an hourly or 15-min factor; negatives are rejected.
    column, time_column, tz : str
        File columns and zone of naive timestamps.
    unit : {"kg_per_kwh", "g_per_kwh"}
        Unit of ``column``.

    Returns
    -------
    pandas.Series
        Factor [kg/kWh], named ``kg_per_kwh``.
    """
    if (constant is None) == (path is None):
        raise ValueError("give exactly one of constant, path")
    if constant is not None:
        if not np.isfinite(constant) or constant < 0:
            raise ValueError(f"constant must be finite and >= 0, got {constant}")
        return pd.Series(float(constant), index=index, name="kg_per_kwh")
    scale = {"kg_per_kwh": 1.0, "g_per_kwh": 1e-3}[unit]
    frame = read_series_file(
        path,  # type: ignore[arg-type]
        {column: "kg_per_kwh"},
        index,
        time_column=time_column,
        tz=tz,
    )
    return frame["kg_per_kwh"] * scale


def typical_spot_eur_per_kwh(index: pd.DatetimeIndex, *, tz: str = "Europe/Helsinki") -> pd.Series:
    """A deterministic typical-year Finnish day-ahead spot price [EUR/kWh] ex VAT.

    For each local calendar year the price is built hourly and then looked up per step
    (constant within the hour on a 15-min index). With local day of year :math:`d`, hour
    :math:`h`, month :math:`m` and effective weekday :math:`k` (holidays = Sunday):

    .. math::

        s_{d,h} = L_d\\, w_k \\bigl(1 + 0.20 g(h; 8, 1.5) + 0.25 g(h; 18.5, 1.8)
                  - 0.30 g(h; 3, 2.2) - \\delta_m g(h; 13, 2.5)\\bigr)(1 + \\epsilon_{d,h})

    with Gaussian bumps :math:`g(h;\\mu,\\sigma)=e^{-(h-\\mu)^2/2\\sigma^2}` (morning and
    evening peaks, night trough, midday solar dip of depth :math:`\\delta_m`), weekly level
    :math:`w` = 1.05 Mon–Fri, 0.92 Sat, 0.85 Sun, a daily lognormal level :math:`L_d`
    (sigma 0.3) and hourly noise :math:`\\epsilon` (sigma 0.08). Negative hours: a day
    holds a block of negative prices with probability :math:`q_m` (×1.5 at weekends):
    at 10–17 local (sunny middays) on April–September weekends (and 30 % of such
    weekdays), else at night 0–8 (windy nights); block length 3–7 h; price
    :math:`-(0.01 + X)` EUR/MWh, :math:`X \\sim \\mathrm{Exp}(3)`. The other hours are
    scaled, :math:`p = a_m s`, so that each local month's mean equals the 2023 mean
    :math:`\\bar p_m` exactly: :math:`a_m = (\\bar p_m n_m - \\sum_{neg} p)/\\sum_{pos} s`.

    Random draws come from ``numpy.random.default_rng(2023)`` keyed by (day of year,
    hour), so a date's price does not depend on the horizon start. Parameters are in
    ``pecopt/data/typical_spot_monthly.csv``. About 400 negative hours a year (467 in 2023).

    **Quarter hours.** The FI day-ahead market has cleared in 15-minute units since the
    delivery day 1 Oct 2025 (:data:`QUARTER_HOUR_MARKET_START`; FACTS: 15-minute time
    resolution). On a sub-hourly index, steps on local dates from then on vary within the
    hour by a deterministic shape [assumption: no 15-min FI price data in the repository;
    the shape imitates the intra-hour ramps of a quarter-hour market]: quarter
    :math:`q = 0..3` of hour :math:`h` gets

    .. math::

        p_{h,q} = p_h + \\frac{p_{h+1} - p_{h-1}}{2}\\, c_q + 0.05\\,|p_h|\\,\\eta_{d,h,q},
        \\qquad c = (-3, -1, 1, 3) / 8

    a straight line through the hour with the slope of its neighbours (quarter centres at
    -3/8 ... 3/8 h from mid-hour) plus noise :math:`\\eta` (standard normal, seed 2025,
    keyed by local day of year, hour and quarter, de-meaned over the four quarters). Both
    terms sum to zero over the hour, so **the hourly mean is** :math:`p_h`: an hourly run,
    and every monthly mean, are unchanged. Before 1 Oct 2025 (hourly market) quarters hold
    the hour's price. A 30-minute step takes the mean of its two quarters.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index.
    tz : str
        Local zone (default Europe/Helsinki).

    Returns
    -------
    pandas.Series
        Spot price [EUR/kWh] ex VAT, named ``eur_per_kwh``.
    """
    years = np.unique(np.asarray(index.tz_convert(tz).year))
    step = step_of(index) if len(index) > 1 or index.freq is not None else pd.Timedelta(hours=1)
    quarter = pd.Timedelta(minutes=15)
    if step >= pd.Timedelta(hours=1) or step % quarter != pd.Timedelta(0):
        hourly = pd.concat([_typical_spot_year(int(y), tz) for y in years])
        values = hourly.reindex(index.floor("1h")).to_numpy()
        return pd.Series(values / 1000.0, index=index, name=_NAME)
    # neighbouring hours at the year's edges come from the adjacent years
    span = range(int(years.min()) - 1, int(years.max()) + 2)
    hourly = pd.concat([_typical_spot_year(y, tz) for y in span])
    k = int(step // quarter)
    quarters = index.repeat(k) + pd.TimedeltaIndex(np.tile(np.arange(k), len(index)) * quarter)
    values = _quarter_hour_prices(quarters, hourly, tz).reshape(len(index), k).mean(axis=1)
    return pd.Series(values / 1000.0, index=index, name=_NAME)


#: Intra-hour ramp weights of the four quarters (centres at -3/8, -1/8, 1/8, 3/8 h).
_RAMP: Final = np.array([-3.0, -1.0, 1.0, 3.0]) / 8.0


@lru_cache(maxsize=1)
def _quarter_draws() -> np.ndarray:
    """Fixed-seed noise keyed by (day of year, local hour, quarter), zero mean per hour."""
    eta = np.random.default_rng(2025).normal(0.0, 1.0, (367, 24, 4))
    out: np.ndarray = eta - eta.mean(axis=2, keepdims=True)
    return out


def _quarter_hour_prices(quarters: pd.DatetimeIndex, hourly: pd.Series, tz: str) -> np.ndarray:
    """The typical spot price [EUR/MWh] at each quarter-hour start (see
    :func:`typical_spot_eur_per_kwh`)."""
    one = pd.Timedelta(hours=1)
    hour = quarters.floor("1h")
    base = hourly.reindex(hour).to_numpy()
    before = hourly.reindex(hour - one).to_numpy()
    after = hourly.reindex(hour + one).to_numpy()
    before = np.where(np.isnan(before), base, before)
    after = np.where(np.isnan(after), base, after)
    q = np.asarray((quarters - hour) // pd.Timedelta(minutes=15), dtype=np.int64)
    local = quarters.tz_convert(tz)
    doy, hod = np.asarray(local.day_of_year), np.asarray(local.hour)
    shape = (after - before) / 2.0 * _RAMP[q] + 0.05 * np.abs(base) * _quarter_draws()[doy, hod, q]
    live = _in_force(quarters, [QUARTER_HOUR_MARKET_START], tz) >= 0
    out: np.ndarray = base + np.where(live, shape, 0.0)
    return out


def _tax(electricity_tax: float | str) -> float:
    if isinstance(electricity_tax, str):
        if electricity_tax not in ELECTRICITY_TAX_EUR_PER_KWH:
            raise ValueError(f"tax class must be 'I' or 'II', got {electricity_tax!r}")
        return ELECTRICITY_TAX_EUR_PER_KWH[electricity_tax]
    return float(electricity_tax)


@lru_cache(maxsize=1)
def _spot_parameters() -> pd.DataFrame:
    """The monthly parameters of the typical spot price, indexed by month 1..12."""
    table = pd.read_csv(_SPOT_CSV, comment="#").set_index("month")
    return table


@lru_cache(maxsize=1)
def _spot_draws() -> dict[str, np.ndarray]:
    """Fixed-seed random draws keyed by day of year (1..366) and local hour."""
    rng = np.random.default_rng(2023)
    return {
        "level": rng.lognormal(0.0, 0.3, 367),
        "noise": rng.normal(0.0, 0.08, (367, 24)),
        "negative_day": rng.uniform(size=367),
        "midday_weekday": rng.uniform(size=367),
        "start": rng.uniform(size=367),
        "length": rng.uniform(size=367),
        "depth": rng.exponential(3.0, (367, 24)),
    }


def _bump(h: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((h - mu) / sigma) ** 2)


@lru_cache(maxsize=16)
def _typical_spot_year(year: int, tz: str) -> pd.Series:
    """Hourly typical spot price [EUR/MWh] of the local calendar year on its UTC index."""
    par = _spot_parameters()
    draw = _spot_draws()
    idx = local_year_index(year, tz)
    local = idx.tz_convert(tz)
    doy = np.asarray(local.day_of_year)
    hour = np.asarray(local.hour)
    month = np.asarray(local.month)
    weekday = effective_weekday(idx, tz=tz)
    weekend = weekday >= 5

    dip = par["midday_dip"].to_numpy()[month - 1]
    h = hour.astype(float)
    daily = (
        1.0
        + 0.20 * _bump(h, 8.0, 1.5)
        + 0.25 * _bump(h, 18.5, 1.8)
        - 0.30 * _bump(h, 3.0, 2.2)
        - dip * _bump(h, 13.0, 2.5)
    )
    weekly = np.array([1.05] * 5 + [0.92, 0.85])[weekday]
    shape = draw["level"][doy] * weekly * daily * (1.0 + draw["noise"][doy, hour])
    shape = np.maximum(shape, 0.05)

    q = par["negative_day_probability"].to_numpy()[month - 1] * np.where(weekend, 1.5, 1.0)
    negative_day = draw["negative_day"][doy] < q
    sunny = (month >= 4) & (month <= 9) & (weekend | (draw["midday_weekday"][doy] < 0.3))
    start = np.where(sunny, 10, 0) + np.floor(draw["start"][doy] * 3)
    length = 3 + np.floor(draw["length"][doy] * 5)
    negative = negative_day & (h >= start) & (h < start + length)
    neg_price = -(0.01 + draw["depth"][doy, hour])

    price = np.empty(len(idx))
    target = par["mean_eur_per_mwh"].to_numpy()
    for m in range(1, 13):
        in_m = month == m
        neg_m, pos_m = in_m & negative, in_m & ~negative
        scale = (target[m - 1] * in_m.sum() - neg_price[neg_m].sum()) / shape[pos_m].sum()
        price[pos_m] = scale * shape[pos_m]
        price[neg_m] = neg_price[neg_m]
    return pd.Series(price, index=idx, name="eur_per_mwh")


def read_spot_known(
    path: str | Path,
    index: pd.DatetimeIndex,
    *,
    unit: Literal["eur_per_mwh", "c_per_kwh", "eur_per_kwh"],
    vat_included: bool,
    column: str,
    time_column: str = "timestamp",
    tz: str = "UTC",
    history_days: int = 7,
) -> tuple[np.ndarray, pd.Series]:
    """The spot prices a file holds for a horizon, and the recent ones before it.

    The day-ahead prices of the day after tomorrow are never out when a nightly plan is
    made: the file covers only part of the horizon. Its rows are those with a price (rows
    after the last price, e.g. empty cells of a dump, do not count); inside that span the
    file is read and checked as :func:`read_spot` does.

    Parameters
    ----------
    path, unit, vat_included, column, time_column, tz
        As in :func:`read_spot` (``unit`` may also be ``eur_per_kwh``).
    index : pandas.DatetimeIndex
        Canonical UTC index of the horizon.
    history_days : int
        Days before the horizon start to return as the recent history.

    Returns
    -------
    (numpy.ndarray, pandas.Series)
        Spot price [EUR/kWh] ex VAT per horizon step, NaN where the file has none; and
        the known prices [EUR/kWh] from ``history_days`` before the horizon start to its
        end (on the horizon's step), as a Series on their UTC times.
    """
    path = Path(path)
    head = read_table(path, f"{time_column}, {column}")
    for col in (time_column, column):
        if col not in head.columns:
            found = ", ".join(map(str, head.columns))
            raise DataError(path, col, f"missing column (found: {found})")
    step = step_of(index)
    empty = (np.full(len(index), np.nan), pd.Series(dtype=float))
    if len(head) < 2:
        return empty
    times = parse_times(head[time_column], path, time_column, zone_for(tz, path, time_column))
    has = np.asarray(pd.to_numeric(head[column], errors="coerce").notna())
    if not has.any():
        return empty
    st = times.sort_values()
    gaps = st[1:] - st[:-1]
    fstep = pd.Timedelta(gaps[gaps > pd.Timedelta(0)].min())
    first, end = times[has].min(), times[has].max() + fstep
    lo = max(first, index[0] - pd.Timedelta(days=history_days))
    lo = index[0] - ((index[0] - lo) // step) * step  # on the horizon's grid
    hi = min(end, index[-1] + step)
    if hi <= lo:
        return empty
    span = pd.date_range(lo, hi, freq=step, inclusive="left", name="timestamp")
    span = span[span + step <= end]
    if len(span) == 0:
        return empty
    span = pd.DatetimeIndex(span, freq=pd.tseries.frequencies.to_offset(step))
    if unit == "eur_per_kwh":
        frame = read_series_file(
            path, {column: _NAME}, span, time_column=time_column, tz=tz, allow_negative=True
        )
        known = frame[_NAME]  # as the grid reads an eur_per_kwh file: taken as it is
    else:
        known = read_spot(
            path, span, unit=unit, vat_included=vat_included, column=column,
            time_column=time_column, tz=tz,
        )  # fmt: skip
    values = known.reindex(index).to_numpy(float)
    return values, known.rename(_NAME)


def fill_missing_prices(
    index: pd.DatetimeIndex,
    spot: np.ndarray,
    recent: pd.Series,
    *,
    tz: str = "Europe/Helsinki",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Forecast missing spot prices from the recent level on the embedded shape.

    With :math:`s_t` the embedded typical-year shape (:func:`typical_spot_eur_per_kwh`),
    :math:`R` the steps with a known recent price :math:`p_r` and the means
    :math:`\bar p = \frac{1}{|R|}\sum_R p_r`, :math:`\bar s = \frac{1}{|R|}\sum_R s_r`,
    a missing price is

    .. math::

        \hat p_t = \begin{cases}
            s_t\,\bar p / \bar s & \bar p > 0.001 \text{ and } \bar s > 0.001
                                     \text{ EUR/kWh} \\
            s_t + \bar p - \bar s & \text{otherwise (a level near or below zero)}
        \end{cases}

    i.e. the shape (daily and weekly profile, negative-price hours) at the recent level;
    with no recent price at all, the shape itself.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index of the horizon.
    spot : numpy.ndarray
        Spot price per step [EUR/kWh], NaN where missing.
    recent : pandas.Series
        Known prices [EUR/kWh] on their UTC times (e.g. the last week's and the
        horizon's known part, from :func:`read_spot_known`).
    tz : str
        Local zone of the shape.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The completed prices [EUR/kWh] and the mask of the filled steps.
    """
    price = np.asarray(spot, dtype=float).copy()
    missing = np.isnan(price)
    if not missing.any():
        return price, missing
    shape = typical_spot_eur_per_kwh(index, tz=tz).to_numpy(float)
    known = recent.dropna()
    if len(known):
        times = pd.DatetimeIndex(known.index)
        shape_known = typical_spot_eur_per_kwh(times, tz=tz).to_numpy(float)
        p_bar, s_bar = float(known.mean()), float(shape_known.mean())
        if p_bar > 1e-3 and s_bar > 1e-3:
            guess = shape * (p_bar / s_bar)
        else:
            guess = shape + (p_bar - s_bar)
    else:
        guess = shape
    price[missing] = guess[missing]
    return price, missing

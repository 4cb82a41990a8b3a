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
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from pecopt.ingest.timeseries import (
    read_series_file,
)
from pecopt.scenario.types import TouBand

__all__ = [
    "ELECTRICITY_TAX_EUR_PER_KWH",
    "FORTUM_ESPOO_2025_MONTHLY_EXAMPLE_EUR_PER_KWH",
    "dh_energy_price",
    "emission_factor_series",
    "export_price_eur_per_kwh",
    "finnish_electricity_tax",
    "finnish_electricity_vat",
    "hour_range",
    "import_price_eur_per_kwh",
    "night_tariff_bands",
    "rolling_peak_kw",
    "scale_monthly_prices",
    "seasonal_tariff_bands",
    "tou_network_fee",
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


#: Finnish VAT on electricity by first local date in force [-].
_FI_VAT: Final = (
    ("1900-01-01", 0.22),
    ("2010-07-01", 0.23),
    ("2013-01-01", 0.24),
    ("2022-12-01", 0.10),
    ("2023-05-01", 0.24),
    ("2024-09-01", 0.255),
)

_NAME: Final = "eur_per_kwh"


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
    return [TouBand(eur_per_kwh=night_eur_per_kwh, hours=hour_range(22, 7))]


def seasonal_tariff_bands(winter_day_eur_per_kwh: float) -> list[TouBand]:
    """Bands of a Finnish seasonal tariff: winter day = Nov–Mar, Mon–Sat, 07–22 local."""
    return [
        TouBand(
            eur_per_kwh=winter_day_eur_per_kwh,
            months=[11, 12, 1, 2, 3],
            weekdays=[0, 1, 2, 3, 4, 5],
            hours=hour_range(7, 22),
        )
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
    bands : sequence of :class:`~pecopt.scenario.types.TouBand`
        E.g. :func:`night_tariff_bands` or :func:`seasonal_tariff_bands`; local months
        1-12, weekdays 0 (Monday) - 6 and hours 0-23.
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
        match = free & np.isin(month, band.months)
        match &= np.isin(weekday, band.weekdays) & np.isin(hour, band.hours)
        fee[match] = float(band.eur_per_kwh)
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


def _tax(electricity_tax: float | str) -> float:
    if isinstance(electricity_tax, str):
        if electricity_tax not in ELECTRICITY_TAX_EUR_PER_KWH:
            raise ValueError(f"tax class must be 'I' or 'II', got {electricity_tax!r}")
        return ELECTRICITY_TAX_EUR_PER_KWH[electricity_tax]
    return float(electricity_tax)

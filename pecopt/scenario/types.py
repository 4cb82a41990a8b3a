"""Building blocks of scenario records, shared by the scenario schema and the technology
files: the strict base model, constrained numbers, and time-series specifications.

Units are in the key names. Non-finite numbers (``.inf``, ``.nan``) are rejected.
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
Binaries = Literal["auto", "always", "never"]
#: An IANA time-zone name that zoneinfo (and so pandas) can load, e.g. ``Europe/Helsinki``.
TimeZone = Annotated[str, AfterValidator(check_zone)]
End = Literal["cyclic", "initial", "free", "value"]


class Strict(BaseModel):
    """Base: unknown keys are errors, numbers must be finite, and models are immutable.

    Each field is described by the docstring written under it (its meaning, with the unit
    in brackets): pydantic reads it as the field's ``description``
    (``use_attribute_docstrings``), and the scenario reference is generated from it
    (:mod:`pecopt.scenario.reference`)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True
    )


class SeriesFile(Strict):
    """One column of a time-series file (CSV or Parquet)."""

    path: Path
    """The CSV or Parquet file (relative to the scenario file's folder)."""
    column: str
    """The column holding the values, in the unit the field using it names."""
    time_column: str = "timestamp"
    """The column holding the time stamps."""
    timezone: TimeZone = "UTC"
    """The time zone of naive time stamps (an IANA name); zone-aware ones keep theirs."""


#: A per-step quantity: a constant, one value per step of the horizon, or a file column.
Series = float | list[float] | SeriesFile


class EmissionFactor(Strict):
    """An emission factor [kg CO2e/kWh]: a constant or a series."""

    constant_kg_per_kwh: NonNeg | None = None
    """One emission factor for every step [kg CO2e/kWh]."""
    series: Series | None = None
    """An emission factor per step [kg CO2e/kWh]: a list, or a file column."""

    @model_validator(mode="after")
    def _one(self) -> EmissionFactor:
        if (self.constant_kg_per_kwh is None) == (self.series is None):
            raise ValueError("give exactly one of constant_kg_per_kwh or series")
        return self


class Size(Strict):
    """A capacity the optimiser chooses (design mode), in the unit of the field it stands
    for (kW, kWh, kWp or m2, as the field's name says).

    ``existing`` is already built (a lower bound, no investment); new capacity costs
    ``capex_eur_per_unit`` [EUR per unit], annualised over ``lifetime_yr`` at the
    scenario's discount rate, plus fixed O&M ``fom_pct_per_yr`` [% of the capex per year];
    ``unit_size`` builds it in modules (an integer number of them).
    """

    existing: NonNeg = 0.0
    """Capacity already built [unit of the field]: a lower bound, no investment."""
    max: NonNeg
    """The largest capacity the optimiser may choose [unit of the field]."""
    capex_eur_per_unit: NonNeg = 0.0
    """Investment cost of new capacity [EUR per unit of the field]."""
    lifetime_yr: Annotated[float, Field(gt=0.0)] = 20.0
    """Economic lifetime over which the investment is annualised [yr]."""
    fom_pct_per_yr: NonNeg = 0.0
    """Fixed operation and maintenance cost [% of the capex per year]."""
    unit_size: Annotated[float, Field(gt=0.0)] | None = None
    """Build new capacity in modules of this size [unit of the field] (an integer number of them);
    None: any size."""

    @model_validator(mode="after")
    def _range(self) -> Size:
        if self.max < self.existing:
            raise ValueError(f"max ({self.max:g}) is below existing ({self.existing:g})")
        return self


#: A capacity: a number (given) or a :class:`Size` (chosen by the optimiser).
Capacity = NonNeg | Size


def upper(capacity: float | Size) -> float:
    """The largest value a capacity can take."""
    return capacity.max if isinstance(capacity, Size) else float(capacity)


class TouBand(Strict):
    """A time-of-use band of a network tariff, in local time: it applies when the step's
    month (1-12), weekday (0 = Monday ... 6) and hour (0-23) are all listed."""

    eur_per_kwh: NonNeg
    """The energy fee in this band [EUR/kWh, ex VAT]."""
    months: list[Annotated[int, Field(ge=1, le=12)]] = list(range(1, 13))
    """Local months the band applies in (1-12)."""
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = list(range(7))
    """Local weekdays the band applies on (0 = Monday ... 6 = Sunday)."""
    hours: list[Annotated[int, Field(ge=0, le=23)]] = list(range(24))
    """Local hours the band applies in (0-23, the hour a step starts in)."""

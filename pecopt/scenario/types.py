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
    """Base: unknown keys are errors, numbers must be finite, and models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SeriesFile(Strict):
    """One column of a time-series file (CSV or Parquet)."""

    path: Path
    column: str
    time_column: str = "timestamp"
    timezone: TimeZone = "UTC"


#: A per-step quantity: a constant, one value per step of the horizon, or a file column.
Series = float | list[float] | SeriesFile


class EmissionFactor(Strict):
    """An emission factor [kg CO2e/kWh]: a constant or a series."""

    constant_kg_per_kwh: NonNeg | None = None
    series: Series | None = None

    @model_validator(mode="after")
    def _one(self) -> EmissionFactor:
        if (self.constant_kg_per_kwh is None) == (self.series is None):
            raise ValueError("give exactly one of constant_kg_per_kwh or series")
        return self

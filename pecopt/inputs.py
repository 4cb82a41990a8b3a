"""DistrictInputs: the one frozen hand-off from ingest to the model.

It holds the validated scenario, the district-wide :class:`~pecopt.model.technology.Common`
(time grid, objective, solver and carbon settings), the canonical tables (tidy, UTC
``timestamp``, units in column names: what ``pecopt ingest`` writes as Parquet) and, per
technology present, the frozen arrays its ``prepare`` made from those tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.model.technology import Common
    from pecopt.scenario.schema import Scenario


@dataclass(frozen=True)
class DistrictInputs:
    """Everything the model needs, aligned to ``common.index``."""

    scenario: Scenario
    common: Common
    tables: Mapping[str, pd.DataFrame]
    data: Mapping[str, Any]

    @property
    def n(self) -> int:
        """Number of steps."""
        return self.common.n

    @property
    def index(self) -> pd.DatetimeIndex:
        """UTC step starts."""
        return self.common.index

    @property
    def dt_h(self) -> float:
        """Step length [h]."""
        return self.common.dt_h

"""The scenario schema: every key a scenario YAML file may hold, validated by pydantic.

Unknown or misspelt keys are errors (``extra="forbid"``), numbers must be finite, and
units are in the key names. Relative paths are resolved against the scenario file's
folder by the loader.

The district-wide sections live here (site, horizon, weather, buildings, carbon, PED,
objective, solver). The ``assets`` section is **composed from the technologies** of
:mod:`pecopt.model.registry`: each declares its parameter record and its key, so a new
technology needs no change here.
"""

from __future__ import annotations

from typing import Any

from pydantic import PrivateAttr, create_model

from pecopt.model.blocks.demand import Building, SeriesDemand
from pecopt.model.registry import TECHNOLOGIES
from pecopt.scenario.settings import (
    PED,
    Aggregation,
    Carbon,
    Dispatch,
    Economics,
    HeatSystem,
    Horizon,
    Objective,
    PEDTarget,
    Site,
    SolverOptions,
    SpaceHeatCurve,
    Targets,
    VirtualSupply,
    Weather,
)
from pecopt.scenario.types import SeriesFile as SeriesFile  # re-exported
from pecopt.scenario.types import Strict

__all__ = [
    "PED",
    "Aggregation",
    "Economics",
    "PEDTarget",
    "SpaceHeatCurve",
    "Targets",
    "VirtualSupply",
    "HeatSystem",
    "Assets",
    "Carbon",
    "Dispatch",
    "Horizon",
    "Objective",
    "Scenario",
    "SeriesFile",
    "Site",
    "SolverOptions",
    "Weather",
]


def _assets_model() -> type[Strict]:
    """``Assets``: one field per technology in the registry (a list of its records, or
    one optional record)."""
    fields: dict[str, Any] = {}
    for key, tech in TECHNOLOGIES.items():
        if not tech.in_assets:
            continue
        if tech.many:
            fields[key] = (list[tech.unit], [])  # type: ignore[name-defined]
        else:
            fields[key] = (tech.unit | None, tech.default)
    model: type[Strict] = create_model("Assets", __base__=Strict, **fields)
    model.__doc__ = "The district's assets, one key per technology (see pecopt.model.registry)."
    return model


Assets = _assets_model()


class Scenario(Strict):
    """A whole scenario file."""

    site: Site = Site()
    horizon: Horizon
    weather: Weather = Weather()
    buildings: list[Building] = []
    demand: SeriesDemand | None = None
    heat: HeatSystem = HeatSystem()
    assets: Assets = Assets()  # type: ignore[valid-type]
    carbon: Carbon = Carbon()
    ped: PED = PED()
    economics: Economics = Economics()
    targets: Targets = Targets()
    aggregation: Aggregation | None = None
    objective: Objective = Objective()
    solver: SolverOptions = SolverOptions()
    dispatch: Dispatch | None = None

    #: the ``--set PATH=VALUE`` options the scenario was loaded with (not a file key)
    _set: tuple[str, ...] = PrivateAttr(default=())

    @property
    def set_options(self) -> tuple[str, ...]:
        """The ``--set PATH=VALUE`` options this scenario was loaded with, in order
        (recorded in ``inputs/scenario.json`` and ``manifest.json`` of its runs)."""
        return self._set

    def with_set_options(self, sets: tuple[str, ...]) -> Scenario:
        """A copy that records ``sets`` as :attr:`set_options`."""
        out = self.model_copy()
        out._set = tuple(sets)
        return out

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

import re
from typing import Any

from pydantic import Field, PrivateAttr, create_model

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


def _first_sentence(doc: str) -> str:
    """The first clause of a docstring's first paragraph, on one line (asides that name
    keys left out)."""
    text = " ".join(doc.strip().split("\n\n")[0].split())
    text = re.sub(r"\s*\([^()]*:[^()]*\)", "", text)
    return re.split(r"(?<!e\.g)(?<!i\.e)[.;:](?:\s|$)", text, maxsplit=1)[0] + "."


def _assets_model() -> type[Strict]:
    """``Assets``: one field per technology in the registry (a list of its records, or
    one optional record)."""
    fields: dict[str, Any] = {}
    for key, tech in TECHNOLOGIES.items():
        if not tech.in_assets:
            continue
        what = _first_sentence(tech.unit.__doc__ or tech.unit.__name__)
        if tech.many:
            text = f"{what} A list, one record per unit (by name)."
            fields[key] = (list[tech.unit], Field([], description=text))  # type: ignore[name-defined]
        else:
            text = f"{what} One record, or null for none."
            fields[key] = (tech.unit | None, Field(tech.default, description=text))
    model: type[Strict] = create_model("Assets", __base__=Strict, **fields)
    model.__doc__ = "The district's assets, one key per technology (see pecopt.model.registry)."
    return model


Assets = _assets_model()


class Scenario(Strict):
    """A whole scenario file."""

    site: Site = Site()
    """Where the district is: name, coordinates, time zone."""
    horizon: Horizon
    """The period planned and its step length."""
    weather: Weather = Weather()
    """Where the weather comes from (irradiance, air temperature, wind)."""
    buildings: list[Building] = []
    """The buildings: each with its load (archetype or metered) and rooftop PV arrays."""
    demand: SeriesDemand | None = None
    """District-level demand series in addition to the buildings' loads [kW]."""
    heat: HeatSystem = HeatSystem()
    """The temperatures heat is needed at (space-heating curve, hot water)."""
    assets: Assets = Assets()  # type: ignore[valid-type]
    """The district's assets, one key per technology."""
    carbon: Carbon = Carbon()
    """Emission accounting (export credit)."""
    ped: PED = PED()
    """What the positive-energy balance counts (its boundary)."""
    economics: Economics = Economics()
    """Annualising investments (discount rate)."""
    targets: Targets = Targets()
    """Design targets as constraints (PED balances, CO2 cap)."""
    aggregation: Aggregation | None = None
    """Design on typical periods; None: on the whole horizon."""
    objective: Objective = Objective()
    """What is minimised (cost, emissions, cost under a CO2 cap)."""
    solver: SolverOptions = SolverOptions()
    """HiGHS options."""
    dispatch: Dispatch | None = None
    """Nightly dispatch settings (``pecopt dispatch``); None: the defaults."""

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

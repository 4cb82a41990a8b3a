"""Scenario schema and loader (imported lazily: technology files import
:mod:`pecopt.scenario.types`, and the schema is composed from the technologies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.layouts import load_scenario
    from pecopt.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario"]


def __getattr__(name: str) -> Any:
    if name == "load_scenario":
        from pecopt.scenario.layouts import load_scenario

        return load_scenario
    if name == "Scenario":
        from pecopt.scenario.schema import Scenario

        return Scenario
    raise AttributeError(name)

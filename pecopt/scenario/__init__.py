"""Scenario schema and loader."""

from pecopt.scenario.loader import load_scenario
from pecopt.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario"]

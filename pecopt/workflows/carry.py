"""Carrying a district's state across nightly runs, technology by technology.

Each technology says what it needs on a rolling horizon, what it reads back from the
carried state and what it carries to the next run (:mod:`pecopt.model.carry`); this
module walks the registry and names no technology:

1. :func:`rolling_assets`: the day's ``assets`` section, each unit passed through its
   technology's ``rolling`` hook (end conditions, default start levels, price filling);
2. :func:`apply_start`: after ingest, each unit passed through its technology's
   ``start`` hook with the carried state (:class:`~pecopt.model.carry.Start`);
3. :func:`carried_states` and :func:`trajectories`: the solved model's carried
   quantities, from its blocks' ``state`` readers, at the horizon's start and at the end
   of every step; the trajectories go to the state store.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pecopt.model.carry import Start
from pecopt.model.core import DistrictModel
from pecopt.model.registry import TECHNOLOGIES
from pecopt.results.extract import ValueCache
from pecopt.scenario.schema import Dispatch, Scenario
from pecopt.state import Trajectory

__all__ = ["apply_start", "carried_states", "rolling_assets", "trajectories"]


def _records(assets: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """(technology, unit record) for every unit in an ``assets`` dict, in registry order."""
    out = []
    for key, tech in TECHNOLOGIES.items():
        got = assets.get(key) if tech.in_assets else None
        if got is None:
            continue
        for rec in got if tech.many else [got]:
            out.append((tech, rec))
    return out


def rolling_assets(s: Scenario, cfg: Dispatch) -> dict[str, Any]:
    """The ``assets`` section of the day's scenario (a dict, to validate), every unit
    fitted to a rolling horizon by its technology."""
    assets: dict[str, Any] = s.assets.model_dump()  # type: ignore[attr-defined]
    for tech, rec in _records(assets):
        if tech.rolling is not None:
            tech.rolling(rec, cfg)
    return assets


def apply_start(assets: dict[str, Any], start: Start) -> Start:
    """Read the carried state into every unit of ``assets`` (in place); returns
    ``start`` with the technologies' flags and what each asset starts from."""
    for tech, rec in _records(assets):
        if tech.start is not None:
            tech.start(rec, start)
    return start


def carried_states(dm: DistrictModel) -> dict[tuple[str, str], np.ndarray]:
    """Every carried quantity of the solved model by (asset, quantity): ``n + 1``
    values, at the horizon's start (what the model started from) and at the end of
    each step."""
    value = ValueCache()
    out: dict[tuple[str, str], np.ndarray] = {}
    for c in dm.contributions.values():
        for key, read in c.state.items():
            out[key] = np.asarray(read(value), dtype=np.float64)
    return out


def trajectories(
    dm: DistrictModel, states: dict[tuple[str, str], np.ndarray] | None = None
) -> list[Trajectory]:
    """The planned state over the whole horizon (the delivery window and the
    look-ahead), for the store: ``values[i]`` at the end of step i (``states``: from
    :func:`carried_states`, read again if not given)."""
    index = dm.inputs.index
    step = pd.Timedelta(hours=dm.inputs.dt_h)
    got = carried_states(dm) if states is None else states
    return [
        Trajectory(asset, quantity, index[0], step, values[1:])
        for (asset, quantity), values in got.items()
    ]

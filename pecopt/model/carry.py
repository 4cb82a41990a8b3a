"""What a technology carries from one run to the next: the interface its file implements.

A nightly plan starts from the state the district is in and leaves the state the next
night starts from. Each technology says both, next to the variables it restores
(:class:`~pecopt.model.technology.Technology`):

* ``rolling(record, dispatch)``: make one unit's record fit a rolling horizon, before
  anything is carried (end conditions instead of ``end: cyclic``, a default start level,
  how missing prices are filled); the record is the unit's scenario entry as a dict;
* ``start(record, start)``: read the carried state (:class:`Start`) into the record
  (levels, plug state, on/off and time in state, billing peaks so far), flag what was
  clipped or missing, and note in ``start.used`` what the model will start from;
* its block's :attr:`~pecopt.model.technology.Contribution.state`: readers of the
  solved model that give each carried quantity at the horizon's start and at the end of
  every step (``n + 1`` values: element 0 is what the model started from).

The nightly workflow (:mod:`pecopt.workflows.carry`) walks the technologies and names
none; the state store (:mod:`pecopt.state`) keeps ``(asset, quantity)`` trajectories.
Quantities in use:

==================  ====  ==============================================================
``soc_kwh``         kWh   energy in a battery, thermal store or EV (``fleet/vehicle``: the
                          vehicle's row, all its ``copies`` together)
``copies``          1     how many identical vehicles the row stood for
``plugged``         1     EV plugged in during the step (1) or away (0)
``on``              1     heat pump running in the step
``hours_in_state``  h     how long the heat pump has been on (off) at the end of the step
``billing_peak_kw`` kW    district-heat billing peak so far (running maximum)
==================  ====  ==============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.scenario.settings import Dispatch

__all__ = ["DEGRADED", "NOTICE", "Flag", "Start", "StateReader"]

#: Flag levels: ``notice`` (recorded, exit 0) and ``degraded`` (exit 10).
NOTICE, DEGRADED = "notice", "degraded"

#: Reads a carried quantity from the solved model: ``n + 1`` values, at the horizon's
#: start and at the end of each step (argument: reads a vector variable's values).
StateReader = Callable[[Callable[[Any], np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Flag:
    """Something an operator should know about a plan."""

    level: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "code": self.code, "message": self.message}


@dataclass
class Start:
    """The carried state a technology's ``start`` hook reads, and what it reports.

    ``values``: the state at ``at`` by (asset, quantity) (empty on the first night);
    ``tables``: the day's ingested input tables (e.g. which vehicles a fleet has today);
    ``flags``: what the hooks report; ``used``: what each asset's model starts from, by
    quantity, recorded with the run.
    """

    at: pd.Timestamp
    dispatch: Dispatch
    values: Mapping[tuple[str, str], float] = field(default_factory=dict)
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    first_night: bool = True
    run_id: int | None = None
    run_day: str | None = None
    timezone: str = "UTC"
    flags: list[Flag] = field(default_factory=list)
    used: dict[str, dict[str, float]] = field(default_factory=dict)

    def get(self, asset: str, quantity: str) -> float | None:
        """The carried value, or None."""
        v = self.values.get((asset, quantity))
        return None if v is None or not np.isfinite(v) else float(v)

    def clip(self, value: float, hi: float, what: str) -> float:
        """``value`` clipped to ``[0, hi]``; a clip beyond rounding is flagged."""
        v = min(max(value, 0.0), hi)
        if abs(v - value) > 1e-6:
            self.flags.append(
                Flag(NOTICE, "state_clipped", f"{what}: carried {value:g} clipped to {v:g}")
            )
        return v

    def missing(self, asset: str, start: str) -> None:
        """Flag an asset that starts without a carried state: a notice on the first
        night, degraded after it."""
        if self.first_night:
            self.flags.append(
                Flag(
                    NOTICE,
                    "no_state",
                    f"{asset}: no state carried yet (first run); starts at {start}",
                )
            )
        else:
            where = "" if self.run_id is None else f" (run {self.run_id}, day {self.run_day})"
            self.flags.append(
                Flag(
                    DEGRADED,
                    "no_state",
                    f"{asset}: no carried state for this start{where}; starts at {start}",
                )
            )

    def use(self, asset: str, quantity: str, value: float) -> None:
        """Note what ``asset``'s model starts from."""
        self.used.setdefault(asset, {})[quantity] = float(value)


def running_peak(
    flow_kw: np.ndarray, window_h: float, dt_h: float, so_far: float | None
) -> np.ndarray:
    """The billing peak at the end of each step [kW]: the highest ``window_h``-hour mean
    of ``flow_kw`` over windows that have ended by then, and at least ``so_far``.

    .. math:: \\hat P_t = \\max\\bigl(P_0, \\max_{s \\le t - k + 1}
              \\tfrac{1}{k}\\sum_{j=0}^{k-1} P_{s+j}\\bigr),\\quad k = w / \\Delta t
    """
    n = flow_kw.size
    k = max(1, min(n, round(window_h / dt_h)))
    base = so_far or 0.0
    means = np.convolve(flow_kw, np.ones(k) / k, mode="valid")  # window starting at s
    ends = np.full(n, -np.inf)
    ends[k - 1 :] = means
    return np.maximum(np.maximum.accumulate(ends), base)


def with_start(first: float, ends: np.ndarray) -> np.ndarray:
    """``[first, ends...]``: a trajectory with its value at the horizon's start."""
    return np.r_[float(first), np.asarray(ends, dtype=np.float64)]


def given(values: np.ndarray) -> StateReader:
    """A reader of a carried quantity the inputs fix (``n + 1`` values)."""
    frozen = np.asarray(values, dtype=np.float64)

    def read(_: Callable[[Any], np.ndarray]) -> np.ndarray:
        return frozen

    return read

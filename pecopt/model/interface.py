"""The interface between technology blocks and the model core.

A block builder adds its variables and constraints to its own Pyomo ``Block`` and
returns a :class:`Contribution`: what it injects into each bus, what it costs, what it
emits, and how to read its stored energy back. The core sums contributions into bus
balances and the objective; it never looks inside a block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyomo.environ as pyo

from pecopt.inputs import DistrictInputs
from pecopt.model.linear import FloatArray, Term

#: Reads a vector variable's solution values.
ValueOf = Callable[[pyo.Var], FloatArray]


@dataclass(frozen=True)
class Injection:
    """Power an asset puts into a bus at each step [kW]: ``sum(terms)[t] + constant[t]``.

    Positive supplies the bus, negative draws from it. Each term's ``row`` is the step.
    """

    asset: str
    carrier: str
    terms: tuple[Term, ...]
    constant: FloatArray | None = None


@dataclass
class Contribution:
    """What one technology block adds to the district model.

    ``cost`` maps a cost item (``energy_spot``, ``dh_power_fee`` ...) to terms in EUR;
    ``emissions`` maps a source (``grid_import`` ...) to terms in kg CO2e, with
    ``priced`` naming the sources that a carbon price applies to when it is priced on
    imports only. ``storage`` maps an asset to a function returning its stored energy
    at the end of each step [kWh] (shape ``(steps,)``).
    """

    injections: list[Injection] = field(default_factory=list)
    cost: dict[str, list[Term]] = field(default_factory=dict)
    emissions: dict[str, list[Term]] = field(default_factory=dict)
    import_sources: set[str] = field(default_factory=set)
    storage: dict[str, Callable[[ValueOf], FloatArray]] = field(default_factory=dict)
    unmet: dict[str, list[Term]] = field(default_factory=dict)
    delivered: dict[str, list[Term]] = field(default_factory=dict)


class BlockBuilder(Protocol):
    """One technology: adds its components to ``block`` and returns its contribution."""

    def __call__(self, block: pyo.Block, inputs: DistrictInputs) -> Contribution | None: ...


def steps(inputs: DistrictInputs) -> np.ndarray:
    """``0 .. n-1``."""
    return np.arange(inputs.n)


def need_binaries(
    inputs: DistrictInputs, profitable: np.ndarray, override: str | None = None
) -> np.ndarray:
    """Steps that get an exclusivity binary.

    ``binaries: always`` -> every step; ``never`` -> none (the LP relaxation);
    ``auto`` -> only the steps where ``profitable`` says simultaneous opposite flows
    could lower the objective (e.g. negative prices); elsewhere an optimum never uses
    them at once, or can be shifted to one that does not at equal cost.
    ``override`` is an asset's own ``binaries`` setting, which wins.
    """
    mode = override or inputs.solver.binaries
    if mode == "always":
        return np.arange(inputs.n)
    if mode == "never":
        return np.zeros(0, np.int64)
    return np.flatnonzero(profitable)

"""pecopt as a library: load a scenario, build its Pyomo model, change it, solve it.

>>> import pecopt, pyomo.environ as pyo
>>> s = pecopt.load_scenario("scenarios/kera.yaml", horizon={"start": "2025-01-06",
...                          "end": "2025-01-13"})
>>> built = pecopt.build(s)
>>> m = built.model                      # a pyo.ConcreteModel with its active objective
>>> m.grid_cap = pyo.Constraint(expr=m.grid.imp[10] <= 100)   # any Pyomo change
>>> sol = pecopt.solve(built)
>>> sol.objective, m.grid.imp[10].value  # the solution is in the Pyomo variables

The model is the truth: whatever is changed through Pyomo's public API before
:func:`solve` (fix/unfix, bounds, domains, (de)activated constraints or blocks, added
constraints, variables or objectives) is what HiGHS solves, and afterwards the Pyomo
variables hold the solution. Results and KPIs are read from the model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pyomo.environ as pyo

    from pecopt.inputs import DistrictInputs
    from pecopt.model.core import DistrictModel
    from pecopt.results.extract import Results
    from pecopt.scenario.schema import Scenario
    from pecopt.solver import SolveOutcome


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read and validate a scenario file; keyword arguments override its sections
    (nested dicts merge: ``horizon={"end": "2025-02-01"}``)."""
    from pecopt.scenario import load_scenario as _load

    return _load(path, overrides or None)


@dataclass(frozen=True)
class Built:
    """A built district: the frozen inputs and the Pyomo model (``.model``)."""

    scenario: Scenario
    inputs: DistrictInputs
    district: DistrictModel
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def model(self) -> pyo.ConcreteModel:
        """The Pyomo model, with one block per technology and its active objective."""
        return self.district.model


@dataclass(frozen=True)
class Solution:
    """A solved district: the solver outcome, the tidy results and the KPIs."""

    outcome: SolveOutcome
    results: Results
    kpis: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """The objective value (EUR for cost objectives, kg CO2e for emissions)."""
        return self.outcome.objective

    @property
    def status(self) -> str:
        return self.outcome.status.value


def build(scenario: Scenario | DistrictInputs, file: str | Path | None = None) -> Built:
    """Ingest (unless given inputs) and build the Pyomo model of a scenario."""
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.inputs import DistrictInputs
    from pecopt.model.core import build_model

    t0 = time.perf_counter()
    name = None if file is None else str(file)
    if isinstance(scenario, DistrictInputs):
        inputs = scenario
    else:
        inputs = to_inputs(scenario, ingest(scenario, name), name)
    t1 = time.perf_counter()
    dm = build_model(inputs)
    t2 = time.perf_counter()
    return Built(inputs.scenario, inputs, dm, {"ingest": t1 - t0, "build": t2 - t1})


def solve(built: Built, *, deadline: float | None = None, kpis: bool = True) -> Solution:
    """Solve the model as it is now (with HiGHS, in memory), load the solution into its
    variables and extract the results and KPIs.

    ``deadline``: ``time.perf_counter()`` value by which to return (default: the
    scenario's ``solver.time_limit_s`` from now). ``kpis=False``: the results only
    (``Solution.kpis`` empty), for a caller that reads the tables alone.
    """
    from dataclasses import replace

    outcome, stages = _solve_stages(built, deadline)
    kind = built.inputs.common.objective.kind
    primary = stages.get(
        "emissions" if kind == "emissions" else "cost", next(iter(stages.values()))
    )
    return solution_of(built, replace(outcome, objective=primary, stages=stages), kpis)


def solution_of(built: Built, outcome: SolveOutcome, with_kpis: bool = True) -> Solution:
    """The results and KPIs (unless ``with_kpis`` is false) of the solution ``outcome``
    loaded into ``built``'s model."""
    from pecopt.results.extract import extract
    from pecopt.results.kpis import kpis

    t0 = time.perf_counter()
    results = extract(built.district)
    k = kpis(built.district, results, outcome) if with_kpis else {}
    seconds = {
        "handoff": outcome.seconds["handoff"],
        "mip_start": outcome.seconds["mip_start"],
        "solve": outcome.seconds["solve"],
        "extract": time.perf_counter() - t0 + outcome.seconds["read_solution"],
    }
    return Solution(outcome, results, k, seconds)


def _solve_stages(built: Built, deadline: float | None) -> tuple[SolveOutcome, dict[str, float]]:
    """Solve the objective's stages in turn (see :mod:`pecopt.model.core`): after each,
    a row keeps its value within the tie tolerance of the optimum and the next stage's
    objective replaces it. Returns the last outcome (its seconds summed over the stages)
    and each stage's optimum."""
    from pecopt.model.transforms import keep_stage
    from pecopt.solver import solve as solve_model

    m, dm = built.model, built.district
    opts = built.inputs.common.solver
    tol = built.inputs.common.objective.tie_tolerance
    values: dict[str, float] = {}
    seconds: dict[str, float] = {}
    outcome = None
    for k, stage in enumerate(dm.stages):
        if k > 0:
            prev = dm.stages[k - 1]
            keep_stage(dm, prev, values[prev.name], tol, stage)
        outcome = solve_model(m, opts, deadline=deadline)
        values[stage.name] = outcome.objective
        for key, v in outcome.seconds.items():
            seconds[key] = seconds.get(key, 0.0) + v
    assert outcome is not None
    return replace_seconds(outcome, seconds), values


def replace_seconds(outcome: SolveOutcome, seconds: dict[str, float]) -> SolveOutcome:
    from dataclasses import replace

    return replace(outcome, seconds=seconds)

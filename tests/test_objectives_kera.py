"""Every ``objective.kind`` on a week of Kera, through the library API, with and without
sizing and with and without typical periods: the plan is optimal and sensible.

Sensible: every bus balances at every step (``kpis["balance"]``), no EV energy is left
unmet (``kpis["unmet_kwh"]``), no asset imports and exports at the same step, and the
objectives rank the plans as they should (the emissions optimum emits no more than the
cheapest plan and costs no less; a CO2 cap between the two binds and holds).

``emissions`` is staged (penalties, emissions, cost: each stage keeps the one before within
``tie_tolerance``), which is what stopped with ``IndexError`` in the compiler before: the
penalties' terms, one per step, were given to the one-row "kept" constraint as rows
0..n-1.

Typical periods go through the library API as the design workflow does: the scenario's
``aggregation:`` section picks the periods (:func:`pecopt.aggregation.select`) and
``pecopt.build`` takes the inputs of those periods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pecopt
from pecopt.aggregation import select
from pecopt.ingest.district import ingest, to_inputs

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = {"dispatch": SCENARIOS / "kera.yaml", "sizing": SCENARIOS / "kera_design.yaml"}
WEEK = {"start": "2025-01-06", "end": "2025-01-13"}
TYPICAL = {"typical_periods": 3, "period_h": 24}  # 3 typical days stand for the week

BALANCE_KW = 1e-6  # largest bus residual accepted [kW]
UNMET_KWH = 1e-3  # EV energy left unmet [kWh]: the penalties stage's tie tolerance
#                   (1e-6 EUR) lets a later stage leave ~1e-6 kWh unserved
BOTH_WAYS_KW = 1e-5  # import and export at one step [kW]
REL = 1e-6  # objective comparisons (the stages keep each other within 1e-6)

_SOLVED: dict[tuple[str, str, bool], pecopt.Solution] = {}


def _objective(kind: str, mode: str, typical: bool) -> dict[str, Any]:
    if kind != "cost_co2_cap":
        return {"kind": kind}
    # a cap halfway between the cheapest plan's emissions and the least the district can
    # emit: it binds (the cheapest plan breaks it) and can be met
    cheapest = _co2(solved(mode, "cost", typical))
    least = _co2(solved(mode, "emissions", typical))
    return {"kind": kind, "co2_cap_kg": (cheapest + least) / 2}


def solved(mode: str, kind: str, typical: bool) -> pecopt.Solution:
    """The week solved under ``kind`` (cached: the cap of ``cost_co2_cap`` needs the two
    others)."""
    key = (mode, kind, typical)
    if key not in _SOLVED:
        scenario = pecopt.load_scenario(
            FILES[mode],
            horizon=WEEK,
            objective=_objective(kind, mode, typical),
            aggregation=TYPICAL if typical else None,
        )
        if typical:
            built = pecopt.build(_typical_inputs(scenario, FILES[mode]))
        else:
            built = pecopt.build(scenario, FILES[mode])
        _SOLVED[key] = pecopt.solve(built)
    return _SOLVED[key]


def _typical_inputs(scenario: Any, file: Path) -> Any:
    full = to_inputs(scenario, ingest(scenario, str(file)), str(file))
    c, agg = full.common, scenario.aggregation
    sel = select(
        full.tables, c.index, k=agg.typical_periods, period_h=agg.period_h, dt_h=c.dt_h,
        timezone=c.timezone, file=c.file,
    )  # fmt: skip
    inputs = to_inputs(scenario, full.tables, str(file), selection=sel)
    assert inputs.n == agg.typical_periods * agg.period_h < full.n
    return inputs


def _co2(sol: pecopt.Solution) -> float:
    return float(sol.kpis["co2_kg"]["net"])


def _cost(sol: pecopt.Solution) -> float:
    return float(sol.outcome.stages["cost"])


def _cases() -> list[Any]:
    out = []
    for mode in FILES:
        for typical in (False, True):
            for kind in ("cost", "emissions", "cost_co2_cap"):
                # the full week with every capacity free is the dearest LP (~1.5 s a solve
                # on a quiet machine, three of them for cost_co2_cap)
                marks = [pytest.mark.slow] if mode == "sizing" and not typical else []
                name = f"{mode}-{'typical' if typical else 'week'}-{kind}"
                out.append(pytest.param(mode, typical, kind, id=name, marks=marks))
    return out


@pytest.mark.parametrize(("mode", "typical", "kind"), _cases())
def test_every_objective_gives_a_sensible_plan(mode: str, typical: bool, kind: str) -> None:
    sol = solved(mode, kind, typical)
    assert sol.status == "optimal"

    residuals = {k: v for k, v in sol.kpis["balance"].items() if k.startswith("max_residual")}
    assert residuals and max(residuals.values()) <= BALANCE_KW, residuals

    unmet = sol.kpis["unmet_kwh"]
    assert unmet and max(unmet.values()) <= UNMET_KWH, unmet

    sched = sol.results.schedule
    flows = sched[sched.role.isin(["import", "export"])]
    both = flows.pivot_table(
        index=["asset", "carrier", "timestamp"], columns="role", values="flow_kw", aggfunc="sum"
    ).dropna()
    assert not both.empty  # the grid at least has both roles
    simultaneous = np.minimum(both["import"], -both["export"])
    assert simultaneous.max() <= BOTH_WAYS_KW, simultaneous.idxmax()

    if mode == "sizing":
        assert sol.kpis["sized"], "nothing was sized"

    cheapest = solved(mode, "cost", typical)
    least = solved(mode, "emissions", typical)
    tol_cost = REL * max(1.0, abs(_cost(cheapest)))
    tol_co2 = REL * max(1.0, abs(_co2(least)))
    # the plan's money, summed from the results, is the cost stage's optimum
    money = sol.kpis["cost_eur"]
    assert money["total"] + money["carbon_cost"] == pytest.approx(_cost(sol), rel=1e-6, abs=1e-3)
    if kind == "emissions":
        assert list(sol.outcome.stages)[-2:] == ["emissions", "cost"]
        # the cost stage may use the tie tolerance (1e-6 relative) of the emissions optimum
        best = sol.objective
        assert best - 1e-6 <= _co2(sol) <= best + 1.5e-6 * max(1.0, abs(best))
        assert _co2(sol) <= _co2(cheapest) + tol_co2
        assert _cost(sol) >= _cost(cheapest) - tol_cost
    elif kind == "cost_co2_cap":
        cap = (_co2(cheapest) + _co2(least)) / 2
        assert _co2(cheapest) > cap + tol_co2  # the cap binds ...
        assert _co2(sol) <= cap + tol_co2  # ... and holds
        assert _cost(cheapest) - tol_cost <= _cost(sol) <= _cost(least) + tol_cost

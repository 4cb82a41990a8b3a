"""Hourly vs 15-minute runs of the same data (held constant within each hour)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pecopt
from pecopt.ingest.district import ingest, to_inputs
from pecopt.scenario import load_scenario
from pecopt.testing import assert_balanced, hold_tables

pytestmark = pytest.mark.slow  # a week of Kera, hourly and at 15 minutes

KERA = Path(__file__).resolve().parents[1] / "scenarios" / "kera.yaml"


def _run(scenario, tables):
    inputs = to_inputs(scenario, tables)
    solution = pecopt.solve(pecopt.build(inputs))  # every stage of the objective
    assert_balanced(solution.results.schedule)
    return inputs, solution.kpis


def _elec_demand(inputs):
    return inputs.data["demand"].elec_kw.sum(axis=0)


@pytest.fixture(scope="module")
def pair():
    week = {"start": "2025-03-24T00:00", "end": "2025-03-31T00:00"}
    hourly_s = load_scenario(KERA, overrides={"horizon": week})
    quarter_s = load_scenario(KERA, overrides={"horizon": {**week, "resolution": "15min"}})
    tables = ingest(hourly_s)
    return _run(hourly_s, tables), _run(quarter_s, hold_tables(tables, 4))


def test_held_quarter_hours_have_four_times_the_steps(pair):
    (h_in, _), (q_in, _) = pair
    assert q_in.n == 4 * h_in.n
    assert q_in.dt_h == 0.25
    np.testing.assert_allclose(_elec_demand(q_in).reshape(-1, 4).mean(1), _elec_demand(h_in))


def test_energy_totals_agree(pair):
    """Any hourly schedule is feasible at 15 min, so the 15-min optimum is never dearer;
    with prices constant in the hour it may only gain from storage standing losses, so the
    totals agree closely."""
    (_, hk), (_, qk) = pair
    for carrier in ("electricity", "space_heat", "hot_water"):
        for role, value in hk["energy_kwh"][carrier].items():
            q = qk["energy_kwh"][carrier][role]
            if role == "storage":  # throughput is degenerate (a store may cycle more or less)
                net_q, net_h = q["supply"] - q["draw"], value["supply"] - value["draw"]
                assert net_q == pytest.approx(net_h, rel=2e-3, abs=50.0), (carrier, role)
                continue
            for side in ("supply", "draw"):
                assert q[side] == pytest.approx(value[side], rel=2e-3, abs=1.0), (
                    carrier,
                    role,
                    side,
                )
    assert qk["cost_eur"]["objective"] <= hk["cost_eur"]["objective"] + 1e-6
    assert qk["cost_eur"]["objective"] == pytest.approx(hk["cost_eur"]["objective"], rel=1e-3)
    ev = {k: v for k, v in hk["energy_by_asset_kwh"].items() if k.startswith("ev/")}
    ev_h = sum(v["electricity_demand_kwh"] for v in ev.values())
    ev_q = sum(qk["energy_by_asset_kwh"][k]["electricity_demand_kwh"] for k in ev)
    assert ev_q == pytest.approx(ev_h, rel=1e-3)

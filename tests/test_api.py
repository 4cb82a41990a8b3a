"""The library API (load_scenario, build, solve) and the ingested Parquet as a real stage
(``pecopt solve --inputs DIR``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
import pytest
from typer.testing import CliRunner

import pecopt
from pecopt.cli.main import app
from pecopt.testing import extending

KERA = Path(__file__).resolve().parents[1] / "scenarios" / "kera.yaml"
DAYS = {"start": "2025-01-13T00:00", "end": "2025-01-15T00:00"}


@pytest.fixture(scope="module")
def scenario():
    return pecopt.load_scenario(KERA, horizon=DAYS)


def test_build_gives_a_pyomo_model_with_its_objective(scenario):
    built = pecopt.build(scenario)
    assert isinstance(built.model, pyo.ConcreteModel)
    objs = list(built.model.component_data_objects(pyo.Objective, active=True))
    assert len(objs) == 1
    assert built.inputs.n == 48


def test_a_constraint_added_through_pyomo_is_honoured(scenario):
    base = pecopt.solve(pecopt.build(scenario))
    peak = max(base.kpis["peak_import_kw"]["grid"], 1.0)
    built = pecopt.build(scenario)
    m = built.model
    cap = 0.8 * peak
    m.grid_cap = pyo.Constraint(range(48), rule=lambda m, t: m.grid.imp[t] <= cap)
    sol = pecopt.solve(built)
    assert sol.objective >= base.objective - 1e-6
    assert max(m.grid.imp[t].value for t in range(48)) <= cap + 1e-6
    assert sol.kpis["peak_import_kw"]["grid"] <= cap + 1e-6
    # the solution lives in the model: the objective evaluated by Pyomo is the optimum
    obj = next(m.component_data_objects(pyo.Objective, active=True))
    assert pyo.value(obj) == pytest.approx(sol.objective, rel=1e-9)


def test_overrides_merge_into_sections(scenario):
    assert scenario.horizon.start == DAYS["start"]
    assert scenario.horizon.resolution == "1h"  # from the file, not replaced


def _solve(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


def test_solve_from_ingested_inputs_equals_solve_from_scenario(tmp_path, scenario):
    yaml = extending(tmp_path / "kera_days.yaml", KERA, {"horizon": DAYS})
    _solve("ingest", str(yaml), "--out", str(tmp_path / "inputs"))
    _solve("solve", str(yaml), "--out", str(tmp_path / "direct"), "-q")
    _solve("solve", "--inputs", str(tmp_path / "inputs"), "--out", str(tmp_path / "staged"), "-q")
    direct = json.loads((tmp_path / "direct" / "kpis.json").read_text())
    staged = json.loads((tmp_path / "staged" / "kpis.json").read_text())
    assert staged["cost_eur"]["objective"] == pytest.approx(
        direct["cost_eur"]["objective"], rel=1e-9
    )
    a = pd.read_parquet(tmp_path / "direct" / "schedule.parquet")
    b = pd.read_parquet(tmp_path / "staged" / "schedule.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-6)

    # an edit of the Parquet stage is what gets solved: double every building's electricity
    loads = pd.read_parquet(tmp_path / "inputs" / "loads.parquet")
    loads["elec_kw"] *= 2
    loads.to_parquet(tmp_path / "inputs" / "loads.parquet")
    _solve("solve", "--inputs", str(tmp_path / "inputs"), "--out", str(tmp_path / "edited"), "-q")
    edited = json.loads((tmp_path / "edited" / "kpis.json").read_text())
    demand = edited["energy_kwh"]["electricity"]["demand"]["draw"]
    before = direct["energy_kwh"]["electricity"]["demand"]["draw"]
    assert demand > before
    assert edited["cost_eur"]["objective"] > direct["cost_eur"]["objective"]


def test_inputs_folder_must_be_an_ingest_output(tmp_path):
    (tmp_path / "x").mkdir()
    result = CliRunner().invoke(
        app, ["solve", "--inputs", str(tmp_path / "x"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "scenario.json" in result.output

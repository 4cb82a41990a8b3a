"""The reference problem of ../shared/bench/README.md (T=168, B=10), three ways:
pecopt's fast path (LP and MILP), the plain raw-highspy formulation of bench/, and
Pyomo's own HiGHS interface on pecopt's Pyomo model."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import highspy
import pytest

from pecopt.model.core import build_model
from pecopt.scenario import load_scenario
from pecopt.workflows.solve import run_scenario

REPO = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
REF = REPO / "bench" / "reference"
OPTIMUM = 1275.1877969084399
RTOL = 1e-6

pytestmark = pytest.mark.skipif(
    not (SHARED_BENCH / "ref_T168_B10_series.parquet").is_file(),
    reason=f"reference bench data not found at {SHARED_BENCH}",
)


@pytest.mark.parametrize("yaml", ["ref_T168_B10.yaml", "ref_T168_B10_milp.yaml"])
def test_pecopt_reproduces_reference_optimum(yaml):
    scenario = load_scenario(REF / yaml)
    run = run_scenario(scenario, str(REF / yaml))
    assert run.outcome.objective == pytest.approx(OPTIMUM, rel=RTOL)
    if "milp" in yaml:
        assert run.outcome.size["binaries"] > 0
    else:
        assert run.outcome.size["binaries"] == 0


def _plain_module():
    bench = REPO / "bench"
    sys.path.insert(0, str(bench))  # plain_highspy does ``import common``
    try:
        spec = importlib.util.spec_from_file_location(
            "_pecopt_plain_highspy", bench / "plain_highspy.py"
        )
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(bench))
    return mod


@pytest.mark.parametrize("milp", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_plain_highspy_cross_check(milp):
    plain = _plain_module()
    lp = plain.build(SHARED_BENCH, 168, 10, milp=milp)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-7)
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(OPTIMUM, rel=RTOL)


def test_pyomo_highs_interface_on_pecopt_model():
    pyo = pytest.importorskip("pyomo.environ")
    yaml = REF / "ref_T168_B10.yaml"
    scenario = load_scenario(yaml)
    from pecopt.ingest.district import ingest, to_inputs

    inputs = to_inputs(scenario, ingest(scenario, str(yaml)))
    dm = build_model(inputs)
    solver = pyo.SolverFactory("appsi_highs")
    if not solver.available():
        pytest.skip("Pyomo's appsi_highs interface is not available")
    result = solver.solve(dm.model, load_solutions=True)
    assert str(result.solver.termination_condition) == "optimal"
    objs = list(dm.model.component_data_objects(pyo.Objective, active=True))
    assert len(objs) == 1
    assert pyo.value(objs[0]) == pytest.approx(OPTIMUM, rel=RTOL)

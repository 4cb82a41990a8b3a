"""``pecopt pareto``: a front worked out by hand (heat from a heat pump or from district
heat: a straight line), the same front as a MILP, monotonicity and the endpoints against
separate solves on a richer district, the warm start of the solver, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.model.core import build_model
from pecopt.solver import solve
from pecopt.testing import ev_fleet, tiny_inputs, tiny_scenario

runner = CliRunner()

HP = {"name": "hp", "capacity_kw_el": 20.0, "source": "series", "cop_series": 3.0}
TOL = 1e-4  # the default relative slack on the CO2 minimum


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def line_district(**kw) -> dict:
    """Heat 30 kW for 2 h. A kWh of heat from the heat pump (COP 3, grid 0.12 EUR and
    0.3 kg per kWh el) costs 0.04 EUR and emits 0.1 kg; from district heat 0.05 EUR and
    0.05 kg. Moving heat to district heat costs 0.01 EUR and saves 0.05 kg per kWh:
    cost(e) = 2.4 + 0.2 (6 - e) EUR from (2.4 EUR, 6 kg) to (3.0 EUR, 3 kg)."""
    return tiny_scenario(
        2,
        heat_kw=30.0,
        spot=0.12,
        export=0.0,
        grid_co2=0.3,
        dh_co2=0.05,
        assets={"heat_pumps": [dict(HP)], **kw.pop("assets", {})},
        district_heating={},
        **kw,
    )


def run_pareto(tmp_path: Path, scenario: dict, points: int, name: str = "front") -> Path:
    out = tmp_path / name
    s = write(tmp_path / f"{name}.yaml", scenario)
    result = runner.invoke(app, ["pareto", str(s), "--points", str(points), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("binaries", ["auto", pytest.param("always", marks=pytest.mark.slow)])
def test_straight_line_front_by_hand(tmp_path, binaries):
    extra = {}
    if binaries == "always":  # a battery with exclusivity binaries at every step: a MILP
        bat = {"name": "bat", "capacity_kwh": 5.0, "power_kw": 5.0, "end": "cyclic"}
        # a gap small enough for the 0.0006 EUR between the last point's plans
        solver = {"binaries": "always", "mip_rel_gap": 1e-9}
        extra = {"assets": {"batteries": [bat]}, "solver": solver}
    out = run_pareto(tmp_path, line_district(**extra), points=4)
    t = pd.read_parquet(out / "pareto.parquet")
    assert t["point"].tolist() == [0, 1, 2, 3]
    assert t["role"].tolist() == ["cost optimum", "epsilon", "epsilon", "CO2 minimum"]
    last = 3.0 + TOL * 6.0  # the CO2 minimum plus the relative slack of its scale
    eps = np.linspace(6.0, last, 4)
    assert np.isnan(t["eps_co2_kg"].iloc[0])
    np.testing.assert_allclose(t["eps_co2_kg"].iloc[1:], eps[1:], rtol=1e-12)
    np.testing.assert_allclose(t["co2_net_kg"], eps, atol=1e-6)
    np.testing.assert_allclose(t["cost_total_eur"], 2.4 + 0.2 * (6.0 - eps), atol=1e-6)
    np.testing.assert_allclose(t["cost_objective_eur"], t["cost_total_eur"], atol=1e-9)
    # district heat takes (6 - e) / 0.05 kWh of the 60
    np.testing.assert_allclose(t["hot_water_import_kwh"], (6.0 - eps) / 0.05, atol=1e-5)
    if binaries == "always":
        assert (t["solver_status"] == "optimal").all()
    for k in range(4):
        kpis = json.loads((out / "points" / str(k) / "kpis.json").read_text())
        assert kpis["cost_eur"]["total"] == pytest.approx(t["cost_total_eur"].iloc[k])
        assert (kpis["solver"]["binaries"] > 0) == (binaries == "always")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pecopt_output"]["kind"] == "pareto" and manifest["points"] == 4
    assert {"pareto.parquet", "report.html", "points/3/schedule.parquet"} <= set(
        manifest["pecopt_output"]["files"]
    )
    html = (out / "report.html").read_text()  # titled by --out, not the temporary folder
    assert f"pecopt Pareto front: {out.name}</h1>" in html and "pecopt-tmp" not in html


def test_front_keeps_the_cost_optimums_service_level(tmp_path):
    # An EV must get 10 kWh into its battery in hours 0-1 (efficiency 0.92: 10.87 kWh
    # from the grid, 3.26 kg) or leave it unmet at 1 EUR/kWh. Leaving it unmet would
    # cut CO2, but every point serves the EV as the cost optimum does; only the heat
    # (90 kWh: heat pump 0.04 EUR and 0.1 kg per kWh, district heat 0.05 and 0.05)
    # moves: from (3.6 + 1.304 EUR, 9 + 3.26 kg) to (4.5 + 1.304 EUR, 4.5 + 3.26 kg).
    spec = {"name": "ev", "charger_kw": 11.0, "capacity_kwh": 60.0, "efficiency": 0.92}
    ev = ev_fleet(
        spec | {"shortfall_penalty_eur_per_kwh": 1.0}, [[1, 1, 0]], [[0, 0, 10]], tmp_path
    )
    s = tiny_scenario(
        3, heat_kw=30.0, spot=0.12, export=0.0, grid_co2=0.3, dh_co2=0.05,
        assets={"heat_pumps": [dict(HP)], "ev_fleets": [ev]}, district_heating={},
    )  # fmt: skip
    out = run_pareto(tmp_path, s, points=3)
    t = pd.read_parquet(out / "pareto.parquet")
    np.testing.assert_allclose(t["unmet_total_kwh"], 0.0, atol=1e-6)
    ev_kg, ev_eur = 10 / 0.92 * 0.3, 10 / 0.92 * 0.12
    assert t["co2_net_kg"].iloc[0] == pytest.approx(9.0 + ev_kg, abs=1e-6)
    assert t["cost_total_eur"].iloc[0] == pytest.approx(3.6 + ev_eur, abs=1e-6)
    assert t["co2_net_kg"].iloc[-1] == pytest.approx(4.5 + ev_kg, abs=TOL * 13 + 1e-6)
    assert t["cost_total_eur"].iloc[-1] == pytest.approx(4.5 + ev_eur, abs=1e-3)


def rich_district() -> dict:
    """Six hours with PV, a battery, a heat pump and district heat; prices and the grid's
    emission factor vary by hour, exports earn a credit. The heat pump is cheaper than
    district heat in most hours but dirtier in four of them: a real trade-off."""
    return tiny_scenario(
        6,
        elec_kw=[20, 25, 30, 30, 25, 20],
        heat_kw=[40, 35, 30, 30, 35, 40],
        pv_kw=[0, 10, 40, 45, 15, 0],
        spot=[0.05, 0.10, 0.02, 0.03, 0.15, 0.20],
        export=[0.01, 0.05, 0.0, 0.0, 0.08, 0.12],
        grid_co2=[0.10, 0.25, 0.05, 0.05, 0.30, 0.40],
        dh_co2=0.02,
        dh_price=0.06,
        assets={
            "heat_pumps": [dict(HP)],
            "batteries": [{"name": "bat", "capacity_kwh": 40.0, "power_kw": 20.0, "end": "cyclic"}],
        },
        district_heating={},
        carbon={"export_credit": True},
    )


@pytest.mark.slow
def test_front_is_monotonic_and_its_ends_are_the_separate_optima(tmp_path):
    out = run_pareto(tmp_path, rich_district(), points=5)
    t = pd.read_parquet(out / "pareto.parquet")
    cost, co2 = t["cost_total_eur"].to_numpy(), t["co2_net_kg"].to_numpy()
    assert (np.diff(cost) >= -1e-7).all() and (np.diff(co2) <= 1e-7).all()
    assert cost[-1] > cost[0] + 1e-3 and co2[-1] < co2[0] - 1e-3  # a real trade-off
    assert (co2[1:] <= t["eps_co2_kg"].to_numpy()[1:] + 1e-6).all()
    ends = {}
    for kind in ("cost", "emissions"):
        s = rich_district()
        s["objective"] = {"kind": kind}
        folder = tmp_path / kind
        r = runner.invoke(
            app, ["solve", str(write(tmp_path / f"{kind}.yaml", s)), "--out", str(folder)]
        )
        assert r.exit_code == 0, r.output
        ends[kind] = json.loads((folder / "kpis.json").read_text())
    assert cost[0] == pytest.approx(ends["cost"]["cost_eur"]["total"], rel=1e-9)
    e_min = ends["emissions"]["co2_kg"]["net"]
    scale = max(abs(e_min), abs(co2[0]), 1.0)
    assert e_min - 1e-6 <= co2[-1] <= e_min + TOL * scale + 1e-6
    # the last point is the cheapest plan with (nearly) the least CO2: no dearer than the
    # plan the emissions objective happened to pick
    assert cost[-1] <= ends["emissions"]["cost_eur"]["total"] + 1e-6


def test_warm_start_basis_round_trip():
    inputs = tiny_inputs(
        2, heat_kw=30.0, spot=[0.12, 0.18], export=0.0, assets={"heat_pumps": [dict(HP)]},
        district_heating={},
    )  # fmt: skip
    dm = build_model(inputs)
    opts = inputs.common.solver
    first = solve(dm.model, opts)
    assert first.basis is not None and first.basis.valid
    assert first.objective == pytest.approx(1.2 + 1.5)  # HP in hour 0, DH in hour 1
    hp = dm.model.heat_pumps.hp.p_space_heat  # the heat pump's electricity [kW]
    hp[0].setub(5.0)  # only 15 of the 30 kW of heat from the heat pump in hour 0
    warm = solve(dm.model, opts, basis=first.basis)
    cold = solve(dm.model, opts)
    assert warm.objective == pytest.approx(cold.objective, abs=1e-9)
    assert warm.objective == pytest.approx(0.6 + 15 * 0.05 + 1.5)
    mip = tiny_inputs(
        2, heat_kw=30.0, spot=[0.12, 0.18], export=0.0, assets={"heat_pumps": [dict(HP)]},
        district_heating={}, solver={"binaries": "always"},
    )  # fmt: skip
    out = solve(build_model(mip).model, mip.common.solver, basis=first.basis)
    assert out.size["binaries"] > 0 and out.basis is None  # a MILP: no basis in or out
    assert out.objective == pytest.approx(first.objective)


def test_bad_points_and_scenario_exit_2_nothing_written(tmp_path):
    s = write(tmp_path / "s.yaml", line_district())
    out = tmp_path / "front"
    r = runner.invoke(app, ["pareto", str(s), "--points", "1", "--out", str(out)])
    assert r.exit_code == 2 and "--points: a front needs at least 2 points" in r.output
    r = runner.invoke(app, ["pareto", str(s), "--tol", "-0.1", "--out", str(out)])
    assert r.exit_code == 2 and "--tol: must be >= 0 (got -0.1)" in r.output
    assert not out.exists()
    bad = line_district()
    bad["assets"]["heat_pumps"][0]["capacity_kw_el"] = -1
    r = runner.invoke(app, ["pareto", str(write(s, bad)), "--out", str(out)])
    assert r.exit_code == 2 and "assets.heat_pumps[0].capacity_kw_el" in r.output
    assert not out.exists()


@pytest.mark.parametrize("binaries", ["auto", "always"])
def test_time_limit_keeps_the_points_done_and_exits_10(tmp_path, monkeypatch, binaries):
    # The clock jumps 10,000 s once point 0 is written: a limit of 600 s cannot be met by
    # the second solve, whatever the machine's load. Point 0 is the result (exit 10). As a
    # MILP the CO2 minimum then has only point 0's plan, not proven: it places no point.
    import time

    import pecopt.workflows.solve as solve_workflow

    real_clock, real_write = time.perf_counter, solve_workflow.write_results
    jump = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + jump[0])

    def write_then_jump(*args, **kwargs):
        real_write(*args, **kwargs)
        jump[0] = 10_000.0

    monkeypatch.setattr(solve_workflow, "write_results", write_then_jump)
    extra = {}
    if binaries == "always":
        bat = {"name": "bat", "capacity_kwh": 5.0, "power_kw": 5.0, "end": "cyclic"}
        extra = {"assets": {"batteries": [bat]}, "solver": {"binaries": "always"}}
    s = write(tmp_path / "s.yaml", line_district(**extra))
    out = tmp_path / "front"
    r = runner.invoke(
        app, ["pareto", str(s), "--points", "4", "--time-limit", "600", "--out", str(out)]
    )
    assert r.exit_code == 10, r.output
    assert "the front stopped early" in r.output and "1 of 4 points" in r.output
    t = pd.read_parquet(out / "pareto.parquet")
    assert t["point"].tolist() == [0] and t["role"].tolist() == ["cost optimum"]
    assert t["cost_total_eur"].iloc[0] == pytest.approx(2.4, abs=1e-6)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is False and "time limit" in manifest["stopped"]
    assert "the CO2 minimum" in manifest["stopped"]
    assert manifest["points_written"] == [0]
    files = set(manifest["pecopt_output"]["files"])
    assert {"pareto.parquet", "report.html", "points/0/schedule.parquet"} <= files
    assert not any(f.startswith("points/1") for f in files)
    assert sorted(p.name for p in (out / "points").iterdir()) == ["0"]


def test_time_limit_before_the_first_point_writes_nothing(tmp_path):
    s = write(tmp_path / "s.yaml", line_district())
    out = tmp_path / "front"
    r = runner.invoke(
        app, ["pareto", str(s), "--points", "3", "--time-limit", "1e-6", "--out", str(out)]
    )
    assert r.exit_code == 4, r.output
    assert "time limit" in r.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if "pecopt" in p.name] == []


def test_each_point_has_its_marginal_prices(tmp_path):
    # The line district's heat comes from the heat pump (0.04 EUR/kWh) at the cost optimum.
    # At the last point the CO2 bound binds (the pump still gives 0.012 kWh of the 60):
    # one more kWh of heat comes from district heat (0.05 EUR, 0.05 kg), and the 0.05 kg
    # must be saved by moving 1 kWh from the pump to district heat (0.01 EUR): 0.06 EUR,
    # the bound's price of 0.2 EUR/kg included.
    out = run_pareto(tmp_path, line_district(), points=2)
    first = pd.read_parquet(out / "points" / "0" / "prices.parquet")
    heat = first[first["carrier"] == "space_heat"]["eur_per_kwh"].to_numpy()
    np.testing.assert_allclose(heat, 0.04, rtol=1e-9)
    last = pd.read_parquet(out / "points" / "1" / "prices.parquet")
    heat = last[last["carrier"] == "space_heat"]["eur_per_kwh"].to_numpy()
    np.testing.assert_allclose(heat, 0.06, rtol=1e-6)

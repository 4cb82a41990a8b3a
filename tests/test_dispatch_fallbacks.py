"""Always a plan: the slack plan (infeasible), the rule-based plan (solver failure), and
the exit codes an operator's scheduler acts on (0, 10, 2, 3, 75); intraday re-plans and
a missed night."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import pecopt.workflows.fallback as fallback
from pecopt.cli.main import app
from pecopt.errors import SolverError
from pecopt.state import StateStore, locked
from pecopt.testing import assert_balanced

runner = CliRunner()


def _scenario(folder: Path, *, import_max_kw: float = 1000.0, evs: bool = False) -> Path:
    """A one-bus district: 100 kW of electricity and 50 kW of heat all day, a 50 kWh
    battery, a heat pump and district heat; hourly steps, no look-ahead."""
    doc = {
        "site": {"name": "tiny", "timezone": "Europe/Helsinki"},
        "horizon": {"start": "2025-03-10T00:00", "end": "2025-03-11T00:00"},
        "dispatch": {"resolution": "1h", "lookahead_h": 0, "time_limit_s": 30,
                     "stand_ins": "allowed"},
        "demand": {"elec": 100.0, "heat": 50.0},
        "assets": {
            "grid": {"import_max_kw": import_max_kw, "export_max_kw": 1000.0,
                     "tariff": {"spot": {"source": "series", "series": 0.08},
                                "tax_class": "none"}},
            "batteries": [{"name": "battery", "capacity_kwh": 50, "power_kw": 25}],
            "heat_pumps": [{"name": "hp", "source": "ground", "capacity_kw_el": 10}],
            "district_heating": {"import_max_kw": 1000,
                                 "tariff": {"energy_eur_per_kwh": 0.06}},
        },
    }  # fmt: skip
    if evs:
        doc["assets"]["ev_fleets"] = [
            {"name": "ev", "capacity_kwh": 40, "charger_kw": 7, "efficiency": 1.0,
             "soc_initial_kwh": 10, "end": "free",
             "synthetic": {"vehicles": 3, "drive_kwh_per_day": 8, "seed": 3}}
        ]  # fmt: skip
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(folder: Path, scenario: Path, out: str, *extra: str) -> tuple[int, str]:
    res = runner.invoke(
        app,
        ["dispatch", str(scenario), "--day", "2025-03-10", "--state", str(folder / "state"),
         "--out", str(folder / out), *extra],
    )  # fmt: skip
    return res.exit_code, res.output


def _info(folder: Path, out: str) -> dict:
    return json.loads((folder / out / "manifest.json").read_text())["dispatch"]


def test_infeasible_gives_a_slack_plan_that_names_the_violation(tmp_path: Path) -> None:
    code, output = _run(tmp_path, _scenario(tmp_path, import_max_kw=80.0), "out")
    assert code == 10, output
    info = _info(tmp_path, "out")
    assert info["plan"] == "slack" and info["status"] == "degraded"
    (v,) = info["violated"]
    assert v["what"] == "electricity balance: unserved energy"
    # 20 kW short for 24 h, less what the battery (25 kWh at the start) can give: 0.95 x 25
    assert v["energy_kwh"] == pytest.approx(24 * 20 - 0.95 * 25, abs=1e-4)
    assert v["from_local"] == "2025-03-10T00:00:00+02:00"
    assert v["to_local"] == "2025-03-11T00:00:00+02:00"
    sched = pd.read_parquet(tmp_path / "out" / "schedule.parquet")
    assert_balanced(sched)  # the slack flows close every balance
    slack = sched[sched["role"] == "slack"]
    assert set(slack["asset"]) == {"slack/unserved", "slack/surplus"}
    assert "violates: electricity balance: unserved energy" in output
    with StateStore(tmp_path / "state") as store:
        (run,) = store.runs()
    assert run.plan == "slack" and run.exit_code == 10


def test_solver_failure_gives_a_rule_based_plan(tmp_path: Path, monkeypatch) -> None:
    """Fault injection: the first solve fails as HiGHS does when it stops without a
    feasible point; every later solve (the rule-based plan's) is real."""
    real = fallback.solve
    calls = []

    def failing_once(built, deadline=None):
        calls.append(1)
        if len(calls) == 1:
            raise SolverError("HiGHS stopped without a feasible solution (injected)")
        return real(built, deadline=deadline)

    monkeypatch.setattr(fallback, "solve", failing_once)
    code, output = _run(tmp_path, _scenario(tmp_path, evs=True), "out")
    assert code == 10, output
    info = _info(tmp_path, "out")
    assert info["plan"] == "rule_based"
    assert "injected" in info["why"]
    sched = pd.read_parquet(tmp_path / "out" / "schedule.parquet")
    assert_balanced(sched)
    battery = sched[sched["asset"] == "battery"]["flow_kw"].to_numpy()
    assert np.abs(battery).max() == 0.0  # stores idle
    # EVs charge from arrival at full power until full: below 7 kW only when full
    st = pd.read_parquet(tmp_path / "out" / "storage.parquet")
    avail = pd.read_parquet(tmp_path / "out" / "inputs" / "ev_fleets_availability.parquet")
    for vehicle, grp in avail.groupby("vehicle"):
        charge = -sched[sched["asset"] == f"ev/{vehicle}"].set_index("timestamp")["flow_kw"]
        level = st[st["asset"] == f"ev/{vehicle}"].set_index("timestamp")["soc_kwh"]
        plugged = grp.set_index("timestamp")["plugged"]
        for t in plugged.index[plugged.to_numpy()]:
            c = charge.get(t, 0.0)
            assert c >= 7.0 - 1e-6 or level[t] >= 40.0 - 1e-6, (vehicle, t)
    kpis = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert kpis["solver"]["plan"] == "rule_based"


def test_no_plan_at_all_is_exit_3_and_leaves_the_state(tmp_path: Path, monkeypatch) -> None:
    """A solver failure, and limits that not even the rule-based plan can keep."""

    def failing(built, deadline=None):
        raise SolverError("HiGHS failed (injected)")

    real = fallback.rule_based_solve
    monkeypatch.setattr(fallback, "solve", failing)
    monkeypatch.setattr(
        fallback,
        "rule_based_solve",
        lambda built, deadline: (monkeypatch.undo(), real(built, deadline))[1],
    )
    code, output = _run(tmp_path, _scenario(tmp_path, import_max_kw=50.0), "out")
    assert code == 3, output
    assert "not even the rule-based plan" in output
    assert not (tmp_path / "out").exists()
    with StateStore(tmp_path / "state") as store:
        assert store.runs() == []


def test_a_second_run_is_refused_while_the_store_is_locked(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    with locked(tmp_path / "state"):
        code, output = _run(tmp_path, scenario, "out")
    assert code == 75
    assert "another pecopt dispatch run holds the state store" in output
    assert f"pid {__import__('os').getpid()}" in output
    assert not (tmp_path / "out").exists()
    code, output = _run(tmp_path, scenario, "out")  # released: the next run works
    assert code == 0, output


def test_bad_input_is_exit_2_with_nothing_written(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    doc = yaml.safe_load(scenario.read_text())
    doc["assets"]["grid"]["tariff"]["spot"] = {"source": "file", "path": "nowhere.csv"}
    scenario.write_text(yaml.safe_dump(doc))
    code, output = _run(tmp_path, scenario, "out")
    assert code == 2 and "nowhere.csv" in output
    assert not (tmp_path / "out").exists()
    with StateStore(tmp_path / "state") as store:
        assert store.runs() == []
    code, output = _run(tmp_path, scenario, "out", "--from", "25:00")
    assert code == 2 and "--from" in output


def test_intraday_replan_starts_from_the_morning_plan(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, evs=True)
    assert _run(tmp_path, scenario, "night")[0] == 0
    code, output = _run(tmp_path, scenario, "replan", "--from", "14:00")
    assert code == 0, output
    info = _info(tmp_path, "replan")
    assert info["window_steps"] == 10 and info["from_local"] == "14:00"
    assert info["window_local"][0] == "2025-03-10T14:00:00+02:00"
    st = pd.read_parquet(tmp_path / "night" / "storage.parquet")
    at = st[pd.DatetimeIndex(st["timestamp"]) == pd.Timestamp("2025-03-10T11:00Z")]
    planned = dict(zip(at["asset"], at["soc_kwh"], strict=True))
    assert info["start_state"]["state"]["battery"]["soc_kwh"] == pytest.approx(
        planned["battery"], abs=1e-9
    )
    sp = pd.read_csv(tmp_path / "replan" / "setpoints.csv")
    assert sp["local_time"].min() == "2025-03-10T14:00:00+02:00"
    with StateStore(tmp_path / "state") as store:
        runs = store.runs()
    assert runs[0].from_local == "14:00" and runs[0].state_from == runs[1].id


def test_a_missed_night_starts_from_the_look_ahead_flagged(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    doc = yaml.safe_load(scenario.read_text())
    doc["dispatch"]["lookahead_h"] = 24
    scenario.write_text(yaml.safe_dump(doc))
    assert _run(tmp_path, scenario, "d1")[0] == 0
    res = runner.invoke(
        app,
        ["dispatch", str(scenario), "--day", "2025-03-12", "--state", str(tmp_path / "state"),
         "--out", str(tmp_path / "d3")],
    )  # fmt: skip
    assert res.exit_code == 10, res.output
    info = _info(tmp_path, "d3")
    assert info["start_state"]["source"] == "lookahead"
    assert any(f["code"] == "state_from_lookahead" for f in info["flags"])


def test_a_run_with_pv_as_a_series_imports_no_pvlib(tmp_path: Path) -> None:
    """PV from a forecast series and the weather (heat-pump COP) from a full forecast:
    the run needs neither pvlib nor scipy, nor plotly, dask or duckdb."""
    import subprocess
    import sys

    times = pd.date_range("2025-03-09T00:00Z", periods=4 * 24 * 3, freq="15min")
    stamp = times.strftime("%Y-%m-%dT%H:%MZ")
    day = (times.hour >= 6) & (times.hour < 15)  # UTC; the sun is up 05-16 in March
    pd.DataFrame(
        {"timestamp": stamp, "ghi_w_m2": 100.0 * day, "dni_w_m2": 50.0 * day,
         "dhi_w_m2": 60.0 * day, "temp_air_c": -3.0, "wind_speed_m_s": 4.0}
    ).to_csv(tmp_path / "forecast.csv", index=False)  # fmt: skip
    pd.DataFrame({"timestamp": stamp, "pv_kw": 20.0}).to_csv(tmp_path / "pv.csv", index=False)
    scenario = _scenario(tmp_path)
    doc = yaml.safe_load(scenario.read_text())
    doc["weather"] = {"source": "forecast", "path": "forecast.csv"}
    doc["assets"]["heat_pumps"][0]["source"] = "air"
    doc["assets"]["pv_series"] = [{"name": "pv", "series": {"path": "pv.csv", "column": "pv_kw"}}]
    scenario.write_text(yaml.safe_dump(doc))
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from pecopt.cli.main import app\n"
        f"args = ['dispatch', {str(scenario)!r}, '--day', '2025-03-10', '--state',\n"
        f"        {str(tmp_path / 'state')!r}, '--out', {str(tmp_path / 'out')!r}, '-q']\n"
        "try:\n"
        "    app(args)\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('pvlib', 'scipy', 'plotly', 'dask', 'duckdb', 'matplotlib')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "out" / "setpoints.csv").is_file()


def test_runs_list_needs_a_store(tmp_path: Path) -> None:
    res = runner.invoke(app, ["runs", "list", "--state", str(tmp_path / "nothing")])
    assert res.exit_code == 2
    assert "no state store here" in res.output

"""``--time-limit``: a plan stopped by it is written and exits 10 (kpis.json says
``time_limit`` with the gap); ingest and build past the deadline stop with exit 4.

Wall-clock checks on the full year (does the limit hold within a few percent?) are in
``bench/time_limit.py``, not here: no timed unit tests."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pyomo.environ as pyo
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import EXIT_NOT_OPTIMAL, SolverError
from pecopt.solver import highs
from pecopt.testing import tiny_milp
from pecopt.workflows.solve import before_deadline

runner = CliRunner()


def milp_file(tmp_path: Path) -> Path:
    """:func:`pecopt.testing.tiny_milp` as a YAML file: a MILP whose start heuristic finds
    a plan."""
    p = tmp_path / "milp.yaml"
    p.write_text(yaml.safe_dump(tiny_milp()), encoding="utf-8")
    return p


def test_a_plan_stopped_by_the_time_limit_is_written_and_exits_10(tmp_path, monkeypatch):
    scenario = milp_file(tmp_path)
    done = runner.invoke(app, ["solve", str(scenario), "--out", str(tmp_path / "a"), "-q"])
    assert done.exit_code == 0, done.output
    optimal = json.loads((tmp_path / "a" / "kpis.json").read_text())["solver"]
    assert optimal["status"] == "optimal"

    # HiGHS' own time limit at 0 s after the LP-guided start: a real stop by the limit
    # with the start as its plan (the start heuristic has its own HiGHS instance)
    options = highs.highs_options

    def no_time(h, opts, deadline):
        options(h, opts, deadline)
        h.setOptionValue("time_limit", 0.0)

    monkeypatch.setattr(highs, "highs_options", no_time)
    out = tmp_path / "b"
    stopped = runner.invoke(app, ["solve", str(scenario), "--out", str(out), "-q"])
    assert stopped.exit_code == EXIT_NOT_OPTIMAL == 10, stopped.output
    assert "not proven optimal" in stopped.stderr and "exit 10" in stopped.stderr
    solver = json.loads((out / "kpis.json").read_text())["solver"]
    assert solver["status"] == "time_limit"
    assert solver["bound"] <= optimal["objective"] + 1e-9 <= solver["objective"] + 2e-9
    assert solver["gap"] == pytest.approx(
        (solver["objective"] - solver["bound"]) / solver["objective"]
    )
    assert (out / "schedule.parquet").is_file()


def test_a_limit_too_short_for_ingest_and_build_gives_no_plan_and_exit_4(tmp_path):
    scenario = milp_file(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["solve", str(scenario), "--out", str(out), "--time-limit", "0.001"]
    )
    assert result.exit_code == 4, result.output
    assert "time limit was reached" in result.stderr and "no plan" in result.stderr
    assert not out.exists()


def _busy() -> None:
    """Python work that takes minutes unless it is interrupted, and that takes any
    ``Exception`` for a problem of its own (as input parsers do)."""
    try:
        for _ in range(10**9):
            pass
    except Exception:  # noqa: BLE001 - the interruption must not be caught here
        raise AssertionError("the interruption was taken for an input problem") from None


def test_before_deadline_interrupts_python_work():
    previous = signal.getsignal(signal.SIGALRM)
    # a loaded machine may pass a short deadline before the work begins ("before the
    # build"): then again with more time, so that no wall-clock race decides the test
    for left in (0.05, 0.5, 5.0):
        with pytest.raises(SolverError) as stopped:
            before_deadline(time.perf_counter() + left, "the build", _busy)
        if "before the build" not in str(stopped.value):
            break
    assert "during the build, before the solve" in str(stopped.value)
    assert signal.getsignal(signal.SIGALRM) is previous
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_before_deadline_without_time_left_or_deadline():
    def never() -> int:
        raise AssertionError("work started after the deadline")

    with pytest.raises(SolverError, match="before ingest"):
        before_deadline(time.perf_counter() - 1.0, "ingest", never)
    assert before_deadline(None, "ingest", lambda: 7) == 7
    assert before_deadline(time.perf_counter() + 60, "ingest", lambda: 8) == 8
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


class _SlowRun:
    """Stands in for a HiGHS instance whose run ignores its time limit until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.finished = False

    def run(self) -> None:
        self.release.wait(30)
        self.finished = True


def test_run_by_gives_up_at_the_deadline_and_the_next_instance_waits_for_it():
    slow = _SlowRun()
    assert highs.run_by(slow, time.perf_counter() + 0.05) is False  # type: ignore[arg-type]
    assert not slow.finished
    slow.release.set()
    highs.new_highs()  # joins the run given up, so that two HiGHS runs never overlap
    assert slow.finished and not highs._LEFT_BEHIND


def test_a_milp_given_up_at_the_deadline_returns_its_start(tmp_path, monkeypatch):
    from pecopt.api import build, load_scenario
    from pecopt.api import solve as solve_built

    built = build(load_scenario(milp_file(tmp_path)))
    run_by = highs.run_by

    def main_run_given_up(h, deadline):  # the start heuristic's LPs run as usual
        if any(int(v) for v in h.getLp().integrality_):
            return False
        return run_by(h, deadline)

    monkeypatch.setattr(highs, "run_by", main_run_given_up)
    sol = solve_built(built)
    assert sol.status == "time_limit"
    assert sol.outcome.bound < sol.objective  # the relaxation bound of the start heuristic
    assert sol.kpis["solver"]["gap"] == pytest.approx(
        (sol.objective - sol.outcome.bound) / sol.objective
    )
    lp = build(load_scenario(milp_file(tmp_path), solver={"binaries": "never"}))
    assert lp.model is not None and not any(
        v.is_binary() for v in lp.model.component_data_objects(pyo.Var)
    )
    monkeypatch.setattr(highs, "run_by", lambda h, deadline: False)
    with pytest.raises(SolverError, match="no plan"):
        solve_built(lp)

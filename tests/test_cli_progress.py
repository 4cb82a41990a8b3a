"""Progress of long commands (:mod:`pecopt.cli.progress`, :mod:`pecopt.progress`): off a
terminal, timestamped lines at least every interval and one per phase, never an ANSI
code; ``--quiet`` silent; ``--verbose`` and ``--log-file`` carry HiGHS' log; a log file
never written over a user's file; HiGHS' incumbent, bound and gap reach the listener."""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from pecopt.cli import progress as cli_progress
from pecopt.cli.main import app
from pecopt.cli.progress import LOG_HEADER, Reporter, duration
from pecopt.progress import counted, listening, parse_counted
from pecopt.testing import tiny_milp

runner = CliRunner()
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (.*)$")


def milp_file(tmp_path: Path) -> Path:
    path = tmp_path / "milp.yaml"
    path.write_text(yaml.safe_dump(tiny_milp()), encoding="utf-8")
    return path


def stamped(text: str) -> list[tuple[datetime, str]]:
    """(time, rest) of every line; fails on a line without a time stamp."""
    out = []
    for line in text.splitlines():
        m = STAMP.match(line)
        assert m is not None, f"a line without a time stamp: {line!r}"
        out.append((datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%SZ"), m[2]))
    return out


def test_compare_off_a_terminal_writes_a_line_every_interval_and_one_per_phase(tmp_path):
    """``pecopt compare`` with its output in pipes (as under cron or CI), heartbeat every
    1 s: every line on stderr has its UTC time, no two are further apart than the
    interval (plus 3 s: whole-second stamps, and a loaded machine that delays the
    heartbeat's thread), each phase and each variant done has its line, and no ANSI
    escape code appears anywhere. The log file gets the workers' HiGHS log, each line
    headed by its variant (forwarded from the worker processes)."""
    base = milp_file(tmp_path)
    layouts = tmp_path / "layouts.yaml"
    layouts.write_text(
        f"base: {base.name}\nvariants:\n  a: {{}}\n  b:\n    solver: {{mip_start: none}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    env = {**os.environ, cli_progress.EVERY_ENV: "1", "COLUMNS": "100"}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-c", "from pecopt.cli.main import main; main()",
         "compare", str(layouts), "--out", str(out), "--workers", "1",
         "--log-file", str(tmp_path / "compare.log")],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr
    lines = stamped(done.stderr)
    gaps = [(b - a).total_seconds() for (a, _), (b, _) in zip(lines, lines[1:], strict=False)]
    assert max(gaps) <= 1 + 3, list(zip(gaps, [t for _, t in lines[1:]], strict=True))
    said = [t for _, t in lines]
    assert said[0] == "compare: started" and said[-1].startswith("compare: done [")
    for phase in ("read the layouts [", "solving 3 variants in 1 process (0/3 done) [",
                  "base: optimal (1/3 done) [", "a: optimal (2/3 done) [",
                  "b: optimal (3/3 done) [", "report ["):  # fmt: skip
        assert sum(t.startswith("compare: " + phase) for t in said) == 1, (phase, said)
    assert any(" running " in t or " ago [" in t for t in said), "no heartbeat line"
    assert "pecopt compare" in done.stdout and not STAMP.match(done.stdout.splitlines()[0])
    assert "highs:" not in done.stderr  # no --verbose
    log = (tmp_path / "compare.log").read_text(encoding="utf-8")
    for variant in ("base", "a", "b"):
        assert f"Z highs: {variant}: MIP has " in log, variant


def test_quiet_prints_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(cli_progress.EVERY_ENV, "0.01")  # the first interval is long over
    res = runner.invoke(app, ["solve", str(milp_file(tmp_path)), "--out", str(tmp_path / "o"),
                              "--quiet"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.stdout == "" and res.stderr == ""


def test_a_short_run_off_a_terminal_shows_only_its_result(tmp_path):
    """Under the default 30 s interval the tiny solve ends in its first interval: stderr
    stays empty (its phase lines were held back), stdout has the summary."""
    res = runner.invoke(app, ["solve", str(milp_file(tmp_path)), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert res.stderr == "" and "pecopt:" in res.stdout


def test_verbose_streams_the_highs_log_to_stderr(tmp_path):
    res = runner.invoke(
        app, ["solve", str(milp_file(tmp_path)), "--out", str(tmp_path / "o"), "-v"]
    )
    assert res.exit_code == 0, res.output
    said = [t for _, t in stamped(res.stderr)]
    highs = [t for t in said if t.startswith("highs: ")]
    assert any("MIP has" in t and "binary" in t for t in highs), said
    assert "solve: solve [" in " | ".join(said)  # the phases too (not held: --verbose)
    assert "highs:" not in res.stdout


def test_log_file_keeps_the_phases_and_the_highs_log(tmp_path):
    log = tmp_path / "run.log"
    res = runner.invoke(app, ["solve", str(milp_file(tmp_path)), "--out", str(tmp_path / "o"),
                              "--log-file", str(log)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "highs:" not in res.stderr  # not asked for here: only in the file
    first, *rest = log.read_text(encoding="utf-8").splitlines()
    assert first.startswith(LOG_HEADER + ": pecopt ") and " solve, started " in first
    said = [t for _, t in stamped("\n".join(rest))]
    for phase in ("ingest", "build", "solve", "write"):
        assert any(t.startswith(f"solve: {phase} [") for t in said), (phase, said)
    assert any(t.startswith("highs: ") and "MIP has" in t for t in said)
    assert said[-1].startswith("solve: done [")
    again = runner.invoke(app, ["solve", str(milp_file(tmp_path)), "--out", str(tmp_path / "p"),
                                "--log-file", str(log), "-q"])  # fmt: skip
    assert again.exit_code == 0, again.output  # a log pecopt wrote is replaced
    assert log.read_text(encoding="utf-8").count(LOG_HEADER) == 1


@pytest.mark.parametrize("kind", ["user file", "folder"])
def test_log_file_never_writes_over_what_pecopt_did_not_write(tmp_path, kind):
    log = tmp_path / "notes.txt"
    if kind == "folder":
        log.mkdir()
    else:
        log.write_text("my notes\n", encoding="utf-8")
    out = tmp_path / "o"
    res = runner.invoke(app, ["solve", str(milp_file(tmp_path)), "--out", str(out),
                              "--log-file", str(log)])  # fmt: skip
    assert res.exit_code == 2, res.output
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"error: --log-file: {log}") and "Traceback" not in res.output
    assert not out.exists()
    if kind == "user file":
        assert log.read_text(encoding="utf-8") == "my notes\n"


def test_a_failed_run_says_why_in_its_log_file(tmp_path):
    bad = tiny_milp()
    bad["assets"]["batteries"][0]["power_kw"] = -5
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(yaml.safe_dump(bad), encoding="utf-8")
    log = tmp_path / "run.log"
    res = runner.invoke(app, ["solve", str(scenario), "--out", str(tmp_path / "o"),
                              "--log-file", str(log)])  # fmt: skip
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()  # the one error line, nothing else
    said = [t for _, t in stamped("\n".join(log.read_text(encoding="utf-8").splitlines()[1:]))]
    assert said[-2].startswith("solve: stopped [")
    assert said[-1].startswith("solve: ScenarioError: ") and "power_kw" in said[-1]
    assert said[-1].split("ScenarioError: ")[1] in line


def test_a_bad_interval_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv(cli_progress.EVERY_ENV, "soon")
    res = runner.invoke(app, ["solve", str(milp_file(tmp_path)), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {cli_progress.EVERY_ENV}: 'soon' is not a number of seconds > 0"
    )


class Recorder:
    wants_log = False

    def __init__(self) -> None:
        self.seen: list[tuple[float, float, float]] = []

    def mip(self, incumbent: float, bound: float, gap: float) -> None:
        self.seen.append((incumbent, bound, gap))

    def highs_log(self, text: str) -> None:  # pragma: no cover - not asked for
        raise AssertionError("the log was not asked for")


def test_the_mip_callback_reports_incumbent_bound_and_gap():
    """The tiny MILP (``mip_rel_gap`` 0, no LP-guided start): the listener hears HiGHS'
    plans; the last incumbent is the optimum the solve returns, every bound is below its
    incumbent (a minimisation), every gap is |incumbent - bound| / |incumbent|, and the
    last is within the gap asked for."""
    from pecopt import api
    from pecopt.testing import inputs_of

    built = api.build(inputs_of(tiny_milp(mip_start="none")))
    who = Recorder()
    with listening(who):
        sol = api.solve(built)
    assert who.seen, "no MIP progress reached the listener"
    finite = [(i, b, g) for i, b, g in who.seen if math.isfinite(i) and math.isfinite(b)]
    assert finite
    for inc, bound, gap in finite:
        assert bound <= inc + 1e-6 * abs(inc)
        assert gap == pytest.approx(abs(inc - bound) / abs(inc), rel=1e-6, abs=1e-9)
    inc, bound, gap = who.seen[-1]
    assert inc == pytest.approx(sol.kpis["solver"]["objective"], rel=1e-9)
    assert gap <= 1e-6


def test_counted_phases_round_trip():
    assert counted("night 2025-01-15", 3, 7) == "night 2025-01-15 (3/7 done)"
    assert parse_counted("night 2025-01-15 (3/7 done)") == ("night 2025-01-15", 3, 7)
    assert parse_counted("solving 3 variants in 2 processes") is None


def test_durations_read_as_seconds_then_minutes_then_hours():
    assert duration(59.94) == "59.9 s"
    assert duration(65.2) == "1:05"
    assert duration(3725.0) == "1:02:05"


def test_the_live_line_has_phase_times_eta_and_solver_figures(monkeypatch):
    """Worked by hand on a fake clock: started at 100 s; ``night 1 (0/4 done)`` at 110 s;
    ``night 2 (1/4 done)`` at 130 s (one night took 20 s); at 135 s the ETA is
    25 s / 1 night * 3 nights = 75 s = 1:15; then a MILP's figures."""
    now = [100.0]
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: now[0])
    r = Reporter("replay")
    now[0] = 110.0
    r(counted("night 1", 0, 4))
    now[0] = 130.0
    r(counted("night 2", 1, 4))
    now[0] = 135.0
    assert r.status() == "night 2 (1/4 done) 5.0 s · 35.0 s in all · ETA 1:15"
    r.mip(34_423.1, 34_325.0, (34_423.1 - 34_325.0) / 34_423.1)
    assert r.status().endswith("· incumbent 34,423.10, bound 34,325.00, gap 0.285 %")
    r("perfect foresight")  # a new phase: no count, and no figures until HiGHS reports
    assert r.status() == "perfect foresight 0.0 s · 35.0 s in all"


def test_on_a_terminal_one_live_line_and_no_plain_lines():
    """A terminal gets the live line (its last drawing, on leaving, has the phase and the
    MILP's figures), not the timestamped lines of a pipe."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=160)
    with Reporter("solve", console=console) as r:
        r("build")
        r("solve")
        r.mip(10.0, 9.0, 0.1)
    text = buf.getvalue()
    assert "\x1b" in text  # drawn as a terminal's line
    assert "solve " in text and "incumbent 10.00, bound 9.00, gap 10 %" in text
    assert not re.search(r"\dZ solve: ", text)


def test_replay_counts_its_nights_with_an_eta_in_the_log_file(tmp_path):
    """Two Kera nights (the perfect-foresight reference given no time: exit 10, fast):
    each night is a counted phase, the second with an ETA; the log keeps HiGHS' log."""
    repo = Path(__file__).resolve().parents[1]
    log = tmp_path / "replay.log"
    res = runner.invoke(
        app,
        ["replay", str(repo / "scenarios" / "kera_replay.yaml"), "--from", "2025-03-03",
         "--to", "2025-03-04", "--out", str(tmp_path / "out"), "--reference-time-limit",
         "0.001", "--log-file", str(log), "-q"],
    )  # fmt: skip
    assert res.exit_code == 10, res.output
    assert res.stdout == "" and res.stderr == ""  # --quiet: the file only
    said = [t for _, t in stamped("\n".join(log.read_text(encoding="utf-8").splitlines()[1:]))]
    nights = [t for t in said if t.startswith("replay: night ") and " ago [" not in t]
    assert nights[0].startswith("replay: night 2025-03-03 (0/2 done) [")
    assert "ETA" not in nights[0]
    assert re.match(r"replay: night 2025-03-04 \(1/2 done\) \[.*; ETA [\d.:]+( s)?\]$", nights[1])
    assert any(t.startswith("replay: perfect foresight [") for t in said)
    assert any(t.startswith("highs: ") for t in said)
    assert said[-1].startswith("replay: done [")


def test_sweep_sends_its_tasks_highs_log_from_the_dask_workers(tmp_path):
    """Two variants of the tiny MILP on a local Dask cluster: the log file has each
    variant's HiGHS log (sent by its task as Dask events), headed by the variant's id, and
    the variants done as counted steps."""
    log = tmp_path / "sweep.log"
    out = tmp_path / "sweep"
    res = runner.invoke(
        app,
        ["sweep", str(milp_file(tmp_path)), "--out", str(out), "--vary",
         "assets.batteries.bat.capacity_kwh=5,20", "--workers", "1", "--log-file", str(log)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    said = [t for _, t in stamped("\n".join(log.read_text(encoding="utf-8").splitlines()[1:]))]
    ids = pd.read_parquet(out / "kpis").variant_id.tolist()
    assert len(ids) == 2
    for v in ids:
        assert any(t.startswith(f"highs: {v}: MIP has ") for t in said), (v, said)
    for k in (0, 1, 2):
        step = f"sweep: variants, 0 failed ({k}/2 done) ["
        assert sum(t.startswith(step) for t in said) == 1, (step, said)

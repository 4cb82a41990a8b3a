"""The CLI edge: internal errors go to a log file (one line on the terminal), ``--debug``
shows the traceback, Ctrl-C leaves no half-written output, ``--version`` has one source,
and a closed standard output (``| head``) changes no exit code."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import pecopt
from pecopt.cli import edge
from pecopt.cli.main import app
from pecopt.errors import InfeasibleError, ScenarioError

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
PECOPT = Path(sys.executable).with_name("pecopt")  # the console script: pecopt.cli.main:main


def scenario(tmp_path: Path) -> Path:
    times = pd.date_range("2025-03-29", periods=48, freq="h", tz="UTC")
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "elec_kw": 5.0}).to_csv(
        tmp_path / "load.csv", index=False
    )
    p = tmp_path / "scenario.yaml"
    p.write_text(
        'horizon: {start: "2025-03-29T00:00Z", end: "2025-03-31T00:00Z"}\n'
        "buildings: [{name: b1, metered: {path: load.csv, elec_column: elec_kw}}]\n"
    )
    return p


def boom(*args, **kwargs):
    raise RuntimeError("boom\nsecond line of the message")


def logs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "state" / "pecopt" / "logs").glob("pecopt-*.log"))


def test_internal_error_is_one_line_and_a_log_file(tmp_path, monkeypatch):
    monkeypatch.setattr("pecopt.model.core.build_model", boom)
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(scenario(tmp_path)), "--out", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    (log,) = logs(tmp_path)
    assert line == (
        f"internal error: RuntimeError: boom; the traceback is in {log} "
        "(pecopt --debug shows it here)"
    )
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "in boom" in text and "second line of the message" in text
    assert f"pecopt {pecopt.__version__}" in text
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_debug_shows_the_traceback_instead(tmp_path, monkeypatch):
    monkeypatch.setattr("pecopt.model.core.build_model", boom)
    out = tmp_path / "out"
    result = runner.invoke(app, ["--debug", "solve", str(scenario(tmp_path)), "--out", str(out)])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "in boom" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "internal error: RuntimeError: boom"
    assert logs(tmp_path) == []


def test_debug_is_not_sticky_between_invocations(tmp_path, monkeypatch):
    monkeypatch.setattr("pecopt.model.core.build_model", boom)
    yaml = scenario(tmp_path)
    runner.invoke(app, ["--debug", "validate", str(yaml)])  # sets debug for that run only
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(tmp_path / "out")])
    assert "Traceback" not in result.output
    assert len(logs(tmp_path)) == 1


def test_log_falls_back_to_the_temporary_folder(tmp_path, monkeypatch):
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "not-a-folder"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr("pecopt.model.core.build_model", boom)
    result = runner.invoke(app, ["solve", str(scenario(tmp_path)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    (log,) = (tmp_path / "tmp" / "pecopt-logs").glob("pecopt-*.log")
    assert str(log) in result.stderr


def test_ctrl_c_while_writing_leaves_the_old_output(tmp_path, monkeypatch):
    out = tmp_path / "out"
    yaml = scenario(tmp_path)
    assert runner.invoke(app, ["solve", str(yaml), "--out", str(out), "-q"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("pecopt.workflows.solve.write_table", interrupt)
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(out)])
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted: stopped by the user"
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not list(tmp_path.glob(".out.*"))


def test_version_has_one_source():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pecopt {pecopt.__version__}"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "pecopt.__version__"}
    assert metadata.version("pecopt") == pecopt.__version__


def test_run_maps_pecopt_errors_to_their_exit_code(capsys):
    def infeasible() -> None:
        raise InfeasibleError("heat balance cannot be met")

    with pytest.raises(typer.Exit) as info:
        edge.run(infeasible)
    assert info.value.exit_code == 3
    assert capsys.readouterr().err.strip() == "error: heat balance cannot be met"


def test_run_names_the_option_of_an_override(capsys):
    def bad() -> None:
        raise ScenarioError("<overrides>", "solver.threads", "Input should be >= 0 (got -1)")

    with pytest.raises(typer.Exit) as info:
        edge.run(bad, options={"solver.threads": "--threads"})
    assert info.value.exit_code == 2
    assert capsys.readouterr().err.strip() == "error: --threads: Input should be >= 0 (got -1)"


def test_run_returns_the_body_value_and_lets_typer_exits_through():
    assert edge.run(lambda: 42) == 42

    def leave() -> None:
        raise typer.Exit(0)

    with pytest.raises(typer.Exit):
        edge.run(leave)


def test_message_with_brackets_is_printed_as_is(capsys):
    def bad() -> None:
        raise ScenarioError("s.yaml", "assets.batteries[0].capacity_kwh", "[bold]x[/bold]")

    with pytest.raises(typer.Exit):
        edge.run(bad)
    assert capsys.readouterr().err.strip() == (
        "error: s.yaml: assets.batteries[0].capacity_kwh: [bold]x[/bold]"
    )


def test_log_dir_follows_xdg_state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert edge.log_dir() == tmp_path / "pecopt" / "logs"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert edge.log_dir() == Path.home() / ".local" / "state" / "pecopt" / "logs"


# ---------------------------------------------------------------- a closed standard output


def closed_pipe() -> int:
    """The write end of a pipe whose read end is already closed: every write is EPIPE,
    whenever it comes (``| head -1`` that has exited, without the race)."""
    read, write = os.pipe()
    os.close(read)
    return write


def pecopt_closed(tmp_path: Path, args: list[str], *, stderr_too: bool = False) -> tuple[int, str]:
    """Run the ``pecopt`` console script with a closed stdout (and stderr); its exit code
    and what it wrote to stderr (nothing when that is closed too)."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    err_file = tmp_path / "stderr.txt"
    out_fd = closed_pipe()
    err_fd = closed_pipe() if stderr_too else os.open(err_file, os.O_WRONLY | os.O_CREAT)
    try:
        done = subprocess.run(
            [str(PECOPT), *args], env=env, stdout=out_fd, stderr=err_fd, timeout=300
        )
    finally:
        os.close(out_fd)
        os.close(err_fd)
    return done.returncode, "" if stderr_too else err_file.read_text()


def test_a_closed_stdout_keeps_the_plan_and_exit_0(tmp_path):
    yaml = scenario(tmp_path)
    out = tmp_path / "out"
    code, err = pecopt_closed(tmp_path, ["solve", str(yaml), "--out", str(out)])
    assert (code, err) == (0, "")  # no internal error
    assert logs(tmp_path) == []
    assert (out / "schedule.parquet").is_file() and (out / "kpis.json").is_file()
    # typer.echo (click) rather than rich: the same (before: click's exit 1 on EPIPE)
    assert pecopt_closed(tmp_path, ["--version"]) == (0, "")


def test_a_closed_stdout_and_stderr_keep_exit_2(tmp_path):
    code, _ = pecopt_closed(tmp_path, ["report", str(tmp_path / "missing")], stderr_too=True)
    assert code == 2
    assert logs(tmp_path) == []


def test_pipe_guard_sends_writes_after_a_closed_pipe_to_devnull():
    fd = closed_pipe()
    stream = io.TextIOWrapper(io.FileIO(fd, "w"), encoding="utf-8")
    guarded = edge.PipeGuard(stream)
    try:
        assert guarded.write("x" * 100) == 100
        guarded.flush()  # EPIPE here: the descriptor now points at /dev/null
        assert guarded.closed_pipe
        assert os.path.samestat(os.fstat(fd), os.stat(os.devnull))
        guarded.write("more")
        guarded.flush()
        assert guarded.encoding == "utf-8"  # the rest is the stream's
    finally:
        stream.close()


def test_pipe_guard_lets_other_errors_through():
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        edge.PipeGuard(Full()).write("x")

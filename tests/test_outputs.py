"""Output folders: nothing pecopt did not write is deleted or changed; a result is replaced
atomically, under a lock, with the user's permissions; killed runs are cleaned up.

User-visible behaviour goes through the CLI; kills and concurrency use real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import DataError
from pecopt.workflows import outputs

runner = CliRunner()

SCENARIO = """site: {{name: t, timezone: UTC}}
horizon: {{start: "2025-03-29T00:00", end: "2025-03-31T00:00"}}
buildings:
  - name: b1
    metered: {{path: {load}, elec_column: elec_kw}}
assets:
  grid: {{import_max_kw: 100.0, tariff: {{spot: {{source: typical_year}}}}}}
"""


def make_scenario(folder: Path, kw: float = 5.0, load: Path | None = None) -> Path:
    """A 2-day metered-load scenario in ``folder`` (its load CSV beside it unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    load = load or folder / "load.csv"
    if not load.exists():
        load.parent.mkdir(parents=True, exist_ok=True)
        t = pd.date_range("2025-03-29T00:00", periods=72, freq="h", tz="UTC")
        pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "elec_kw": kw}).to_csv(
            load, index=False
        )
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO.format(load=load))
    return path


def cli(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in text
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    return result.exit_code, " ".join(text.split())


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def result_of(out: Path) -> str:
    """The scenario a complete pecopt solve result at ``out`` came from."""
    manifest = json.loads((out / "manifest.json").read_text())
    marker = manifest["pecopt_output"]
    assert marker["kind"] == "solve"
    assert outputs._foreign(out) is None  # exactly the listed files, at the listed sizes
    for name, size in marker["files"].items():
        assert (out / name).stat().st_size == size
    assert (out / "schedule.parquet").is_file() and (out / "kpis.json").is_file()
    return manifest["scenario"]["path"]


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".pecopt-" in p.name)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("command", ["solve", "ingest"])
def test_out_equal_to_scenario_folder_is_refused(tmp_path, command):
    folder = tmp_path / "case"
    yaml = make_scenario(folder)
    before = snapshot(folder)
    code, text = cli(command, yaml, "--out", folder)
    assert code == 2, text
    assert str(folder) in text and "contains the input" in text
    assert "choose an empty or new folder" in text
    assert snapshot(folder) == before
    assert hidden(tmp_path) == []


def test_out_parent_of_scenario_is_refused(tmp_path):
    yaml = make_scenario(tmp_path / "project" / "scenarios")
    before = snapshot(tmp_path)
    code, text = cli("solve", yaml, "--out", tmp_path / "project")
    assert code == 2 and "contains the input" in text, text
    assert snapshot(tmp_path) == before


def test_out_holding_a_data_file_is_refused_even_if_pecopt_wrote_it(tmp_path):
    # a pecopt folder (the marker lists load.csv) that the scenario reads its load from
    data = tmp_path / "data"
    with outputs.atomic_dir(data, "report") as tmp:
        make_scenario(tmp)
        (tmp / "scenario.yaml").unlink()
    yaml = make_scenario(tmp_path / "scen", load=data / "load.csv")
    before = snapshot(tmp_path)
    code, text = cli("solve", yaml, "--out", data)
    assert code == 2 and f"contains the input {data / 'load.csv'}" in text, text
    assert snapshot(tmp_path) == before


def test_out_through_a_symlink_to_the_scenario_folder_is_refused(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    (tmp_path / "link").symlink_to(tmp_path / "case")
    before = snapshot(tmp_path / "case")
    code, text = cli("solve", yaml, "--out", tmp_path / "link")
    assert code == 2 and "contains the input" in text, text
    assert snapshot(tmp_path / "case") == before


def test_non_empty_user_folder_is_refused(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("keep me")
    (out / "sub" / "plot.png").write_bytes(b"\x89PNG")
    before = snapshot(out)
    code, text = cli("solve", yaml, "--out", out)
    assert code == 2, text
    assert str(out) in text and "not a pecopt output folder" in text
    assert snapshot(out) == before


def test_previous_result_with_a_user_file_is_refused(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "out"
    assert cli("solve", yaml, "--out", out, "-q")[0] == 0
    (out / "inputs" / "notes.txt").write_text("mine")
    before = snapshot(out)
    code, text = cli("solve", yaml, "--out", out, "-q")
    assert code == 2 and "inputs/notes.txt" in text and "did not write" in text, text
    assert snapshot(out) == before


def test_previous_result_with_a_changed_file_is_refused(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "out"
    assert cli("solve", yaml, "--out", out, "-q")[0] == 0
    with (out / "kpis.json").open("a") as f:
        f.write("\n// my remark\n")
    before = snapshot(out)
    code, text = cli("solve", yaml, "--out", out, "-q")
    assert code == 2 and "kpis.json" in text and "changed" in text, text
    assert snapshot(out) == before


def test_out_is_a_file(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "out"
    out.write_bytes(b"keep me")
    code, text = cli("ingest", yaml, "--out", out)
    assert code == 2 and "is a file" in text, text
    assert out.read_bytes() == b"keep me"


def test_out_under_a_file(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    code, text = cli("solve", yaml, "--out", yaml / "out")
    assert code == 2 and f"{yaml} is a file" in text, text


def test_symlink_loop(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for out in (tmp_path / "loop", tmp_path / "loop" / "out"):
        code, text = cli("solve", yaml, "--out", out)
        assert code == 2 and "cannot be resolved" in text, text


def test_read_only_parent(tmp_path):
    """Run as a process without capabilities, so that even root meets the permission."""
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv is missing: root bypasses permissions")
        prefix = ["setpriv", "--bounding-set=-all", "--"]
    yaml = make_scenario(tmp_path / "case")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-c", "from pecopt.cli.main import app; app()"]
            + ["solve", str(yaml), "--out", str(ro / "runs" / "out")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        ro.chmod(0o755)
    text = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 2, text
    assert f"{ro} is not writable" in text and "Traceback" not in text
    assert list(ro.iterdir()) == []


def test_mount_point(tmp_path, monkeypatch):
    # a real mount needs root; the question asked of the system is os.path.ismount
    out = tmp_path / "volume"
    out.mkdir()
    monkeypatch.setattr(outputs.os.path, "ismount", lambda p: Path(p) == out)
    with pytest.raises(DataError, match="is a mount point"):
        outputs.check_output(out)


def test_input_folders(tmp_path):
    """An input that is a folder (a future ``--inputs DIR``): neither it nor a folder
    inside it may be the output."""
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(DataError, match="is the input"):
        outputs.check_output(data, [data])
    with pytest.raises(DataError, match="lies inside the input folder"):
        outputs.check_output(data / "runs" / "out", [data])
    assert outputs.check_output(tmp_path / "out", [data]) == tmp_path / "out"


def test_a_file_added_during_the_run_stops_the_swap(tmp_path):
    out = tmp_path / "out"
    with outputs.atomic_dir(out, "report") as tmp:
        (tmp / "a.txt").write_text("first")
    with pytest.raises(DataError, match="notes.txt"):
        with outputs.atomic_dir(out, "report") as tmp:
            (tmp / "a.txt").write_text("second")
            (out / "notes.txt").write_text("written by the user meanwhile")
    assert (out / "a.txt").read_text() == "first"
    assert (out / "notes.txt").read_text() == "written by the user meanwhile"
    assert hidden(tmp_path) == []


def test_an_error_while_writing_leaves_out_as_it_was(tmp_path):
    out = tmp_path / "out"
    with outputs.atomic_dir(out, "report") as tmp:
        (tmp / "a.txt").write_text("first")
    before = snapshot(out)
    with pytest.raises(ZeroDivisionError):
        with outputs.atomic_dir(out, "report") as tmp:
            (tmp / "a.txt").write_text("second")
            1 / 0  # noqa: B018
    assert snapshot(out) == before
    assert hidden(tmp_path) == []


# --------------------------------------------------------------------------- accepted


def test_empty_folder_is_accepted(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "empty"
    out.mkdir()
    assert cli("solve", yaml, "--out", out, "-q")[0] == 0
    assert result_of(out) == str(yaml)
    assert hidden(tmp_path) == []


def test_previous_result_is_replaced(tmp_path):
    a = make_scenario(tmp_path / "a", kw=5.0)
    b = make_scenario(tmp_path / "b", kw=7.0)
    out = tmp_path / "runs" / "out"
    assert cli("solve", a, "--out", out, "-q")[0] == 0
    assert result_of(out) == str(a)
    assert cli("solve", b, "--out", out, "-q")[0] == 0
    assert result_of(out) == str(b)
    # an ingest result is a pecopt folder too, and the other way round
    assert cli("ingest", a, "--out", out)[0] == 0
    assert json.loads((out / "manifest.json").read_text())["pecopt_output"]["kind"] == "ingest"
    assert cli("solve", b, "--out", out, "-q")[0] == 0
    assert result_of(out) == str(b)
    assert hidden(tmp_path / "runs") == []


def test_out_is_a_symlink_to_a_result(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    real = tmp_path / "real"
    assert cli("solve", yaml, "--out", real, "-q")[0] == 0
    (tmp_path / "link").symlink_to(real)
    assert cli("solve", yaml, "--out", tmp_path / "link", "-q")[0] == 0
    assert (tmp_path / "link").is_symlink() and result_of(real) == str(yaml)


def test_fallback_without_rename_exchange(tmp_path, monkeypatch):
    """Where RENAME_EXCHANGE is unavailable, the two-rename sequence replaces the result."""
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    a, b = make_scenario(tmp_path / "a", kw=5.0), make_scenario(tmp_path / "b", kw=7.0)
    out = tmp_path / "out"
    assert cli("solve", a, "--out", out, "-q")[0] == 0
    assert cli("solve", b, "--out", out, "-q")[0] == 0
    assert result_of(out) == str(b)
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("variant", ["_libc_renameat2", "_syscall_renameat2"])
def test_renameat2_exchanges_two_folders(tmp_path, variant):
    fn = getattr(outputs, variant)()
    if fn is None:
        pytest.skip(f"{variant} is not available on {sys.platform}")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "from_x").touch()
    (tmp_path / "y").mkdir()
    assert fn(os.fsencode(tmp_path / "x"), os.fsencode(tmp_path / "y"), 2) == 0
    assert [p.name for p in (tmp_path / "y").iterdir()] == ["from_x"]
    assert list((tmp_path / "x").iterdir()) == []


@pytest.mark.parametrize(
    ("umask", "dir_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)]
)
def test_permissions_follow_the_umask(tmp_path, umask, dir_mode, file_mode):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "new" / "out"
    old = os.umask(umask)
    try:
        assert cli("solve", yaml, "--out", out, "-q")[0] == 0
    finally:
        os.umask(old)
    for p in [out.parent, out, *out.rglob("*")]:
        mode = p.stat().st_mode & 0o777
        assert mode == (dir_mode if p.is_dir() else file_mode), (p, oct(mode))


# --------------------------------------------------------------------------- reports


def listed(out: Path) -> dict[str, int]:
    return json.loads((out / "manifest.json").read_text())["pecopt_output"]["files"]


def test_a_reported_result_is_replaced_by_the_next_solve(tmp_path):
    a = make_scenario(tmp_path / "a", kw=5.0)
    b = make_scenario(tmp_path / "b", kw=7.0)
    out = tmp_path / "runs" / "out"
    assert cli("solve", a, "--out", out, "-q")[0] == 0
    code, text = cli("report", out)
    assert code == 0, text
    assert listed(out)["report.html"] == (out / "report.html").stat().st_size
    assert outputs._foreign(out) is None  # still a folder pecopt may replace
    assert cli("report", out)[0] == 0  # a report of its own report's folder: replaced
    assert listed(out)["report.html"] == (out / "report.html").stat().st_size
    code, text = cli("solve", b, "--out", out, "-q")
    assert code == 0, text
    assert result_of(out) == str(b) and not (out / "report.html").exists()
    assert hidden(tmp_path / "runs") == []


def test_a_reported_dispatch_is_replanned_into_the_same_folder(tmp_path):
    doc = {
        "site": {"name": "tiny", "timezone": "Europe/Helsinki"},
        "horizon": {"start": "2025-03-09T00:00", "end": "2025-03-11T00:00"},
        "dispatch": {"resolution": "1h", "lookahead_h": 6},
        "demand": {"elec": 50.0},
        "assets": {
            "grid": {"tariff": {"spot": {"source": "series", "series": 0.08}}},
            "batteries": [{"name": "battery", "capacity_kwh": 50, "power_kw": 25}],
        },
    }
    yaml = tmp_path / "dispatch.yaml"
    yaml.write_text(json.dumps(doc))  # JSON is YAML
    state, runs = tmp_path / "state", tmp_path / "runs"

    def plan(day: str) -> tuple[int, str]:
        return cli("dispatch", yaml, "--day", day, "--state", state, "--out", runs / day)

    assert plan("2025-03-09")[0] == 0
    assert plan("2025-03-10")[0] == 0
    assert cli("report", runs / "2025-03-10")[0] == 0
    code, text = plan("2025-03-10")  # the nightly re-plan of a day someone reported
    assert code == 0, text
    assert "run 3" in text and not (runs / "2025-03-10" / "report.html").exists()


def test_a_reported_result_with_a_user_file_is_still_refused(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "out"
    assert cli("solve", yaml, "--out", out, "-q")[0] == 0
    assert cli("report", out)[0] == 0
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    code, text = cli("solve", yaml, "--out", out, "-q")
    assert code == 2 and "notes.txt" in text and "did not write" in text, text
    assert snapshot(out) == before
    (out / "notes.txt").unlink()
    with (out / "report.html").open("a") as f:  # the user annotates the report
        f.write("<!-- my remark -->")
    before = snapshot(out)
    code, text = cli("solve", yaml, "--out", out, "-q")
    assert code == 2 and "report.html" in text and "changed" in text, text
    code, text = cli("report", out)
    assert code == 2 and "report.html" in text and "changed since pecopt wrote it" in text, text
    assert snapshot(out) == before


def test_report_never_replaces_a_report_html_pecopt_did_not_write(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    out = tmp_path / "out"
    assert cli("solve", yaml, "--out", out, "-q")[0] == 0
    (out / "report.html").write_text("<p>my own report</p>")
    before = snapshot(out)
    code, text = cli("report", out)
    assert code == 2, text
    assert f"{out / 'report.html'}" in text and "pecopt did not write it" in text
    assert snapshot(out) == before
    assert hidden(tmp_path) == []


def test_report_of_a_folder_replaced_meanwhile_writes_nothing(tmp_path):
    out = tmp_path / "out"
    with outputs.atomic_dir(out, "solve") as tmp:
        (tmp / "a.txt").write_text("first")

    def replace_then_render() -> str:
        with outputs.atomic_dir(out, "solve") as tmp:  # another run's swap
            (tmp / "b.txt").write_text("second")
        return "<p>report of the first result</p>"

    with pytest.raises(DataError, match="replaced or changed meanwhile"):
        outputs.add_file(out, "report.html", replace_then_render)
    assert sorted(p.name for p in out.iterdir()) == ["b.txt", "manifest.json"]
    assert outputs._foreign(out) is None and hidden(tmp_path) == []


# --------------------------------------------------------------------------- leftovers


def dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


def test_leftovers_of_killed_runs_are_removed_and_nothing_else(tmp_path):
    yaml = make_scenario(tmp_path / "case")
    runs = tmp_path / "runs"
    host, dead = outputs._host(), dead_pid()
    removed = [
        f".out.pecopt-tmp-{dead}-{host}-0123abcd",
        f".other.pecopt-tmp-{dead}-{host}-89abcdef",
    ]
    kept_dirs = [
        f".out.pecopt-tmp-{os.getpid()}-{host}-0123abcd",  # a live run
        f".out.pecopt-tmp-{dead}-another_host-0123abcd",  # another machine's run
        f".out.pecopt-tmp-{dead}-{host}-notes",  # not the pattern
        "keep.pecopt-tmp",
    ]
    for name in removed + kept_dirs:
        (runs / name).mkdir(parents=True)
        (runs / name / "file.txt").write_text(name)
    (runs / f".out.pecopt-tmp-{dead}-{host}-fedcba98").write_text("a file, not a folder")
    assert cli("solve", yaml, "--out", runs / "out", "-q")[0] == 0
    assert sorted(p.name for p in runs.iterdir()) == sorted(
        [*kept_dirs, f".out.pecopt-tmp-{dead}-{host}-fedcba98", "out"]
    )
    for name in kept_dirs:
        assert (runs / name / "file.txt").read_text() == name


def test_leftovers_are_removed_when_a_run_starts(tmp_path):
    # A killed run's temporary folder (possibly a year of results) goes as soon as the next
    # run into the same parent starts, not only when that run finishes.
    runs = tmp_path / "runs"
    host, dead = outputs._host(), dead_pid()
    leftover = runs / f".out.pecopt-tmp-{dead}-{host}-0123abcd"
    leftover.mkdir(parents=True)
    with pytest.raises(RuntimeError), outputs.atomic_dir(runs / "out", "solve"):
        assert not leftover.exists()
        raise RuntimeError("this run fails too")
    assert not leftover.exists() and not (runs / "out").exists()


# --------------------------------------------------------------------------- kills

CHILD = """
import os, signal, sys, time
from pathlib import Path
import pecopt.workflows.outputs as o

point, scenario, out = sys.argv[1:4]
me = os.getpid()

def die():
    os.kill(me, signal.SIGKILL)

def wrap(name, before=False, after=False):
    real = getattr(o, name)
    def f(*a, **k):
        if before:
            die()
        r = real(*a, **k)
        if after:
            die()
        return r
    setattr(o, name, f)

if point == "writing":  # the result is written, not yet marked
    wrap("_stamp", before=True)
elif point == "before_swap":  # under the lock, just before the swap
    wrap("_replace", before=True)
elif point == "after_swap":  # swapped, the old result not yet deleted
    wrap("_exchange", after=True)
elif point.startswith("fallback"):
    o._exchange = lambda a, b: False
    real = os.rename
    def rename(a, b):
        real(a, b)
        if (".pecopt-old-" in str(b)) == (point == "fallback_between"):
            die()
    os.rename = rename
elif point == "hold":  # hold the lock after the swap until the test says go
    real = o._replace
    def hold(*a):
        r = real(*a)
        Path(out + ".holding").touch()
        while not Path(out + ".go").exists():
            time.sleep(0.02)
        return r
    o._replace = hold
elif point == "impatient":
    o.LOCK_TIMEOUT_S = 0.3

from pecopt.cli.main import app
from pecopt.errors import DataError
app(["solve", scenario, "--out", out, "-q"])
"""


@pytest.fixture
def child(tmp_path):
    """Start ``CHILD`` processes; any still running at the end of the test is killed."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    started: list[subprocess.Popen[str]] = []

    def start(point: str, scenario: Path, out: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(script), point, str(scenario), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize(
    ("point", "survivor"),
    [
        ("writing", "old"),
        pytest.param("before_swap", "old", marks=pytest.mark.slow),
        pytest.param("after_swap", "new", marks=pytest.mark.slow),
        pytest.param("fallback_after", "new", marks=pytest.mark.slow),
    ],
)
def test_kill_leaves_the_old_or_the_new_result(tmp_path, child, point, survivor):
    a, b = make_scenario(tmp_path / "a", kw=5.0), make_scenario(tmp_path / "b", kw=7.0)
    runs = tmp_path / "runs"
    out = runs / "out"
    assert cli("solve", a, "--out", out, "-q")[0] == 0
    old = snapshot(out)
    proc = child(point, b, out)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    if survivor == "old":
        assert snapshot(out) == old
    else:
        assert result_of(out) == str(b)
    assert hidden(runs)  # the killed run's leftovers ...
    assert cli("solve", a, "--out", out, "-q")[0] == 0
    assert result_of(out) == str(a)
    assert hidden(runs) == []  # ... are gone after the next run


@pytest.mark.slow
def test_kill_between_the_fallback_renames_is_repaired(tmp_path, child):
    a, b = make_scenario(tmp_path / "a", kw=5.0), make_scenario(tmp_path / "b", kw=7.0)
    out = tmp_path / "out"
    assert cli("solve", a, "--out", out, "-q")[0] == 0
    old = snapshot(out)
    proc = child("fallback_between", b, out)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    # the documented window of the fallback: no --out, the old result hidden
    assert not out.exists()
    (hide,) = [p for p in tmp_path.iterdir() if ".pecopt-old-" in p.name]
    assert snapshot(hide) == old
    outputs._recover(out)  # what the next run does first, under the lock
    assert snapshot(out) == old
    assert cli("solve", b, "--out", out, "-q")[0] == 0
    assert result_of(out) == str(b)
    assert hidden(tmp_path) == []


# --------------------------------------------------------------------------- concurrency


def wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    """Until ``proc`` creates ``path`` (a hang guard of 120 s, not a timing assertion)."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_second_run_waits_for_the_lock(tmp_path, child):
    a, b = make_scenario(tmp_path / "a", kw=5.0), make_scenario(tmp_path / "b", kw=7.0)
    out = tmp_path / "out"
    first = child("hold", a, out)
    wait_for(tmp_path / "out.holding", first)
    second = child("plain", b, out)
    impatient = child("impatient", b, out)
    _, err = impatient.communicate(timeout=120)
    text = " ".join(err.split())
    assert impatient.returncode == 2, text
    assert f"another pecopt run (pid {first.pid} on" in text and "Traceback" not in text
    assert second.poll() is None  # still waiting: `first` holds the lock
    (tmp_path / "out.go").touch()
    assert first.wait(timeout=120) == 0, first.communicate()
    assert second.wait(timeout=120) == 0, second.communicate()
    assert result_of(out) == str(b)  # the run that swapped last
    assert hidden(tmp_path) == []


@pytest.mark.slow
def test_concurrent_solves_into_one_folder(tmp_path, child):
    scenarios = [make_scenario(tmp_path / f"s{i}", kw=5.0 + i) for i in range(2)]
    out = tmp_path / "out"
    procs = [child("plain", s, out) for s in scenarios]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    assert result_of(out) in {str(s) for s in scenarios}
    assert hidden(tmp_path) == []


STRESS = """
import json, os, sys
from pathlib import Path
from pecopt.workflows.outputs import atomic_dir

out = Path(sys.argv[1])
for i in range(int(sys.argv[2])):
    with atomic_dir(out, "report") as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "data.txt").write_text(f"{os.getpid()} {i}\\n" * (i + 1))
        (tmp / "manifest.json").write_text(json.dumps({"writer": os.getpid(), "i": i}))
"""


@pytest.mark.slow
def test_swaps_under_contention_never_leave_out_missing(tmp_path):
    out = tmp_path / "out"
    with outputs.atomic_dir(out, "report") as tmp:  # there from the start
        (tmp / "manifest.json").write_text(json.dumps({"writer": "test", "i": -1}))
    script = tmp_path / "stress.py"
    script.write_text(STRESS)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(out), "40"], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    missing = 0
    running = True
    while running:  # at least one look, however late this process gets the CPU
        running = any(p.poll() is None for p in procs)
        missing += not out.is_dir()
    for p in procs:
        assert p.wait() == 0, p.communicate()
    assert missing == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pecopt_output"]["kind"] == "report"
    assert (out / "sub" / "data.txt").read_text().count("\n") == manifest["i"] + 1
    assert outputs._foreign(out) is None
    assert hidden(tmp_path) == []

"""Sweeps: override parsing, variant hashes, a real Dask cluster (a ``dask scheduler`` and two
``dask worker`` processes on 127.0.0.1), interrupt and resume, and ``pecopt query``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import ScenarioError
from pecopt.scenario import load_scenario
from pecopt.scenario.overrides import apply_overrides, parse_path, parse_value, parse_vary
from pecopt.workflows import sweep_dataset as ds
from pecopt.workflows.sweep import run_variant
from pecopt.workflows.sweep_plan import plan_sweep, variant_hash
from pecopt.workflows.sweep_query import kpi_vs_parameter, tidy_kpis

runner = CliRunner()
CAP = "assets.batteries[0].capacity_kwh"
IMAX = "assets.grid.import_max_kw"

SCENARIO = """site: {{name: t, timezone: UTC}}
horizon: {{start: "2025-03-01T00:00", end: "{end}", resolution: {resolution}}}
buildings:
  - name: b1
    metered: {{path: load.csv, elec_column: elec_kw}}
assets:
  grid: {{import_max_kw: 100.0, tariff: {{spot: {{source: typical_year}}}}}}
  batteries: [{{name: bat, capacity_kwh: 20, power_kw: 5}}]
"""


def tiny(folder: Path, days: int = 2, resolution: str = "1h") -> Path:
    """A metered 5 kW load with a 15 kW evening peak, a battery, spot prices: an LP that
    solves in well under a second. 10 kW of the evening peak exceed a 1 kW import limit,
    and a 20 kWh battery cannot cover it: ``import_max_kw=1`` is infeasible."""
    folder.mkdir(parents=True, exist_ok=True)
    t = pd.date_range("2025-03-01", periods=24 * (days + 1), freq="h", tz="UTC")
    load = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
    load["elec_kw"] = 5.0 + 10.0 * (t.hour > 16)
    load.to_csv(folder / "load.csv", index=False)
    end = (pd.Timestamp("2025-03-01") + pd.Timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO.format(end=end, resolution=resolution))
    return path


def invoke(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == code, text
    assert "Traceback" not in text
    return text


# ---------------------------------------------------------------- overrides (pure)


def test_parse_path_and_values():
    assert parse_path("buildings[2].pv[0].kwp") == ("buildings", 2, "pv", 0, "kwp")
    assert [parse_value(v) for v in ("500", "0.5", "1e3", "true", "null", "a.csv")] == [
        500,
        0.5,
        1000.0,
        True,
        None,
        "a.csv",
    ]
    assert parse_vary(f"{CAP}=0, 500,1000") == (CAP, [0, 500, 1000])


def test_apply_overrides_sets_one_field_of_a_list_item():
    raw = {"assets": {"batteries": [{"name": "a", "capacity_kwh": 1}, {"name": "b"}]}}
    out = apply_overrides(raw, {"assets.batteries[1].capacity_kwh": 7, "solver.threads": 1})
    assert out["assets"]["batteries"] == [
        {"name": "a", "capacity_kwh": 1},
        {"name": "b", "capacity_kwh": 7},
    ]
    assert out["solver"] == {"threads": 1}
    assert raw["assets"]["batteries"][1] == {"name": "b"}  # the input is not changed


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("assets.batteries[1].capacity_kwh", ["index 1 out of range", "1 item"]),
        ("assets.heat_pumps[0].capacity_kw_el", ["index 0 out of range"]),
        ("assets.batterys[0].capacity_kwh", ["unknown key 'batterys'"]),
        ("assets.batteries.capacity_kwh", ["is a list"]),
        ("solver.threads.x", ["single value"]),
        ("assets..grid", ["not an override path"]),
    ],
)
def test_bad_paths_name_the_path(path, words):
    raw = {"assets": {"batteries": [{"name": "a", "capacity_kwh": 1, "power_kw": 1}]}}
    with pytest.raises(ScenarioError) as info:
        apply_overrides(raw, {path: 1}, "s.yaml")
    assert info.value.field == path
    for w in words:
        assert w in info.value.problem


def test_flatten_kpis_is_the_comparison_row():
    k = {
        "cost_eur": {"total": 3.0, "items": {"spot": 2.0}},
        "energy_kwh": {"electricity": {"import": {"supply": 5.0, "draw": 0.0}}},
        "co2_kg": {"net": -1.0},
        "ped": {"final_energy": {"surplus_kwh": -2.0, "status": "not a PED"}},
        "peak_import_kw": {"grid": 4.0},
        "solver": {"status": "optimal"},
    }
    row = ds.flatten_kpis(k)
    assert row["cost_total_eur"] == 3.0
    assert row["cost_spot_eur"] == 2.0
    assert row["electricity_import_kwh"] == 5.0
    assert row["co2_net_kg"] == -1.0
    assert row["ped_final_energy_surplus_kwh"] == -2.0
    assert row["ped_final_energy_status"] == "not a PED"
    assert row["peak_grid_import_kw"] == 4.0
    assert row["solver_status"] == "optimal"


def test_tidy_kpis_one_row_per_variant_parameter_kpi():
    kpis = pd.DataFrame(
        {
            "variant_id": ["a", "b", "c", "d"],
            "status": ["ok", "ok", "ok", "failed"],
            "p": [0, 10, 10, 20],
            "q": [1, 1, 1, 2],  # one value among the ok variants: not varied
            "cost_total_eur": [3.0, 2.0, 2.5, None],
        }
    )
    tidy = tidy_kpis(kpis, ["p", "q"], ["cost_total_eur", "missing_kpi"])
    assert list(tidy.columns) == ["variant_id", "parameter", "parameter_value", "kpi", "kpi_value"]
    assert tidy.to_dict("records") == [
        {
            "variant_id": v,
            "parameter": "p",
            "parameter_value": p,
            "kpi": "cost_total_eur",
            "kpi_value": c,
        }
        for v, p, c in (("a", 0, 3.0), ("b", 10, 2.0), ("c", 10, 2.5))
    ]


# ---------------------------------------------------------------- plans and hashes


def test_plan_is_a_cartesian_product_with_content_hashes(tmp_path):
    s = tiny(tmp_path)
    plan = plan_sweep(s, [f"{CAP}=0,10,40", f"{IMAX}=100,50"])
    assert plan.paths == [CAP, IMAX]
    assert [v.overrides for v in plan.variants] == [
        {CAP: c, IMAX: m} for c in (0, 10, 40) for m in (100, 50)
    ]
    caps = [v.scenario.assets.batteries[0].capacity_kwh for v in plan.variants]
    assert caps == [0, 0, 10, 10, 40, 40]
    assert all(v.scenario.solver.threads == 1 for v in plan.variants)
    assert len({v.hash for v in plan.variants}) == 6
    # the same content elsewhere has the same hash; other file content, another hash
    copy = tiny(tmp_path / "copy")
    again = plan_sweep(copy, [f"{CAP}=0,10,40", f"{IMAX}=100,50"])
    assert [v.hash for v in again.variants] == [v.hash for v in plan.variants]
    (tmp_path / "copy" / "load.csv").write_text(
        (tmp_path / "load.csv").read_text().replace("5.0", "6.0")
    )
    changed = plan_sweep(copy, [f"{CAP}=0,10,40", f"{IMAX}=100,50"])
    assert not {v.hash for v in changed.variants} & {v.hash for v in plan.variants}


def test_equal_variants_are_one(tmp_path):
    s = tiny(tmp_path)
    plan = plan_sweep(s, [f"{CAP}=20,20.0,10"])  # 20 is the base value, 20.0 the same number
    assert [v.overrides[CAP] for v in plan.variants] == [20, 10]
    base = load_scenario(s, {"solver": {"threads": 1}})
    assert plan.variants[0].hash == variant_hash(base, plan.input_files)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--vary=assets.batterys[0].capacity_kwh=1"],
            ["assets.batterys[0].capacity_kwh", "unknown key"],
        ),
        (
            ["--vary=assets.batteries[2].capacity_kwh=1"],
            ["assets.batteries[2].capacity_kwh", "out of range"],
        ),
        ([f"--vary={CAP}=10,abc"], [CAP, "valid number", f"{CAP}=abc"]),
        ([f"--vary={CAP}=10,-5"], [CAP, "greater than or equal to 0", f"{CAP}=-5"]),
        ([f"--vary={CAP}"], [CAP, "PATH=VALUE"]),
        ([f"--vary={CAP}=1,,2"], [CAP, "empty value"]),
        ([f"--vary={CAP}=1", f"--vary={CAP}=2"], [CAP, "given twice"]),
        (["--vary=horizon.end=2025-02-01T00:00"], ["horizon.end", "after horizon.start"]),
        (["--vary=buildings[0].metered.path=nope.csv"], ["nope.csv", "not found"]),
        ([], ["--vary"]),
    ],
)
def test_bad_overrides_exit_2_naming_the_path(tmp_path, args, words):
    s = tiny(tmp_path)
    out = tmp_path / "out"
    text = invoke("sweep", s, "--out", out, *args, code=2).replace("\n", "")
    for w in words:
        assert w in text, (w, text)
    assert not out.exists()


def test_grid_csv(tmp_path):
    s = tiny(tmp_path)
    grid = tmp_path / "grid.csv"
    grid.write_text(f"{CAP},{IMAX}\n0,100\n10,\n40,50.5\n")
    plan = plan_sweep(s, [], grid)
    assert [v.overrides for v in plan.variants] == [
        {CAP: 0, IMAX: 100},
        {CAP: 10},  # an empty cell keeps the base value
        {CAP: 40, IMAX: 50.5},
    ]
    assert plan.variants[1].scenario.assets.grid.import_max_kw == 100.0
    grid.write_text(f"{CAP},assets.grid.import_max_kv\n0,100\n")
    text = invoke("sweep", s, "--out", tmp_path / "out", "--grid", grid, code=2)
    assert "grid.csv" in text and "assets.grid.import_max_kv" in text.replace("\n", "")
    assert not (tmp_path / "out").exists()


def test_grid_parquet_times_vary(tmp_path):
    s = tiny(tmp_path)
    grid = tmp_path / "grid.parquet"
    pd.DataFrame({CAP: [0.0, 10.0]}).to_parquet(grid)
    plan = plan_sweep(s, [f"{IMAX}=100,50"], grid)
    assert [v.overrides for v in plan.variants] == [
        {CAP: c, IMAX: m} for c in (0.0, 10.0) for m in (100, 50)
    ]


def test_out_must_be_new_empty_or_the_same_sweep(tmp_path):
    s = tiny(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    text = invoke("sweep", s, "--out", other, f"--vary={CAP}=1", code=2)
    assert "not a pecopt sweep" in text
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    ds.write_manifest(other, {"base_scenario": {"path": str(tmp_path / "elsewhere.yaml")}})
    (other / "notes.txt").unlink()
    text = invoke("sweep", s, "--out", other, f"--vary={CAP}=1", code=2)
    assert "another base scenario" in text


def test_cli_import_loads_no_dask_or_duckdb():
    code = (
        "import sys, pecopt.cli.main; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('dask', 'distributed', 'duckdb')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_shipped_inputs_are_read_from_a_worker_folder(tmp_path):
    """``--ship-inputs``: the task gets the bytes and never opens the original path."""
    s = tiny(tmp_path)
    plan = plan_sweep(s, [f"{CAP}=10"])
    [v] = plan.variants
    shipped = {p: Path(p).read_bytes() for p in plan.input_files}
    (tmp_path / "load.csv").unlink()
    from pecopt import __version__

    missing = run_variant(v.scenario, str(s), __version__)
    assert not missing.ok and missing.kpis is None and "load.csv" in str(missing.error)
    outcome = run_variant(v.scenario, str(s), __version__, shipped)
    assert (
        outcome.ok and outcome.kpis is not None and set(outcome.tables) == {"schedule", "storage"}
    )
    wrong = run_variant(v.scenario, str(s), "0.0.0", shipped)
    assert "the client 0.0.0" in str(wrong.error)


def test_a_worker_runs_variants_with_other_thread_counts(tmp_path):
    """HiGHS keeps one thread scheduler per process; a worker must still solve variants
    that ask for different ``solver.threads`` one after the other."""
    from pecopt import __version__

    s = tiny(tmp_path)
    plan = plan_sweep(s, ["solver.threads=0,1,2,1"])
    assert [v.scenario.solver.threads for v in plan.variants] == [0, 1, 2]  # 1 twice: one
    outcomes = [run_variant(v.scenario, str(s), __version__) for v in [*plan.variants] * 2]
    assert [o.error for o in outcomes] == [None] * 6
    costs = {round(o.kpis["cost_eur"]["total"], 6) for o in outcomes if o.kpis}
    assert len(costs) == 1


# ---------------------------------------------------------------- a real Dask cluster


def _dask(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dask")), *args]


def _scheduler_address(info: Path, proc: subprocess.Popen, log: Path) -> str:
    """The address in the scheduler file, once it is written whole."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            return str(json.loads(info.read_text())["address"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    raise AssertionError(f"no scheduler address after 60 s: {log.read_text()}")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A ``dask scheduler`` and two ``dask worker --nthreads 1`` processes on 127.0.0.1."""
    from distributed import Client

    tmp = tmp_path_factory.mktemp("dask")
    info = tmp / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        log = (tmp / f"{name}.log").open("w")
        procs.append(
            subprocess.Popen(
                _dask(*args), cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    try:
        start(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(info), "--idle-timeout", "600",
        )  # fmt: skip
        address = _scheduler_address(info, procs[0], tmp / "scheduler.log")
        for w in ("w1", "w2"):
            start(
                w, "worker", address, "--nthreads", "1", "--name", w, "--no-dashboard",
                "--local-directory", str(tmp / w), "--death-timeout", "60",
            )  # fmt: skip
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _solve_alone(tmp_path: Path, scenario: Path, overrides: dict[str, float], name: str) -> Path:
    """The same variant through plain ``pecopt solve`` (its own YAML file, a fresh process)."""
    import yaml

    raw = apply_overrides(yaml.safe_load(scenario.read_text()), overrides)
    alone = scenario.with_name(f"{name}.yaml")
    alone.write_text(yaml.safe_dump(raw))
    out = tmp_path / f"solve-{name}"
    cli = [sys.executable, "-c", "from pecopt.cli.main import app; app()"]
    cmd = [*cli, "solve", str(alone), "--out", str(out), "--threads", "1", "-q"]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.mark.slow
def test_sweep_on_a_dask_cluster(tmp_path, scheduler):
    s = tiny(tmp_path)
    grid = tmp_path / "grid.csv"
    grid.write_text(f"{CAP},{IMAX}\n0,100\n10,100\n40,100\n10,1\n")
    out = tmp_path / "sweep"
    text = invoke("sweep", s, "--out", out, "--grid", grid, "--scheduler", scheduler)
    assert "4 variants: 3 solved, 0 already done, 1 failed" in text.replace("\n", " ")
    assert "InfeasibleError" in text

    kpis = pd.concat([pd.read_parquet(f) for f in (out / "kpis").glob("*.parquet")])
    kpis = kpis.set_index([CAP, IMAX]).sort_index()
    assert list(kpis["status"]) == ["ok", "failed", "ok", "ok"]
    failed = kpis.loc[(10, 1)]
    assert "balance_electricity" in failed["error"] and pd.isna(failed["cost_total_eur"])
    assert kpis["worker"].nunique() == 2  # both workers took variants
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pecopt_output"]["kind"] == "sweep"
    assert manifest["override_paths"] == [CAP, IMAX]
    assert len(manifest["variants"]) == 4

    # the figures are those of a plain `pecopt solve` of the same variant
    for cap in (0, 40):
        alone = _solve_alone(tmp_path, s, {CAP: cap, IMAX: 100}, f"cap{cap}")
        k = json.loads((alone / "kpis.json").read_text())
        row = kpis.loc[(cap, 100)]
        assert row["cost_total_eur"] == pytest.approx(k["cost_eur"]["total"], rel=1e-9)
        assert row["co2_net_kg"] == pytest.approx(k["co2_kg"]["net"], rel=1e-9)
        assert row["peak_grid_import_kw"] == pytest.approx(k["peak_import_kw"]["grid"], rel=1e-9)
        assert row["electricity_import_kwh"] == pytest.approx(
            k["energy_kwh"]["electricity"]["import"]["supply"], rel=1e-9
        )
        part = out / "schedule" / f"variant_id={row['variant_id']}" / "part.parquet"
        pd.testing.assert_frame_equal(
            pd.read_parquet(part), pd.read_parquet(alone / "schedule.parquet"), rtol=1e-9
        )
    assert kpis.loc[(40, 100), "cost_total_eur"] < kpis.loc[(0, 100), "cost_total_eur"]

    # query: to the terminal, to CSV and to Parquet
    sql = f'SELECT "{CAP}" AS cap, status, cost_total_eur FROM kpis ORDER BY cap, status'
    shown = invoke("query", out, sql)
    assert "cap" in shown and "failed" in shown and shown.count("ok") >= 3
    for ext in ("csv", "parquet"):
        target = tmp_path / "answers" / f"q.{ext}"
        assert "4 rows" in invoke("query", out, sql, "--to", target)
        got = pd.read_csv(target) if ext == "csv" else pd.read_parquet(target)
        assert list(got["cap"]) == [0, 10, 10, 40]
        assert list(got["status"]) == ["ok", "failed", "ok", "ok"]
        assert got["cost_total_eur"].tolist()[0] == pytest.approx(
            kpis.loc[(0, 100), "cost_total_eur"]
        )
        assert not list(target.parent.glob(".*.tmp"))
    sched = tmp_path / "sched.parquet"
    invoke(
        "query", out,
        f'SELECT k."{CAP}" AS cap, count(*) AS n FROM schedule s JOIN kpis k USING (variant_id) '
        "GROUP BY ALL ORDER BY cap",
        "--to", sched,
    )  # fmt: skip
    first = kpis.loc[(0, 100), "variant_id"]
    rows = len(pd.read_parquet(out / "schedule" / f"variant_id={first}" / "part.parquet"))
    assert pd.read_parquet(sched).to_dict("records") == [
        {"cap": c, "n": rows} for c in (0, 10, 40)
    ]  # the failed variant has no schedule rows
    # brackets are text, not terminal markup (rich would drop "[kg]")
    shown = invoke("query", out, "SELECT '[kg] [bold]x' AS \"co2 [kg]\" FROM kpis LIMIT 1")
    assert "[kg] [bold]x" in shown and "co2 [kg]" in shown
    bad = invoke("query", out, "SELEC cost FROM kpis", code=2)
    assert "SQL" in bad and "syntax error" in bad
    assert "not a pecopt sweep" in invoke("query", tmp_path, "SELECT 1", code=2)
    assert "expected a .csv or .parquet" in invoke(
        "query", out, sql, "--to", tmp_path / "q.xlsx", code=2
    )

    tidy = kpi_vs_parameter(out)
    assert set(tidy["parameter"]) == {CAP}  # import_max_kw is 100 for every solved variant
    assert len(tidy) == 3 * 6


#: ``pecopt sweep`` that, once its first variant is recorded, waits before taking the next
#: result until it is interrupted: Ctrl-C comes with exactly one variant done, however fast
#: the workers are or however slowly the test runs (no race with the wall clock).
GATED_SWEEP = """
import sys, time
from pathlib import Path
import distributed.client

gate = Path(sys.argv[1])
result = distributed.client.Future.result
taken = []

def gated(self, *args, **kwargs):
    if taken:  # the first result is recorded by now: the loop asks for the second
        gate.touch()
        while True:
            time.sleep(0.05)
    taken.append(self)
    return result(self, *args, **kwargs)

distributed.client.Future.result = gated
from pecopt.cli.main import app
app(sys.argv[2:])
"""


@pytest.mark.slow
def test_interrupt_and_resume(tmp_path, scheduler):
    s = tiny(tmp_path, days=60, resolution="15min")
    out = tmp_path / "sweep"
    gate = tmp_path / "one-recorded"
    vary = [f"--vary={CAP}=0,5,10,15,20,25,30,35,40,45,50,55"]
    cli = [sys.executable, "-c", GATED_SWEEP, str(gate)]
    cmd = [*cli, "sweep", str(s), "--out", str(out), *vary, "--scheduler", scheduler]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300  # a hang guard, not a timing assertion
        while not gate.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the first variant was never recorded"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    before = {f.name: f.stat().st_mtime_ns for f in (out / "kpis").glob("*.parquet")}
    assert len(before) == 1, before
    assert not list(out.rglob(".*.tmp"))

    text = invoke("sweep", s, "--out", out, *vary, "--scheduler", scheduler)
    done = len(before)
    expected = f"12 variants: {12 - done} solved, {done} already done, 0 failed"
    assert expected in text.replace("\n", " ")
    after = {f.name: f.stat().st_mtime_ns for f in (out / "kpis").glob("*.parquet")}
    assert len(after) == 12
    assert {k: after[k] for k in before} == before  # the finished variants were not recomputed
    # a third run has nothing to do
    text = invoke("sweep", s, "--out", out, *vary, "--scheduler", scheduler)
    assert "0 solved, 12 already done" in text.replace("\n", " ")


@pytest.mark.slow
def test_sweep_on_a_local_cluster_with_shipped_inputs(tmp_path):
    s = tiny(tmp_path)
    out = tmp_path / "sweep"
    text = invoke("sweep", s, "--out", out, f"--vary={CAP}=0,40", "--workers", "2", "--ship-inputs")
    assert "2 variants: 2 solved" in text.replace("\n", " ")
    shown = invoke("query", out, "SELECT count(*) AS n FROM kpis WHERE status = 'ok'")
    assert "2" in shown
    # a grown sweep in the same folder: only the new variant runs
    text = invoke("sweep", s, "--out", out, f"--vary={CAP}=0,40,80", "--workers", "1")
    assert "3 variants: 1 solved, 2 already done" in text.replace("\n", " ")


REPLAY = Path(__file__).resolve().parents[1] / "scenarios" / "kera_replay.yaml"


@pytest.mark.slow
def test_a_sweep_of_replays_on_a_dask_cluster(tmp_path, scheduler):
    """Replays of Kera's 3 March (forecast modes x seeds, a perfect forecast's seeds being
    one replay) run as tasks on the real cluster; each variant's figures are those of
    ``pecopt replay`` run alone, and ``query`` reads the per-day table too."""
    from datetime import date

    from pecopt.workflows.replay import flat_kpis, replay

    out = tmp_path / "replays"
    args = ["--replay-from", "2025-03-03", "--replay-to", "2025-03-03",
            "--vary", "replay.forecast=perfect,noisy:0.1", "--vary", "replay.seed=1,2"]  # fmt: skip
    text = invoke("sweep", REPLAY, "--out", out, *args, "--scheduler", scheduler)
    assert "3 variants: 3 solved" in text.replace("\n", " ")
    kpis = pd.concat([pd.read_parquet(f) for f in (out / "kpis").glob("*.parquet")])
    assert (kpis["status"] == "ok").all() and len(kpis) == 3
    assert (kpis["realised_net_cost_eur"] >= kpis["perfect_foresight_net_cost_eur"] - 1e-6).all()
    noisy = kpis[(kpis["replay.forecast"] == "noisy:0.1") & (kpis["replay.seed"] == 2)].iloc[0]
    alone = replay(REPLAY, tmp_path / "alone", first=date(2025, 3, 3), last=date(2025, 3, 3),
                   forecast="noisy:0.1", seed=2)  # fmt: skip
    for name, v in flat_kpis(alone.kpis).items():
        if isinstance(v, float):
            assert noisy[name] == pytest.approx(v, rel=1e-9, abs=1e-6), name
    shown = invoke(
        "query", out, "SELECT count(*) AS n, count(DISTINCT variant_id) AS v FROM replay"
    )
    assert "│ 3 " in shown
    # a sweep of solves cannot grow a sweep of replays
    bigger = "--vary=assets.batteries[0].capacity_kwh=2000"
    assert "not of solves" in invoke("sweep", REPLAY, "--out", out, bigger, code=2)


@pytest.mark.parametrize(
    ("args", "words"),
    [(["--vary", "replay.seed=1,2"], "give --replay-from"),
     (["--replay-from", "2025-03-03", "--vary", "replay.seed=1"], "give both"),
     (["--replay-from", "2025-03-03", "--replay-to", "2025-03-03",
       "--vary", "replay.forecast=sunny"], "replay.forecast")],
)  # fmt: skip
def test_bad_replay_sweeps_exit_2(tmp_path, args, words):
    text = invoke("sweep", REPLAY, "--out", tmp_path / "out", *args, code=2)
    assert words in text.replace("\n", " ") and not (tmp_path / "out").exists()


def test_report_of_a_sweep_folder(tmp_path):
    """``pecopt report SWEEP_DIR``: the KPI table and the effect of each varied parameter,
    from a sweep folder written by the sweep's own code (variants run in this process)."""
    from pecopt import __version__
    from pecopt.report.sweep import effects
    from pecopt.workflows.sweep import _row
    from pecopt.workflows.sweep_plan import column_values, manifest_body

    s = tiny(tmp_path)
    out = tmp_path / "sweep"
    plan = plan_sweep(s, ["assets.batteries.bat.capacity_kwh=0,40", f"{IMAX}=100,1"])
    ds.prepare_out(out, s)
    ds.write_manifest(out, manifest_body(plan, None))
    columns = column_values(plan)
    for v in plan.variants:
        outcome = run_variant(v.scenario, str(s), __version__)
        ds.write_variant(out, _row(v, columns[v.variant_id], outcome), outcome.tables, "test")
    text = invoke("report", out)
    assert "report.html" in text
    html = (out / "report.html").read_text()
    assert "pecopt sweep: sweep" in html and "4 variants (2 solved, 2 failed)" in html
    assert "Effect of each varied parameter" in html and "Key figures per variant" in html
    assert "assets.batteries.bat.capacity_kwh" in html
    # the effect: a battery lowers the cost of a load with an evening peak
    kpis = pd.concat([pd.read_parquet(f) for f in (out / "kpis").glob("*.parquet")])
    found = effects(kpis, plan.paths, ["cost_total_eur"])
    assert list(found) == ["assets.batteries.bat.capacity_kwh"]  # the import limit: 1 value solved
    frame = found["assets.batteries.bat.capacity_kwh"]
    assert frame["variants"].tolist() == [1, 1]
    assert frame["cost_total_eur"].iloc[1] < frame["cost_total_eur"].iloc[0]
    invoke("report", out)  # written again (a grown sweep)
    (out / "report.html").write_text("mine")
    assert "pecopt did not write it" in invoke("report", out, code=2)

"""Issue 19: nothing a night, an edited Parquet file or a query can do corrupts a plan or a
dataset. Each situation ends as exit 2 with one message naming the file, the field and the
problem (no traceback) before anything is written, or as documented."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.ingest.parquet import table_bytes
from pecopt.workflows import sweep_dataset as ds

runner = CliRunner()
CAP = "assets.batteries[0].capacity_kwh"

SCENARIO = """site: {{name: t, timezone: UTC}}
horizon: {{start: "2025-03-01T00:00", end: "{end}", resolution: 1h}}
buildings:
  - name: b1
    metered: {{path: load.csv, elec_column: elec_kw}}
assets:
  grid: {{import_max_kw: 100.0, tariff: {{spot: {{source: typical_year}}}}}}
  batteries: [{{name: bat, capacity_kwh: 20, power_kw: 5}}]
"""


def tiny(folder: Path, days: int = 2) -> Path:
    """A metered load with an evening peak, a battery and spot prices (as in test_sweep)."""
    folder.mkdir(parents=True, exist_ok=True)
    t = pd.date_range("2025-03-01", periods=24 * (days + 1), freq="h", tz="UTC")
    load = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
    load["elec_kw"] = 5.0 + 10.0 * (t.hour > 16)
    load.to_csv(folder / "load.csv", index=False)
    end = (pd.Timestamp("2025-03-01") + pd.Timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO.format(end=end))
    return path


def invoke(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == code, text
    assert "Traceback" not in text
    return text.replace("\n", "")


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (names and contents), to show nothing changed."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- pecopt query


def sweep_dataset(tmp_path: Path) -> Path:
    """A two-variant sweep dataset written with the sweep's own writers (no Dask)."""
    out = tmp_path / "ds"
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("site: {}\n")
    data = tmp_path / "load.csv"
    data.write_text("timestamp,elec_kw\n")
    out.mkdir()
    ds.write_manifest(
        out,
        {
            "base_scenario": {"path": str(scenario.resolve())},
            "input_files": {str(data.resolve()): "0" * 64},
        },
    )
    t = pd.date_range("2025-03-01", periods=3, freq="h", tz="UTC")
    for vid, cost in (("aaa", 10.0), ("bbb", 12.0)):
        row = {"variant_id": vid, "hash": vid * 4, "status": "ok", "error": None,
               "cost_total_eur": cost}  # fmt: skip
        sched = pd.DataFrame({"timestamp": t, "asset": "grid", "carrier": "electricity",
                              "role": "import", "flow_kw": [1.0, 2.0, 3.0]})  # fmt: skip
        ds.write_variant(out, row, {"schedule": table_bytes(sched, "test")}, "test")
    return out


def test_query_reads_the_dataset(tmp_path):
    out = sweep_dataset(tmp_path)
    text = invoke("query", out, "SELECT variant_id, cost_total_eur FROM kpis ORDER BY 1")
    assert "aaa" in text and "12.000" in text
    to = tmp_path / "answer.csv"
    text = invoke("query", out, "SELECT * FROM schedule", "--to", to)
    assert "6 rows" in text
    assert len(pd.read_csv(to)) == 6
    invoke("query", out, "SELECT * FROM schedule", "--to", tmp_path / "a.parquet")
    assert len(pd.read_parquet(tmp_path / "a.parquet")) == 6


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("COPY kpis TO '{victim}'", ["COPY statement", "only reads"]),
        ("COPY kpis TO '{out}/kpis/aaa.parquet' (FORMAT parquet)", ["COPY statement"]),
        ("SELECT 1; COPY kpis TO '{victim}'", ["2 statements"]),
        ("ATTACH '{tmp}/new.db' AS x", ["ATTACH statement"]),
        ("INSTALL httpfs", ["LOAD statement"]),
        ("LOAD httpfs", ["LOAD statement"]),
        ("SET enable_external_access = true", ["SET statement"]),
        ("CREATE TABLE t AS SELECT 1", ["CREATE statement"]),
        ("SELECT * FROM read_csv('{victim}')", ["Permission", "victim.txt"]),
        ("SELECT * FROM read_text('/etc/passwd')", ["Permission"]),
        ("", ["empty statement"]),
        (" ; ", ["empty statement"]),
        ("SELEC 1", ["syntax error"]),
    ],
)
def test_query_cannot_write_or_read_outside_the_dataset(tmp_path, sql, words):
    out = sweep_dataset(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    before = snapshot(tmp_path)
    sql = sql.format(victim=victim, out=out, tmp=tmp_path)
    text = invoke("query", out, sql, code=2)
    assert text.startswith(f"error: {out}: SQL: "), text
    for w in words:
        assert w in text, (w, text)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("to", "words"),
    [
        ("ds/kpis/aaa.parquet", ["inside the dataset"]),
        ("ds/answer.csv", ["inside the dataset"]),
        ("ds/../ds/schedule/x.parquet", ["inside the dataset"]),
        ("load.csv", ["an input of the sweep"]),
        ("load.csv/x.csv", ["is a file, not a folder"]),
        ("answer.txt", ["expected a .csv or .parquet"]),
        ("ds", ["expected a .csv"]),
    ],
)
def test_query_to_refused_inside_the_dataset_or_over_an_input(tmp_path, to, words):
    out = sweep_dataset(tmp_path)
    before = snapshot(tmp_path)
    text = invoke("query", out, "SELECT * FROM kpis", "--to", tmp_path / to, code=2)
    assert "--to" in text
    for w in words:
        assert w in text, (w, text)
    assert snapshot(tmp_path) == before
    invoke("query", out, "SELECT count(*) FROM kpis")  # the dataset still answers


def test_query_names_a_damaged_kpi_file(tmp_path):
    out = sweep_dataset(tmp_path)
    bad = out / "kpis" / "bbb.parquet"
    bad.write_bytes(bad.read_bytes()[:40])
    before = snapshot(tmp_path)
    text = invoke("query", out, "SELECT * FROM kpis", code=2)
    assert f"{bad.resolve()}: kpis: not a readable Parquet file" in text
    assert "run the sweep again" in text
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------- the error guard, bounds


def test_resume_rewrites_a_damaged_kpi_file(tmp_path):
    from distributed import Client

    from pecopt.workflows.sweep import run_sweep
    from pecopt.workflows.sweep_plan import plan_sweep

    s = tiny(tmp_path)
    out = tmp_path / "out"
    plan = plan_sweep(s, [f"{CAP}=0,10"], None)
    messages: list[str] = []
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as c:
        first = run_sweep(plan, out, c)
        assert first.done == 2
        bad = sorted((out / "kpis").glob("*.parquet"))[1]
        bad.write_bytes(bad.read_bytes()[:100])
        before = snapshot(out)
        text = invoke("query", out, "SELECT count(*) FROM kpis", code=2)
        assert f"{bad}: kpis: not a readable Parquet file" in text
        assert snapshot(out) == before  # a refused query changes nothing
        again = run_sweep(plan, out, c, progress=lambda _, m: m and messages.append(m))
    assert (again.done, again.skipped) == (1, 1)
    assert any(str(bad) in m and "runs again" in m for m in messages)
    assert "2" in invoke("query", out, "SELECT count(*) AS n FROM kpis WHERE status = 'ok'")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--scheduler", "nonsense"], ["--scheduler", "nonsense", "cannot connect"]),
        (["--scheduler", "foo://x"], ["--scheduler", "unknown address scheme"]),
        (["--workers", "100000"], ["--workers", "from 1 to 256"]),
        (["--threads", "100000"], ["threads", "less than or equal to 1024"]),
    ],
)
def test_bad_sweep_options_exit_2(tmp_path, args, words):
    s = tiny(tmp_path)
    out = tmp_path / "out"
    text = invoke("sweep", s, "--out", out, f"--vary={CAP}=0,10", *args, code=2)
    for w in words:
        assert w in text, (w, text)
    assert not out.exists()


def test_query_limit_and_pareto_points_have_upper_bounds(tmp_path):
    out = sweep_dataset(tmp_path)
    assert "--limit: from 1 to 100000" in invoke(
        "query", out, "SELECT 1", "--limit", "1000000000", code=2
    )
    s = tiny(tmp_path / "p")
    text = invoke("pareto", s, "--out", tmp_path / "front", "--points", "1000000000", code=2)
    assert "--points: at most 1000 points" in text
    assert not (tmp_path / "front").exists()


def test_sweep_and_query_run_inside_the_error_guard(tmp_path, monkeypatch):
    import pecopt.workflows.sweep as sweep_workflow
    import pecopt.workflows.sweep_query as sq

    out = sweep_dataset(tmp_path)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(sq, "run_query", interrupted)
    assert "interrupted" in invoke("query", out, "SELECT 1", code=130)
    monkeypatch.setattr(sq, "run_query", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert "internal error: RuntimeError: a bug" in invoke("query", out, "SELECT 1", code=1)
    monkeypatch.setattr(sweep_workflow, "sweep", broken)
    s = tiny(tmp_path / "s")
    text = invoke("sweep", s, "--out", tmp_path / "o", f"--vary={CAP}=0", code=1)
    assert "internal error: RuntimeError: a bug" in text


def test_a_name_that_collides_with_an_ev_after_joining_is_refused(tmp_path):
    s = tiny(tmp_path)
    s.write_text(s.read_text().replace("name: bat", "name: ev/v1"))
    text = invoke("validate", s, code=2)
    assert "scenario.yaml" in text and "name" in text and "'ev/v1'" in text
    assert "fleet/vehicle" in text


def test_replay_seed_out_of_range(tmp_path):
    s = tiny(tmp_path)
    text = invoke("replay", s, "--out", tmp_path / "r", "--from", "2025-03-01", "--to",
                  "2025-03-01", "--seed", "-1", code=2)  # fmt: skip
    assert "--seed: must be from 0" in text
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- the state store


def dispatch_scenario(folder: Path, **dispatch: object) -> Path:
    """A one-bus district planned hourly with no look-ahead (as in test_dispatch_fallbacks)."""
    doc = {
        "site": {"name": "tiny", "timezone": "Europe/Helsinki"},
        "dispatch": {"resolution": "1h", "lookahead_h": 0, "time_limit_s": 30,
                     "stand_ins": "allowed", **dispatch},
        "demand": {"elec": 100.0, "heat": 50.0},
        "assets": {
            "grid": {"import_max_kw": 1000.0, "export_max_kw": 1000.0,
                     "tariff": {"spot": {"source": "series", "series": 0.08},
                                "tax_class": "none"}},
            "batteries": [{"name": "battery", "capacity_kwh": 50, "power_kw": 25}],
            "district_heating": {"import_max_kw": 1000,
                                 "tariff": {"energy_eur_per_kwh": 0.06}},
        },
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def night(tmp_path: Path, scenario: Path, day: str, code: int = 0) -> str:
    out = tmp_path / f"plan-{day}"
    return invoke("dispatch", scenario, "--day", day, "--state", tmp_path / "state",
                  "--out", out, code=code)  # fmt: skip


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` read-only: by its mode, or for root (who writes whatever the mode) by the
    immutable attribute; skips the test when neither holds."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("root, and no chattr +i here: nothing is read-only to root")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def _sql(store: Path, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(store)) as db:
        for s in statements:
            db.execute(s)
        db.commit()


def _damage_pages(store: Path) -> None:
    data = bytearray(store.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    k = len(data) - page  # the last page: the header and the table list read well
    data[k + 8 : k + page] = b"\xa5" * (page - 8)
    store.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (
            lambda p: _sql(p, "UPDATE meta SET value = 'two' WHERE key = 'schema'"),
            ["meta.schema", "version 'two'"],
        ),
        (
            lambda p: _sql(p, "UPDATE trajectories SET values_json = substr(values_json, 1, 9)"),
            ["trajectories (run 1, battery, soc_kwh)", "not a JSON array"],
        ),
        (_damage_pages, ["damaged (SQLite quick_check:", "restore it from a backup"]),
        (lambda p: p.write_text("my notes\n" * 100), ["not a usable state store"]),
        (
            lambda p: (
                p.unlink(),
                _sql(p, "CREATE TABLE notes (x)", "INSERT INTO notes VALUES (1)"),
            ),
            ["not a pecopt state store", "left as it is"],
        ),
    ],
    ids=["schema-two", "cut-json", "damaged-pages", "text-file", "foreign-sqlite"],
)
def test_a_bad_store_stops_the_night_before_a_plan(tmp_path, spoil, words):
    s = dispatch_scenario(tmp_path)
    night(tmp_path, s, "2025-03-10")
    store = tmp_path / "state" / "pecopt-state.sqlite"
    spoil(store)
    before = snapshot(tmp_path / "state")
    text = night(tmp_path, s, "2025-03-11", code=2)
    assert text.startswith("error: ") and str(store) in text, text
    for w in words:
        assert w in text, (w, text)
    assert not (tmp_path / "plan-2025-03-11").exists()  # no plan written
    after = snapshot(tmp_path / "state")
    assert {k: v for k, v in after.items() if k != "pecopt-state.lock"} == {
        k: v for k, v in before.items() if k != "pecopt-state.lock"
    }  # the store is as it was


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_store_stops_the_night_before_a_plan(tmp_path, what):
    s = dispatch_scenario(tmp_path)
    night(tmp_path, s, "2025-03-10")
    store = tmp_path / "state" / "pecopt-state.sqlite"
    before = snapshot(tmp_path / "state")
    with read_only(store if what == "file" else store.parent):
        text = night(tmp_path, s, "2025-03-11", code=2)
    assert "--state" in text and ("not writable" in text or "cannot be used" in text), text
    assert not (tmp_path / "plan-2025-03-11").exists()
    assert snapshot(tmp_path / "state")["pecopt-state.sqlite"] == before["pecopt-state.sqlite"]


def test_runs_prune_and_the_keep_days_key(tmp_path):
    s = dispatch_scenario(tmp_path)
    for day in ("2025-03-10", "2025-03-11", "2025-03-12"):
        night(tmp_path, s, day)
    state = tmp_path / "state"
    assert "3 runs" not in invoke("runs", "prune", "--state", state, "--keep-days", "5")
    text = invoke("runs", "prune", "--state", state, "--keep-days", "1")
    assert "1 runs deleted" in text
    listed = invoke("runs", "list", "--state", state)
    assert "2025-03-11" in listed and "2025-03-12" in listed and "2025-03-10" not in listed
    night(tmp_path, s, "2025-03-13")  # the next night starts from the kept state
    assert "-1" in invoke("runs", "prune", "--state", state, "--keep-days", "-1", code=2)
    assert "no state store" in invoke(
        "runs", "prune", "--state", tmp_path / "nowhere", "--keep-days", "1", code=2
    )
    assert not (tmp_path / "nowhere").exists()

    kept = tmp_path / "kept"
    s = dispatch_scenario(kept, keep_days=1)
    for day in ("2025-03-10", "2025-03-11", "2025-03-12"):
        night(kept, s, day)
    with contextlib.closing(sqlite3.connect(kept / "state" / "pecopt-state.sqlite")) as db:
        days = [r[0] for r in db.execute("SELECT day FROM runs ORDER BY id")]
        assert days == ["2025-03-11", "2025-03-12"]
        assert db.execute("SELECT count(DISTINCT run_id) FROM trajectories").fetchone()[0] == 2


def test_runs_list_changes_no_foreign_file(tmp_path):
    store = tmp_path / "pecopt-state.sqlite"
    _sql(store, "CREATE TABLE notes (x)")
    before = store.read_bytes()
    assert "not a pecopt state store" in invoke("runs", "list", "--state", tmp_path, code=2)
    assert store.read_bytes() == before


# ---------------------------------------------------------------- solve --inputs DIR


def ingested(tmp_path: Path) -> Path:
    """``pecopt ingest`` of the tiny scenario, with a second building."""
    s = tiny(tmp_path / "src")
    text = s.read_text().replace(
        "assets:", "  - name: b2\n    metered: {path: load.csv, elec_column: elec_kw}\nassets:"
    )
    s.write_text(text)
    invoke("ingest", s, "--out", tmp_path / "inputs")
    return tmp_path / "inputs"


def _edit(folder: Path, table: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    path = folder / f"{table}.parquet"
    change(pd.read_parquet(path)).to_parquet(path, index=False)
    return path


def _cost(out: Path) -> float:
    return float(json.loads((out / "kpis.json").read_text())["cost_eur"]["total"])


def _nan_spot(df: pd.DataFrame) -> pd.DataFrame:
    df.loc[7, "spot_eur_per_kwh"] = float("nan")
    return df


def _shift(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(timestamp=df["timestamp"] + pd.Timedelta(days=30))


def _third_building(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df[df["building"] == "b1"].assign(building="b3")], ignore_index=True)


@pytest.mark.parametrize(
    ("table", "change", "words"),
    [
        ("grid_prices", _nan_spot, ["spot_eur_per_kwh", "row 8", "not a finite number"]),
        ("grid_prices", lambda d: d.assign(spot_eur_per_kwh=np.inf), ["not a finite number"]),
        ("loads", _third_building, ["building", "row 97", "b3", "not a name"]),
        ("loads", _shift, ["timestamp", "row 1", "2025-03-31T00:00Z", "not a time step"]),
        ("loads", lambda d: d.drop(columns="elec_kw"), ["elec_kw", "missing column [kW]"]),
        ("loads", lambda d: d.rename(columns={"elec_kw": "elec_mw"}), ["elec_kw", "missing"]),
        ("loads", lambda d: d.assign(extra_kw=1.0), ["extra_kw", "not a column"]),
        ("loads", lambda d: d.drop(index=[5, 6]), ["timestamp", "no row for", "2 rows missing"]),
        ("loads", lambda d: pd.concat([d, d.iloc[[3]]]), ["a second row"]),
        ("loads", lambda d: d.assign(elec_kw="5"), ["elec_kw", "expected numbers [kW]"]),
        ("loads", lambda d: d.assign(timestamp=d["timestamp"].dt.tz_localize(None)),
         ["timestamps without a time zone"]),
    ],
    ids=["nan-spot", "inf-spot", "unnamed-building", "shifted-30-days", "missing-column",
         "unit-renamed", "added-column", "missing-rows", "duplicated-row", "text-numbers",
         "naive-times"],
)  # fmt: skip
def test_an_edited_inputs_table_exits_2_naming_file_column_row(tmp_path, table, change, words):
    inputs = ingested(tmp_path)
    path = _edit(inputs, table, change)
    before = snapshot(inputs)
    text = invoke("solve", "--inputs", inputs, "--out", tmp_path / "out", code=2)
    assert text.startswith(f"error: {path}: "), text
    for w in words:
        assert w in text, (w, text)
    assert not (tmp_path / "out").exists()
    assert snapshot(inputs) == before


def test_a_missing_table_or_a_csv_named_parquet_exits_2(tmp_path):
    inputs = ingested(tmp_path)
    (inputs / "loads.parquet").unlink()
    text = invoke("solve", "--inputs", inputs, "--out", tmp_path / "out", code=2)
    assert "loads.parquet: file: missing" in text
    pd.DataFrame({"a": [1]}).to_csv(inputs / "loads.parquet")
    text = invoke("solve", "--inputs", inputs, "--out", tmp_path / "out", code=2)
    assert "loads.parquet: file: not a readable Parquet file" in text
    (inputs / "loads.parquet").unlink()
    pd.DataFrame({"a": [1]}).to_parquet(inputs / "notes.parquet")
    text = invoke("solve", "--inputs", inputs, "--out", tmp_path / "out", code=2)
    assert "notes.parquet: file: not a table of these inputs" in text
    assert not (tmp_path / "out").exists()


def test_rows_in_another_order_are_aligned_by_timestamp_and_name(tmp_path):
    inputs = ingested(tmp_path)
    invoke("solve", "--inputs", inputs, "--out", tmp_path / "a", "-q")
    _edit(inputs, "loads", lambda d: d.sample(frac=1.0, random_state=1))
    _edit(inputs, "grid_prices", lambda d: d.iloc[::-1])
    invoke("solve", "--inputs", inputs, "--out", tmp_path / "b", "-q")
    assert _cost(tmp_path / "b") == pytest.approx(_cost(tmp_path / "a"), rel=1e-9)
    # and the solve's own inputs/ folder solves again
    invoke("solve", "--inputs", tmp_path / "b" / "inputs", "--out", tmp_path / "c", "-q")
    assert _cost(tmp_path / "c") == pytest.approx(_cost(tmp_path / "a"), rel=1e-9)


def test_every_command_runs_inside_the_error_guard():
    from pecopt.cli.dispatch import runs_app

    commands = [*app.registered_commands, *runs_app.registered_commands]
    unguarded = [
        c.name or getattr(c.callback, "__name__", "?")
        for c in commands
        if c.callback is None or not hasattr(c.callback, "__wrapped__")
    ]
    assert len(commands) >= 12
    assert unguarded == []

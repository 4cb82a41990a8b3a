"""Issue 19: nothing a night, an edited Parquet file or a query can do corrupts a plan or a
dataset. Each situation ends as exit 2 with one message naming the file, the field and the
problem (no traceback) before anything is written, or as documented."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.ingest.parquet import table_bytes
from pecopt.workflows import sweep_dataset as ds

runner = CliRunner()


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

"""Every bad input through the CLI: exit 2 with a one-line message naming the file and the
field, no traceback, and the --out folder left untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app

runner = CliRunner()

BASE = """site: {{name: t, timezone: {tz}}}
horizon: {{start: "{start}", end: "{end}"}}
buildings:
  - name: b1
    metered: {{path: {load}, elec_column: elec_kw{extra_metered}}}
    {extra_building}
assets:
  grid: {{import_max_kw: 100.0, tariff: {{spot: {{source: typical_year}}}}}}
  {assets}
"""


def write_load(path: Path, times, values, time_col="timestamp", col="elec_kw") -> Path:
    pd.DataFrame({time_col: times, col: values}).to_csv(path, index=False)
    return path


def utc_hours(n=72, start="2025-03-29T00:00"):
    return pd.date_range(start, periods=n, freq="h", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario(
    tmp_path: Path,
    *,
    load="load.csv",
    tz="UTC",
    start="2025-03-29T00:00",
    end="2025-03-31T00:00",
    extra_metered="",
    extra_building="",
    assets="",
    write_default_load=True,
    text=None,
) -> Path:
    if write_default_load and not (tmp_path / "load.csv").exists():
        write_load(tmp_path / "load.csv", utc_hours(), 5.0)
    p = tmp_path / "scenario.yaml"
    p.write_text(
        text
        if text is not None
        else BASE.format(
            tz=tz,
            start=start,
            end=end,
            load=load,
            extra_metered=extra_metered,
            extra_building=extra_building,
            assets=assets,
        )
    )
    return p


def run_cli(tmp_path: Path, yaml: Path, code: int, *words: str) -> str:
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(out)])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == code, text
    assert "Traceback" not in text
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    for w in words:
        assert w in text.replace("\n", ""), f"{w!r} not in {text!r}"
    assert not out.exists()
    # no leftover temporary output folders either
    assert not list(tmp_path.glob(".out.*"))
    return text


def test_good_scenario_solves(tmp_path):
    yaml = scenario(tmp_path)
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "schedule.parquet").is_file()


def test_missing_scenario_file(tmp_path):
    run_cli(tmp_path, tmp_path / "nope.yaml", 2, "nope.yaml")


def test_misspelt_key(tmp_path):
    yaml = scenario(tmp_path, assets="batterys: []")
    run_cli(tmp_path, yaml, 2, "scenario.yaml", "batterys")


def test_efficiency_above_one(tmp_path):
    yaml = scenario(
        tmp_path, assets="batteries: [{name: b, capacity_kwh: 10, power_kw: 5, eta_charge: 1.2}]"
    )
    run_cli(tmp_path, yaml, 2, "scenario.yaml", "eta_charge")


def test_negative_capacity(tmp_path):
    yaml = scenario(tmp_path, assets="batteries: [{name: b, capacity_kwh: -10, power_kw: 5}]")
    run_cli(tmp_path, yaml, 2, "scenario.yaml", "capacity_kwh")


def test_missing_data_file(tmp_path):
    yaml = scenario(tmp_path, load="missing.csv")
    run_cli(tmp_path, yaml, 2, "missing.csv")


def test_missing_column(tmp_path):
    write_load(tmp_path / "load.csv", utc_hours(), 5.0, col="power")
    yaml = scenario(tmp_path)
    run_cli(tmp_path, yaml, 2, "load.csv", "elec_kw")


def test_wrong_time_column(tmp_path):
    write_load(tmp_path / "load.csv", utc_hours(), 5.0, time_col="time")
    yaml = scenario(tmp_path)
    run_cli(tmp_path, yaml, 2, "load.csv", "timestamp")


@pytest.mark.parametrize("bad", [np.nan, -5.0, np.inf], ids=["nan", "negative", "inf"])
def test_bad_load_values(tmp_path, bad):
    values = np.full(72, 5.0)
    values[10] = bad
    write_load(tmp_path / "load.csv", utc_hours(), values)
    yaml = scenario(tmp_path)
    run_cli(tmp_path, yaml, 2, "load.csv", "elec_kw")


def test_duplicated_timestamps(tmp_path):
    t = list(utc_hours())
    t[11] = t[10]
    write_load(tmp_path / "load.csv", t, 5.0)
    yaml = scenario(tmp_path)
    run_cli(tmp_path, yaml, 2, "load.csv", "timestamp")


def test_missing_timestamps(tmp_path):
    t = list(utc_hours())
    del t[20]
    write_load(tmp_path / "load.csv", t, 5.0)
    yaml = scenario(tmp_path)
    run_cli(tmp_path, yaml, 2, "load.csv", "timestamp")


def _local_times(skip_or_dup: str):
    # naive Helsinki wall-clock hours around a DST change
    if skip_or_dup == "nonexistent":  # 2025-03-30 03:00-03:59 does not exist
        t = pd.date_range("2025-03-29T00:00", periods=72, freq="h")
        t = [x for x in t]
        i = t.index(pd.Timestamp("2025-03-30T03:00"))
        t[i] = pd.Timestamp("2025-03-30T03:30")
    else:  # 2025-10-26 03:00-03:59 happens twice; written only once
        t = list(pd.date_range("2025-10-25T00:00", periods=72, freq="h"))
        i = t.index(pd.Timestamp("2025-10-26T03:00"))
        t[i] = pd.Timestamp("2025-10-26T03:30")
    return [x.strftime("%Y-%m-%dT%H:%M") for x in t]


def test_nonexistent_local_time(tmp_path):
    write_load(tmp_path / "load.csv", _local_times("nonexistent"), 5.0)
    yaml = scenario(tmp_path, tz="Europe/Helsinki", extra_metered=", timezone: Europe/Helsinki")
    run_cli(tmp_path, yaml, 2, "load.csv", "timestamp")


def test_ambiguous_local_time(tmp_path):
    write_load(tmp_path / "load.csv", _local_times("ambiguous"), 5.0)
    yaml = scenario(
        tmp_path,
        tz="Europe/Helsinki",
        start="2025-10-25T00:00",
        end="2025-10-27T00:00",
        extra_metered=", timezone: Europe/Helsinki",
    )
    run_cli(tmp_path, yaml, 2, "load.csv", "timestamp")


def test_horizon_outside_data(tmp_path):
    yaml = scenario(tmp_path, start="2025-04-01T00:00", end="2025-04-03T00:00")
    run_cli(tmp_path, yaml, 2, "load.csv")


def test_output_path_is_a_file(tmp_path):
    yaml = scenario(tmp_path)
    out = tmp_path / "out"
    out.write_text("keep me")
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "out" in result.output
    assert out.read_text() == "keep me"


def test_existing_out_folder_untouched_on_error(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    yaml = scenario(tmp_path, load="missing.csv")
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(out)])
    assert result.exit_code == 2
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert (out / "old.txt").read_text() == "old"


def test_infeasible_heat_without_source(tmp_path):
    write_load(tmp_path / "load.csv", utc_hours(), 5.0)
    df = pd.read_csv(tmp_path / "load.csv")
    df["heat_kw"] = 10.0
    df.to_csv(tmp_path / "load.csv", index=False)
    yaml = scenario(tmp_path, extra_metered=", heat_column: heat_kw")
    text = run_cli(tmp_path, yaml, 3)
    assert "heat" in text and "balance" in text, text

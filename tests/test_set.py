"""``--set PATH=VALUE`` on every command that reads a scenario: one path syntax (keys and
item names by name, list items also by index), the nearest key for a misspelt one, the
change solved and recorded in ``inputs/scenario.json`` and ``manifest.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import ScenarioError
from pecopt.scenario import load_scenario
from pecopt.scenario.overrides import apply_overrides, parse_path, parse_set
from pecopt.workflows.sweep_plan import manifest_body, plan_sweep

runner = CliRunner()
BAT = "assets.batteries.bat.capacity_kwh"

SCENARIO = """site: {name: t, timezone: UTC}
horizon: {start: "2025-03-01T00:00", end: "2025-03-03T00:00", resolution: 1h}
buildings:
  - name: b1
    metered: {path: load.csv, elec_column: elec_kw}
assets:
  grid: {import_max_kw: 100.0, tariff: {spot: {source: typical_year}}}
  batteries: [{name: bat, capacity_kwh: 20, power_kw: 5}]
"""


def tiny(folder: Path) -> Path:
    """Two days of a metered 5 kW load with a 15 kW evening peak and a battery."""
    t = pd.date_range("2025-03-01", periods=24 * 3, freq="h", tz="UTC")
    load = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
    load["elec_kw"] = 5.0 + 10.0 * (t.hour > 16)
    load.to_csv(folder / "load.csv", index=False)
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO)
    return path


def invoke(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == code, text
    assert "Traceback" not in text
    return text.replace("\n", "")


# ------------------------------------------------------------------------------- paths


def test_paths_by_name_and_by_index_set_the_same_field():
    raw = {"assets": {"batteries": [{"name": "a", "capacity_kwh": 1}, {"name": "b"}]}}
    assert parse_path("assets.batteries.b.capacity_kwh") == (
        "assets", "batteries", "b", "capacity_kwh",
    )  # fmt: skip
    by_name = apply_overrides(raw, {"assets.batteries.b.capacity_kwh": 7})
    by_index = apply_overrides(raw, {"assets.batteries[1].capacity_kwh": 7})
    assert by_name == by_index
    assert by_name["assets"]["batteries"][1] == {"name": "b", "capacity_kwh": 7}
    assert parse_set("horizon.end=2025-01-08") == ("horizon.end", "2025-01-08")
    assert parse_set("assets.grid.import_max_kw=1e3") == ("assets.grid.import_max_kw", 1000.0)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("assets.batteries.c.capacity_kwh", ["no item named 'c'", "there are: a"]),
        ("assets.batteries.aa.capacity_kwh", ["no item named 'aa'", "did you mean 'a'?"]),
        ("assets.batteries.a.capacity_kWh", ["did you mean 'capacity_kwh'?"]),
        ("assets.batterys.a.capacity_kwh", ["unknown key 'batterys'", "'batteries'"]),
        ("assets.batteries.capacity_kwh", ["is a list", "assets.batteries.NAME.capacity_kwh"]),
        ("assets.heat_pumps.hp.capacity_kw_el", ["no item named 'hp'", "it has none"]),
    ],
)
def test_a_bad_path_names_the_nearest_key_or_item(path, words):
    raw = {"assets": {"batteries": [{"name": "a", "capacity_kwh": 1}]}}
    with pytest.raises(ScenarioError) as info:
        apply_overrides(raw, {path: 1}, "--set")
    assert info.value.field == path
    for w in words:
        assert w in info.value.problem, info.value.problem


# ------------------------------------------------------------------------------ loading


def test_load_scenario_applies_and_records_sets(tmp_path):
    s = tiny(tmp_path)
    sets = (f"{BAT}=40", "horizon.end=2025-03-02T00:00")
    scenario = load_scenario(s, sets=sets)
    assert scenario.assets.batteries[0].capacity_kwh == 40.0
    assert scenario.horizon.end == "2025-03-02T00:00"
    assert scenario.set_options == sets
    assert load_scenario(s).set_options == ()


def test_sets_apply_over_a_base_file(tmp_path):
    tiny(tmp_path)
    child = tmp_path / "child.yaml"
    child.write_text("base: scenario.yaml\nassets: {batteries: {bat: {power_kw: 7}}}\n")
    scenario = load_scenario(child, sets=(f"{BAT}=33",))
    bat = scenario.assets.batteries[0]
    assert (bat.capacity_kwh, bat.power_kw) == (33.0, 7.0)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (f"{BAT}=abc", ["--set: " + BAT, "valid number", f"--set {BAT}=abc"]),
        (f"{BAT}=-1", ["--set: " + BAT, "greater than or equal to 0"]),
        ("assets.batteries.bat.capacity_kWh=1", ["--set: ", "did you mean 'capacity_kwh'?"]),
        ("assets.batteries.bta.power_kw=1", ["no item named 'bta'", "did you mean 'bat'?"]),
        ("horizon.end", ["--set: horizon.end", "PATH=VALUE"]),
        ("horizon.end=", ["--set: horizon.end", "empty value"]),
    ],
)
def test_a_bad_set_is_one_line_naming_the_option(tmp_path, spec, words):
    s = tiny(tmp_path)
    text = invoke("validate", s, "--set", spec, code=2)
    for w in words:
        assert w in text, (w, text)


def test_the_same_path_twice_is_refused(tmp_path):
    s = tiny(tmp_path)
    text = invoke("validate", s, "--set", f"{BAT}=1", "--set", f"{BAT}=2", code=2)
    assert "given twice" in text


# ----------------------------------------------------------------- each command, recorded


def test_solve_solves_the_set_and_records_it(tmp_path):
    s = tiny(tmp_path)
    out = tmp_path / "out"
    sets = ["horizon.end=2025-03-02T00:00", f"{BAT}=0"]
    invoke("solve", s, "--out", out, "-q", *[x for v in sets for x in ("--set", v)])
    stored = json.loads((out / "inputs" / "scenario.json").read_text())
    assert stored["--set"] == sets
    assert stored["assets"]["batteries"][0]["capacity_kwh"] == 0.0
    assert json.loads((out / "manifest.json").read_text())["--set"] == sets
    schedule = pd.read_parquet(out / "schedule.parquet")
    assert schedule["timestamp"].nunique() == 24  # one day, not two
    storage = pd.read_parquet(out / "storage.parquet")
    assert storage["soc_kwh"].abs().max() == 0.0  # no battery to fill
    # an ingested folder keeps the record, and --set is refused with --inputs
    invoke("ingest", s, "--out", tmp_path / "in", "--set", f"{BAT}=5")
    stored = json.loads((tmp_path / "in" / "scenario.json").read_text())
    assert stored["--set"] == [f"{BAT}=5"]
    invoke("solve", "--inputs", tmp_path / "in", "--out", tmp_path / "again", "-q")
    again = json.loads((tmp_path / "again" / "inputs" / "scenario.json").read_text())
    assert again["--set"] == [f"{BAT}=5"]
    text = invoke("solve", "--inputs", tmp_path / "in", "--out", tmp_path / "x", "--set",
                  f"{BAT}=1", code=2)  # fmt: skip
    assert "--set" in text


def test_validate_sums_up_the_set_scenario(tmp_path):
    s = tiny(tmp_path)
    text = invoke("validate", s, "--json", "--set", "horizon.end=2025-03-02T00:00")
    assert json.loads(text)["horizon"]["hours"] == 24


def test_compare_sets_every_variant(tmp_path):
    tiny(tmp_path)
    layouts = tmp_path / "layouts.yaml"
    layouts.write_text(
        "base: scenario.yaml\nvariants:\n  big: {assets: {batteries: {bat: {capacity_kwh: 40}}}}\n"
    )
    out = tmp_path / "cmp"
    invoke("compare", layouts, "--out", out, "-q", "--workers", "1",
           "--set", "assets.batteries.bat.power_kw=2")  # fmt: skip
    for name, cap in (("base", 20.0), ("big", 40.0)):
        stored = json.loads((out / "variants" / name / "inputs" / "scenario.json").read_text())
        assert stored["--set"] == ["assets.batteries.bat.power_kw=2"]
        assert stored["assets"]["batteries"][0]["power_kw"] == 2.0
        assert stored["assets"]["batteries"][0]["capacity_kwh"] == cap
    assert json.loads((out / "manifest.json").read_text())["--set"] == [
        "assets.batteries.bat.power_kw=2"
    ]


def test_pareto_solves_the_set(tmp_path):
    s = tiny(tmp_path)
    out = tmp_path / "front"
    invoke("pareto", s, "--out", out, "-q", "--points", "2", "--set", f"{BAT}=0")
    assert json.loads((out / "manifest.json").read_text())["--set"] == [f"{BAT}=0"]
    stored = json.loads((out / "points" / "0" / "inputs" / "scenario.json").read_text())
    assert stored["assets"]["batteries"][0]["capacity_kwh"] == 0.0


def test_sweep_plans_on_the_set_base_and_varies_by_name(tmp_path):
    s = tiny(tmp_path)
    plan = plan_sweep(s, [f"{BAT}=0,40"], sets=("assets.batteries.bat.power_kw=3",))
    assert [v.scenario.assets.batteries[0].capacity_kwh for v in plan.variants] == [0.0, 40.0]
    assert {v.scenario.assets.batteries[0].power_kw for v in plan.variants} == {3.0}
    assert manifest_body(plan, None)["--set"] == ["assets.batteries.bat.power_kw=3"]
    text = invoke("sweep", s, "--out", tmp_path / "o", "--vary",
                  "assets.batteries.bta.capacity_kwh=1", code=2)  # fmt: skip
    assert "did you mean 'bat'?" in text and "[" not in text.split("error:")[1][:10]
    text = invoke("sweep", s, "--out", tmp_path / "o", "--vary", f"{BAT}=1",
                  "--set", "assets.grid.import_max_kv=1", code=2)  # fmt: skip
    assert "--set: assets.grid.import_max_kv" in text and "'import_max_kw'" in text


def test_square_brackets_survive_in_sweep_errors(tmp_path):
    s = tiny(tmp_path)
    text = invoke("sweep", s, "--out", tmp_path / "o", "--vary",
                  "assets.batteries[3].capacity_kwh=1", code=2)  # fmt: skip
    assert "assets.batteries[3].capacity_kwh" in text


DISPATCH = {
    "site": {"name": "tiny", "timezone": "Europe/Helsinki"},
    "horizon": {"start": "2025-03-10T00:00", "end": "2025-03-11T00:00"},
    "dispatch": {"resolution": "1h", "lookahead_h": 0, "time_limit_s": 30,
                 "stand_ins": "allowed"},
    "demand": {"elec": 100.0, "heat": 50.0},
    "assets": {
        "grid": {"import_max_kw": 1000.0, "export_max_kw": 1000.0,
                 "tariff": {"spot": {"source": "series", "series": 0.08}, "tax_class": "none"}},
        "batteries": [{"name": "battery", "capacity_kwh": 50, "power_kw": 25}],
        "district_heating": {"import_max_kw": 1000, "tariff": {"energy_eur_per_kwh": 0.06}},
    },
}  # fmt: skip


def test_dispatch_and_replay_solve_the_set(tmp_path):
    s = tmp_path / "d.yaml"
    s.write_text(yaml.safe_dump(DISPATCH, sort_keys=False))
    cap = "assets.batteries.battery.capacity_kwh=7"
    invoke("dispatch", s, "--day", "2025-03-10", "--state", tmp_path / "state",
           "--out", tmp_path / "night", "-q", "--set", cap)  # fmt: skip
    stored = json.loads((tmp_path / "night" / "inputs" / "scenario.json").read_text())
    assert stored["--set"] == [cap]
    assert stored["assets"]["batteries"][0]["capacity_kwh"] == 7.0
    assert json.loads((tmp_path / "night" / "manifest.json").read_text())["--set"] == [cap]
    bad = "assets.batteries.batery.power_kw=1"
    text = invoke("replay", s, "--from", "2025-03-10", "--to", "2025-03-10", "--out",
                  tmp_path / "r", "--set", bad, code=2)  # fmt: skip
    assert "did you mean 'battery'?" in text
    invoke("replay", s, "--from", "2025-03-10", "--to", "2025-03-10", "--out", tmp_path / "r",
           "-q", "--set", cap)  # fmt: skip
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["--set"] == [cap]

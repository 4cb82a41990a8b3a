"""Layouts files and ``pecopt compare``: the merge rules, one clear error per bad variant
(exit 2, nothing written), rows equal to separate ``pecopt solve`` runs of the same
variants, a failing variant recorded (exit 10), and the atomic ``--out``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import ScenarioError
from pecopt.results.summary import flat_kpis
from pecopt.scenario.layouts import load_layouts
from pecopt.testing import tiny_scenario

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

HP = {"name": "hp", "capacity_kw_el": 20.0, "source": "series", "cop_series": 3.0}
BATTERY = {
    "name": "bat",
    "capacity_kwh": 10.0,
    "power_kw": 5.0,
    "eta_charge": 1.0,
    "eta_discharge": 1.0,
    "end": "cyclic",
}


def base_scenario(**kw) -> dict:
    """Two hours: 5 kW electricity and 30 kW heat; spot 0.12 then 0.18 EUR/kWh; a heat
    pump (COP 3, 20 kW el), district heat at 0.05 EUR/kWh and a lossless 10 kWh, 5 kW
    battery (cyclic: it starts where it ends)."""
    args = dict(
        elec_kw=5.0,
        heat_kw=30.0,
        spot=[0.12, 0.18],
        export=0.0,
        grid_co2=0.3,
        dh_co2=0.05,
        assets={"heat_pumps": [dict(HP)], "batteries": [dict(BATTERY)]},
        district_heating={},
    )
    args.update(kw)
    return tiny_scenario(2, **args)


def write(path: Path, data: dict | str) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def layouts_file(tmp_path: Path, variants: str, extra: str = "") -> Path:
    write(tmp_path / "base.yaml", base_scenario())
    return write(tmp_path / "layouts.yaml", f"base: base.yaml\n{extra}variants:\n{variants}")


def _tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------- merge rules


def test_merge_by_name_change_add_remove_and_replace(tmp_path):
    f = layouts_file(
        tmp_path,
        """  v:
    assets:
      heat_pumps:
        hp: {capacity_kw_el: 5.0}
        hp2: {capacity_kw_el: 7.0, source: series, cop_series: 2.5}
      batteries: {bat: null}
      district_heating: {tariff: {price_series: [0.03, 0.04]}}
""",
    )
    lay = load_layouts(f)
    assert lay.names == ["base", "v"]
    base, v = (x.scenario for x in lay.variants)
    assert [(h.name, h.capacity_kw_el) for h in base.assets.heat_pumps] == [("hp", 20.0)]
    # the named item changed in place, the new name appended, the battery removed
    assert [(h.name, h.capacity_kw_el) for h in v.assets.heat_pumps] == [
        ("hp", 5.0),
        ("hp2", 7.0),
    ]
    assert v.assets.heat_pumps[0].cop_series == 3.0  # untouched keys kept
    assert v.assets.batteries == [] and len(base.assets.batteries) == 1
    # a list replaces a list; the mapping around it merges
    assert v.assets.district_heating.tariff.price_series == [0.03, 0.04]
    assert v.assets.district_heating.co2 == base.assets.district_heating.co2


def test_common_applies_to_every_variant_and_base_can_be_left_out(tmp_path):
    f = layouts_file(
        tmp_path,
        "  a: {assets: {batteries: {bat: {capacity_kwh: 20.0}}}}\n  b: {}\n",
        extra="include_base: false\ncommon: {site: {name: common name}}\n",
    )
    lay = load_layouts(f)
    assert lay.names == ["a", "b"]
    assert {v.scenario.site.name for v in lay.variants} == {"common name"}
    assert lay.variants[0].scenario.assets.batteries[0].capacity_kwh == 20.0


def test_variant_paths_are_relative_to_the_layouts_file(tmp_path):
    (tmp_path / "base").mkdir()
    write(tmp_path / "base" / "base.yaml", base_scenario())
    (tmp_path / "data").mkdir()
    pd.DataFrame(
        {"timestamp": ["2025-01-06T00:00:00Z", "2025-01-06T01:00:00Z"], "p": [0.03, 0.04]}
    ).to_csv(tmp_path / "data" / "dh.csv", index=False)
    f = write(
        tmp_path / "layouts.yaml",
        "base: base/base.yaml\nvariants:\n  v:\n    assets:\n      district_heating:\n"
        "        tariff: {price_series: {path: data/dh.csv, column: p}}\n",
    )
    v = load_layouts(f).variants[1].scenario
    assert v.assets.district_heating.tariff.price_series.path == (tmp_path / "data" / "dh.csv")


def test_kera_layouts_hold_real_questions():
    lay = load_layouts(ROOT / "scenarios" / "kera_layouts.yaml")
    assert len(lay.variants) >= 5 and lay.names[0] == "base"
    by = {v.name: v.scenario for v in lay.variants}
    assert by["store_instead_of_battery"].assets.batteries == []
    assert by["store_instead_of_battery"].assets.thermal_stores[0].capacity_kwh == 36000
    assert [w.name for w in by["market_waste_heat"].assets.waste_heat] == ["market_condensers"]
    school = next(b for b in by["school_solar_thermal"].buildings if b.name.startswith("school"))
    assert school.pv == [] and by["school_solar_thermal"].assets.solar_thermal
    # the others keep the base's buildings: 18 of them, the school's PV included
    assert sum(len(b.pv) for b in by["base"].buildings) == 22
    assert [h.name for h in by["second_ground_heat_pump"].assets.heat_pumps][-1] == "gshp_2"
    street = [f for f in by["more_street_chargers"].assets.ev_fleets if f.name == "street"]
    assert street[0].public_chargers.chargers == 40 and street[0].charger_kw == 22


# ------------------------------------------------------------------------------ errors

ERRORS = [
    (
        "  more_hp: {assets: {heat_pumps: {hp: {capacity_kW_el: 5}}}}\n",
        "layouts.yaml:3:40: variants.more_hp.assets.heat_pumps.hp.capacity_kW_el: "
        "unknown key; did you mean 'capacity_kw_el'?",
    ),
    (
        "  typo:\n    asets: {}\n",
        "layouts.yaml:4:5: variants.typo.asets: unknown key; did you mean 'assets'?",
    ),
    (
        "  neg: {assets: {batteries: {bat: {power_kw: -1}}}}\n",
        "layouts.yaml:3:46: variants.neg.assets.batteries.bat.power_kw: "
        "Input should be greater than or equal to 0 (got -1)",
    ),
    (
        "  new_hp: {assets: {heat_pumps: {hp2: {source: air}}}}\n",
        "layouts.yaml:3:39: variants.new_hp.assets.heat_pumps.hp2: "
        "give capacity_kw_el (electric input) and/or capacity_kw_heat",
    ),
    (
        "  gone: {assets: {batteries: {battery: null}}}\n",
        "layouts.yaml:3:31: variants.gone.assets.batteries.battery: no item named 'battery' "
        "to remove (there are: bat)",
    ),
    (
        "  base: {}\n",
        "layouts.yaml:3:3: variants.base: 'base' is the base scenario's own name",
    ),
    (
        "  two words: {}\n",
        "layouts.yaml:3:3: variants.two words: a variant name is 1-100 letters",
    ),
    (
        "  v: {assets: {grid: {co2: {constant_kg_per_kwh: 0.1}}}}\n",
        "layouts.yaml:3:23: variants.v.assets.grid.co2: give exactly one of "
        "constant_kg_per_kwh or series",
    ),
]


@pytest.mark.parametrize(("variants", "message"), ERRORS)
def test_bad_variant_is_one_message_exit_2_nothing_written(tmp_path, variants, message):
    f = layouts_file(tmp_path, variants)
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", str(f), "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert message in text and str(tmp_path) in text
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_bad_base_is_named_in_the_base_file(tmp_path):
    s = base_scenario()
    s["assets"]["batteries"][0]["power_kw"] = -3.0
    write(tmp_path / "base.yaml", s)
    f = write(tmp_path / "l.yaml", "base: base.yaml\ninclude_base: false\nvariants:\n  v: {}\n")
    with pytest.raises(ScenarioError) as err:
        load_layouts(f)
    assert err.value.file == str(tmp_path / "base.yaml")
    assert err.value.field == "assets.batteries[0].power_kw"
    assert err.value.line is not None and f"(in variant 'v' of {f})" in err.value.problem


def test_records_without_names_are_replaced_as_a_whole(tmp_path):
    s = base_scenario()
    s["assets"]["grid"]["tariff"]["network"] = {"bands": [{"eur_per_kwh": 0.01, "hours": [0]}]}
    write(tmp_path / "base.yaml", s)
    text = "base: base.yaml\nvariants:\n  v:\n    assets: {grid: {tariff: {network: {bands: "
    f = write(tmp_path / "l.yaml", text + "{x: {hours: [1]}}}}}}\n")
    with pytest.raises(ScenarioError) as err:
        load_layouts(f)
    assert str(err.value) == (
        f"{f}:4:40: variants.v.assets.grid.tariff.network.bands: the base holds a list whose "
        "items have no 'name', so it cannot be changed by name: give the whole list"
    )
    f = write(tmp_path / "l.yaml", text + "[{eur_per_kwh: 0.03, hours: [1]}]}}}}\n")
    bands = load_layouts(f).variants[1].scenario.assets.grid.tariff.network.bands
    assert [(b.eur_per_kwh, b.hours) for b in bands] == [(0.03, [1])]


def test_layouts_file_keys_and_missing_base(tmp_path):
    f = write(tmp_path / "l.yaml", "base: nowhere.yaml\nvariant: {}\n")
    with pytest.raises(ScenarioError, match="variant: unknown key; did you mean 'variants'"):
        load_layouts(f)
    f = write(tmp_path / "l.yaml", "base: nowhere.yaml\nvariants: {v: {}}\n")
    with pytest.raises(ScenarioError, match="nowhere.yaml"):
        load_layouts(f)


# ------------------------------------------------------------------------ real solves

VARIANTS = """  no_heat_pump:
    assets: {heat_pumps: {hp: null}}
  cheap_dh:
    assets: {district_heating: {tariff: {price_series: [0.03, 0.03]}}}
"""


@pytest.mark.slow
def test_rows_equal_separate_solves_of_the_same_variants(tmp_path):
    f = layouts_file(tmp_path, VARIANTS)
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(f), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "comparison.parquet")
    assert table["variant"].tolist() == ["base", "no_heat_pump", "cheap_dh"]
    assert (table["status"] == "optimal").all() and table["error"].isna().all()
    # the same variants written out by hand and solved one by one
    alone = {
        "base": base_scenario(),
        "no_heat_pump": base_scenario(assets={"batteries": [dict(BATTERY)]}),
        "cheap_dh": base_scenario(dh_price=0.03),
    }
    for name, scenario in alone.items():
        sol = tmp_path / f"solve_{name}"
        r = runner.invoke(
            app, ["solve", str(write(tmp_path / f"{name}.yaml", scenario)), "--out", str(sol)]
        )
        assert r.exit_code == 0, r.output
        expected = flat_kpis(json.loads((sol / "kpis.json").read_text()))
        row = table.set_index("variant").loc[name]
        for column, value in expected.items():
            if value is None:
                assert pd.isna(row[column]), column
            elif isinstance(value, float):
                assert row[column] == pytest.approx(value, rel=1e-9, abs=1e-9), column
            else:
                assert row[column] == value, column
    # by hand: heat from the HP costs 0.12 / 3 = 0.04 EUR/kWh in hour 0 (DH 0.05), 0.06 in
    # hour 1; the battery charges 5 kWh in hour 0 and covers the 5 kW load in hour 1.
    # base: hour 0 buys 5 + 10 (HP) + 5 (battery) kWh at 0.12 = 2.4, hour 1 DH 30 * 0.05
    # = 1.5 -> 3.9 EUR; no heat pump: 10 * 0.12 + 60 * 0.05 = 4.2; DH at 0.03 beats the
    # HP both hours: 10 * 0.12 + 60 * 0.03 = 3.0
    costs = table.set_index("variant")["cost_total_eur"]
    assert costs["base"] == pytest.approx(3.9, abs=1e-6)
    assert costs["no_heat_pump"] == pytest.approx(4.2, abs=1e-6)
    assert costs["cheap_dh"] == pytest.approx(3.0, abs=1e-6)
    for name in alone:
        assert (out / "variants" / name / "schedule.parquet").is_file()
        assert (out / "variants" / name / "inputs" / "scenario.json").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pecopt_output"]["kind"] == "compare"
    assert manifest["workers"] == 2
    assert manifest["variants"]["no_heat_pump"]["overrides"] == {
        "assets": {"heat_pumps": {"hp": None}}
    }
    assert (out / "report.html").stat().st_size > 100_000
    html = (out / "report.html").read_text()  # titled by --out, not the temporary folder
    assert f"pecopt comparison: {out.name}</h1>" in html and "pecopt-tmp" not in html


def test_failing_variant_is_a_row_and_exit_10(tmp_path):
    f = layouts_file(
        tmp_path,
        VARIANTS
        + "  no_grid:\n    assets: {grid: {import_max_kw: 0.0}}\n"
        + "  short_series:\n    demand: {elec: [1.0, 2.0, 3.0]}\n",
    )
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(f), "--out", str(out)])
    assert result.exit_code == 10, result.output
    assert "2 variant(s) failed: no_grid, short_series" in " ".join(result.output.split())
    t = pd.read_parquet(out / "comparison.parquet").set_index("variant")
    assert t.loc["no_grid", "status"] == "infeasible"
    assert "cannot be met" in t.loc["no_grid", "error"]
    assert t.loc["short_series", "status"] == "bad_input"
    assert "3 values given, the horizon has 2 steps" in t.loc["short_series", "error"]
    assert "(variant short_series)" in t.loc["short_series", "error"]
    assert pd.isna(t.loc["no_grid", "cost_total_eur"])
    assert t.loc["base", "status"] == "optimal"
    assert sorted(p.name for p in (out / "variants").iterdir()) == [
        "base",
        "cheap_dh",
        "no_heat_pump",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["variants"]["no_grid"]["status"] == "infeasible"
    assert "no results folder at variants/no_grid/" in (out / "report.html").read_text()


@pytest.mark.slow
def test_out_is_atomic_and_never_replaces_foreign_folders(tmp_path):
    f = layouts_file(tmp_path, "  cheap_dh:\n    assets: {district_heating: {}}\n")
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["compare", str(f), "--out", str(out)])
    assert result.exit_code == 2
    assert "never deletes what it did not write" in " ".join(result.output.split())
    assert _tree(out) == {"notes.txt": 4}
    (out / "notes.txt").unlink()
    assert runner.invoke(app, ["compare", str(f), "--out", str(out), "-q"]).exit_code == 0
    first = _tree(out)
    assert {"comparison.parquet", "manifest.json", "report.html"} <= set(first)
    # a bad layouts file later: the earlier result stays as it was
    write(f, f.read_text() + "  bad: {assets: {batteries: {bat: {power_kw: -1}}}}\n")
    assert runner.invoke(app, ["compare", str(f), "--out", str(out)]).exit_code == 2
    assert _tree(out) == first
    # and a good one replaces it
    write(f, f.read_text().replace("power_kw: -1", "power_kw: 2"))
    assert runner.invoke(app, ["compare", str(f), "--out", str(out), "-q"]).exit_code == 0
    assert "variants/bad/schedule.parquet" in _tree(out)


def test_workers_must_be_positive(tmp_path):
    f = layouts_file(tmp_path, "  v: {}\n")
    result = runner.invoke(app, ["compare", str(f), "--out", str(tmp_path / "o"), "--workers", "0"])
    assert result.exit_code == 2 and "--workers: must be at least 1" in result.output


def test_union_keeps_extra_columns_beside_their_family():
    from pecopt.workflows.compare import union

    rows = [
        {"variant": "base", "cost_a_eur": 1.0, "co2_net_kg": 2.0},
        {"variant": "v", "cost_a_eur": 1.0, "cost_waste_heat_eur": 3.0, "co2_net_kg": 2.0},
        {"variant": "w", "error": "x"},
    ]
    assert union(rows) == ["variant", "error", "cost_a_eur", "cost_waste_heat_eur", "co2_net_kg"]


def test_missing_data_file_of_a_variant_is_exit_2_before_any_solve(tmp_path):
    f = layouts_file(
        tmp_path,
        "  v:\n    assets:\n      district_heating:\n"
        "        tariff: {price_series: {path: missing.csv, column: p}}\n",
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", str(f), "--out", str(out)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'missing.csv'}: variant v: no such file (named by {f})" in text
    assert not out.exists()


# ----------------------------------------------------------- a scenario that extends one


def test_a_scenario_starts_from_another(tmp_path):
    from pecopt.scenario import load_scenario

    write(tmp_path / "base.yaml", base_scenario())
    f = write(
        tmp_path / "design.yaml",
        "base: base.yaml\nassets:\n  batteries:\n    bat: {capacity_kwh: {max: 40, "
        "capex_eur_per_unit: 100}}\n  heat_pumps: {hp: null}\n",
    )
    s = load_scenario(f)
    assert s.assets.batteries[0].capacity_kwh.max == 40
    assert s.assets.batteries[0].power_kw == 5.0  # the base's other fields stay
    assert s.assets.heat_pumps == []
    assert s.horizon == load_scenario(tmp_path / "base.yaml").horizon


def test_a_bad_change_names_the_extending_file(tmp_path):
    write(tmp_path / "base.yaml", base_scenario())
    f = write(tmp_path / "design.yaml", "base: base.yaml\nsolver: {mip_gap: 0.1}\n")
    result = runner.invoke(app, ["validate", str(f)])
    assert result.exit_code == 2
    assert "design.yaml:2:10: solver.mip_gap: unknown key" in result.output
    # a chain: d2 -> b2 -> base; a loop is one message
    write(tmp_path / "b2.yaml", "base: base.yaml\nsolver: {threads: 1}\n")
    f = write(tmp_path / "d2.yaml", "base: b2.yaml\nsolver: {mip_rel_gap: 0.01}\n")
    from pecopt.scenario import load_scenario

    s = load_scenario(f)
    assert (s.solver.threads, s.solver.mip_rel_gap) == (1, 0.01)
    write(tmp_path / "b3.yaml", "base: d3.yaml\n")
    f = write(tmp_path / "d3.yaml", "base: b3.yaml\n")
    result = runner.invoke(app, ["validate", str(f)])
    assert (
        result.exit_code == 2 and "base: the files start from each other in a loop" in result.output
    )


def test_layouts_over_a_scenario_that_extends_another(tmp_path):
    write(tmp_path / "base.yaml", base_scenario())
    write(tmp_path / "design.yaml", "base: base.yaml\nsolver: {threads: 1}\n")
    f = write(
        tmp_path / "layouts.yaml", "base: design.yaml\nvariants:\n  v: {solver: {threads: 2}}\n"
    )
    lay = load_layouts(f)
    assert [v.scenario.solver.threads for v in lay.variants] == [1, 2]
    f = write(tmp_path / "bad.yaml", "base: design.yaml\nvariants:\n  v: {solver: {thread: 2}}\n")
    with pytest.raises(
        ScenarioError,
        match=r"bad.yaml:3:16: variants.v.solver.thread: unknown key; did you mean .threads.\?",
    ):
        load_layouts(f)


def test_a_list_that_drops_fields_of_a_base_item_is_refused(tmp_path):
    """A list of named records over the base's list: an item named again must keep every
    field it had (else they fall back to their defaults); a list of new items, or the
    same item with every field, replaces the list; by name, unnamed fields stay."""
    from pecopt.scenario import load_scenario

    base = base_scenario()
    base["assets"]["batteries"][0] |= {"wear_eur_per_kwh": 0.01, "loss_per_h": 0.0002}
    write(tmp_path / "base.yaml", base)
    f = write(
        tmp_path / "d.yaml",
        "base: base.yaml\nassets:\n  batteries:\n    - {name: bat, capacity_kwh: 500, "
        "power_kw: 5}\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    e = info.value
    assert (Path(e.file).name, e.line, e.field) == ("d.yaml", 3, "assets.batteries")
    for words in ("'bat' would lose", "wear_eur_per_kwh", "loss_per_h",
                  "batteries: {bat: {capacity_kwh: 500}}"):  # fmt: skip
        assert words in e.problem, e.problem
    write(f, "base: base.yaml\nassets:\n  batteries:\n    bat: {capacity_kwh: 500}\n")
    bat = load_scenario(f).assets.batteries[0]
    assert (bat.capacity_kwh, bat.wear_eur_per_kwh, bat.loss_per_h) == (500, 0.01, 0.0002)
    full = {**base["assets"]["batteries"][0], "capacity_kwh": 500}
    write(f, yaml.safe_dump({"base": "base.yaml", "assets": {"batteries": [full]}}))
    assert load_scenario(f).assets.batteries[0].wear_eur_per_kwh == 0.01
    other = "[{name: other, capacity_kwh: 1, power_kw: 1}]"
    write(f, f"base: base.yaml\nassets:\n  batteries: {other}\n")
    assert [b.name for b in load_scenario(f).assets.batteries] == ["other"]
    # the same rule in a layouts variant
    lay = write(
        tmp_path / "l.yaml",
        "base: base.yaml\nvariants:\n  v: {assets: {batteries: [{name: bat, capacity_kwh: 1}]}}\n",
    )
    with pytest.raises(ScenarioError, match="would lose"):
        load_layouts(lay)

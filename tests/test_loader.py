"""The scenario loader: YAML positions, duplicate keys, encodings, file problems, and
pydantic errors mapped back to the line, column and nearest valid key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from pecopt.errors import ScenarioError
from pecopt.files import FileProblem, decode_utf8
from pecopt.scenario import load_scenario
from pecopt.scenario.loader import OVERRIDES, field_name, validate_document
from pecopt.scenario.yaml_source import YamlProblem, parse_yaml, read_yaml

MINIMAL = 'horizon: {start: "2025-01-06T00:00", end: "2025-01-07T00:00"}\n'


def write(tmp_path: Path, text: str | bytes, name: str = "scenario.yaml") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def load_error(path: Path, overrides: dict | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


# ---------------------------------------------------------------------------- positions


def test_positions_of_keys_and_values():
    doc = parse_yaml(
        "assets:\n"
        "  batteries:\n"
        "    - name: b1\n"
        "      capacity_kwh: 10\n"
        "    - {name: b2, capacity_kwh: 20}\n"
    )
    assert doc.data["assets"]["batteries"][1]["capacity_kwh"] == 20
    assert doc.keys[("assets", "batteries", 0, "capacity_kwh")] == (4, 7)
    assert doc.values[("assets", "batteries", 0, "capacity_kwh")] == (4, 21)
    assert doc.values[("assets", "batteries", 0)] == (3, 7)
    assert doc.keys[("assets", "batteries", 1, "capacity_kwh")] == (5, 18)
    assert doc.values[("assets", "batteries", 1, "capacity_kwh")] == (5, 32)


def test_merge_key_is_not_a_duplicate_and_own_key_wins():
    doc = parse_yaml("base: &b {power_kw: 5, capacity_kwh: 10}\nbat:\n  <<: *b\n  power_kw: 7\n")
    assert doc.data["bat"] == {"power_kw": 7, "capacity_kwh": 10}
    assert doc.keys[("bat", "power_kw")] == (4, 3)  # the own key, not the merged one
    assert doc.keys[("bat", "capacity_kwh")] == (1, 24)  # merged: where the anchor says it


@pytest.mark.parametrize(
    ("text", "path", "lines"),
    [
        ("a: 1\nb: 2\na: 3\n", ("a",), (1, 3)),
        ("x:\n  - {name: p, kwp: 1, kwp: 2}\n", ("x", 0, "kwp"), (2, 2)),
        ("x:\n  y:\n    z: 1\n    w: 2\n    z: 3\n", ("x", "y", "z"), (3, 5)),
    ],
    ids=["top", "in-a-list-item", "nested"],
)
def test_duplicate_key_names_both_lines(text, path, lines):
    with pytest.raises(YamlProblem) as info:
        parse_yaml(text)
    assert info.value.path == path
    assert f"first at line {lines[0]}" in info.value.problem
    assert f"again at line {lines[1]}" in info.value.problem
    assert info.value.line == lines[1]


def test_recursive_alias_does_not_hang():
    doc = parse_yaml("a: &x [1, *x]\n")
    assert doc.data["a"][0] == 1


# -------------------------------------------------------------------- files and encodings


def test_bom_prefixed_utf8_is_accepted(tmp_path):
    p = write(tmp_path, b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_scenario(p).horizon.start == "2025-01-06T00:00"


def test_latin1_bytes_are_refused_with_their_line_and_column(tmp_path):
    p = write(tmp_path, MINIMAL.encode() + "site: {name: Pyhäjärvi}\n".encode("latin-1"))
    e = load_error(p)
    assert (e.line, e.column) == (2, 17)  # the byte after "site: {name: Pyh"
    assert "not UTF-8" in e.problem and "0xe4" in e.problem
    assert str(e).startswith(f"{p}:2:17: <file>: not UTF-8")


def test_decode_column_counts_characters_not_bytes():
    with pytest.raises(FileProblem) as info:
        decode_utf8("ä€ x".encode() + b"\xff")
    assert (info.value.line, info.value.column) == (1, 5)


def test_empty_file(tmp_path):
    e = load_error(write(tmp_path, ""))
    assert e.problem == "the file is empty"


def test_a_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "scenario.yaml"
    folder.mkdir()
    assert "is a folder" in load_error(folder).problem


def test_missing_file(tmp_path):
    assert load_error(tmp_path / "nope.yaml").problem == "file not found"


def test_dangling_symlink(tmp_path):
    link = tmp_path / "link.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    assert "symbolic link to a file that does not exist" in load_error(link).problem


def test_symlink_loop(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.symlink_to(b)
    b.symlink_to(a)
    assert "symbolic link loop" in load_error(a).problem


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    p = write(tmp_path, MINIMAL)
    p.chmod(0)
    try:
        assert "permission denied" in load_error(p).problem
    finally:
        p.chmod(0o600)


def test_tab_indentation_gives_line_column_and_hint(tmp_path):
    e = load_error(write(tmp_path, MINIMAL + "site:\n\tname: x\n"))
    assert (e.line, e.column) == (3, 1)
    assert e.field == "<yaml>"
    assert "tabs" in e.problem


def test_syntax_error_has_line_and_column(tmp_path):
    e = load_error(write(tmp_path, MINIMAL + "site: {name: x\nsolver: {}\n"))
    assert e.line == 3
    assert "not valid YAML" in e.problem


def test_two_documents_are_refused(tmp_path):
    e = load_error(write(tmp_path, MINIMAL + "---\nsite: {}\n"))
    assert "single document" in e.problem and e.line == 2


def test_a_list_at_the_top_is_refused(tmp_path):
    e = load_error(write(tmp_path, "- 1\n- 2\n"))
    assert e.field == "<root>" and "mapping" in e.problem


def test_read_yaml_reports_file_problems_as_file_field(tmp_path):
    with pytest.raises(YamlProblem) as info:
        read_yaml(tmp_path / "nope.yaml")
    assert info.value.field == "<file>"


# ---------------------------------------------------------------- pydantic errors located


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", ".NaN", "1e400", "1.0e400"])
def test_non_finite_numbers_are_refused(tmp_path, value):
    text = (
        MINIMAL + f"assets:\n  batteries:\n    - {{name: b, capacity_kwh: {value}, power_kw: 5}}\n"
    )
    e = load_error(write(tmp_path, text))
    assert e.field == "assets.batteries[0].capacity_kwh"
    assert "finite" in e.problem
    assert (e.line, e.column) == (4, 31)


def test_wrong_case_key_is_named_with_the_missing_one(tmp_path):
    text = (
        MINIMAL
        + "assets:\n  batteries:\n    - name: b\n      capacity_kWh: 10\n      power_kw: 5\n"
    )
    e = load_error(write(tmp_path, text))
    assert e.field == "assets.batteries[0].capacity_kwh"
    assert "required key is missing; did you mean the key 'capacity_kWh' at line 5?" in e.problem
    assert (e.line, e.column) == (5, 7)
    assert "more problem" not in e.problem  # the unknown key is the same slip, told once


def test_unknown_optional_key_suggests_nearest(tmp_path):
    text = (
        MINIMAL
        + "assets:\n  batteries:\n    - {name: b, capacity_kwh: 1, power_kw: 5, eta_chrage: 1}\n"
    )
    e = load_error(write(tmp_path, text))
    assert e.field == "assets.batteries[0].eta_chrage"
    assert e.problem == "unknown key; did you mean 'eta_charge'?"
    assert (e.line, e.column) == (4, 47)


def test_unknown_key_without_near_match_lists_the_valid_ones(tmp_path):
    e = load_error(write(tmp_path, MINIMAL + "carbon: {colour: red}\n"))
    assert e.field == "carbon.colour"
    assert "valid keys here: export_credit" in e.problem


def test_unknown_section(tmp_path):
    e = load_error(write(tmp_path, MINIMAL + "assests: {}\n"))
    assert (e.field, e.problem, e.line) == ("assests", "unknown key; did you mean 'assets'?", 2)


def test_missing_top_level_key_has_no_line(tmp_path):
    e = load_error(write(tmp_path, "site: {name: x}\n"))
    assert e.field == "horizon" and e.line is None
    assert str(e) == f"{tmp_path / 'scenario.yaml'}: horizon: required key is missing"


def test_misspelt_required_section(tmp_path):
    e = load_error(write(tmp_path, "site: {name: x}\n" + MINIMAL.replace("horizon", "Horizon")))
    assert (e.field, e.line, e.column) == ("horizon", 2, 1)
    assert e.problem == "required key is missing; did you mean the key 'Horizon' at line 2?"


def test_key_without_value(tmp_path):
    text = (
        MINIMAL + "assets:\n  batteries:\n    - name: b\n      capacity_kwh:\n      power_kw: 5\n"
    )
    e = load_error(write(tmp_path, text))
    assert e.field == "assets.batteries[0].capacity_kwh"
    assert "the key has no value" in e.problem


def test_unknown_time_zone_suggests_the_right_one(tmp_path):
    e = load_error(write(tmp_path, MINIMAL + "site: {timezone: Europe/Helsingfors}\n"))
    assert e.field == "site.timezone"
    assert "did you mean 'Europe/Helsinki'?" in e.problem
    assert (e.line, e.column) == (2, 18)


def test_store_above_capacity_is_refused(tmp_path):
    text = MINIMAL + (
        "assets:\n  thermal_stores:\n"
        "    - {name: t, capacity_kwh: 10, power_kw: 5, soc_initial_kwh: 20, end: free}\n"
    )
    e = load_error(write(tmp_path, text))
    assert e.field == "assets.thermal_stores[0]" and e.line == 4
    assert "soc_initial_kwh (20) must not exceed capacity_kwh (10)" in e.problem


def test_first_problem_in_file_order_and_the_count(tmp_path):
    text = MINIMAL + "solver: {threads: -1}\nsite: {latitude: 100}\n"
    e = load_error(write(tmp_path, text))
    assert e.field == "solver.threads" and e.line == 2
    assert e.problem.endswith("(and 1 more problem)")


def test_duplicate_asset_name_points_at_the_second(tmp_path):
    text = MINIMAL + (
        "assets:\n  batteries:\n"
        "    - {name: same, capacity_kwh: 1, power_kw: 1}\n"
        "    - {name: same, capacity_kwh: 1, power_kw: 1}\n"
    )
    e = load_error(write(tmp_path, text))
    assert "'same' is used twice" in e.problem and e.line == 5


def test_bad_override_is_reported_as_an_override(tmp_path):
    p = write(tmp_path, MINIMAL + "solver: {time_limit_s: 60}\n")
    e = load_error(p, {"solver": {"time_limit_s": 0}})
    assert (e.file, e.field, e.line) == (OVERRIDES, "solver.time_limit_s", None)


def test_mapping_works_for_any_pydantic_model():
    class Leaf(BaseModel):
        model_config = ConfigDict(extra="forbid")
        size_m: float

    class Tree(BaseModel):
        model_config = ConfigDict(extra="forbid")
        leaves: list[Leaf] | None = None
        by_name: dict[str, Leaf] = {}

    doc = parse_yaml("leaves:\n  - {size_m: 1}\n  - {Size_M: 2}\n")
    with pytest.raises(ScenarioError) as info:
        validate_document(Tree, doc, "tree.yaml")
    e = info.value
    assert (e.field, e.line, e.column) == ("leaves[1].size_m", 3, 6)
    assert "did you mean the key 'Size_M' at line 3?" in e.problem

    doc = parse_yaml("by_name:\n  a: {size_m: 1, colour: 2}\n")
    with pytest.raises(ScenarioError) as info:
        validate_document(Tree, doc, "tree.yaml")
    assert info.value.field == "by_name.a.colour"
    assert "valid keys here: size_m" not in info.value.problem  # size_m is already there
    assert info.value.line == 2


def test_field_name():
    assert field_name(("assets", "batteries", 0, "capacity_kwh")) == (
        "assets.batteries[0].capacity_kwh"
    )
    assert field_name(()) == "<root>"

"""``pecopt validate``: the summary a planner eyeballs (hand-checked figures), the
plausibility warnings (each rule firing and not firing), ``--strict`` and ``--json``."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.scenario.plausibility import check
from pecopt.testing import inputs_of, tiny_scenario
from pecopt.workflows.validate import summarise

runner = CliRunner()

# Two archetype buildings with their own figures [kWh/m2/yr] and rooftop PV.
A1 = {"use": "apartment", "floor_area_m2": 3000, "elec_kwh_m2_yr": 30,
      "space_heat_kwh_m2_yr": 60, "hot_water_kwh_m2_yr": 25}  # fmt: skip
A2 = {"use": "office", "floor_area_m2": 1000, "elec_kwh_m2_yr": 70,
      "space_heat_kwh_m2_yr": 40, "hot_water_kwh_m2_yr": 5}  # fmt: skip


def district(start: str = "2025-01-01T00:00", end: str = "2026-01-01T00:00") -> dict[str, Any]:
    """A two-building district on the embedded typical year; prices as hand-checkable
    constants: spot 0.05 + margin 0.01 + network 0.02 EUR/kWh, no tax, VAT 24 %."""
    return {
        "site": {"name": "two blocks", "timezone": "Europe/Helsinki"},
        "horizon": {"start": start, "end": end},
        "buildings": [
            {"name": "apt", "archetype": A1,
             "pv": [{"name": "apt_pv", "kwp": 60, "tilt_deg": 15, "azimuth_deg": 180}]},
            {"name": "office", "archetype": A2,
             "pv": [{"name": "office_pv", "kwp": 40, "tilt_deg": 15, "azimuth_deg": 180}]},
        ],
        "assets": {
            "grid": {
                "import_max_kw": 2000,
                "tariff": {
                    "spot": {"source": "series", "series": 0.05},
                    "retail_margin_eur_per_kwh": 0.01,
                    "network": {"default_eur_per_kwh": 0.02},
                    "tax_class": "none",
                    "vat": 0.24,
                },
            },
            "batteries": [{"name": "bat", "capacity_kwh": 200, "power_kw": 100}],
            "district_heating": {"import_max_kw": 1500,
                                 "tariff": {"energy_eur_per_kwh": 0.07}},
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def year() -> dict[str, Any]:
    return summarise(inputs_of(district()))


def test_summary_of_a_full_year_gives_back_the_archetype_figures(year):
    b = year["buildings"]
    assert b["count"] == 2 and b["with_floor_area"] == 2
    assert b["floor_area_m2"] == 4000
    area = A1["floor_area_m2"] + A2["floor_area_m2"]
    for key, field in [
        ("elec", "elec_kwh_m2_yr"),
        ("space_heat", "space_heat_kwh_m2_yr"),
        ("hot_water", "hot_water_kwh_m2_yr"),
    ]:
        mwh = (A1["floor_area_m2"] * A1[field] + A2["floor_area_m2"] * A2[field]) / 1000
        d = b["demand"][key]
        assert d["mwh_per_year"] == pytest.approx(mwh, rel=1e-6)
        assert d["horizon_mwh"] == pytest.approx(mwh, rel=1e-6)  # a full year
        assert d["kwh_per_m2_yr"] == pytest.approx(mwh * 1000 / area, rel=1e-6)
    h = year["horizon"]
    assert h["steps"] == 8760 and h["years"] == 1.0
    assert h["start_local"] == "2025-01-01T00:00:00+02:00"
    assert h["end_local"] == "2026-01-01T00:00:00+02:00"


def test_summary_pv_prices_and_capacities(year):
    pv = year["pv"]
    assert pv["arrays"] == 2 and pv["kwp"] == 100
    assert pv["horizon_kwh_per_kwp"] == pytest.approx(pv["horizon_mwh"] * 1000 / 100)
    assert 600 < pv["kwh_per_kwp_yr"] < 1100  # Helsinki: 800-950 kWh/kWp (FACTS)
    grid = year["prices"]["import"]["grid"]
    assert grid["mean_ex_vat_eur_per_kwh"] == pytest.approx(0.08)
    assert grid["mean_eur_per_kwh"] == pytest.approx(0.08 * 1.24)
    assert year["prices"]["import"]["district_heating"]["mean_eur_per_kwh"] == pytest.approx(0.07)
    cols = year["prices"]["columns"]
    assert cols["grid_prices.spot_eur_per_kwh"]["mean"] == pytest.approx(0.05)
    caps = {(r["unit"], r["field"]): r["value"] for r in year["capacities"]}
    assert caps[("bat", "capacity_kwh")] == 200 and caps[("bat", "power_kw")] == 100
    assert caps[("grid", "import_max_kw")] == 2000
    assert caps[("apt_pv", "kwp")] == 60
    assert caps[("district_heating", "import_max_kw")] == 1500
    assert not [k for k in caps if "_per_" in k[1]]  # prices and rates are not capacities


def test_a_short_horizon_states_its_totals_not_an_annual_rate():
    week = summarise(inputs_of(district("2025-03-03T00:00", "2025-03-10T00:00")))
    assert week["horizon"]["steps"] == 168
    area = week["buildings"]["floor_area_m2"]
    for d in week["buildings"]["demand"].values():
        assert d["mwh_per_year"] is None and d["kwh_per_m2_yr"] is None
        assert d["horizon_kwh_per_m2"] == pytest.approx(d["horizon_mwh"] * 1000 / area)
    pv = week["pv"]
    assert pv["kwh_per_kwp_yr"] is None and pv["horizon_kwh_per_kwp"] > 0


def test_validate_prints_a_short_horizon_as_its_totals(tmp_path):
    p = write(tmp_path, district("2025-01-06T00:00", "2025-01-13T00:00"))
    result = runner.invoke(app, ["validate", str(p)], env={"COLUMNS": "200"})
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "kWh/m2 over the horizon (7.00 days)" in text
    assert "/yr" not in text and "per year" not in text


# --------------------------------------------------------------------------- warnings


def base() -> dict[str, Any]:
    """Two days, every asset with plausible values: no warning."""
    s = district("2025-05-05T00:00", "2025-05-07T00:00")
    s["assets"] |= {
        "heat_pumps": [{"name": "hp", "capacity_kw_el": 300, "cop_max": 5}],
        "thermal_stores": [{"name": "tank", "capacity_kwh": 2000, "power_kw": 500}],
        "electric_boilers": [{"name": "boiler", "capacity_kw": 200, "efficiency": 0.99}],
    }
    return s


def findings(s: dict[str, Any]) -> list[Any]:
    return check(inputs_of(s))


def test_a_plausible_district_has_no_warning():
    assert findings(base()) == []


def _set(s: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    s = copy.deepcopy(s)
    *keys, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = s
    for k in keys:
        node = node[k]
    node[last] = value
    return s


# (path, suspicious value, a plausible value next to the threshold, words in the warning)
RULES = [
    ("assets.grid.tariff.network.default_eur_per_kwh", 3.5, 0.9, "cents typed as euros"),
    ("assets.grid.tariff.retail_margin_eur_per_kwh", -0.01, 0.0, "negative"),
    ("assets.heat_pumps.0.capacity_kw_el", 0.45, 1.0, "MW typed as kW"),
    ("assets.grid.import_max_kw", 2e6, 1e6, "above 1 GW"),
    ("buildings.0.pv.0.kwp", 2e6, 1e6, "kWp is above 1 GW"),
    ("buildings.0.pv.0.azimuth_deg", 0, 180, "faces north"),
    ("buildings.0.pv.0.azimuth_deg", 340, 300, "PVGIS uses 0 = south"),
    ("buildings.0.pv.0.tilt_deg", 90, 80, "vertical"),
    ("buildings.0.archetype.elec_kwh_m2_yr", 3000, 300, "elec"),
    ("buildings.0.archetype.space_heat_kwh_m2_yr", 2, 5, "space heat"),
    ("buildings.0.archetype.hot_water_kwh_m2_yr", 120, 80, "hot water"),
    ("assets.batteries.0.power_kw", 1000, 800, "4 x the energy"),
    ("assets.electric_boilers.0.efficiency", 1.0, 0.999, "lossless"),
    ("assets.batteries.0.eta_charge", 1.0, 0.98, "lossless"),
    ("assets.heat_pumps.0.cop_max", 9, 8, "above 8"),
]


@pytest.mark.parametrize(("path", "bad", "good", "words"), RULES)
def test_each_rule_fires_and_does_not_fire_next_to_its_threshold(path, bad, good, words):
    found = findings(_set(base(), path, bad))
    assert len(found) == 1, [str(f) for f in found]
    assert found[0].field == re.sub(r"\.(\d+)", r"[\1]", path)
    assert words in found[0].problem
    assert findings(_set(base(), path, good)) == []


def test_a_flat_array_facing_north_is_no_worry():
    s = _set(_set(base(), "buildings.0.pv.0.azimuth_deg", 0), "buildings.0.pv.0.tilt_deg", 0)
    assert findings(s) == []


def test_a_big_vertical_array_only():
    s = _set(_set(base(), "buildings.0.pv.0.tilt_deg", 90), "buildings.0.pv.0.kwp", 20)
    assert findings(s) == []


def test_cyclic_stores_on_a_horizon_shorter_than_a_day():
    short = _set(base(), "horizon", {"start": "2025-05-05T00:00", "end": "2025-05-05T12:00"})
    found = findings(short)
    assert {f.field for f in found} == {
        "assets.batteries[0].end",
        "assets.thermal_stores[0].end",
    }
    assert all("cyclic on a horizon of 12 h" in f.problem for f in found)
    day = _set(base(), "horizon", {"start": "2025-05-05T00:00", "end": "2025-05-06T00:00"})
    assert findings(day) == []
    free = _set(short, "assets.batteries.0.end", "free")
    free = _set(free, "assets.batteries.0.soc_initial_kwh", 0.0)
    assert [f.field for f in findings(free)] == ["assets.thermal_stores[0].end"]


def test_a_series_in_cents_is_found_in_the_tables():
    # spot given per step (as from a file): the record has no number to check
    s = tiny_scenario(48, spot=[4.5] * 48)
    found = check(inputs_of(s))
    fields = sorted(f.field for f in found)
    assert fields == [
        "grid_prices.export_eur_per_kwh (input table)",
        "grid_prices.spot_eur_per_kwh (input table)",
    ]
    assert check(inputs_of(tiny_scenario(48, spot=[0.045] * 48))) == []


def test_a_fee_typed_in_the_yaml_is_reported_once():
    s = _set(base(), "assets.grid.tariff.network.default_eur_per_kwh", 3.5)
    assert len(findings(s)) == 1  # not again for the grid_prices table


def test_a_cop_series_above_8_is_found_in_the_tables():
    hp = {"name": "hp", "capacity_kw_el": 50, "source": "series", "cop_series": [3.0] * 47 + [12]}
    found = check(inputs_of(tiny_scenario(48, heat_kw=100, assets={"heat_pumps": [hp]})))
    assert [f.field for f in found] == ["assets.heat_pumps[0].cop_series"]
    hp["cop_series"] = [3.0] * 48
    assert check(inputs_of(tiny_scenario(48, heat_kw=100, assets={"heat_pumps": [hp]}))) == []


def test_ev_copies_are_not_a_cop():
    # `copies: 9` once matched the COP check by its first letters
    fleet = {"name": "ev", "capacity_kwh": 60, "copies": 9,
             "synthetic": {"vehicles": 2, "drive_kwh_per_day": 10}}  # fmt: skip
    assert check(inputs_of(tiny_scenario(48, assets={"ev_fleets": [fleet]}))) == []
    hp = {"name": "hp", "capacity_kw_el": 50, "cop_max": 9.0}
    found = check(inputs_of(tiny_scenario(48, heat_kw=100, assets={"heat_pumps": [hp]})))
    assert [f.field for f in found] == ["assets.heat_pumps[0].cop_max"]


def test_an_ev_trip_beyond_the_battery():
    def fleet(kwh_per_day: float) -> dict[str, Any]:
        synthetic = {"vehicles": 2, "drive_kwh_per_day": kwh_per_day, "weekend_trip_share": 1}
        return {"name": "ev", "capacity_kwh": 40, "synthetic": synthetic}

    found = check(inputs_of(tiny_scenario(48, assets={"ev_fleets": [fleet(55)]})))
    assert [f.field for f in found] == ["ev_fleets_availability.drive_kwh (input table)"]
    assert "more than its battery holds (40 kWh)" in found[0].problem
    assert check(inputs_of(tiny_scenario(48, assets={"ev_fleets": [fleet(35)]}))) == []


# --------------------------------------------------------------------------- the command


def write(tmp_path: Path, s: dict[str, Any]) -> Path:
    p = tmp_path / "scenario.yaml"
    p.write_text(yaml.safe_dump(s, sort_keys=False), encoding="utf-8")
    return p


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_validate_prints_the_summary_and_warnings_with_their_lines(tmp_path):
    p = write(tmp_path, _set(base(), "assets.heat_pumps.0.capacity_kw_el", 0.45))
    result = runner.invoke(app, ["validate", str(p)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4,000 m2" in out and "100 kWp" in out
    line = line_of(p, "capacity_kw_el: 0.45")
    assert f"{p}:{line}:" in out and "assets.heat_pumps[0].capacity_kw_el" in out
    assert "valid, 1 plausibility warning" in out


def test_validate_strict_makes_warnings_errors(tmp_path):
    p = write(tmp_path, _set(base(), "buildings.0.pv.0.azimuth_deg", 0))
    result = runner.invoke(app, ["validate", "--strict", str(p)])
    assert result.exit_code == 2
    err = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(err) == 1
    line = line_of(p, "azimuth_deg: 0")
    assert err[0].startswith(f"error: {p}:{line}:")
    assert "buildings[0].pv[0].azimuth_deg" in err[0] and "--strict" in err[0]
    clean = write(tmp_path, base())
    assert runner.invoke(app, ["validate", "--strict", str(clean)]).exit_code == 0


def test_validate_json(tmp_path):
    p = write(tmp_path, _set(base(), "assets.batteries.0.power_kw", 1000))
    result = runner.invoke(app, ["validate", "--json", str(p)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["valid"] is True
    assert doc["buildings"]["floor_area_m2"] == 4000
    assert doc["pv"]["kwp"] == 100
    (w,) = doc["warnings"]
    assert w["field"] == "assets.batteries[0].power_kw"
    assert w["line"] == line_of(p, "power_kw: 1000") and w["kind"] == "storage"


def test_validate_a_bad_scenario_is_still_exit_2(tmp_path):
    p = write(tmp_path, _set(base(), "assets.batteries.0.power_kw", -5))
    result = runner.invoke(app, ["validate", str(p)])
    assert result.exit_code == 2
    assert "assets.batteries[0].power_kw" in result.stderr


def test_solve_prints_the_count_of_plausibility_warnings(tmp_path):
    p = write(tmp_path, tiny_scenario(24, elec_kw=5.0, spot=[4.5] * 24))
    result = runner.invoke(app, ["solve", str(p), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert f"warning: 2 plausibility warnings (pecopt validate {p} lists them)" in " ".join(
        result.stderr.split()
    )
    clean = write(tmp_path, tiny_scenario(24, elec_kw=5.0, spot=[0.045] * 24))
    result = runner.invoke(app, ["solve", str(clean), "--out", str(tmp_path / "out2"), "-q"])
    assert result.exit_code == 0 and "plausibility" not in result.stderr


# --------------------------------------------------------------------------- limits, layouts


def test_a_sized_capacity_is_shown_as_its_limit(tmp_path):
    s = _set(base(), "assets.batteries.0.capacity_kwh",
             {"existing": 1000, "max": 5000, "capex_eur_per_unit": 250})  # fmt: skip
    s = _set(s, "assets.thermal_stores.0.capacity_kwh", {"max": 5000, "capex_eur_per_unit": 5})
    rows = {(r["unit"], r["field"]): r for r in summarise(inputs_of(s))["capacities"]}
    bat, tank = rows[("bat", "capacity_kwh")], rows[("tank", "capacity_kwh")]
    assert bat["text"] == "<= 5,000 kWh, sized, existing 1,000"
    assert bat["sized"] and bat["value"] is None and (bat["max"], bat["existing"]) == (5000, 1000)
    assert tank["text"] == "<= 5,000 kWh, sized"
    assert rows[("bat", "power_kw")]["text"] == "100 kW"
    assert rows[("bat", "power_kw")]["value"] == 100 and not rows[("bat", "power_kw")]["sized"]
    result = runner.invoke(app, ["validate", str(write(tmp_path, s))])
    assert result.exit_code == 0, result.output
    assert "<= 5,000 kWh, sized, existing 1,000" in result.stdout
    assert "<= 5,000 kWh, sized" in result.stdout and "100 kW" in result.stdout


def layouts(tmp_path: Path, variants: dict[str, Any]) -> Path:
    write(tmp_path, base())
    path = tmp_path / "layouts.yaml"
    doc = {"base": "scenario.yaml", "variants": variants}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_layouts_file_is_validated_variant_by_variant(tmp_path):
    p = layouts(tmp_path, {
        "big_tank": {"assets": {"thermal_stores": {"tank": {"capacity_kwh": 6000}}}},
        "sized_tank": {"assets": {"thermal_stores": {"tank": {
            "capacity_kwh": {"max": 9000, "capex_eur_per_unit": 5}}}}},
        "mw_slip": {"assets": {"batteries": {"bat": {"power_kw": 1000}}}},
    })  # fmt: skip
    result = runner.invoke(app, ["validate", str(p)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "valid (base and 3 variants), 1 plausibility warning" in out
    assert "6,000 kWh" in out and "<= 9,000 kWh, sized" in out
    assert "assets.batteries[0].power_kw" in out and "(variant mw_slip)" in out
    doc = json.loads(runner.invoke(app, ["validate", "--json", str(p)]).stdout)
    assert list(doc["variants"]) == ["base", "big_tank", "sized_tank", "mw_slip"]
    tanks = {
        name: next(
            r for r in v["capacities"] if (r["unit"], r["field"]) == ("tank", "capacity_kwh")
        )
        for name, v in doc["variants"].items()
    }
    assert [tanks[n]["text"] for n in doc["variants"]] == [
        "2,000 kWh",
        "6,000 kWh",
        "<= 9,000 kWh, sized",
        "2,000 kWh",
    ]
    (w,) = doc["warnings"]
    assert w["file"] == str(p) and w["problem"].endswith("(variant mw_slip)")
    strict = runner.invoke(app, ["validate", "--strict", str(p)])
    assert strict.exit_code == 2 and "(variant mw_slip)" in strict.stderr


def test_a_variant_with_a_missing_file_is_named(tmp_path):
    p = layouts(tmp_path, {
        "metered": {"buildings": {"office": {"archetype": None, "metered": {
            "path": "missing.csv", "elec_column": "kw"}}}},
    })  # fmt: skip
    result = runner.invoke(app, ["validate", str(p)])
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    assert "missing.csv" in err and f"(variant metered of {p})" in err

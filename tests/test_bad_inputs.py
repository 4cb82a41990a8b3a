"""A careless user at the command line: every bad input is one line on stderr naming the
file and the field, exit code 2, no traceback and no output folder (issue #6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import DataError
from pecopt.ingest.timeseries import read_series_file

runner = CliRunner()

HOURS = 48  # 2025-03-29 00:00 .. 2025-03-31 00:00 UTC, hourly
START = pd.Timestamp("2025-03-29T00:00", tz="UTC")


def utc_times(n: int = HOURS) -> list[str]:
    return list(pd.date_range(START, periods=n, freq="h").strftime("%Y-%m-%dT%H:%M:%SZ"))


def write_csv(path: Path, columns: dict) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def scenario(tmp_path: Path, extra: str = "", *, site: str = "{name: t}") -> Path:
    """A valid one-building district plus ``extra`` YAML lines under ``assets:``."""
    if not (tmp_path / "load.csv").exists():
        write_csv(tmp_path / "load.csv", {"timestamp": utc_times(), "elec_kw": 5.0})
    p = tmp_path / "scenario.yaml"
    p.write_text(
        f"site: {site}\n"
        'horizon: {start: "2025-03-29T00:00Z", end: "2025-03-31T00:00Z"}\n'
        "buildings:\n"
        "  - name: b1\n"
        "    metered: {path: load.csv, elec_column: elec_kw}\n"
        "assets:\n"
        "  grid: {import_max_kw: 100.0}\n" + extra,
        encoding="utf-8",
    )
    return p


def fails(tmp_path: Path, yaml: Path, *words: str, command: str = "solve", code: int = 2) -> str:
    """Run ``pecopt <command>``; check the exit code, one line, ``words``, nothing written."""
    out = tmp_path / "out"
    args = [command, str(yaml)] + (["--out", str(out)] if command != "validate" else [])
    result = runner.invoke(app, args)
    err = result.stderr
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))
    return lines[0]


def passes(yaml: Path) -> None:
    result = runner.invoke(app, ["validate", str(yaml)])
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------------- scenario file


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("  batteries: [{name: b, capacity_kwh: .inf, power_kw: 5}]\n", "capacity_kwh"),
        ("  batteries: [{name: b, capacity_kwh: 1e400, power_kw: 5}]\n", "capacity_kwh"),
        ("  batteries: [{name: b, capacity_kwh: 10, power_kw: .nan}]\n", "power_kw"),
        (
            "  district_heating: {tariff: {energy_eur_per_kwh: .nan}}\n",
            "assets.district_heating.tariff.energy_eur_per_kwh",
        ),
    ],
    ids=["inf-capacity", "1e400", "nan-power", "nan-margin"],
)
def test_non_finite_numbers(tmp_path, extra, field):
    line = fails(tmp_path, scenario(tmp_path, extra), "scenario.yaml:", field, "finite")
    assert ":8:" in line or ":9:" in line  # the line of the value


def test_duplicate_key_at_the_top(tmp_path):
    yaml = scenario(tmp_path, "assets: {}\n")
    fails(tmp_path, yaml, "scenario.yaml:8:1", "duplicate key 'assets'", "line 6")


def test_duplicate_key_in_a_list_item(tmp_path):
    yaml = scenario(
        tmp_path, "  batteries: [{name: b, capacity_kwh: 1, power_kw: 5, power_kw: 6}]\n"
    )
    fails(tmp_path, yaml, "assets.batteries[0].power_kw", "duplicate key", "line 8")


def test_tab_indented_yaml(tmp_path):
    yaml = scenario(tmp_path, "  batteries:\n\t- {name: b, capacity_kwh: 1, power_kw: 5}\n")
    fails(tmp_path, yaml, "scenario.yaml:9:1", "tabs")


def test_empty_scenario_file(tmp_path):
    yaml = tmp_path / "scenario.yaml"
    yaml.write_text("")
    fails(tmp_path, yaml, "scenario.yaml", "empty")


def test_scenario_is_a_folder(tmp_path):
    (tmp_path / "scenario.yaml").mkdir()
    fails(tmp_path, tmp_path / "scenario.yaml", "scenario.yaml", "folder")


def test_scenario_symlink_loop(tmp_path):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    fails(tmp_path, tmp_path / "a.yaml", "a.yaml", "symbolic link loop")


def test_bom_prefixed_scenario_is_accepted(tmp_path):
    yaml = scenario(tmp_path)
    yaml.write_bytes(b"\xef\xbb\xbf" + yaml.read_bytes())
    passes(yaml)


def test_latin1_scenario(tmp_path):
    yaml = scenario(tmp_path, site="{name: Pyhäjärvi}")
    yaml.write_bytes(yaml.read_text(encoding="utf-8").encode("latin-1"))
    fails(tmp_path, yaml, "scenario.yaml:1:", "not UTF-8", "0xe4")


def test_misspelt_key_case(tmp_path):
    yaml = scenario(tmp_path, "  batteries:\n    - {name: b, capacity_kWh: 10, power_kw: 5}\n")
    fails(
        tmp_path,
        yaml,
        "scenario.yaml:9:",
        "assets.batteries[0].capacity_kwh",
        "did you mean the key 'capacity_kWh' at line 9?",
    )


def test_unknown_site_time_zone(tmp_path):
    yaml = scenario(tmp_path, site="{name: t, timezone: Europe/Helsingfors}")
    fails(tmp_path, yaml, "scenario.yaml:1:", "site.timezone", "'Europe/Helsinki'")


def test_unknown_metered_time_zone(tmp_path):
    yaml = scenario(tmp_path)
    text = yaml.read_text().replace("elec_column: elec_kw}", "elec_column: elec_kw, timezone: X}")
    yaml.write_text(text)
    fails(tmp_path, yaml, "scenario.yaml:5:", "buildings[0].metered.timezone", "unknown time zone")


def test_unknown_spot_file_time_zone(tmp_path):
    write_csv(tmp_path / "spot.csv", {"timestamp": utc_times(), "spot": 50.0})
    yaml = scenario(tmp_path)
    spot = "{source: file, path: spot.csv, timezone: Europe/Helsingfors}"
    yaml.write_text(
        yaml.read_text().replace(
            "grid: {import_max_kw: 100.0}",
            f"grid: {{import_max_kw: 100.0, tariff: {{spot: {spot}}}}}",
        )
    )
    fails(tmp_path, yaml, "assets.grid.tariff.spot.timezone")


def test_margin_nan_in_the_grid_tariff(tmp_path):
    yaml = scenario(tmp_path)
    yaml.write_text(
        yaml.read_text().replace(
            "grid: {import_max_kw: 100.0}",
            "grid: {import_max_kw: 100.0, tariff: {retail_margin_eur_per_kwh: .nan}}",
        )
    )
    fails(
        tmp_path, yaml, "scenario.yaml:", "assets.grid.tariff.retail_margin_eur_per_kwh", "finite"
    )


def test_old_tariffs_section_says_where_it_moved(tmp_path):
    yaml = scenario(tmp_path, "tariffs:\n  electricity: {vat: 0.24}\n")
    fails(tmp_path, yaml, "scenario.yaml:", "tariffs.electricity", "moved to assets.grid.tariff")


def test_thermal_store_above_capacity(tmp_path):
    extra = "  thermal_stores: [{name: ts, capacity_kwh: 10, power_kw: 5, soc_initial_kwh: 20}]\n"
    fails(tmp_path, scenario(tmp_path, extra), "scenario.yaml:8:", "assets.thermal_stores[0]")


def test_time_limit_zero_names_the_option(tmp_path):
    yaml = scenario(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(out), "--time-limit", "0"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --time-limit: Input should be greater than 0 (got 0.0)"
    assert not out.exists()


def test_time_limit_zero_in_the_file_names_the_file(tmp_path):
    yaml = scenario(tmp_path, "solver: {time_limit_s: 0}\n")
    fails(tmp_path, yaml, "scenario.yaml:8:", "solver.time_limit_s")


# ---------------------------------------------------------------------------- data files


def test_metered_csv_with_na_text(tmp_path):
    values = ["5.0"] * HOURS
    values[10] = "n/a"
    write_csv(tmp_path / "load.csv", {"timestamp": utc_times(), "elec_kw": values})
    fails(tmp_path, scenario(tmp_path), "load.csv", "elec_kw", "not a number: 'n/a'", "line 12")


def test_metered_csv_with_an_empty_cell(tmp_path):
    values = ["5.0"] * HOURS
    values[3] = ""
    write_csv(tmp_path / "load.csv", {"timestamp": utc_times(), "elec_kw": values})
    fails(tmp_path, scenario(tmp_path), "load.csv", "elec_kw", "missing value in line 5")


def test_latin1_data_file(tmp_path):
    text = "timestamp,elec_kw,note\n" + "".join(f"{t},5.0,ä\n" for t in utc_times())
    (tmp_path / "load.csv").write_bytes(text.encode("latin-1"))
    fails(tmp_path, scenario(tmp_path), "load.csv", "not UTF-8", "line 2")


def test_bom_prefixed_data_file_is_accepted(tmp_path):
    text = "timestamp,elec_kw\n" + "".join(f"{t},5.0\n" for t in utc_times())
    (tmp_path / "load.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    passes(scenario(tmp_path))


def test_empty_data_file(tmp_path):
    (tmp_path / "load.csv").write_text("")
    fails(tmp_path, scenario(tmp_path), "load.csv", "empty")


def test_data_file_is_a_folder(tmp_path):
    (tmp_path / "load.csv").mkdir()
    fails(tmp_path, scenario(tmp_path), "load.csv", "folder")


def test_data_file_symlink_loop(tmp_path):
    yaml = scenario(tmp_path)
    (tmp_path / "load.csv").unlink()
    (tmp_path / "load.csv").symlink_to(tmp_path / "other.csv")
    (tmp_path / "other.csv").symlink_to(tmp_path / "load.csv")
    fails(tmp_path, yaml, "load.csv", "symbolic link loop")


def test_reader_refuses_an_unknown_zone(tmp_path):
    path = write_csv(tmp_path / "x.csv", {"timestamp": ["2025-01-01 00:00"] * 2, "v": 1.0})
    index = pd.date_range("2025-01-01", periods=2, freq="h", tz="UTC")
    with pytest.raises(DataError) as info:
        read_series_file(path, {"v": "v"}, index, tz="Europe/Helsingfors")
    assert str(info.value).startswith(f"{path}: timestamp: unknown time zone")


def test_cop_series_with_a_zero_names_the_file(tmp_path):
    cop = np.full(HOURS, 3.0)
    cop[7] = 0.0
    write_csv(tmp_path / "cop.csv", {"timestamp": utc_times(), "cop": cop})
    extra = (
        "  heat_pumps:\n    - name: hp\n      source: series\n      capacity_kw_el: 10\n"
        "      cop_series: {path: cop.csv, column: cop}\n"
    )
    fails(tmp_path, scenario(tmp_path, extra), "cop.csv", "cop", "COP must be > 0", "07:00")


# ---------------------------------------------------------------------------------- EVs


def availability(tmp_path: Path, plugged, drive, vehicle: str = "car1") -> Path:
    return write_csv(
        tmp_path / "ev.csv",
        {
            "timestamp": utc_times(),
            "vehicle": vehicle,
            "plugged": plugged,
            "drive_kwh": drive,
        },
    )


def test_plugged_yes_no_is_refused(tmp_path):
    availability(tmp_path, ["yes", "no"] * (HOURS // 2), 0.0)
    yaml = scenario(tmp_path, "  ev_fleets: [{name: f, availability: ev.csv}]\n")
    fails(tmp_path, yaml, "ev.csv", "plugged", "'yes', 'no'", "line 2")


@pytest.mark.parametrize("cells", [["true", "FALSE"], [1, 0], [True, False]], ids=str)
def test_plugged_true_false_or_one_zero_is_accepted(tmp_path, cells):
    availability(tmp_path, cells * (HOURS // 2), 0.0)
    passes(scenario(tmp_path, "  ev_fleets: [{name: f, availability: ev.csv}]\n"))


def test_drive_kwh_text(tmp_path):
    drive = ["0"] * HOURS
    drive[5] = "lots"
    availability(tmp_path, True, drive)
    yaml = scenario(tmp_path, "  ev_fleets: [{name: f, availability: ev.csv}]\n")
    fails(tmp_path, yaml, "ev.csv", "drive_kwh", "not a number: 'lots'", "line 7")


def test_unknown_ev_file_time_zone(tmp_path):
    availability(tmp_path, True, 0.0)
    yaml = scenario(tmp_path, "  ev_fleets: [{name: f, availability: ev.csv, timezone: Mars}]\n")
    fails(tmp_path, yaml, "scenario.yaml:8:", "ev_fleets[0].timezone", "unknown time zone")


def test_initial_energy_for_an_unknown_vehicle_names_the_file(tmp_path):
    availability(tmp_path, True, 0.0)
    extra = (
        "  ev_fleets: [{name: f, availability: ev.csv, end: free, soc_initial_kwh: 10,"
        " initial_energy_kwh: {car9: 5}}]\n"
    )
    fails(tmp_path, scenario(tmp_path, extra), "scenario.yaml", "initial_energy_kwh", "car9")


def test_trip_beyond_the_battery_without_penalty(tmp_path):
    plugged = [True] * HOURS
    drive = [0.0] * HOURS
    for t in range(8, 16):  # 8 h away, 10 kWh an hour: 80 kWh on a 60 kWh battery
        plugged[t], drive[t] = False, 10.0
    availability(tmp_path, plugged, drive)
    extra = (
        "  ev_fleets: [{name: f, availability: ev.csv, capacity_kwh: 60,"
        " shortfall_penalty_eur_per_kwh: null}]\n"
    )
    fails(tmp_path, scenario(tmp_path, extra), "ev.csv", "drive_kwh", "drives 80 kWh", "60 kWh")


def test_synthetic_trip_beyond_the_battery_without_penalty(tmp_path):
    extra = (
        "  ev_fleets:\n    - name: f\n      capacity_kwh: 40\n"
        "      shortfall_penalty_eur_per_kwh: null\n"
        "      synthetic: {vehicles: 1, drive_kwh_per_day: 50}\n"
    )
    yaml = scenario(tmp_path, extra)
    text = yaml.read_text().replace(
        'start: "2025-03-29T00:00Z", end: "2025-03-31T00:00Z"',
        'start: "2025-03-31T00:00Z", end: "2025-04-02T00:00Z"',  # Monday and Tuesday
    )
    yaml.write_text(text)
    write_csv(
        tmp_path / "load.csv",
        {
            "timestamp": pd.date_range("2025-03-31", periods=48, freq="h", tz="UTC"),
            "elec_kw": 5.0,
        },
    )
    fails(tmp_path, yaml, "scenario.yaml", "ev_fleets.f.synthetic", "drives 50 kWh")


def sessions(tmp_path: Path, energy: float, arrive: str = "18:00", leave: str = "22:00") -> Path:
    return write_csv(
        tmp_path / "sessions.csv",
        {
            "vehicle": ["car1"],
            "arrival": [f"2025-03-29T{arrive}:00Z"],
            "departure": [f"2025-03-29T{leave}:00Z"],
            "energy_kwh": [energy],
        },
    )


def test_session_needing_more_than_the_battery(tmp_path):
    sessions(tmp_path, 150.0)
    extra = "  ev_fleets: [{name: f, sessions: sessions.csv, capacity_kwh: 60}]\n"
    fails(tmp_path, scenario(tmp_path, extra), "sessions.csv", "energy_kwh", "150 kWh", "60 kWh")


def test_session_needing_more_than_the_charger_without_penalty(tmp_path):
    sessions(tmp_path, 50.0)  # 4 h x 11 kW x 0.92 = 40.48 kWh at most
    extra = (
        "  ev_fleets: [{name: f, sessions: sessions.csv, capacity_kwh: 60,"
        " shortfall_penalty_eur_per_kwh: null}]\n"
    )
    fails(tmp_path, scenario(tmp_path, extra), "sessions.csv", "energy_kwh", "40.48 kWh")


@pytest.mark.parametrize("command", ["validate", "ingest", "solve"])
def test_every_command_reports_the_same_problem(tmp_path, command):
    sessions(tmp_path, 150.0)
    extra = "  ev_fleets: [{name: f, sessions: sessions.csv, capacity_kwh: 60}]\n"
    line = fails(tmp_path, scenario(tmp_path, extra), command=command)
    assert line == (
        f"error: {tmp_path / 'sessions.csv'}: energy_kwh: line 2: vehicle car1 wants 150 kWh, "
        "more than its battery holds (capacity_kwh 60 kWh)"
    )

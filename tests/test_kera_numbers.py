"""``docs/kera_numbers.py``, which computes the figures the README quotes for Kera, reads a
run's files consistently: its energy figures close the electricity and heat balances, its
cost items add up to the total, and ``--check`` catches a figure that moved."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.testing import extending

ROOT = Path(__file__).resolve().parents[1]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("kera_numbers", ROOT / "docs" / "kera_numbers.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("kn")
    week = {"start": "2025-01-10T00:00", "end": "2025-01-19T00:00"}  # the cold spell
    scenario = extending(
        tmp / "kera_week.yaml", ROOT / "scenarios" / "kera.yaml", {"horizon": week}
    )
    out = tmp / "run"
    res = CliRunner().invoke(app, ["solve", str(scenario), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.slow  # a Kera week
def test_the_figures_close_the_balances_and_add_up(run: Path) -> None:
    n = _script().numbers(run)
    e, h, c = n["energy_mwh"], n["heat_mwh"], n["cost_eur"]
    # electricity: import + PV = buildings + EVs + heat pumps + e-boiler + battery losses + export
    supply = e["grid_import"] + e["pv_generation"]
    use = (e["electricity_buildings"] + e["electricity_ev"] + e["electricity_heat_pumps"]
           + e["electricity_e_boiler"] + e["battery_losses"] + e["grid_export"])  # fmt: skip
    assert supply == pytest.approx(use, abs=0.5)  # each figure rounded to 0.1 MWh
    # heat: sources = demand + the store's losses
    made = h["gshp"] + h["ashp"] + h["e_boiler"] + h["district_heat"]
    assert made == pytest.approx(
        e["space_heat_demand"] + e["hot_water_demand"] + h["store_loss"], abs=0.5
    )
    assert sum(v for k, v in c.items() if k != "total") == pytest.approx(c["total"], abs=0.05)
    assert n["weeks"]["cold"]["start_local"] == "2025-01-11"  # the 7 coldest days in the horizon
    assert n["weeks"]["cold"]["min_temp_c"] <= -20
    fleets = [f for f in n["ev"] if isinstance(n["ev"][f], dict)]
    assert sum(n["ev"][f]["energy_mwh"] for f in fleets) == pytest.approx(
        e["electricity_ev"], abs=0.2
    )


@pytest.mark.slow  # a Kera week
def test_check_passes_on_its_own_figures_and_names_one_that_moved(
    run: Path, tmp_path: Path, capsys
) -> None:
    mod = _script()
    stored = tmp_path / "numbers.json"
    assert mod.main([str(run), "--write", str(stored)]) == 0
    assert mod.main([str(run), "--check", str(stored)]) == 0
    doc = json.loads(stored.read_text())
    doc["cost_eur"]["total"] += 0.02
    stored.write_text(json.dumps(doc))
    assert mod.main([str(run), "--check", str(stored)]) == 1
    assert ".cost_eur.total" in capsys.readouterr().err


def test_the_readme_quotes_the_stored_figures() -> None:
    """The README's Kera section says what ``docs/kera_result_numbers.json`` holds (which
    ``.ci/run`` recomputes from a fresh run): every cost item, the energy table, CO2, the
    PED balances, the peaks and the EV table, as the README formats them."""
    import re

    n = json.loads((ROOT / "docs" / "kera_result_numbers.json").read_text())
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[
        text.index("## The default Kera result") : text.index("<!-- --8<-- [end:kera] -->")
    ]
    said = set(re.findall(r"-?\d[\d,]*\.?\d*", section))
    want = [f"{v:,.2f}" for k, v in n["cost_eur"].items() if v]
    want += [f"{v:,.1f}" for v in n["energy_mwh"].values()]
    want += [f"{n['co2_t'][k]:,.1f}" for k in ("gross", "net", "grid_import", "district_heat")]
    want += [
        f"{n['ped'][k]:,.1f}" for k in ("final_energy_balance_mwh", "weighted_energy_balance_mwh")
    ]
    want += [f"{v:.1f}" for v in n["ped"]["extra_pv_to_close_mwp"].values()]
    want += [
        f"{n['peaks'][k]:,.1f}" for k in ("grid_import_peak_kw", "district_heat_billing_peak_kw")
    ]
    want += [f"{n['ev'][f]['energy_mwh']:,.1f}" for f in ("residents", "workplace", "street")]
    want += [f"{n['ev'][f]['peak_kw']:,.0f}" for f in ("residents", "workplace", "street")]
    want += [
        f"{n['storage_year']['battery_full_cycles']:.0f}",
        f"{n['heat_mwh']['gshp_ground_heat']:,.1f}",
    ]
    missing = [w for w in want if w not in said]
    assert not missing, f"README's Kera section does not quote {missing}"

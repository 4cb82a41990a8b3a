"""``pecopt report``: the numbers behind the figures (hand-computed), the folder handling,
and the page itself in a real headless Chromium (Debian's ``chromium``, started here).

Results folders are written by the tests as real Parquet and JSON files: a synthetic run
of three weeks across the spring DST change, a comparison and a Pareto front built from
it, and one real Kera solve of three days.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.errors import DataError
from pecopt.report.build import build_report
from pecopt.report.data import load_folder, load_run
from pecopt.report.figures import capacity_values, carbon_waterfall, pareto_front
from pecopt.report.tables import (
    duration_curves,
    monthly_energy,
    pick_week,
    price_carriers,
    price_grid,
    weeks,
)
from pecopt.testing import extending
from pecopt.workflows import outputs

ROOT = Path(__file__).resolve().parents[1]
TZ = "Europe/Helsinki"
CHROMIUM = Path("/usr/bin/chromium")
runner = CliRunner()


# ---------------------------------------------------------------- synthetic results folders


def write_run(folder: Path, start: str = "2025-03-20", days: int = 21) -> Path:
    """A balanced hourly run from local midnight ``start``: demand, PV, a heat pump, a
    battery, the grid and district heat. Heat demand falls and PV rises day by day, so the
    first full week is the winter week and the last one the summer week."""
    folder.mkdir(parents=True)
    t = pd.date_range(pd.Timestamp(start, tz=TZ), periods=days * 24, freq="h").tz_convert("UTC")
    n = len(t)
    day = np.arange(n) / 24.0
    hour = t.tz_convert(TZ).hour.to_numpy()
    elec = -(50.0 + 10.0 * np.sin(2 * np.pi * hour / 24))
    pv = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None) * (10.0 + 5.0 * day)
    heat = -(200.0 - 5.0 * day)
    hp_heat = -0.7 * heat
    hp_elec = -hp_heat / 3.0
    batt = np.where(hour < 12, -5.0, 5.0)
    grid = -(elec + pv + hp_elec + batt)
    dh = -(heat + hp_heat)
    rows = [
        ("demand", "electricity", "demand", elec),
        ("pv_roof", "electricity", "generation", pv),
        ("hp", "electricity", "conversion", hp_elec),
        ("battery", "electricity", "storage", batt),
        ("grid", "electricity", "import", np.clip(grid, 0, None)),
        ("grid", "electricity", "export", np.clip(grid, None, 0)),
        ("demand", "heat", "demand", heat),
        ("hp", "heat", "conversion", hp_heat),
        ("district_heat", "heat", "import", dh),
    ]
    pd.DataFrame(
        {
            "timestamp": np.tile(t, len(rows)),
            "asset": np.repeat([r[0] for r in rows], n),
            "carrier": np.repeat([r[1] for r in rows], n),
            "role": np.repeat([r[2] for r in rows], n),
            "flow_kw": np.concatenate([r[3] for r in rows]),
        }
    ).to_parquet(folder / "schedule.parquet")
    pd.DataFrame(
        {"timestamp": t, "asset": "battery", "soc_kwh": 60.0 - np.cumsum(batt)}
    ).to_parquet(folder / "storage.parquet")
    carbon = [
        ("grid_import", 0.06 * np.clip(grid, 0, None)),
        ("grid_export_credit", -0.06 * np.clip(-grid, 0, None)),
        ("dh_import", 0.1 * dh),
    ]
    pd.DataFrame(
        {
            "timestamp": np.tile(t, len(carbon)),
            "source": np.repeat([c[0] for c in carbon], n),
            "co2_kg": np.concatenate([c[1] for c in carbon]),
        }
    ).to_parquet(folder / "carbon.parquet")
    # marginal prices: electricity 0.05 + 0.01 x the local hour, heat 0.07 EUR/kWh
    price_rows = [("electricity", 0.05 + 0.01 * hour), ("heat", np.full(n, 0.07))]
    pd.DataFrame(
        {
            "timestamp": np.tile(t, len(price_rows)),
            "carrier": np.repeat([r[0] for r in price_rows], n),
            "bus": np.repeat([f"balance_{r[0]}" for r in price_rows], n),
            "eur_per_kwh": np.concatenate([r[1] for r in price_rows]),
        }
    ).to_parquet(folder / "prices.parquet")
    imp, exp = float(np.clip(grid, 0, None).sum()), float(np.clip(-grid, 0, None).sum())
    kpis = {
        "horizon": {"start_utc": t[0].isoformat(), "steps": n, "step_h": 1.0},
        "cost_eur": {"total": 1234.5, "items": {"electricity_spot": 1000.0, "dh_energy": 300.0,
                                                "export_revenue": -65.5}},
        "co2_kg": {"gross": 1.0, "net": 1.0},
        "ped": {
            "final_energy": {"surplus_kwh": exp - imp - float(dh.sum()), "is_ped": False},
            "ghg": {"net_co2_kg": 1.0, "is_ped": False},
        },
        "energy_kwh": {
            "electricity": {"import": {"supply": imp}, "export": {"draw": exp}},
        },
        "solver": {"status": "optimal"},
        "marginal_values": {
            "capacities": {
                "battery": {
                    "energy_kwh": {"unit": "kWh", "capacity": 100.0, "sized": False,
                                   "value_eur_per_unit_yr": 12.5},
                    "power_kw": {"unit": "kW", "capacity": 5.0, "sized": False,
                                 "value_eur_per_unit_yr": 0.0},
                },
                "hp": {"power_kw_el": {"unit": "kW el", "capacity": 50.0, "sized": True,
                                       "value_eur_per_unit_yr": 40.0,
                                       "break_even_capex_eur_per_unit": 300.0}},
            },
        },
    }  # fmt: skip
    (folder / "kpis.json").write_text(json.dumps(kpis))
    (folder / "manifest.json").write_text(json.dumps({"scenario": {"path": "synthetic.yaml"}}))
    return folder


#: Figures of a synthetic run: cost by item, monthly, load duration, 2 weeks, storage,
#: carbon, the price heat maps of electricity and heat, and the capacity values.
RUN_FIGURES = 10
#: the figures a real Kera run of a few days has: one dispatch window (< a week), prices
#: of its three carriers and the capacity values
KERA_FIGURES = ["costs", "monthly", "duration", "week0", "storage", "carbon",
                "price-electricity", "price-space_heat", "price-hot_water",
                "capacity-values"]  # fmt: skip
#: The overview of a comparison: cost against CO2, differences to the base, cost by item
#: per variant and the menu of every key figure
OVERVIEW = ["cost-co2", "deltas", "costs", "kpi-detail"]


def write_comparison(folder: Path) -> Path:
    folder.mkdir()
    pd.DataFrame(
        {
            "variant": ["base", "more_pv", "no_battery"],
            "cost_total_eur": [100.0, 90.0, 120.0],
            "cost_electricity_spot_eur": [100.0, 80.0, 120.0],
            "cost_investment_eur": [0.0, 10.0, 0.0],
            "co2_net_kg": [50.0, 40.0, 55.0],
            "pv_kwp": [10.0, 20.0, 10.0],
        }
    ).to_parquet(folder / "comparison.parquet")
    write_run(folder / "variants" / "base")
    write_run(folder / "variants" / "more_pv")  # no_battery has no folder: "n/a"
    return folder


def write_pareto(folder: Path) -> Path:
    folder.mkdir()
    pd.DataFrame(
        {
            "point": [0, 1, 2],
            "cost_total_eur": [100.0, 110.0, 130.0],
            "cost_electricity_spot_eur": [100.0, 110.0, 130.0],
            "co2_net_kg": [60.0, 45.0, 40.0],
            "pv_kwp": [5.0, 12.0, 20.0],
        }
    ).to_parquet(folder / "pareto.parquet")
    write_run(folder / "points" / "0")
    write_run(folder / "points" / "1")
    return folder


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- numbers, by hand


def _frame(ts: list[str], rows: list[tuple[str, str, list[float]]]) -> pd.DataFrame:
    """Schedule rows; the role is ``demand`` for draws-only assets named ``demand``, else
    ``import`` for ``grid``/``district_heat`` and ``generation`` otherwise (test data)."""
    t = pd.DatetimeIndex(ts, tz="UTC")

    def role(asset: str) -> str:
        if asset == "demand":
            return "demand"
        return "import" if asset in ("grid", "district_heat") else "generation"

    return pd.DataFrame(
        {
            "timestamp": np.tile(t, len(rows)),
            "asset": np.repeat([r[0] for r in rows], len(t)),
            "carrier": np.repeat([r[1] for r in rows], len(t)),
            "role": np.repeat([role(r[0]) for r in rows], len(t)),
            "flow_kw": np.concatenate([r[2] for r in rows]),
        }
    )


def test_monthly_energy_uses_local_months_across_dst(tmp_path):
    # 20:00 and 21:00 UTC on 31 March are 23:00 (March) and 00:00 (April) in Helsinki
    # (UTC+3 after the 30 March change); 15-minute steps: 4 kW x 0.25 h = 1 kWh each.
    ts = pd.date_range("2025-03-31T20:00", "2025-03-31T21:45", freq="15min").strftime(
        "%Y-%m-%dT%H:%M"
    )
    folder = tmp_path / "r"
    folder.mkdir()
    _frame(
        list(ts), [("grid", "electricity", [4.0] * 8), ("demand", "electricity", [-4.0] * 8)]
    ).to_parquet(folder / "schedule.parquet")
    run = load_run(folder)
    assert run.step_h == 0.25 and run.timezone == TZ and not run.is_full_year
    m = monthly_energy(run).set_index(["month", "series"])
    assert m.loc[("2025-03", "grid import"), "supply_kwh"] == pytest.approx(4.0)
    assert m.loc[("2025-04", "grid import"), "supply_kwh"] == pytest.approx(4.0)
    assert m.loc[("2025-04", "demand"), "draw_kwh"] == pytest.approx(-4.0)


def test_duration_curves_sorted_from_the_top(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    _frame(
        ["2025-01-01T00:00", "2025-01-01T01:00", "2025-01-01T02:00"],
        [
            ("grid", "electricity", [5.0, -3.0, 2.0]),
            ("demand", "electricity", [-5.0, 3.0, -2.0]),
            ("district_heat", "heat", [4.0, 6.0, 1.0]),
            ("demand", "heat", [-4.0, -6.0, -1.0]),
        ],
    ).to_parquet(folder / "schedule.parquet")
    c = duration_curves(load_run(folder))
    assert list(c) == ["district_heat import", "grid import", "heat demand"]
    assert c["grid import"].tolist() == [5.0, 2.0, 0.0]
    assert c["heat demand"].tolist() == [6.0, 4.0, 1.0]


def test_pick_week_starts_at_local_midnight_and_spans_dst():
    t = pd.date_range("2025-03-24", "2025-04-14", freq="h", tz=TZ, inclusive="left")
    v = pd.Series(1.0, index=t.tz_convert("UTC"))
    v[pd.Timestamp("2025-04-03T12:00", tz=TZ)] = 100.0
    start, end = pick_week(v, TZ, 1.0)
    # the first window holding 3 April noon starts on 28 March: 167 h across the change,
    # so by its mean (not its sum) it beats the 168-h week from 31 March
    assert start == pd.Timestamp("2025-03-28", tz=TZ)
    assert end == pd.Timestamp("2025-04-04", tz=TZ)
    v[:] = 1.0
    v[pd.Timestamp("2025-03-24T06:00", tz=TZ)] = 100.0
    start, end = pick_week(v, TZ, 1.0)
    assert start == pd.Timestamp("2025-03-24", tz=TZ)
    assert (end - start) == pd.Timedelta(hours=167)  # the spring change loses an hour
    short = v[: 5 * 24]
    assert pick_week(short, TZ, 1.0) == (short.index[0], short.index[-1] + pd.Timedelta("1h"))


def test_winter_and_summer_weeks(tmp_path):
    run = load_run(write_run(tmp_path / "r"))
    w = weeks(run)
    assert [x[0].split(":")[0] for x in w] == ["Winter week", "Summer week"]
    assert w[0][1] == pd.Timestamp("2025-03-20", tz=TZ)  # heat demand falls day by day
    assert w[1][2] == pd.Timestamp("2025-04-10", tz=TZ)  # PV rises: the last full week


def test_carbon_waterfall_ends_at_the_net(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    _frame(
        ["2025-01-01T00:00", "2025-01-01T01:00"], [("grid", "electricity", [1.0, 1.0])]
    ).to_parquet(folder / "schedule.parquet")
    pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(["2025-01-01T00:00", "2025-01-01T01:00"] * 2, tz="UTC"),
            "source": ["grid_import", "grid_import", "grid_export_credit", "grid_export_credit"],
            "co2_kg": [10.0, 20.0, 0.0, -5.0],
        }
    ).to_parquet(folder / "carbon.parquet")
    w = carbon_waterfall(load_run(folder))
    assert w is not None
    tr = w.data[0]
    assert list(tr.x) == ["grid_import", "grid_export_credit", "net"]
    assert list(tr.y) == [30.0, -5.0, 25.0]
    assert list(tr.measure) == ["relative", "relative", "total"]
    assert "[kg CO2e]" in w.layout.yaxis.title.text


def test_price_grid_is_local_day_by_hour_across_dst(tmp_path):
    run = load_run(write_run(tmp_path / "run"))
    grid = price_grid(run, "electricity")
    assert list(grid.columns) == list(range(24))
    # 21 x 24 hourly steps from local midnight: the hour the DST change skips is the
    # first hour of a 22nd day
    assert grid.index[0] == "2025-03-20" and len(grid) == 22
    assert grid.loc["2025-04-10"].notna().sum() == 1
    np.testing.assert_allclose(grid.loc["2025-03-21"].to_numpy(), 0.05 + 0.01 * np.arange(24))
    # 30 March: clocks go from 03:00 to 04:00, so the day has no 03:00 hour
    day = grid.loc["2025-03-30"]
    assert np.isnan(day[3]) and day[4] == pytest.approx(0.09)
    np.testing.assert_allclose(price_grid(run, "heat").to_numpy()[:-1, 5], 0.07)
    assert price_carriers(run) == ["electricity", "heat"]
    f = capacity_values(run)
    assert list(f.data[0].y) == ["battery energy_kwh", "hp power_kw_el"]  # ranked, 0 left out
    assert list(f.data[0].x) == [12.5, 40.0]
    assert "break-even capex 300 EUR/kW el" in f.data[0].customdata[1]


def test_pareto_hover_carries_every_column():
    t = pd.DataFrame({"point": ["1", "0"], "cost_total_eur": [9.0, 5.0], "co2_net_kg": [1.0, 2.0]})
    f = pareto_front(t)
    assert list(f.data[0].x) == [5.0, 9.0]  # sorted by cost
    assert "cost_total_eur" in f.data[0].hovertemplate
    assert "co2_net_kg" in f.data[0].hovertemplate


# ---------------------------------------------------------------- folders and the CLI


def stamped(out: Path, write) -> Path:
    """A results folder written by ``write`` into pecopt's own atomic output folder, so
    that it carries the marker of a pecopt output (``manifest.json``)."""
    with outputs.atomic_dir(out, "solve") as tmp:
        tmp.rmdir()  # the writers below make their folder
        write(tmp)
    return out


def test_report_adds_only_report_html_and_is_deterministic(tmp_path):
    folder = stamped(tmp_path / "run", write_run)
    before = _tree(folder)
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    after = _tree(folder)
    assert set(after) - set(before) == {"report.html"}
    assert {k: after[k] for k in before if k != "manifest.json"} == {
        k: v for k, v in before.items() if k != "manifest.json"
    }
    files = json.loads((folder / "manifest.json").read_text())["pecopt_output"]["files"]
    assert files["report.html"] == (folder / "report.html").stat().st_size
    first = (folder / "report.html").read_bytes()
    build_report(folder)
    assert (folder / "report.html").read_bytes() == first
    text = first.decode()
    assert "Not a full year: pro rata" in text
    assert "https://" not in text.split("<script", 1)[0]  # no stylesheet or font links
    assert "<link" not in text


def test_report_of_a_member_is_listed_in_its_comparison(tmp_path):
    cmp = stamped(tmp_path / "cmp", write_comparison)
    result = runner.invoke(app, ["report", str(cmp / "variants" / "base")])
    assert result.exit_code == 0, result.output
    files = json.loads((cmp / "manifest.json").read_text())["pecopt_output"]["files"]
    name = "variants/base/report.html"
    assert files[name] == (cmp / name).stat().st_size
    assert outputs._foreign(cmp) is None  # still a folder pecopt may replace
    # a folder of the user's inside a pecopt folder is not pecopt's: the report goes in
    # once, and is never replaced
    mine = write_run(cmp / "mine")
    assert runner.invoke(app, ["report", str(mine)]).exit_code == 0
    assert (
        "mine/report.html"
        not in json.loads((cmp / "manifest.json").read_text())["pecopt_output"]["files"]
    )
    assert runner.invoke(app, ["report", str(mine)]).exit_code == 2


def test_a_folder_without_the_marker_gets_a_report_once(tmp_path):
    """An older or foreign folder (no manifest marker): report.html is written when there
    is none, never replaced, and no manifest is made."""
    folder = write_run(tmp_path / "run")
    before = _tree(folder)
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert set(_tree(folder)) - set(before) == {"report.html"}
    assert json.loads((folder / "manifest.json").read_text()) == {
        "scenario": {"path": "synthetic.yaml"}
    }
    first = _tree(folder)
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "report.html" in text and "pecopt cannot tell it wrote" in text
    assert "Traceback" not in text
    assert _tree(folder) == first  # nothing changed, no temporary file left
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_comparison_table_shows_differences_to_the_base(tmp_path):
    folder = write_comparison(tmp_path / "cmp")
    text = build_report(folder).read_text()
    assert "base (base)" in text
    assert "90 <span class='delta'>(-10, -10.0%)</span>" in text  # cost: 90 vs 100
    assert "120 <span class='delta'>(+20, +20.0%)</span>" in text
    assert "no results folder at variants/no_battery/" in text
    f = load_folder(folder)
    assert f.kind == "comparison" and f.members["no_battery"] is None


def test_missing_figures_are_na(tmp_path):
    folder = write_run(tmp_path / "run")
    for name in ("storage.parquet", "carbon.parquet", "kpis.json", "manifest.json",
                 "prices.parquet"):  # fmt: skip
        (folder / name).unlink()
    text = build_report(folder).read_text()
    # cost by item, PED verdict, storage, carbon, prices, capacity values
    assert text.count('<p class="na">n/a</p>') == 6
    assert "n/a (the folder lists no capacities)" in text


def test_headline_rounds_noise_to_zero_and_never_shows_minus_zero(tmp_path):
    folder = tmp_path / "cmp"
    folder.mkdir()
    pd.DataFrame(
        {
            "variant": ["base", "same", "cheaper"],
            "cost_total_eur": [797812.5, 797812.5 + 2.274e-13 * 4e5, 743443.0],
            "co2_net_kg": [-0.0, 1e-12, -5.0],
            "unmet_total_kwh": [0.0, -1e-9, 0.0],
            "horizon_h": [8760.0] * 3,
        }
    ).to_parquet(folder / "comparison.parquet")
    text = build_report(folder).read_text()
    page = text.split("<script", 1)[0]
    assert "e-1" not in page  # no 2.274e-13 anywhere on the page
    assert re.search(r"-0(?![.,\d])", page) is None  # no -0, -0 kWh, (-0, ...)
    assert "Total cost incl. annualised investment [EUR/yr]" in text
    # the noise is a difference of 0; a real one has its sign, thousands and percent
    assert "797,812<br><span class='delta'>(0, 0.0%)</span>" in text
    assert "743,443<br><span class='delta'>(-54,370, -6.8%)</span>" in text
    assert "<details><summary>Every column" in text  # the full table, folded


def test_winter_week_holds_the_peak_heat_demand(tmp_path):
    """The coldest week by mean is the first; the year's peak is a cold snap in the third:
    the winter week is the one around the peak (space heat and hot water together)."""
    days = 28
    t = pd.date_range(pd.Timestamp("2025-01-01", tz=TZ), periods=days * 24, freq="h")
    heat = np.where(np.arange(len(t)) < 7 * 24, 150.0, 100.0)
    peak = 17 * 24 + 5  # 18 January, 05:00 local
    heat[peak] = 900.0
    folder = tmp_path / "r"
    folder.mkdir()
    _frame(
        list(t.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M")),
        [
            ("district_heat", "space_heat", list(0.7 * heat)),
            ("demand", "space_heat", list(-0.7 * heat)),
            ("district_heat", "hot_water", list(0.3 * heat)),
            ("demand", "hot_water", list(-0.3 * heat)),
            ("pv", "electricity", [1.0] * len(t)),
            ("demand", "electricity", [-1.0] * len(t)),
        ],
    ).to_parquet(folder / "schedule.parquet")
    run = load_run(folder)
    title, start, end = weeks(run)[0]
    assert title.startswith("Winter week")
    assert start <= t[peak] < end and end - start == pd.Timedelta(days=7)
    assert "heat demand" in duration_curves(run)
    assert duration_curves(run)["heat demand"][0] == pytest.approx(900.0)


def test_compare_names_capacities_without_investment_cost_data(tmp_path):
    folder = write_comparison(tmp_path / "cmp")
    caps = {"base": {"battery": {"energy_kwh": 100.0}},
            "more_pv": {"battery": {"energy_kwh": 100.0}, "pv_roof": {"kwp": 20.0},
                        "gshp_2": {"power_kw_heat": 600.0}}}  # fmt: skip
    for name, c in caps.items():
        f = folder / "variants" / name / "kpis.json"
        kpis = json.loads(f.read_text())
        kpis["capacities"] = c
        if name == "more_pv":  # pv_roof was sized, with its investment
            kpis["sized"] = {"pv_roof": {"kwp": 20.0}}
        f.write_text(json.dumps(kpis))
    text = build_report(folder).read_text()
    assert "<b>base</b>: all capacities given: no investment cost data" in text
    assert "<b>more_pv</b>: no investment cost data for: gshp_2 power_kw_heat (600)" in text
    assert "pv_roof kwp (20)" not in text  # sized: its investment is in the total
    assert "of which annualised investment (with fixed O&amp;M)" in text


def test_a_year_long_report_stays_under_5_mb(tmp_path):
    path = build_report(write_run(tmp_path / "year", start="2025-01-01", days=365))
    assert path.stat().st_size < 5e6
    text = path.read_text()
    assert "window.pecoptReady" in text and "<script src" not in text  # self-contained


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda p: p, "RUN_DIR: no such folder"),
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("x"), p)[-1], "not a pecopt results"),
        (
            lambda p: (
                p.mkdir(),
                pd.DataFrame({"timestamp": [0], "asset": ["a"]}).to_parquet(p / "schedule.parquet"),
                p,
            )[-1],
            "carrier: column missing",
        ),
    ],
)
def test_bad_folder_is_exit_2_and_writes_nothing(tmp_path, make, field):
    folder = make(tmp_path / "bad")
    before = _tree(folder) if folder.exists() else None
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 2
    assert field in result.output and str(folder) in result.output.replace("\n", "")
    assert "Traceback" not in result.output
    assert (_tree(folder) if folder.exists() else None) == before
    with pytest.raises(DataError):
        build_report(folder)


def test_cli_import_does_not_import_plotly():
    code = "import sys, pecopt.cli.main; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- in a real Chromium

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DRAWN = """() => Array.from(document.querySelectorAll("div.pecopt-fig"))
  .filter(d => !d.closest("[hidden]"))
  .map(d => [d.dataset.fig, Boolean(d._fullLayout), d.querySelectorAll(".main-svg").length,
             d.querySelectorAll("g.trace, g.hm image").length])"""
# (a heat map draws an image inside g.hm, the other traces a g.trace)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1400, "height": 900},
        )
        yield ctx
        ctx.close()


class Opened:
    """A report opened in a fresh page, with everything the page said and asked for."""

    def __init__(self, ctx, path: Path) -> None:
        self.page = ctx.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url, wait_until="load")
        self.ready = self.page.evaluate("window.pecoptReady")

    def _console(self, msg) -> None:
        if msg.type in ("error", "warning") or "WARN" in msg.text:
            self.problems.append(f"{msg.type}: {msg.text}")

    def drawn(self) -> list[str]:
        """Ids of the visible figures; asserts each one has drawn its SVG and traces."""
        figs = self.page.evaluate(DRAWN)
        for fid, layout, svgs, traces in figs:
            assert layout and svgs >= 1 and traces >= 1, (fid, layout, svgs, traces)
        return [f[0] for f in figs]

    def check_clean(self) -> None:
        assert self.problems == []
        assert self.failed == []
        assert self.requests == [self.url]


HEADLINE_BOX = """() => { const t = document.querySelector("main table");
  const r = t.getBoundingClientRect();
  return [r.top, r.bottom, t.querySelectorAll("tbody tr").length,
          document.documentElement.scrollWidth]; }"""


def first_screen(o: Opened, rows: int) -> None:
    """The headline table (the page's first) has ``rows`` rows, at most a dozen, starts
    within the first screen of 1400 x 900 px, and the page is no wider than 1400 px."""
    top, _bottom, n, width = o.page.evaluate(HEADLINE_BOX)
    assert n == rows <= 12
    assert 0 < top < 900
    assert width <= 1400


@pytest.mark.slow
def test_run_report_in_chromium(browser, tmp_path):
    path = build_report(write_run(tmp_path / "run"))
    o = Opened(browser, path)
    ids = o.drawn()
    assert o.ready == len(ids) == RUN_FIGURES
    first_screen(o, rows=6)
    assert ids == ["costs", "monthly", "duration", "week0", "week1", "storage", "carbon",
                   "price-electricity", "price-heat", "capacity-values"]  # fmt: skip
    o.check_clean()
    o.page.close()


@pytest.mark.slow
def test_comparison_report_in_chromium(browser, tmp_path):
    path = build_report(write_comparison(tmp_path / "cmp"))
    o = Opened(browser, path)
    ids = o.drawn()
    assert ids[: len(OVERVIEW)] == OVERVIEW  # the overview, then the base's figures
    assert len(ids) == o.ready == len(OVERVIEW) + RUN_FIGURES
    o.page.select_option("#pecopt-member", label="more_pv")
    assert o.page.evaluate("window.pecoptReady") == RUN_FIGURES
    ids = o.drawn()
    assert len(ids) == len(OVERVIEW) + RUN_FIGURES and all(not i.startswith("m0-") for i in ids)
    o.page.select_option("#pecopt-member", label="no_battery")
    assert o.page.evaluate("window.pecoptReady") == 0
    assert len(o.drawn()) == len(OVERVIEW)
    assert o.page.is_visible("text=no results folder at variants/no_battery/")
    o.check_clean()
    o.page.close()


@pytest.mark.slow
def test_pareto_report_in_chromium(browser, tmp_path):
    path = build_report(write_pareto(tmp_path / "front"))
    o = Opened(browser, path)
    # the front, differences to the cost optimum, cost by item, the menu; the first point's
    assert len(o.drawn()) == o.ready == 4 + RUN_FIGURES
    o.page.evaluate(
        "Plotly.Fx.hover(document.getElementById('fig-pareto'), [{curveNumber: 0, pointNumber: 1}])"
    )
    hover = o.page.evaluate("document.querySelector('#fig-pareto .hoverlayer').textContent")
    assert "point 1" in hover and "pv_kwp = 12" in hover and "co2_net_kg = 45" in hover
    o.check_clean()
    o.page.close()


@pytest.mark.slow
def test_real_kera_report_in_chromium(browser, tmp_path):
    from pecopt.workflows.solve import solve_scenario

    days = {"start": "2025-03-28T00:00", "end": "2025-03-31T00:00"}
    scenario = extending(tmp_path / "kera3d.yaml", ROOT / "scenarios" / "kera.yaml",
                         {"horizon": days})  # fmt: skip
    out = tmp_path / "kera"
    solve_scenario(scenario, out)
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    o = Opened(browser, out / "report.html")
    assert o.drawn() == KERA_FIGURES
    first_screen(o, rows=12)
    images = "document.getElementById('fig-price-hot_water').querySelectorAll('g.hm image')"
    assert o.page.evaluate(images + ".length") == 1  # the heat map is drawn
    bars = o.page.evaluate(
        "document.getElementById('fig-capacity-values').querySelectorAll('g.point').length"
    )
    kpis = json.loads((out / "kpis.json").read_text())
    valued = kpis["marginal_values"]["capacities"]
    binding = [k for a in valued.values() for k, v in a.items() if v["binding"]]
    assert bars == len(binding) > 0  # one bar per binding capacity
    assert (out / "report.html").stat().st_size < 5e6
    o.check_clean()
    o.page.close()
    shutil.rmtree(out / "inputs")  # keep tmp small; the report needs none of it


# ---------------------------------------------------------------- real compare and pareto


def _kera_days(tmp_path: Path, start: str, end: str) -> Path:
    """``tmp_path/kera.yaml``: the Kera default on a short horizon."""
    horizon = {"start": start, "end": end}
    return extending(tmp_path / "kera.yaml", ROOT / "scenarios" / "kera.yaml", {"horizon": horizon})


@pytest.mark.slow
def test_real_compare_report_in_chromium(browser, tmp_path):
    from pecopt.workflows.compare import compare

    _kera_days(tmp_path, "2025-03-28T00:00", "2025-03-31T00:00")  # the base, beside
    lay = yaml.safe_load((ROOT / "scenarios" / "kera_layouts.yaml").read_text())
    keep = ("store_instead_of_battery", "market_waste_heat")
    lay["variants"] = {k: v for k, v in lay["variants"].items() if k in keep}
    layouts = tmp_path / "layouts.yaml"
    layouts.write_text(yaml.safe_dump(lay, sort_keys=False))
    out = tmp_path / "cmp"
    result = compare(layouts, out, workers=2)
    assert result.failed == []
    folder = load_folder(out)
    assert folder.kind == "comparison" and list(folder.members) == ["base", *keep]
    assert all(r is not None for r in folder.members.values())
    text = (out / "report.html").read_text()
    assert "solver_status" in text and "ped_final_energy_status" in text  # text rows
    # every variant's capacities are given: none carries investment cost data, and the
    # report says which capacities each one adds without it
    assert "no investment cost data for: hot_water_store energy_kwh (36,000)" in text
    assert "market_condensers_booster power_kw_el (60)" in text
    o = Opened(browser, out / "report.html")
    ids = o.drawn()
    assert ids[: len(OVERVIEW)] == OVERVIEW
    assert len(ids) == o.ready == len(OVERVIEW) + len(KERA_FIGURES)  # and the base's figures
    first_screen(o, rows=12)
    o.page.select_option("#pecopt-member", label="market_waste_heat")
    assert o.page.evaluate("window.pecoptReady") == len(KERA_FIGURES)
    o.check_clean()
    o.page.close()


@pytest.mark.slow
def test_real_pareto_report_in_chromium(browser, tmp_path):
    from pecopt.workflows.pareto import pareto

    scenario = _kera_days(tmp_path, "2025-02-03T00:00", "2025-02-05T00:00")
    out = tmp_path / "front"
    pareto(scenario, out, points=3)
    folder = load_folder(out)
    assert folder.kind == "pareto" and list(folder.members) == ["0", "1", "2"]
    o = Opened(browser, out / "report.html")
    # the front, its three overview charts and the cost optimum's figures
    assert len(o.drawn()) == o.ready == 4 + len(KERA_FIGURES)
    o.page.evaluate(
        "Plotly.Fx.hover(document.getElementById('fig-pareto'), [{curveNumber: 0, pointNumber: 2}])"
    )
    hover = o.page.evaluate("document.querySelector('#fig-pareto .hoverlayer').textContent")
    assert "point 2" in hover and "co2_net_kg" in hover and "eps_co2_kg" in hover
    assert "electricity_storage_draw_kwh" not in hover  # a wide table: key figures only
    o.page.select_option("#pecopt-member", label="2")
    assert o.page.evaluate("window.pecoptReady") == len(KERA_FIGURES)
    o.check_clean()
    o.page.close()


@pytest.mark.slow
def test_replay_report_in_chromium(browser, tmp_path):
    """A replay's report (two Kera nights, noisy forecasts): every figure draws, offline,
    with no console error; the key figures come first."""
    from datetime import date

    from pecopt.workflows.replay import replay

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "kera_replay.yaml"
    out = tmp_path / "replay"
    replay(scenario, out, first=date(2025, 3, 3), last=date(2025, 3, 4), forecast="noisy:0.1")
    o = Opened(browser, out / "report.html")
    ids = o.drawn()
    assert "cumulative" in ids and o.ready == len(ids)
    assert "What the nightly job is worth" in o.page.content()
    o.check_clean()
    o.page.close()

"""``pecopt alternatives``: near-optimal ranges worked out by hand (two PV arrays on one
roof of equal cost), the bounds every solve keeps on a richer district (groups of stores
and heat pumps, a MILP), the warm start, a run stopped early, bad options, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import test_report
import yaml
from typer.testing import CliRunner

from pecopt.api import build
from pecopt.cli.main import app
from pecopt.results.summary import capacity_column
from pecopt.testing import inputs_of, tiny_scenario
from pecopt.workflows.alternatives import explore, ranges_of, table_of

runner = CliRunner()
browser = test_report.browser  # the report tests' Chromium (a fixture), and their page
Opened = test_report.Opened
TOL = 1e-6


def size(coef_per_unit: float, maximum: float, n: int, **kw) -> dict:
    """A Size whose annualised cost over an ``n``-hour horizon is ``coef_per_unit`` EUR per
    unit (discount rate 0, lifetime 1 year: capex = coef / years)."""
    years = n / 8760
    return {"max": maximum, "capex_eur_per_unit": coef_per_unit / years, "lifetime_yr": 1.0, **kw}


def two_arrays() -> dict:
    """One hour, 10 kW of load, grid at 0.3 EUR/kWh, exports worth nothing. Two PV arrays
    ``a`` and ``b`` give 1 kW per kWp and cost 0.1 EUR per kWp each (at most 20 kWp).

    With P = a + b kWp the cost is ``3 - 0.2 P`` up to P = 10 (each kWp saves 0.3 for 0.1)
    and ``0.1 P`` above (the surplus is worth nothing): the optimum is P = 10 at 1.0 EUR,
    split between a and b any way. Within a slack of 10 % (cost <= 1.1 EUR):
    ``3 - 0.2 P <= 1.1`` gives P >= 9.5 and ``0.1 P <= 1.1`` gives P <= 11, so

        all PV: [9.5, 11] kWp;   a: [0, 11] (b builds the rest);   b: [0, 11].
    """
    s = tiny_scenario(1, elec_kw=10.0, spot=0.3, export=0.0)
    s["assets"]["pv_series"] = [
        {"name": name, "series": [1.0], "kwp": size(0.1, 20.0, 1)} for name in ("a", "b")
    ]
    s["economics"] = {"discount_rate": 0.0}
    return s


def district(modules: bool = False) -> dict:
    """Two hours: 5 kW of electricity and 3 kW of heat; PV, a battery (energy and power),
    two heat pumps and a hot-water tank, all sized, and district heat."""
    n = 2
    s = tiny_scenario(
        n, elec_kw=5.0, heat_kw=[3.0, 6.0], spot=[0.1, 0.3], export=0.0, district_heating={},
        dh_price=0.08,
    )  # fmt: skip
    bat_kwh = size(0.02, 20.0, n, **({"unit_size": 2.0} if modules else {}))
    s["assets"]["pv_series"] = [{"name": "pv", "series": [0.5, 0.0], "kwp": size(0.05, 100, n)}]
    s["assets"]["batteries"] = [
        {"name": "bat", "eta_charge": 1.0, "eta_discharge": 1.0,
         "capacity_kwh": bat_kwh, "power_kw": size(0.02, 20.0, n)}
    ]  # fmt: skip
    s["assets"]["heat_pumps"] = [
        {"name": name, "capacity_kw_heat": size(coef, 10.0, n), "source": "series",
         "cop_series": cop}
        for name, coef, cop in (("hp1", 0.01, 3.0), ("hp2", 0.012, 3.2))
    ]  # fmt: skip
    s["assets"]["thermal_stores"] = [
        {"name": "tank", "capacity_kwh": size(0.005, 30.0, n), "power_kw": 10.0}
    ]
    s["economics"] = {"discount_rate": 0.0}
    return s


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(tmp_path: Path, scenario: dict, *args: str, name: str = "alt"):
    out = tmp_path / name
    s = write(tmp_path / f"{name}.yaml", scenario)
    res = runner.invoke(app, ["alternatives", str(s), "--out", str(out), "-q", *args])
    return res, out


def check_within(table: pd.DataFrame, ranges: pd.DataFrame, slack: float) -> None:
    """Every solve costs at most (1 + slack) x the optimum; every range holds the optimum
    and every solve's sizes."""
    best = float(table["cost_eur"].iloc[0])
    assert table["kind"].iloc[0] == "optimum"
    assert (table["cost_eur"] <= best + slack * abs(best) + 1e-6 * max(1.0, abs(best))).all()
    for _, r in ranges.iterrows():
        assert r["min"] - TOL <= r["optimum"] <= r["max"] + TOL, r["target"]
        col = table[capacity_column(*str(r["target"]).rsplit(".", 1), "size")]
        assert (col >= r["min"] - TOL).all() and (col <= r["max"] + TOL).all(), r["target"]


def test_two_arrays_ranges_by_hand(tmp_path):
    res, out = run_cli(tmp_path, two_arrays(), "--slack", "0.1", "--designs", "2")
    assert res.exit_code == 0, res.output
    t = pd.read_parquet(out / "alternatives.parquet")
    r = pd.read_parquet(out / "ranges.parquet").set_index("target")
    assert t["kind"].tolist() == ["optimum"] + ["min", "max"] * 3 + ["design"] * 2
    assert t["cost_eur"].iloc[0] == pytest.approx(1.0, abs=TOL)
    np.testing.assert_allclose(r.loc["all_pv_series.kwp", ["optimum", "min", "max"]].to_numpy(
        float), [10.0, 9.5, 11.0], atol=TOL)  # fmt: skip
    for name in ("a.kwp", "b.kwp"):
        assert r.loc[name, "min"] == pytest.approx(0.0, abs=TOL)
        assert r.loc[name, "max"] == pytest.approx(11.0, abs=TOL)
        assert r.loc[name, "unit"] == "kWp"
    assert r["min_proven"].all() and r["max_proven"].all()
    # the min of all PV costs the whole slack, the most PV too
    group = t[t["target"] == "all_pv_series.kwp"].set_index("kind")["cost_eur"]
    assert group.to_numpy() == pytest.approx([1.1, 1.1], abs=TOL)
    check_within(t, r.reset_index(), 0.1)
    # design 1 avoids the array the optimum built: the other one holds the PV
    opt, d1 = t.iloc[0], t.iloc[7]
    built = "size_a_kwp" if opt["size_a_kwp"] > 1 else "size_b_kwp"
    assert d1[built] == pytest.approx(0.0, abs=TOL)
    m = json.loads((out / "manifest.json").read_text())
    assert m["pecopt_output"]["kind"] == "alternatives"
    assert m["complete"] is True and m["slack"] == 0.1
    assert m["cost_bound_eur"] == pytest.approx(1.1, abs=TOL)
    assert m["model"] == "the whole horizon"
    assert {"alternatives.parquet", "ranges.parquet", "report.html"} <= set(
        m["pecopt_output"]["files"]
    )
    html = (out / "report.html").read_text()
    assert "Near-optimal ranges" in html and "all pv series" in html
    # `pecopt report` on the folder writes the same page again (a pure function of it)
    again = runner.invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output
    assert (out / "report.html").read_text() == html


@pytest.mark.parametrize("modules", [False, True], ids=["lp", "milp"])
def test_every_solve_within_the_slack_and_ranges_hold_the_optimum(modules):
    built = build(inputs_of(district(modules)))
    e = explore(built, 0.05, designs=2)
    assert e.stopped is None
    t = table_of(e)
    r = ranges_of(e, t)
    check_within(t, r, 0.05)
    assert set(r["target"]) >= {"all_heat_pumps.power_kw_heat", "all_stores.energy_kwh"}
    stores = r.set_index("target").loc["all_stores.energy_kwh", "members"]
    assert stores == "bat.energy_kwh, tank.energy_kwh"
    assert (t["status"] == "optimal").all()
    # the optimum from scratch; each later solve from it: its basis (LP), its plan (MILP)
    assert t["warm"].tolist() == ["cold"] + ["incumbent" if modules else "basis"] * (len(t) - 1)
    if modules:  # whole modules in every design
        kwh = t["size_bat_energy_kwh"].to_numpy()
        np.testing.assert_allclose(kwh, 2 * np.round(kwh / 2), atol=1e-6)


def test_a_negative_optimum_may_lose_the_slack_of_its_earnings():
    # exports at 0.5 EUR/kWh: every kWp (0.1 EUR) earns 0.4 net beyond the load, up to 20 kWp
    # each: the optimum earns 3 - 40 * 0.1 ... C* = 0.1 * 40 - 0.5 * (40 - 10) = -11 EUR.
    s = two_arrays()
    s["assets"]["grid"]["tariff"]["export_price"] = [0.5]
    e = explore(build(inputs_of(s)), 0.1)
    assert e.rows[0].cost_eur == pytest.approx(-11.0, abs=TOL)
    assert e.cost_bound_eur == pytest.approx(-11.0 + 1.1, abs=TOL)
    t = table_of(e)
    check_within(t, ranges_of(e, t), 0.1)
    # all PV: cost = 0.1 P - 0.5 (P - 10) = 5 - 0.4 P <= -9.9 for P >= 37.25 kWp
    r = ranges_of(e, t).set_index("target")
    assert r.loc["all_pv_series.kwp", "min"] == pytest.approx(37.25, abs=TOL)


def test_when_the_optimum_builds_nothing_the_first_design_builds_most():
    # PV at 0.5 EUR per kWp saves 0.3: the optimum builds none (3.0 EUR from the grid).
    # Within 10 % (3.3 EUR), cost = 3 + 0.2 P: at most P = 1.5 kWp in all, which the first
    # design builds (it maximises a / 20 + b / 20).
    s = two_arrays()
    for pv in s["assets"]["pv_series"]:
        pv["kwp"] = size(0.5, 20.0, 1)
    e = explore(build(inputs_of(s)), 0.1, designs=1)
    t = table_of(e)
    assert t["size_all_pv_series_kwp"].iloc[0] == pytest.approx(0.0, abs=TOL)
    design = t.iloc[-1]
    assert (design["kind"], design["sense"]) == ("design", "max")
    assert design["size_all_pv_series_kwp"] == pytest.approx(1.5, abs=TOL)
    assert design["cost_eur"] == pytest.approx(3.3, abs=TOL)


@pytest.mark.parametrize("slack", ["-0.01", "1.5", "nan"])
def test_bad_slack_is_exit_2_and_writes_nothing(tmp_path, slack):
    res, out = run_cli(tmp_path, two_arrays(), "--slack", slack)
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and "--slack" in lines[0] and "[0, 1]" in lines[0], res.output
    assert not out.exists()


def test_nothing_to_size_is_exit_2(tmp_path):
    s = tiny_scenario(1, elec_kw=10.0, spot=0.3, pv_kw=5.0)
    res, out = run_cli(tmp_path, s)
    assert res.exit_code == 2, res.output
    assert "nothing to size" in res.output and not out.exists()


def test_stopped_after_the_optimum_keeps_the_solves_and_exits_10(tmp_path, monkeypatch):
    # the solver fails on the third min/max solve (as the time limit would stop it)
    from pecopt.errors import SolverError
    from pecopt.workflows.alternatives import Explorer

    real = Explorer.extreme
    calls = []

    def failing(self, *a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise SolverError("the time limit was reached before any feasible plan was found")
        return real(self, *a, **kw)

    monkeypatch.setattr(Explorer, "extreme", failing)
    res, out = run_cli(tmp_path, two_arrays(), "--slack", "0.1", "--designs", "1")
    assert res.exit_code == 10, res.output
    assert "stopped early" in res.output
    t = pd.read_parquet(out / "alternatives.parquet")
    assert t["kind"].tolist() == ["optimum", "min", "max"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is False and "min b.kwp" in m["stopped"]
    r = pd.read_parquet(out / "ranges.parquet").set_index("target")
    assert not r.loc["b.kwp", "min_proven"] and r.loc["a.kwp", "max_proven"]
    assert (out / "report.html").is_file()


def test_a_worker_from_the_shipped_basis_finds_the_same_ranges():
    # what a Dask worker does (its own model of the same inputs, the bounds, the optimum's
    # basis as status codes), here in this process
    from pecopt.solver.highs import basis_codes
    from pecopt.workflows.alternatives import Explorer, extremes_task

    inputs = inputs_of(district())
    seq = explore(build(inputs), 0.05)
    ex = Explorer(build(inputs))
    row, best = ex.optimum(None)
    bounds = ex.near.within(row.cost_eur, 0.05)
    assert bounds[0] == pytest.approx(seq.cost_bound_eur, rel=1e-9)
    jobs = [(t, s) for t in seq.targets for s in ("min", "max")]
    got = extremes_task(inputs, jobs, bounds, basis_codes(best.basis), None, None)
    assert [(r.kind, r.target) for r in got] == [(s, t.name) for t, s in jobs]
    assert all(r.warm == "basis" and r.status == "optimal" for r in got)
    mine = table_of(seq).iloc[1:].reset_index(drop=True)
    for k, ((t, _), r) in enumerate(zip(jobs, got, strict=True)):
        value = sum(r.sizes[m] for m in t.members)
        assert value == pytest.approx(mine.loc[k, t.column], abs=1e-6), (t.name, r.sense)


@pytest.mark.slow
def test_on_a_dask_cluster_the_ranges_are_the_same(tmp_path):
    seq = explore(build(inputs_of(district())), 0.05)
    from pecopt.workflows.sweep import open_client

    with open_client(None, 2) as client:
        par = explore(build(inputs_of(district())), 0.05, client=client)
    assert par.workers == 2 and par.stopped is None
    a, b = table_of(seq), table_of(par)
    ra, rb = ranges_of(seq, a), ranges_of(par, b)
    np.testing.assert_allclose(ra[["min", "max"]], rb[["min", "max"]], atol=1e-6)
    assert b["kind"].tolist() == a["kind"].tolist()
    assert b["target"].tolist() == a["target"].tolist()


@pytest.mark.slow
def test_report_in_chromium(browser, tmp_path):
    res, out = run_cli(tmp_path, district(), "--slack", "0.05", "--designs", "2")
    assert res.exit_code == 0, res.output
    o = Opened(browser, out / "report.html")
    ids = o.drawn()
    o.check_clean()
    assert o.ready == len(ids) >= 4
    assert {"range-kwp", "range-kwh", "designs-kwp"} <= set(ids)

"""EV session mode end to end (a sessions CSV through ``pecopt solve`` and ``pecopt
ingest``), and the physical bounds of the EV block: a session never stores more than the
battery holds, and a shortfall is never more than the energy driven."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.ingest.parquet import read_table, units
from pecopt.inputs import EVInputs
from pecopt.model.core import build_model
from pecopt.model.linear import meta
from pecopt.results.extract import extract
from pecopt.scenario import schema as s
from pecopt.solve import solve
from pecopt.testing import assert_balanced, ev_availability, tiny_inputs

runner = CliRunner()
TOL = 1e-6
ETA = 0.92
HOURS = pd.date_range("2025-03-29T00:00", periods=48, freq="h", tz="UTC")


def district(tmp_path: Path, penalty: str = "1.0") -> Path:
    """48 h, a 5 kW load, spot 100 EUR/MWh except 10 EUR/MWh at 01:00 and 02:00 UTC on
    the 30th; two cars with sessions (see the tests)."""
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    pd.DataFrame({"timestamp": HOURS.strftime(fmt), "elec_kw": 5.0}).to_csv(
        tmp_path / "load.csv", index=False
    )
    spot = np.full(len(HOURS), 100.0)
    spot[[25, 26]] = 10.0  # 2025-03-30 01:00 and 02:00 UTC
    pd.DataFrame({"timestamp": HOURS.strftime(fmt), "spot": spot}).to_csv(
        tmp_path / "spot.csv", index=False
    )
    pd.DataFrame(
        {
            "vehicle": ["car1", "car2"],
            "arrival": ["2025-03-29T17:00:00Z", "2025-03-29T18:00:00Z"],
            "departure": ["2025-03-30T07:00:00Z", "2025-03-29T22:00:00Z"],
            "energy_kwh": [20.0, 50.0],
        }
    ).to_csv(tmp_path / "sessions.csv", index=False)
    p = tmp_path / "scenario.yaml"
    p.write_text(
        "site: {name: t}\n"
        'horizon: {start: "2025-03-29T00:00Z", end: "2025-03-31T00:00Z"}\n'
        "buildings: [{name: b1, metered: {path: load.csv, elec_column: elec_kw}}]\n"
        "assets:\n"
        "  ev_fleets:\n"
        "    - {name: fleet, sessions: sessions.csv, charger_kw: 11, efficiency: 0.92,\n"
        f"       capacity_kwh: 60, shortfall_penalty_eur_per_kwh: {penalty}}}\n"
        "tariffs:\n"
        "  electricity: {spot: {source: file, path: spot.csv, column: spot}, tax_class: none}\n"
    )
    return p


def test_sessions_scenario_solves_end_to_end(tmp_path):
    # car1: 17:00-07:00, wants 20 kWh in the battery = 20 / 0.92 = 21.739 kWh from the
    #   grid, all in the two cheap hours (01:00 and 02:00; 11 kW each is room enough).
    # car2: 18:00-22:00, wants 50 kWh; 4 h x 11 kW x 0.92 = 40.48 kWh is all it can
    #   store, so it charges flat out and 9.52 kWh are unmet (penalty 1 EUR/kWh beats
    #   the 0.1 EUR/kWh price).
    yaml = district(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["ev"]["unmet_kwh"] == pytest.approx(50.0 - 40.48, abs=1e-6)
    assert kpis["ev"]["delivered_kwh"] == pytest.approx((20.0 + 40.48) / ETA, abs=1e-6)

    sched = read_table(out / "schedule.parquet")
    assert_balanced(sched)
    ts = pd.DatetimeIndex(sched["timestamp"])

    def flow(asset: str) -> pd.Series:
        rows = sched[(sched["asset"] == asset) & (sched["carrier"] == "electricity")]
        return pd.Series(-rows["flow_kw"].to_numpy(), index=ts[rows.index])

    car1, car2 = flow("fleet/car1"), flow("fleet/car2")
    cheap = pd.DatetimeIndex(["2025-03-30T01:00", "2025-03-30T02:00"], tz="UTC")
    assert car1.reindex(cheap).sum() == pytest.approx(20.0 / ETA, abs=1e-6)
    assert car1.drop(cheap, errors="ignore").abs().max() == pytest.approx(0.0, abs=1e-6)
    away = car2[(car2.index < "2025-03-29T18:00Z") | (car2.index >= "2025-03-29T22:00Z")]
    np.testing.assert_allclose(car2["2025-03-29T18:00Z":"2025-03-29T21:00Z"], 11.0, atol=1e-6)
    assert away.abs().max() == pytest.approx(0.0, abs=1e-6)


def test_sessions_without_penalty_that_fit_solve(tmp_path):
    yaml = district(tmp_path, penalty="null")
    df = pd.read_csv(tmp_path / "sessions.csv")
    df.loc[1, "energy_kwh"] = 40.0  # within car2's 40.48 kWh
    df.to_csv(tmp_path / "sessions.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(yaml), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["ev"]["unmet_kwh"] == 0.0
    assert kpis["ev"]["delivered_kwh"] == pytest.approx(60.0 / ETA, abs=1e-6)


def test_ingest_writes_the_canonical_tables(tmp_path):
    yaml = district(tmp_path)
    out = tmp_path / "inputs"
    result = runner.invoke(app, ["ingest", str(yaml), "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{n}.parquet" for n in ("weather", "loads", "pv", "prices", "cop", "ev", "ev_sessions")
    )
    assert f"{out / 'ev_sessions.parquet'}: 2 rows" in result.stdout
    sess = read_table(out / "ev_sessions.parquet")
    # car1 17:00-07:00 -> steps 17..30 (ends at 07:00 on the 30th), car2 18:00-22:00 -> 18..21
    assert sess[["vehicle", "first_step", "last_step"]].values.tolist() == [
        ["car1", 17, 30],
        ["car2", 18, 21],
    ]
    assert sess["energy_kwh"].tolist() == [20.0, 50.0]
    assert units(out / "ev_sessions.parquet")["energy_kwh"] == "kWh"
    ev = read_table(out / "ev.parquet")
    assert len(ev) == 2 * 48 and int(ev["plugged"].sum()) == 14 + 4
    prices = read_table(out / "prices.parquet")
    assert prices["spot_eur_per_kwh"].iloc[25] == pytest.approx(0.010)
    assert units(out / "prices.parquet")["spot_eur_per_kwh"] == "EUR/kWh"


def test_ingest_refuses_a_bad_input_and_writes_nothing(tmp_path):
    yaml = district(tmp_path)
    (tmp_path / "sessions.csv").write_text("vehicle,arrival\ncar1,2025-03-29T17:00:00Z\n")
    out = tmp_path / "inputs"
    result = runner.invoke(app, ["ingest", str(yaml), "--out", str(out)])
    assert result.exit_code == 2
    assert "sessions.csv: departure: required column is missing" in result.stderr
    assert not out.exists()


# ------------------------------------------------------------------------ the block bounds


def session_fleet(wanted: float, penalty: float | None = 1.0) -> EVInputs:
    spec = s.EVFleet(
        name="ev",
        charger_kw=11.0,
        efficiency=1.0,
        capacity_kwh=60.0,
        shortfall_penalty_eur_per_kwh=penalty,
        sessions="x.csv",
    )
    return EVInputs(
        spec,
        ("v0",),
        np.ones((1, 24), bool),
        np.zeros((1, 24)),
        "sessions",
        session_vehicle=np.array([0]),
        session_first=np.array([0]),
        session_last=np.array([23]),
        session_energy_kwh=np.array([wanted]),
    )


def test_a_session_never_stores_more_than_the_battery_holds():
    # 24 h x 11 kW could deliver 264 kWh, but the battery holds 60: 60 kWh delivered and
    # the other 90 kWh unmet at the penalty (before the fix: 150 kWh delivered).
    inputs = tiny_inputs(24, spot=0.1, ev_fleets=(session_fleet(150.0),))
    dm = build_model(inputs)
    out = solve(dm.model, inputs.solver)
    res = extract(inputs, dm, out)
    assert res.delivered_kwh["ev"] == pytest.approx(60.0, abs=TOL)
    assert res.unmet_kwh["ev"] == pytest.approx(90.0, abs=TOL)
    assert out.objective == pytest.approx(60 * 0.1 + 90 * 1.0, abs=TOL)


def test_a_session_within_the_battery_is_met():
    inputs = tiny_inputs(24, spot=0.1, ev_fleets=(session_fleet(45.0, penalty=None),))
    dm = build_model(inputs)
    out = solve(dm.model, inputs.solver)
    res = extract(inputs, dm, out)
    assert res.delivered_kwh["ev"] == pytest.approx(45.0, abs=TOL)
    assert out.objective == pytest.approx(4.5, abs=TOL)


def test_shortfall_is_bounded_by_the_energy_driven():
    # two trips (5 and 20 kWh): each point's shortfall can cover at most its own trip
    spec = s.EVFleet(
        name="ev", charger_kw=3.0, capacity_kwh=60.0, availability="x.csv", end="cyclic"
    )
    ev = ev_availability(spec, [[True, False, True, False]], [[0.0, 5.0, 0.0, 20.0]])
    dm = build_model(tiny_inputs(4, spot=0.1, ev_fleets=(ev,)))
    short = dm.model.find_component("ev.ev.shortfall")
    assert short is not None
    np.testing.assert_allclose(meta(short).ub, [5.0, 20.0])

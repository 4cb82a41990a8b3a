"""Scenario-based dispatch (:func:`pecopt.model.transforms.scenarios`): the extensive form
of a two-stage plan, checked on cases worked out by hand and against the deterministic
plan."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pecopt.api import build, solve
from pecopt.model.core import build_model
from pecopt.model.transforms import IMBALANCE, cvar_of, scenarios
from pecopt.results.extract import ValueCache, extract, per_row
from pecopt.solver import solve as solve_model
from pecopt.testing import inputs_of, tiny_scenario

KERA = Path(__file__).resolve().parents[1] / "scenarios" / "kera_replay.yaml"


def _one_hour(pv_kw: float) -> object:
    """One hour: a 2 kW load, PV of ``pv_kw`` (curtailable), import at 0.1 EUR/kWh,
    export worth nothing."""
    return inputs_of(tiny_scenario(1, elec_kw=2.0, spot=0.1, export=0.0, pv_kw=pv_kw))


def _ensemble(weights: list[float], alpha: float | None = None, weight: float = 0.0) -> object:
    members = [build_model(_one_hour(0.0)), build_model(_one_hour(2.0))]  # dark, sunny
    ens = scenarios(members, weights, position_steps=1, commit_steps=1,
                    spread_eur_per_kwh=0.05, cvar_alpha=alpha, cvar_weight=weight)  # fmt: skip
    out = solve_model(ens.model, members[0].inputs.common.solver)
    return ens, out


def test_expected_cost_and_position_of_two_members_by_hand() -> None:
    """Dark (p = 0.7): import 2 kWh; sunny (p = 0.3): PV covers the load. A position P
    [kW] bought day-ahead, deviations at 0.05 EUR/kWh. Sunny imports nothing whatever P
    (0.1 + 0.05 > 0.05 per kWh), so (0 <= P <= 2)

        C_dark = 0.2 + 0.05 (2 - P),  C_sunny = 0.05 P,
        E = 0.7 C_dark + 0.3 C_sunny = 0.21 - 0.02 P

    is least at P = 2 (beyond 2 both costs rise): C = (0.2, 0.1), E = 0.17 EUR."""
    ens, out = _ensemble([0.7, 0.3])
    assert ens.position[0].value == pytest.approx(2.0, abs=1e-6)
    np.testing.assert_allclose(ens.costs(), [0.2, 0.1], atol=1e-6)
    assert ens.expected_cost() == pytest.approx(0.17, abs=1e-6)
    assert out.objective == pytest.approx(0.17, abs=1e-6)
    sunny = extract(ens.members[1])
    assert sunny.cost_items_eur[IMBALANCE] == pytest.approx(0.1, abs=1e-6)  # 2 kWh long
    # CVaR of (0.2 w.p. 0.7, 0.1 w.p. 0.3): the worst 50 % and 20 % are all dark (0.2);
    # the worst 80 % are 0.7 dark and 0.1 sunny: (0.14 + 0.01) / 0.8 = 0.1875
    assert ens.cvar(0.5) == pytest.approx(0.2, abs=1e-9)
    assert ens.cvar(0.8) == pytest.approx(0.2, abs=1e-9)
    assert ens.cvar(0.2) == pytest.approx(0.1875, abs=1e-9)


def test_cvar_term_by_hand() -> None:
    """Equal weights: E = 0.5 (0.2 + 0.05 (2 - P)) + 0.5 (0.05 P) = 0.15 for any P in
    [0, 2], so the expected cost alone leaves P open. With CVaR at 0.5 (the worse member)
    weighted 1, min 0.15 + max(0.3 - 0.05 P, 0.05 P) is at P = 2: CVaR 0.2, objective
    0.35 EUR; the Rockafellar-Uryasev variables give the same CVaR as the costs."""
    ens, out = _ensemble([0.5, 0.5], alpha=0.5, weight=1.0)
    assert ens.position[0].value == pytest.approx(2.0, abs=1e-6)
    assert ens.expected_cost() == pytest.approx(0.15, abs=1e-6)
    assert ens.cvar() == pytest.approx(0.2, abs=1e-6)
    assert out.objective == pytest.approx(0.35, abs=1e-6)
    eta = ens.block.eta[0].value
    excess = np.array([ens.block.excess[k].value for k in range(2)])
    assert eta + (0.5 * excess).sum() / 0.5 == pytest.approx(0.2, abs=1e-6)


def test_cvar_of_a_discrete_distribution() -> None:
    costs, p = np.array([1.0, 2.0, 4.0]), np.array([0.5, 0.25, 0.25])
    assert cvar_of(costs, p, None) == pytest.approx(2.0)
    assert cvar_of(costs, p, 0.75) == pytest.approx(4.0)
    assert cvar_of(costs, p, 0.5) == pytest.approx(3.0)  # (0.25 * 2 + 0.25 * 4) / 0.5
    assert cvar_of(costs, p, 0.0) == pytest.approx(2.0)


def _battery_day() -> dict[str, object]:
    s = tiny_scenario(4, elec_kw=[1.0, 3.0, 1.0, 3.0], spot=[0.05, 0.3, 0.1, 0.4], export=0.0)
    s["assets"]["batteries"] = [
        {"name": "bat", "eta_charge": 0.95, "eta_discharge": 0.95, "power_kw": 2.0,
         "capacity_kwh": 3.0, "soc_initial_kwh": 1.0, "end": "free"}
    ]  # fmt: skip
    return s


def _decided(dm) -> np.ndarray:  # noqa: ANN001
    cache = ValueCache()
    return np.array(
        [per_row(f.terms, cache, dm.inputs.n) for f in dm.flows
         if f.role in ("storage", "conversion", "demand") and f.terms]
    )  # fmt: skip


def test_one_member_is_the_deterministic_plan() -> None:
    """A battery day: one member with a position and an imbalance spread plans as the
    deterministic model does (its position is its own import: no imbalance)."""
    det = build(inputs_of(_battery_day()))
    plan = solve(det)
    dm = build_model(inputs_of(_battery_day()))
    ens = scenarios([dm], position_steps=4, commit_steps=4, spread_eur_per_kwh=0.2)
    out = solve_model(ens.model, dm.inputs.common.solver)
    assert out.objective == pytest.approx(plan.objective, abs=1e-6)
    np.testing.assert_allclose(_decided(dm), _decided(det.district), atol=1e-6)
    assert extract(dm).cost_items_eur[IMBALANCE] == pytest.approx(0.0, abs=1e-9)


@pytest.fixture(scope="module")
def kera_inputs():
    """Kera's replay scenario (the dispatch shape: 15 minutes, every technology) on 12
    hours of the embedded year."""
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.scenario import load_scenario

    horizon = {"start": "2025-03-03T00:00", "end": "2025-03-03T12:00", "resolution": "15min"}
    s = load_scenario(KERA, {"horizon": horizon})
    tables = ingest(s, str(KERA))
    return lambda: to_inputs(s, tables, str(KERA))


def _targets(dm) -> dict[tuple[str, str, str], np.ndarray]:  # noqa: ANN001
    cache = ValueCache()
    return {
        (f.asset, f.carrier, f.role): per_row(f.terms, cache, dm.inputs.n)
        + (0.0 if f.constant is None else f.constant)
        for f in dm.flows
        if f.role in ("storage", "conversion", "demand") and f.terms
    }


def test_zero_error_members_give_the_deterministic_plan_on_kera(kera_inputs) -> None:
    """Three members, each the point forecast: the extensive form's expected cost and CVaR
    are the deterministic optimum (1e-6), no member deviates from the position, and the
    members' set-points, followed by the deterministic model, cost exactly its optimum
    (they are an optimal deterministic plan: where the LP has ties, e.g. a car charging
    at two steps of the same price, the two solves may pick different optimal vertices,
    so the set-points are compared by what they cost, not element by element)."""
    from pecopt.model.transforms import follow

    det = build(kera_inputs())
    plan = solve(det)
    members = [build_model(kera_inputs()) for _ in range(3)]
    n = members[0].inputs.n
    ens = scenarios(members, position_steps=n // 2, commit_steps=n // 2,
                    spread_eur_per_kwh=0.02, cvar_alpha=0.8, cvar_weight=0.5)  # fmt: skip
    solve_model(ens.model, members[0].inputs.common.solver)
    assert ens.expected_cost() == pytest.approx(plan.objective, rel=1e-6, abs=1e-6)
    assert ens.cvar() == pytest.approx(plan.objective, rel=1e-6, abs=1e-6)
    for dm in members:
        assert extract(dm).cost_items_eur[IMBALANCE] == pytest.approx(0.0, abs=1e-6)
    first = _targets(members[0])
    for dm in members[1:]:  # non-anticipativity over the committed half
        for key, x in _targets(dm).items():
            np.testing.assert_allclose(x[: n // 2], first[key][: n // 2], atol=1e-6)
    check = build(kera_inputs())
    follow(check.district, first, 10.0)
    followed = solve(check)
    assert followed.objective == pytest.approx(plan.objective, rel=1e-6, abs=1e-6)


def test_identical_members_plan_the_battery_day_as_the_deterministic_model() -> None:
    """A battery day with a unique optimum: three identical members give the
    deterministic set-points element by element (1e-6)."""
    det = build(inputs_of(_battery_day()))
    plan = solve(det)
    members = [build_model(inputs_of(_battery_day())) for _ in range(3)]
    ens = scenarios(members, position_steps=4, commit_steps=2, spread_eur_per_kwh=0.2)
    out = solve_model(ens.model, members[0].inputs.common.solver)
    assert out.objective == pytest.approx(plan.objective, abs=1e-6)
    for dm in members:
        np.testing.assert_allclose(_decided(dm), _decided(det.district), atol=1e-6)


def test_members_must_be_one_district() -> None:
    a = build_model(_one_hour(0.0))
    b = build_model(inputs_of(_battery_day()))
    with pytest.raises(ValueError, match="same district"):
        scenarios([a, b], position_steps=1, commit_steps=1, spread_eur_per_kwh=0.0)
    with pytest.raises(ValueError, match="weights"):
        scenarios([a], [0.5], position_steps=1, commit_steps=1, spread_eur_per_kwh=0.0)


# ------------------------------------------------------------------ members, CLI, replay

REPLAY = Path(__file__).resolve().parents[1] / "scenarios" / "kera_replay.yaml"


def _tables() -> tuple[dict, pd.DatetimeIndex]:
    idx = pd.date_range("2025-03-02T22:00Z", periods=3 * 96, freq="15min")
    loads = pd.DataFrame(
        {"timestamp": np.tile(idx, 2), "building": np.repeat(["a", "b"], idx.size),
         "elec_kw": np.r_[np.arange(idx.size, dtype=float), 1000 + np.arange(idx.size)]}
    )  # fmt: skip
    spot = 0.05 + 0.01 * np.sin(np.arange(idx.size) / 10)
    prices = pd.DataFrame({"timestamp": idx, "spot_eur_per_kwh": spot,
                           "export_eur_per_kwh": spot - 0.003})  # fmt: skip
    return {"loads": loads, "grid_prices": prices}, idx


def _draw(size: float, seed: int = 1) -> list[dict]:
    from pecopt.ingest.forecasts import members

    tables, idx = _tables()
    step = pd.Timedelta("15min")
    return members(tables, 4, size, start=idx[0], end=idx[96], horizon_end=idx[-1] + step,
                   day=date(2025, 3, 3), step=step, tz="UTC", seed=seed)  # fmt: skip


def test_members_are_the_forecast_and_seeded_draws_around_it() -> None:
    """Member 0 is the forecast; with size 0 every member is; drawn members differ from it
    and from each other, are seeded, keep loads >= 0 and the day-ahead prices (the
    delivery day's) as they are, and move the export price with the spot price."""
    tables, _ = _tables()
    for m in _draw(0.0):
        for name in tables:
            pd.testing.assert_frame_equal(m[name], tables[name])
    a, b = _draw(0.2), _draw(0.2)
    pd.testing.assert_frame_equal(a[0]["loads"], tables["loads"])
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x["loads"], y["loads"])
    loads = [m["loads"]["elec_kw"].to_numpy() for m in a]
    assert not np.allclose(loads[1], loads[0]) and not np.allclose(loads[1], loads[2])
    assert all((x >= 0).all() for x in loads)
    assert not np.allclose(_draw(0.2, seed=2)[1]["loads"]["elec_kw"], loads[1])
    spot = [m["grid_prices"]["spot_eur_per_kwh"].to_numpy() for m in a]
    np.testing.assert_array_equal(spot[1][:96], spot[0][:96])  # the day-ahead prices
    assert not np.allclose(spot[1][96:], spot[0][96:])
    exp = a[1]["grid_prices"]["export_eur_per_kwh"].to_numpy()
    np.testing.assert_allclose(exp - spot[1], -0.003, atol=1e-12)


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--members", "3"], "--member-noise"), (["--members", "3", "--member-noise", "5"],
     "--member-noise"), (["--members", "2", "--member-noise", "0.1", "--cvar-alpha", "1"],
     "--cvar-alpha"), (["--members", "2", "--member-noise", "0.1", "--cvar-weight", "1"],
     "--cvar-weight")],
)  # fmt: skip
def test_bad_member_options_are_one_clear_message(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    from typer.testing import CliRunner

    from pecopt.cli.main import app

    base = ["replay", str(REPLAY), "--from", "2025-03-03", "--to", "2025-03-03"]
    res = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "out"), *args])
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_zero_error_members_replay_as_the_deterministic_plan(tmp_path: Path) -> None:
    """A day on perfect forecasts with two zero-error members: the scenario-based plan is
    the deterministic optimum, so its settled day costs what the deterministic one does,
    neither deviates from its position, and the value of the stochastic solution is 0."""
    from pecopt.workflows.replay import Members, replay

    run = replay(REPLAY, tmp_path / "r", first=date(2025, 3, 3), last=date(2025, 3, 3),
                 forecast="perfect", ensemble=Members(2, 0.0),
                 sets=("dispatch.imbalance_spread_eur_per_kwh=0.02",))  # fmt: skip
    k = run.kpis
    sb = k["scenario_based"]
    assert k["stochastic"]["net_cost_eur"] == pytest.approx(k["realised"]["net_cost_eur"],
                                                            rel=1e-6)  # fmt: skip
    assert sb["vss_eur"] == pytest.approx(0.0, abs=1e-4)
    assert sb["stochastic_imbalance_eur"] == pytest.approx(0.0, abs=1e-6)
    assert sb["deterministic_imbalance_eur"] == pytest.approx(0.0, abs=1e-6)
    assert sb["nights_fallback"] == 0
    row = run.table.iloc[0]
    assert row["stochastic_expected_cost_eur"] == pytest.approx(row["stochastic_eev_eur"],
                                                                rel=1e-6)  # fmt: skip
    saved = json.loads((tmp_path / "r" / "kpis.json").read_text())
    assert saved["scenario_based"]["members"] == 2
    assert "Scenario-based against deterministic" in (tmp_path / "r" / "report.html").read_text()


@pytest.mark.slow
def test_dispatch_over_members_writes_each_members_recourse(tmp_path: Path) -> None:
    """``pecopt dispatch --members 3`` on Kera: the usual outputs plus ``members.parquet``
    (every member's schedule with its ``member`` number, each bus balanced), and the
    expected cost in ``kpis.json`` equal to the members' costs weighted 1/3; every member
    follows the same battery set-points over the delivery day (non-anticipativity)."""
    from typer.testing import CliRunner

    from pecopt.cli.main import app
    from pecopt.testing import assert_balanced

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "kera_dispatch.yaml"
    out = tmp_path / "out"
    res = CliRunner().invoke(app, [
        "dispatch", str(scenario), "--day", "2025-03-04", "--state", str(tmp_path / "state"),
        "--out", str(out), "--members", "3", "--member-noise", "0.2", "--seed", "1",
        "--set", "dispatch.imbalance_spread_eur_per_kwh=0.02",
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert {"setpoints.parquet", "members.parquet", "kpis.json"} <= {p.name for p in out.iterdir()}
    sb = json.loads((out / "kpis.json").read_text())["scenario_based"]
    assert sb["expected_cost_eur"] == pytest.approx(np.mean(sb["member_costs_eur"]), rel=1e-9)
    members = pd.read_parquet(out / "members.parquet")
    assert sorted(members["member"].unique()) == [0, 1, 2]
    for _, one in members.groupby("member"):
        assert_balanced(one.drop(columns="member"))
    bat = members[(members["asset"] == "shared_battery") & (members["role"] == "storage")]
    flows = np.stack([g["flow_kw"].to_numpy()[:96] for _, g in bat.groupby("member")])
    np.testing.assert_allclose(flows, np.broadcast_to(flows[0], flows.shape), atol=1e-6)


def test_members_from_a_file_overlay_the_forecast(tmp_path: Path) -> None:
    """An ensemble file: member 0 raises building a's load to 5 kW on the first two
    steps, member 1 names the look-ahead's spot price (moved by +0.1: the export price
    follows) and tries the day-ahead's (kept: known); steps a member does not name keep
    the forecast."""
    from pecopt.ingest.forecasts import overlay, read_members

    tables, idx = _tables()
    rows = [(0, idx[0], "loads/a/elec_kw", 5.0), (0, idx[1], "loads/a/elec_kw", 5.0),
            (1, idx[0], "grid_prices/spot_eur_per_kwh", 9.0),
            (1, idx[100], "grid_prices/spot_eur_per_kwh", 0.2)]  # fmt: skip
    path = tmp_path / "members.csv"
    pd.DataFrame(rows, columns=["member", "timestamp", "series", "value"]).to_csv(path)
    got = [overlay(tables, g, idx[96], path) for g in read_members(path)]
    load = got[0]["loads"]["elec_kw"].to_numpy()
    want = tables["loads"]["elec_kw"].to_numpy().copy()
    want[:2] = 5.0
    np.testing.assert_array_equal(load, want)
    spot = got[1]["grid_prices"]["spot_eur_per_kwh"].to_numpy()
    base = tables["grid_prices"]["spot_eur_per_kwh"].to_numpy()
    assert spot[0] == base[0] and spot[100] == 0.2
    np.testing.assert_array_equal(np.delete(spot, 100), np.delete(base, 100))
    exp = got[1]["grid_prices"]["export_eur_per_kwh"].to_numpy()
    assert exp[100] == pytest.approx(0.2 - 0.003)
    pd.testing.assert_frame_equal(got[1]["loads"], tables["loads"])


@pytest.mark.parametrize(
    ("columns", "rows", "field"),
    [(["timestamp", "series", "value"], [("2025-03-02T22:00Z", "loads/a/elec_kw", 1.0)],
      "member"),
     (["member", "timestamp", "series", "value"],
      [(1, "2025-03-02T22:00Z", "loads/a/elec_kw", 1.0)], "member"),
     (["member", "timestamp", "series", "value"],
      [(0, "2025-03-02T22:00Z", "loads/zz/elec_kw", 1.0)], "series")],
)  # fmt: skip
def test_a_bad_members_file_is_named(
    tmp_path: Path, columns: list[str], rows: list[tuple], field: str
) -> None:
    from pecopt.errors import DataError
    from pecopt.ingest.forecasts import overlay, read_members

    tables, idx = _tables()
    path = tmp_path / "members.csv"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        for g in read_members(path):
            overlay(tables, g, idx[96], path)
    assert "members.csv" in str(err.value) and field in str(err.value)


def test_a_missing_members_file_is_one_clear_message(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pecopt.cli.main import app

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "kera_dispatch.yaml"
    res = CliRunner().invoke(app, [
        "dispatch", str(scenario), "--day", "2025-03-04", "--state", str(tmp_path / "state"),
        "--out", str(tmp_path / "out"), "--members-file", str(tmp_path / "nope.parquet"),
    ])  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "--members-file" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()

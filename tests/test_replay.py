"""``pecopt replay``: nights in closed loop on Kera (``scenarios/kera_replay.yaml``, fleets
with copies, 15-minute steps, the embedded year as the truth), settled against the truth
and compared with a rule-based controller and the perfect-foresight optimum."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.ingest.forecasts import Forecaster, parse_mode
from pecopt.testing import assert_balanced
from pecopt.workflows.replay import replay

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "kera_replay.yaml"
WEEK = (date(2025, 3, 3), date(2025, 3, 9))
runner = CliRunner()


@pytest.fixture(scope="module")
def perfect(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("replay") / "perfect"
    run = replay(SCENARIO, out, first=WEEK[0], last=WEEK[1], forecast="perfect")
    return out, run.kpis


@pytest.mark.slow
def test_every_night_starts_where_the_settled_day_ended(perfect: tuple[Path, dict]) -> None:
    out, _ = perfect
    table = pd.read_parquet(out / "replay.parquet")
    assert len(table) == 7 and (table["exit_code"] == 0).all()
    # what the plan's and the settled day's models started from (read back from their
    # solved variables) against the previous settled day's end, every carried quantity
    assert table["start_gap"].max() <= 1e-6
    assert table["rule_based_start_gap"].max() <= 1e-6
    assert_balanced(pd.read_parquet(out / "schedule.parquet"))
    storage = pd.read_parquet(out / "storage.parquet")
    res = storage[storage["asset"].str.startswith("residents/")]
    assert res["soc_kwh"].max() > 60.0  # a vehicle row of 9 cars holds more than one car
    assert res["soc_kwh"].max() <= 9 * 60.0 + 1e-6


@pytest.mark.slow
def test_perfect_forecasts_come_close_to_perfect_foresight(perfect: tuple[Path, dict]) -> None:
    _, k = perfect
    real, pf, rule = k["realised"], k["perfect_foresight"], k["rule_based"]
    # the settled days are one feasible operation of the whole period: never cheaper
    assert real["net_cost_eur"] >= pf["net_cost_eur"] * (1 - 1e-9)
    assert real["net_cost_eur"] <= 1.02 * pf["net_cost_eur"]
    assert rule["net_cost_eur"] > real["net_cost_eur"]
    assert k["value_of_optimisation_eur"] == pytest.approx(
        rule["net_cost_eur"] - real["net_cost_eur"]
    )
    # every car and session gets its energy; the nights, looking 48 h past the week, leave
    # more in the cars at its end than the week's perfect foresight (which ends there)
    assert real["ev_charged_kwh"] >= pf["ev_charged_kwh"] * (1 - 1e-6)
    assert real["unmet_kwh"] <= 1e-6
    # each controller's cost items add up to its net cost (what is left counted once)
    for who in (real, pf, rule):
        assert sum(who["items_eur"].values()) == pytest.approx(who["net_cost_eur"], abs=1e-6)


@pytest.mark.slow
def test_noisier_forecasts_cost_more(tmp_path: Path, perfect: tuple[Path, dict]) -> None:
    _, k0 = perfect
    costs = [k0["realised"]["net_cost_eur"]]
    for size in (0.1, 0.3):
        run = replay(SCENARIO, tmp_path / f"n{size}", first=WEEK[0], last=WEEK[1],
                     forecast=f"noisy:{size}", seed=1)  # fmt: skip
        costs.append(run.kpis["realised"]["net_cost_eur"])
        assert costs[-1] >= run.kpis["perfect_foresight"]["net_cost_eur"] * (1 - 1e-9)
    assert costs[0] < costs[1] < costs[2]


def _truth() -> tuple[dict[str, pd.DataFrame], pd.DatetimeIndex]:
    idx = pd.date_range("2025-03-02T22:00Z", periods=3 * 96, freq="15min")
    loads = pd.DataFrame(
        {"timestamp": np.tile(idx, 2), "building": np.repeat(["a", "b"], idx.size),
         "elec_kw": np.r_[np.arange(idx.size, dtype=float), 1000 + np.arange(idx.size)]}
    )  # fmt: skip
    spot = 0.05 + 0.01 * np.sin(np.arange(idx.size) / 10)
    prices = pd.DataFrame(
        {"timestamp": idx, "spot_eur_per_kwh": spot, "export_eur_per_kwh": spot - 0.003,
         "tax_eur_per_kwh": 0.02}
    )  # fmt: skip
    return {"loads": loads, "grid_prices": prices}, idx


def test_persistence_repeats_yesterday_and_knows_the_day_ahead_prices() -> None:
    truth, idx = _truth()
    step = pd.Timedelta("15min")
    fc = Forecaster(parse_mode("persistence"), truth, idx, step, "Europe/Helsinki")
    start, end, horizon_end = idx[96], idx[192], idx[-1] + step
    horizon = {k: v[pd.DatetimeIndex(v["timestamp"]) >= start] for k, v in truth.items()}
    got, errors = fc.forecast(horizon, start, end, horizon_end, date(2025, 3, 3))
    a = got["loads"][got["loads"]["building"] == "a"]["elec_kw"].to_numpy()
    # the delivery day and the look-ahead both repeat the day before the delivery day
    np.testing.assert_array_equal(a, np.r_[np.arange(96.0), np.arange(96.0)])
    p = got["grid_prices"]
    day = pd.DatetimeIndex(p["timestamp"]) < end
    np.testing.assert_array_equal(
        p["spot_eur_per_kwh"][day], truth["grid_prices"]["spot_eur_per_kwh"][96:192]
    )
    moved = p["spot_eur_per_kwh"].to_numpy() - horizon["grid_prices"]["spot_eur_per_kwh"].to_numpy()
    np.testing.assert_allclose(
        p["export_eur_per_kwh"].to_numpy()
        - horizon["grid_prices"]["export_eur_per_kwh"].to_numpy(),
        moved,
    )
    assert (p["tax_eur_per_kwh"] == 0.02).all()  # tariff components are known
    # relative error of building a on the delivery day: |x_{t-96} - x_t| = 96 each
    assert errors["loads_elec_kw"] == pytest.approx(
        96 * 96 * 2 / (np.arange(96, 192).sum() + (1000 + np.arange(96, 192)).sum())
    )


def test_noisy_zero_is_the_truth_and_noise_is_seeded() -> None:
    truth, idx = _truth()
    step = pd.Timedelta("15min")
    start, end = idx[96], idx[192]
    horizon = {k: v[pd.DatetimeIndex(v["timestamp"]) >= start] for k, v in truth.items()}
    zero = Forecaster(parse_mode("noisy:0"), truth, idx, step, "UTC", seed=3)
    got, _ = zero.forecast(horizon, start, end, idx[-1] + step, date(2025, 3, 3))
    pd.testing.assert_frame_equal(got["loads"], horizon["loads"])
    one = Forecaster(parse_mode("noisy:0.2"), truth, idx, step, "UTC", seed=3)
    a, _ = one.forecast(horizon, start, end, idx[-1] + step, date(2025, 3, 3))
    b, _ = one.forecast(horizon, start, end, idx[-1] + step, date(2025, 3, 3))
    pd.testing.assert_frame_equal(a["loads"], b["loads"])
    assert not np.allclose(a["loads"]["elec_kw"], horizon["loads"]["elec_kw"])
    assert (a["loads"]["elec_kw"] >= 0).all()


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--forecast", "sunny"], "--forecast"), (["--forecast", "noisy:9"], "--forecast"),
     (["--to", "2025-03-01"], "--to")],
)  # fmt: skip
def test_bad_options_are_one_clear_message(tmp_path: Path, args: list[str], needle: str) -> None:
    base = ["replay", str(SCENARIO), "--from", "2025-03-03", "--to", "2025-03-04",
            "--out", str(tmp_path / "out")]  # fmt: skip
    for k in range(0, len(args), 2):
        i = base.index(args[k]) if args[k] in base else -1
        if i >= 0:
            base[i + 1] = args[k + 1]
        else:
            base += args[k : k + 2]
    res = runner.invoke(app, base)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_kpis_json_is_written(perfect: tuple[Path, dict]) -> None:
    out, k = perfect
    saved = json.loads((out / "kpis.json").read_text())
    assert saved["days"] == 7 and saved["forecast"] == {"mode": "perfect", "seed": 0}
    assert set(saved["monthly"]) == {"2025-03"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pecopt_output"]["kind"] == "replay"
    listed = set(manifest["pecopt_output"]["files"])
    assert {"replay.parquet", "schedule.parquet", "kpis.json", "report.html"} <= listed
    html = (out / "report.html").read_text()
    assert "What the nightly job is worth" in html and 'data-fig="cumulative"' in html


def test_a_failed_reference_keeps_the_nights_and_exits_10(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        ["replay", str(SCENARIO), "--from", "2025-03-03", "--to", "2025-03-04", "--out",
         str(out), "--reference-time-limit", "0.001"],
    )  # fmt: skip
    assert res.exit_code == 10, res.output
    assert "perfect-foresight reference failed" in res.output
    table = pd.read_parquet(out / "replay.parquet")
    assert len(table) == 2 and table["start_gap"].max() <= 1e-6
    k = json.loads((out / "kpis.json").read_text())
    assert k["reference_failed"] and "error" in k["perfect_foresight"]
    assert k["value_of_optimisation_eur"] is not None
    assert (out / "report.html").is_file()


def _forecast_file(folder: Path, issued: str, truth: dict[str, pd.DataFrame], factor: float,
                   suffix: str = "parquet") -> None:  # fmt: skip
    """A forecast file: every load of ``truth`` times ``factor``, the spot price + 0.01."""
    loads = truth["loads"].melt(id_vars=["timestamp", "building"], value_vars=["elec_kw"])
    rows = pd.DataFrame(
        {"timestamp": loads["timestamp"],
         "series": "loads/" + loads["building"] + "/" + loads["variable"],
         "value": loads["value"] * factor}
    )  # fmt: skip
    p = truth["grid_prices"]
    spot = pd.DataFrame({"timestamp": p["timestamp"], "series": "grid_prices/spot_eur_per_kwh",
                         "value": p["spot_eur_per_kwh"] + 0.01})  # fmt: skip
    table = pd.concat([rows, spot], ignore_index=True)
    folder.mkdir(exist_ok=True)
    if suffix == "csv":
        table.to_csv(folder / f"{issued}.csv", index=False)
    else:
        table.to_parquet(folder / f"{issued}.parquet")


def test_a_folder_of_issued_forecasts_is_read_as_it_was_issued(tmp_path: Path) -> None:
    """Each night takes the latest file issued before its window; what the file does not
    cover is filled by persistence and counted; the delivery day's prices are known."""
    truth, idx = _truth()
    step = pd.Timedelta("15min")
    folder = tmp_path / "fc"
    _forecast_file(folder, "2025-03-03T1000Z", truth, 2.0)
    # issued the evening before delivery (UTC 12:00), covering only up to 12:00 next day
    late = {"loads": truth["loads"][pd.DatetimeIndex(truth["loads"]["timestamp"]) < idx[96 + 56]],
            "grid_prices": truth["grid_prices"]}  # fmt: skip
    _forecast_file(folder, "2025-03-03T1200Z", late, 1.1, "csv")
    _forecast_file(folder, "2025-03-04T1200Z", truth, 3.0)  # after the window starts: unused
    fc = Forecaster(parse_mode(str(folder)), truth, idx, step, "Europe/Helsinki")
    start, end, horizon_end = idx[96], idx[192], idx[-1] + step
    horizon = {k: v[pd.DatetimeIndex(v["timestamp"]) >= start] for k, v in truth.items()}
    got, info = fc.forecast(horizon, start, end, horizon_end, date(2025, 3, 3))
    assert info["issued_h_before"] == pytest.approx(10.0)  # 12:00Z to 22:00Z
    a = got["loads"][got["loads"]["building"] == "a"]["elec_kw"].to_numpy()
    truth_a = np.arange(96.0, 288.0)
    np.testing.assert_allclose(a[:56], 1.1 * truth_a[:56])  # from the file
    np.testing.assert_allclose(a[56:], np.r_[np.arange(56.0, 96.0), np.arange(96.0)])  # persistence
    assert info["filled_steps"] == 2 * (192 - 56)
    p = got["grid_prices"]
    day = np.asarray(pd.DatetimeIndex(p["timestamp"]) < end)
    np.testing.assert_allclose(
        p["spot_eur_per_kwh"][day], horizon["grid_prices"]["spot_eur_per_kwh"][day]
    )
    np.testing.assert_allclose(
        p["spot_eur_per_kwh"][~day], horizon["grid_prices"]["spot_eur_per_kwh"][~day] + 0.01
    )
    assert info["grid_prices_spot_eur_per_kwh"] == pytest.approx(0.005)  # 0.01 on half the steps


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [("tomorrow.parquet", None, "is not an issue time"),
     ("2025-03-02T1200Z.csv", "timestamp,series\n2025-03-03T00:00Z,loads/a/elec_kw\n", "value"),
     ("2025-03-02T1200Z.csv", "timestamp,series,value\n2025-03-03T00:00Z,loads/zz/elec_kw,1\n",
      "no such building"),
     ("2025-03-02T1200Z.csv", "timestamp,series,value\n2025-03-03T00:00Z,loads/a/tax_kw,1\n",
      "is not a forecast input")],
)  # fmt: skip
def test_a_bad_forecast_file_is_named(tmp_path: Path, name: str, content: str | None,
                                      needle: str) -> None:  # fmt: skip
    from pecopt.errors import DataError

    truth, idx = _truth()
    folder = tmp_path / "fc"
    folder.mkdir()
    if content is None:
        _forecast_file(folder, "x", truth, 1.0)
        (folder / "x.parquet").rename(folder / name)
    else:
        (folder / name).write_text(content)
    fc = Forecaster(parse_mode(str(folder)), truth, idx, pd.Timedelta("15min"), "UTC")
    horizon = {k: v[pd.DatetimeIndex(v["timestamp"]) >= idx[96]] for k, v in truth.items()}
    with pytest.raises(DataError) as err:
        fc.forecast(horizon, idx[96], idx[192], idx[-1] + pd.Timedelta("15min"), date(2025, 3, 3))
    assert name in str(err.value) and needle in str(err.value)


def test_replay_reads_a_forecast_folder(tmp_path: Path) -> None:
    """Kera's two nights on issued forecasts of the look-ahead's spot price (a flat
    0.08 EUR/kWh): the nights run, say which file each used and how far it was off."""
    folder = tmp_path / "issued"
    folder.mkdir()
    for day in ("2025-03-02", "2025-03-03"):
        ts = pd.date_range(f"{day}T22:00Z", periods=72 * 4, freq="15min")  # day + 48 h
        pd.DataFrame({"timestamp": ts, "series": "grid_prices/spot_eur_per_kwh",
                      "value": 0.08}).to_parquet(folder / f"{day}T1100Z.parquet")  # fmt: skip
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        ["replay", str(SCENARIO), "--from", "2025-03-03", "--to", "2025-03-04",
         "--forecast", str(folder), "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_parquet(out / "replay.parquet")
    assert table["forecast_issued_h_before"].tolist() == [11.0, 11.0]
    assert (table["forecast_error_grid_prices_spot_eur_per_kwh"] > 0).all()
    assert (table["forecast_filled_steps"] == 0).all()
    k = json.loads((out / "kpis.json").read_text())
    assert k["forecast"]["files"] == ["2025-03-02T1100Z.parquet", "2025-03-03T1100Z.parquet"]
    assert k["realised"]["net_cost_eur"] >= k["perfect_foresight"]["net_cost_eur"] * (1 - 1e-9)


REAL = REPO / "scenarios" / "kera_replay_2024.yaml"
SHARED = REPO.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "spot_fi_npf").is_dir(), reason="../shared/data is not here")
def test_a_real_week_of_2024(tmp_path: Path) -> None:
    """Kera on the 2024 FI spot prices and the IWEC weather, 5-11 February 2024 (a cold
    week): no night runs on stand-ins (they would be degraded, exit 10, in this file);
    with perfect forecasts the 48-hour look-ahead comes within 2 % of perfect foresight
    and beats the rules; day-old loads and PV (persistence) cost more than perfect ones."""
    first, last = date(2024, 2, 5), date(2024, 2, 11)
    perfect = replay(REAL, tmp_path / "perfect", first=first, last=last, forecast="perfect")
    table = perfect.table
    assert (table["exit_code"] == 0).all() and (table["plan"] == "optimal").all()
    assert table["start_gap"].max() <= 1e-6 and table["rule_based_start_gap"].max() <= 1e-6
    k = perfect.kpis
    real, pf = k["realised"]["net_cost_eur"], k["perfect_foresight"]["net_cost_eur"]
    assert pf * (1 - 1e-9) <= real <= 1.02 * pf
    assert k["rule_based"]["net_cost_eur"] > real
    assert k["realised"]["unmet_kwh"] == pytest.approx(0.0, abs=1e-6)
    late = replay(REAL, tmp_path / "late", first=first, last=last, forecast="persistence")
    assert late.kpis["realised"]["net_cost_eur"] > real
    assert (late.table["forecast_error_loads_space_heat_kw"] > 0).all()


@pytest.mark.parametrize("layout", ["time_major", "vehicle_major"])
def test_the_reserve_and_a_days_rows_are_read_off_long_tables_as_by_hand(layout: str) -> None:
    """``reserve_table`` (all vehicles at once) gives each vehicle's drive until its next
    plug-in as :func:`next_trips_kwh` does for it alone, and :class:`Rows` takes a window
    of a long table exactly as a mask does, rows in the table's order, whatever its layout."""
    from pecopt.ingest.ev_fleets import next_trips_kwh, reserve_table
    from pecopt.workflows.replay import Rows

    rng = np.random.default_rng(7)
    steps = pd.date_range("2025-03-29T00:00", periods=96 * 3, freq="15min", tz="UTC")
    cars = [(f, f"v{i}") for f in ("residents", "workplace") for i in range(12)]
    if layout == "time_major":
        ts, car = np.repeat(steps, len(cars)), np.tile(np.arange(len(cars)), len(steps))
    else:
        ts, car = np.tile(steps, len(cars)), np.repeat(np.arange(len(cars)), len(steps))
    avail = pd.DataFrame({"timestamp": ts, "fleet": [cars[c][0] for c in car],
                          "vehicle": [cars[c][1] for c in car],
                          "plugged": rng.random(len(ts)) < 0.01,
                          "drive_kwh": rng.random(len(ts))})  # fmt: skip
    after = steps[100]
    got = reserve_table(avail, after)
    assert list(zip(got["fleet"], got["vehicle"], strict=True)) == cars
    for (fleet, vehicle), need in zip(cars, got["reserve_kwh"], strict=True):
        mine = avail[(avail["fleet"] == fleet) & (avail["vehicle"] == vehicle)]
        mine = mine[mine["timestamp"] >= after].sort_values("timestamp")
        alone = next_trips_kwh(mine["plugged"].to_numpy(bool)[None, :],
                               mine["drive_kwh"].to_numpy(float)[None, :])[0]  # fmt: skip
        assert need == pytest.approx(alone, abs=1e-9)
    lo, hi = steps[37], steps[150]
    want = avail[(avail["timestamp"] >= lo) & (avail["timestamp"] < hi)].reset_index(drop=True)
    pd.testing.assert_frame_equal(Rows({"a": avail}).within("a", avail, lo, hi), want)
    assert Rows({"a": avail}).within("a", avail, hi, hi).empty

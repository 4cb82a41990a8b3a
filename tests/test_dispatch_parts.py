"""The parts of nightly dispatch, each against hand-computed values: the delivery window,
the state store, carrying levels (clipped), the running billing peak, the district-heat
fee above the peak so far, heat-pump minimum on/off times, and missing-price filling."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pecopt.errors import OptionError
from pecopt.ingest.spot import fill_missing_prices, read_spot_known, typical_spot_eur_per_kwh
from pecopt.model.carry import Start, running_peak
from pecopt.model.core import build_model
from pecopt.results.extract import extract
from pecopt.scenario.schema import Dispatch
from pecopt.solver import solve
from pecopt.state import RunRecord, StartState, StateLocked, StateStore, Trajectory, locked
from pecopt.testing import tiny_inputs
from pecopt.workflows.carry import apply_start, rolling_assets
from pecopt.workflows.dispatch import delivery_window

TZ = "Europe/Helsinki"


# ------------------------------------------------------------------ the delivery window


@pytest.mark.parametrize(
    ("day", "steps", "first_utc"),
    [("2025-03-30", 92, "2025-03-29T22:00"), ("2025-06-10", 96, "2025-06-09T21:00"),
     ("2025-10-26", 100, "2025-10-25T21:00")],
)  # fmt: skip
def test_the_delivery_day_has_23_24_or_25_hours(day: str, steps: int, first_utc: str) -> None:
    w = delivery_window(date.fromisoformat(day), TZ, 24, "15min")
    assert w.steps == steps
    assert w.start == pd.Timestamp(first_utc, tz="UTC")
    assert w.horizon_end - w.end == pd.Timedelta(hours=24)
    assert delivery_window(date.fromisoformat(day), TZ, 0, "1h").steps == steps // 4


def test_from_a_local_time_and_the_repeated_hour() -> None:
    w = delivery_window(date(2025, 10, 26), TZ, 24, "15min", "2025-10-26T03:30+02:00")
    assert w.start == pd.Timestamp("2025-10-26T01:30Z")  # the second 03:30 (EET)
    assert w.steps == 4 * 20 + 2  # 01:30 to 22:00 UTC (midnight EET)
    with pytest.raises(OptionError, match="repeated hour"):
        delivery_window(date(2025, 10, 26), TZ, 24, "15min", "03:30")  # ambiguous
    with pytest.raises(OptionError, match="step grid"):
        delivery_window(date(2025, 3, 10), TZ, 24, "1h", "14:15")
    with pytest.raises(OptionError):
        delivery_window(date(2025, 3, 30), TZ, 24, "15min", "03:30")  # does not exist


# ------------------------------------------------------------------------ the state store


def _record(day: str, start: str, end: str, horizon_end: str, **kw) -> RunRecord:
    return RunRecord(
        day=day, from_local=None, window_start=pd.Timestamp(start, tz="UTC"),
        window_end=pd.Timestamp(end, tz="UTC"), horizon_end=pd.Timestamp(horizon_end, tz="UTC"),
        step=pd.Timedelta("1h"), started_utc="x", finished_utc="y", status="ok", exit_code=0,
        plan="optimal", cost_eur=1.0, objective=1.0, gap=0.0, flags=[], state_from=None,
        scenario="s", scenario_sha256=None, out="o", pecopt_version="v", **kw,
    )  # fmt: skip


def test_a_trajectory_gives_the_level_at_a_step_end() -> None:
    t = Trajectory("b", "soc_kwh", pd.Timestamp("2025-01-01T00:00Z"), pd.Timedelta("1h"),
                   np.array([1.0, 2.0, 3.0]))  # fmt: skip
    assert t.at(pd.Timestamp("2025-01-01T01:00Z")) == 1.0  # end of step 0
    assert t.at(pd.Timestamp("2025-01-01T03:00Z")) == 3.0
    assert t.at(pd.Timestamp("2025-01-01T00:00Z")) is None  # before the first step end
    assert t.at(pd.Timestamp("2025-01-01T01:30Z")) is None  # not a step end


def test_the_store_reads_the_run_whose_window_ends_there(tmp_path: Path) -> None:
    traj = lambda v: [Trajectory("b", "soc_kwh", pd.Timestamp("2025-01-01T00:00Z"),  # noqa: E731
                                 pd.Timedelta("1h"), np.array(v, float))]  # fmt: skip
    with StateStore(tmp_path) as store:
        first = store.record(
            _record("2025-01-01", "2025-01-01T00:00", "2025-01-01T02:00", "2025-01-01T04:00"),
            traj([10, 20, 30, 40]),
        )
        at2 = pd.Timestamp("2025-01-01T02:00Z")
        assert store.state_at(at2).values == {("b", "soc_kwh"): 20.0}
        assert store.state_at(at2).source == "exact" and store.state_at(at2).run_id == first
        # a run of the next day does not change what that day starts from (a re-run)
        store.record(
            _record("2025-01-02", "2025-01-01T02:00", "2025-01-01T04:00", "2025-01-01T04:00"),
            [Trajectory("b", "soc_kwh", at2, pd.Timedelta("1h"), np.array([99.0, 98.0]))],
        )
        assert store.state_at(at2).values == {("b", "soc_kwh"): 20.0}
        assert store.state_at(pd.Timestamp("2025-01-01T04:00Z")).get("b", "soc_kwh") == 98.0
        # past the windows but inside a look-ahead: flagged as such
        store.record(
            _record("2025-01-03", "2025-01-01T04:00", "2025-01-01T05:00", "2025-01-01T08:00"),
            [Trajectory("b", "soc_kwh", pd.Timestamp("2025-01-01T04:00Z"), pd.Timedelta("1h"),
                        np.array([1.0, 2.0, 3.0, 4.0]))],
        )  # fmt: skip
        late = store.state_at(pd.Timestamp("2025-01-01T07:00Z"))
        assert late.source == "lookahead" and late.get("b", "soc_kwh") == 3.0
        assert store.state_at(pd.Timestamp("2025-01-02T00:00Z")).source == "none"
        assert store.integrity() == "ok"


def test_a_failure_before_the_commit_leaves_nothing(tmp_path: Path) -> None:
    def fail() -> None:
        raise RuntimeError("killed")

    with StateStore(tmp_path) as store:
        with pytest.raises(RuntimeError):
            store.record(
                _record("d", "2025-01-01T00:00", "2025-01-01T01:00", "2025-01-01T01:00"),
                [], before_commit=fail,
            )  # fmt: skip
        assert store.runs() == []


def test_the_lock_names_its_holder(tmp_path: Path) -> None:
    with locked(tmp_path):
        with pytest.raises(StateLocked, match="pid .* since") as exc:
            with locked(tmp_path):
                pass
        assert exc.value.exit_code == 75
    with locked(tmp_path):  # released
        pass


def test_levels_are_clipped_on_read() -> None:
    from pecopt.scenario.schema import Scenario

    s = Scenario.model_validate(
        {"horizon": {"start": "2025-01-01", "end": "2025-01-02"},
         "assets": {"batteries": [{"name": "b", "capacity_kwh": 100, "power_kw": 50}],
                    "thermal_stores": [{"name": "t", "capacity_kwh": 10, "power_kw": 5}]}}
    )  # fmt: skip
    state = StartState(
        pd.Timestamp("2025-01-01T00:00Z"), {("b", "soc_kwh"): -2.5e-14, ("t", "soc_kwh"): 10.5},
        run_id=1, source="exact", run_day="2024-12-31",
    )  # fmt: skip
    assets = rolling_assets(s, Dispatch())
    start = Start(state.at, Dispatch(), state.values, first_night=False, run_id=1)
    apply_start(assets, start)
    assert start.used == {"b": {"soc_kwh": 0.0}, "t": {"soc_kwh": 10.0}}
    assert assets["batteries"][0]["soc_initial_kwh"] == 0.0  # exactly: no -2.5e-14
    assert assets["batteries"][0]["end"] == "value"
    assert assets["batteries"][0]["end_value_eur_per_kwh"] == 0.05  # by carrier
    assert [f.code for f in start.flags] == ["state_clipped"]  # only the real clip


# ------------------------------------------------------------------ district-heat billing peak


def test_running_billing_peak() -> None:
    flow = np.array([0.0, 30.0, 60.0, 90.0, 0.0, 0.0])
    # 2-hour windows (k = 2): means 15, 45, 75, 45, 0 ending at steps 1..5
    np.testing.assert_allclose(running_peak(flow, 2, 1.0, 50.0), [50, 50, 50, 75, 75, 75])
    np.testing.assert_allclose(running_peak(flow, 2, 1.0, None), [0, 15, 45, 75, 75, 75])


@pytest.mark.parametrize(("so_far", "fee_eur"), [(60.0, 48.0 * 40.0), (150.0, 0.0)])
def test_the_power_fee_applies_only_above_the_peak_so_far(so_far: float, fee_eur: float) -> None:
    inputs = tiny_inputs(
        6, heat_kw=100.0, district_heating={"import_max_kw": 500},
        dh_tariff={"energy_eur_per_kwh": 0.05, "power_fee_eur_per_kw_yr": 48.0,
                   "peak_window_h": 3, "billing_peak_so_far_kw": so_far, "power_fee_years": 1.0},
    )  # fmt: skip
    dm = build_model(inputs)
    solve(dm.model, inputs.common.solver)
    res = extract(dm)
    assert res.cost_items_eur["dh_power_fee"] == pytest.approx(fee_eur, abs=1e-6)
    assert res.figures["district_heat.billing_peak_kw"] == pytest.approx(max(so_far, 100.0))


@pytest.mark.parametrize(("so_far", "whole", "fee_eur"), [
    (100.0, True, 2.0 * 20.0),      # 120 kW is 20 kW above the month's 100: a full month's fee
    (150.0, True, 0.0),             # below the month's peak so far: nothing more to pay
    (100.0, False, 2.0 * 20.0 * 6 / (31 * 24)),  # pro rata: 6 h of January's 744
])  # fmt: skip
def test_the_grid_power_fee_bills_what_a_new_peak_adds_to_the_month(
    so_far: float, whole: bool, fee_eur: float
) -> None:
    # 6 hours of 120 kW load in January, no other supply: the month's hourly peak is 120 kW
    network = {"power_fee_eur_per_kw_month": 2.0, "whole_month": whole,
               "billing_peak_so_far_kw": {"2025-01": so_far, "2025-02": 500.0}}  # fmt: skip
    inputs = tiny_inputs(6, elec_kw=120.0, grid={"tariff": {"network": network}})
    dm = build_model(inputs)
    solve(dm.model, inputs.common.solver)
    res = extract(dm)
    assert res.cost_items_eur["electricity_power_fee"] == pytest.approx(fee_eur, abs=1e-9)
    assert res.figures["grid.billing_peak_kw.2025-01"] == pytest.approx(max(so_far, 120.0))
    from pecopt.workflows.carry import carried_states

    peak = carried_states(dm)[("grid", "billing_peak_kw.2025-01")]
    np.testing.assert_allclose(peak, [so_far] + [max(so_far, 120.0)] * 6)


def test_the_month_to_date_peak_restarts_with_the_month() -> None:
    from pecopt.model.blocks.grid import start as grid_start

    rec = {"tariff": {"network": {"billing_peak_so_far_kw": {}, "power_fee_eur_per_kw_month": 2.0}}}
    state = {("grid", "billing_peak_kw.2025-01"): 300.0}
    same = Start(pd.Timestamp("2025-01-14T22:00Z"), Dispatch(), state, timezone=TZ)
    grid_start(rec, same)
    assert rec["tariff"]["network"]["billing_peak_so_far_kw"] == {"2025-01": 300.0}
    rec["tariff"]["network"]["billing_peak_so_far_kw"] = {}
    new = Start(pd.Timestamp("2025-01-31T22:00Z"), Dispatch(), state, timezone=TZ)  # 1 Feb 00:00
    grid_start(rec, new)
    assert rec["tariff"]["network"]["billing_peak_so_far_kw"] == {}
    assert new.used == {"grid": {"billing_peak_kw.2025-02": 0.0}}


# ------------------------------------------------------------------ heat-pump minimum times


def _hp_plan(
    initial_on: bool | None, hours: float, demand: list[float], min_h: float = 3.0
) -> np.ndarray:
    # the pump feeds the hot-water bus, from which surplus heat can leave through the
    # district-heat export, and the cascade serves the space heat
    hp = {"name": "hp", "source": "series", "cop_series": 3.0, "capacity_kw_el": 10,
          "sinks": ["hot_water"], "min_part_load": 0.5, "min_on_h": min_h,
          "min_off_h": min_h}  # fmt: skip
    if initial_on is not None:
        hp.update(initial_on=initial_on, initial_hours_in_state=hours)
    inputs = tiny_inputs(
        len(demand), heat_kw=demand, spot=0.01,
        district_heating={"import_max_kw": 500, "export_max_kw": 500},
        dh_tariff={"energy_eur_per_kwh": 0.2}, assets={"heat_pumps": [hp]},
    )  # fmt: skip
    dm = build_model(inputs)
    solve(dm.model, inputs.common.solver)
    sched = extract(dm).schedule
    p = -sched[(sched["asset"] == "hp") & (sched["carrier"] == "electricity")]["flow_kw"]
    return p.to_numpy() > 1e-6


def _runs(on: np.ndarray) -> list[tuple[bool, int]]:
    edges = np.flatnonzero(np.diff(on.astype(int))) + 1
    parts = np.split(on, edges)
    return [(bool(x[0]), len(x)) for x in parts]


def test_minimum_on_and_off_times() -> None:
    demand = [30.0, 0, 0, 0, 0, 30.0, 0, 0, 0, 0, 0, 30.0]
    free = _hp_plan(None, 0.0, demand, min_h=0.0)
    assert free.tolist() == [d > 0 for d in demand]  # without minimum times: on 1 h each
    on = _hp_plan(None, 0.0, demand)
    runs = _runs(on)
    assert all(length >= 3 for _, length in runs[1:-1]), runs  # the ends may be cut
    assert on[[0, 5, 11]].all()  # runs wherever heat is wanted (HP heat is cheaper)
    # on for 1 h before the horizon with a 3 h minimum: on for the first 2 steps
    forced = _hp_plan(True, 1.0, [0.0] * 6)
    assert forced[:2].all() and not forced[2:].any()
    # off for 2 h with a 3 h minimum: off in step 0 even though heat is wanted
    held = _hp_plan(False, 2.0, [30.0] * 6)
    assert not held[0] and held[1:].all()


# ---------------------------------------------------------------------- missing prices


def test_missing_prices_follow_the_shape_at_the_recent_level() -> None:
    index = pd.date_range("2025-03-10T00:00Z", periods=48, freq="1h")
    shape = typical_spot_eur_per_kwh(index).to_numpy()
    known = np.where(np.arange(48) < 24, 2.0 * shape, np.nan)
    recent = pd.Series(known[:24], index=index[:24])
    filled, mask = fill_missing_prices(index, known, recent)
    assert mask.tolist() == [False] * 24 + [True] * 24
    np.testing.assert_allclose(filled, 2.0 * shape, rtol=1e-12)  # p/s = 2 on the known part
    low = np.where(np.arange(48) < 24, shape - 0.2, np.nan)  # a level below zero: additive
    filled, _ = fill_missing_prices(index, low, pd.Series(low[:24], index=index[:24]))
    np.testing.assert_allclose(filled[24:], shape[24:] - 0.2, atol=1e-12)
    none = np.full(48, np.nan)
    filled, mask = fill_missing_prices(index, none, pd.Series(dtype=float))
    assert mask.all()
    np.testing.assert_allclose(filled, shape)


def test_read_known_prices_and_history(tmp_path: Path) -> None:
    times = pd.date_range("2025-03-08T00:00Z", periods=4 * 24, freq="1h")
    price = np.arange(times.size, dtype=float)  # EUR/MWh
    cells = [f"{p:g}" for p in price]
    cells[-10:] = [""] * 10  # the dump's trailing rows without a price
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%MZ"), "p": cells}).to_csv(
        tmp_path / "spot.csv", index=False
    )
    index = pd.date_range("2025-03-10T00:00Z", periods=4 * 48, freq="15min")
    known, recent = read_spot_known(
        tmp_path / "spot.csv", index, unit="eur_per_mwh", vat_included=False, column="p",
        history_days=1,
    )  # fmt: skip
    # the last price is hour 85 of the file (2025-03-11 13:00 UTC): 38 h of the horizon known
    assert np.isfinite(known).tolist() == [True] * 4 * 38 + [False] * 4 * 10
    assert known[0] == pytest.approx(48 / 1000.0)  # hour 48 of the file, held in the hour
    assert known[4 * 38 - 1] == pytest.approx(85 / 1000.0)
    assert recent.index[0] == pd.Timestamp("2025-03-09T00:00Z")  # one day of history
    assert recent.iloc[0] == pytest.approx(24 / 1000.0)


# ---------------------------------------------------------------------- the rule-based plan


def test_the_rule_based_plan_keeps_stores_idle_even_with_an_end_condition() -> None:
    """An idle store with standing losses cannot end at its start level (end: initial):
    the rule-based plan lets its level decay instead of failing."""
    from pecopt.api import build
    from pecopt.workflows.fallback import rule_based_solve

    store = {"name": "tank", "capacity_kwh": 100, "power_kw": 50, "loss_per_h": 0.01,
             "soc_initial_kwh": 80, "end": "initial"}  # fmt: skip
    inputs = tiny_inputs(
        6, heat_kw=[20, 40, 0, 10, 30, 5], spot=[0.1, 0.3, 0.1, 0.3, 0.1, 0.3],
        district_heating={"import_max_kw": 500}, dh_price=0.05,
        assets={"thermal_stores": [store]},
    )  # fmt: skip
    sol = rule_based_solve(build(inputs), deadline=0.0)
    sched = sol.results.schedule
    tank = sched[sched["asset"] == "tank"]["flow_kw"].to_numpy()
    assert np.abs(tank).max() == 0.0
    level = sol.results.storage["soc_kwh"].to_numpy()
    np.testing.assert_allclose(level, 80 * 0.99 ** np.arange(1, 7), rtol=1e-9)
    dh = sched[(sched["asset"] == "district_heat")]["flow_kw"].to_numpy()
    np.testing.assert_allclose(dh, [20, 40, 0, 10, 30, 5], atol=1e-9)  # DH the residual


# ------------------------------------------------------------------ borehole year to date


@pytest.mark.parametrize("so_far", [0.0, 50.0])
def test_the_borehole_cap_holds_on_the_year_so_far(so_far: float) -> None:
    # 6 hours of 200 kW heat demand, district heat at 1 EUR/kWh: the ground-source pump
    # takes all the ground it may. Cap 100 kWh/m/yr x 1000 m = 1e5 kWh/yr; 0.2 % of the
    # year earned before the horizon (200 kWh) and 6/8760 in it (68.5 kWh); E0 already
    # taken: the horizon may take 268.5 - E0 kWh, in total and at every step so far.
    bh = {"length_m": 1000, "max_w_per_m": 1000, "max_kwh_per_m_yr": 100,
          "extracted_so_far_kwh": so_far, "share_so_far": 0.002}  # fmt: skip
    hp = {"name": "gshp", "source": "ground", "capacity_kw_heat": 500, "borehole": bh}
    inputs = tiny_inputs(
        6, heat_kw=200.0, spot=0.01, district_heating={"import_max_kw": 500},
        dh_tariff={"energy_eur_per_kwh": 1.0}, assets={"heat_pumps": [hp]},
    )  # fmt: skip
    dm = build_model(inputs)
    solve(dm.model, inputs.common.solver)
    from pecopt.workflows.carry import carried_states

    states = carried_states(dm)
    used = states[("gshp", "ground_kwh_ytd")]
    earned = states[("gshp", "ground_share_ytd")]
    np.testing.assert_allclose(earned, 0.002 + np.arange(7) / 8760.0)
    assert used[0] == so_far
    assert np.all(used[1:] <= 1e5 * earned[1:] + 1e-6)  # at every step
    assert used[-1] == pytest.approx(1e5 * earned[-1], rel=1e-9)  # binding: demand is larger
    assert np.all(np.diff(used) >= -1e-9)


def test_the_borehole_year_restarts_on_new_years_day() -> None:
    from pecopt.model.blocks.heat_pump import start as hp_start

    def rec() -> dict:
        return {"name": "gshp", "borehole": {"extracted_so_far_kwh": 0.0, "share_so_far": 0.0}}

    state = {("gshp", "ground_kwh_ytd"): 5000.0, ("gshp", "ground_share_ytd"): 0.4}
    same = rec()
    hp_start(same, Start(pd.Timestamp("2025-12-30T22:00Z"), Dispatch(), state, timezone=TZ))
    assert same["borehole"] == {"extracted_so_far_kwh": 5000.0, "share_so_far": 0.4}
    new = rec()  # 1 January 00:00 local
    hp_start(new, Start(pd.Timestamp("2025-12-31T22:00Z"), Dispatch(), state, timezone=TZ))
    assert new["borehole"] == {"extracted_so_far_kwh": 0.0, "share_so_far": 0.0}


def test_flags_are_told_once_per_kind_degraded_first() -> None:
    from pecopt.model.carry import DEGRADED, NOTICE, Flag
    from pecopt.workflows.flags import grouped

    flags = [Flag(NOTICE, "state_clipped", f"ev/{k} clipped") for k in range(32)]
    flags.append(Flag(DEGRADED, "prices_filled", "day-ahead prices missing"))
    flags.append(Flag(NOTICE, "ev_new", "2 new vehicles"))
    assert grouped(flags) == [
        (DEGRADED, "prices_filled", 1, "day-ahead prices missing"),
        (NOTICE, "state_clipped", 32, "ev/0 clipped"),
        (NOTICE, "ev_new", 1, "2 new vehicles"),
    ]
    assert grouped([f.as_dict() for f in flags]) == grouped(flags)

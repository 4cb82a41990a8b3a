"""Every stateful technology carries its state from one night to the next.

Plan night 1, carry, plan night 2 with nothing changed: the state the *solved model* of
night 2 starts from (read back from its variables: the level before step 0's balance,
the on/off state and hours its rows start from, the billing peak its fee starts above)
equals what night 1 left at the delivery-day boundary, within 1e-6, for fleets with
``copies: 1`` and with ``copies > 1``. The model's start is checked twice: as the dispatch
run records it, and by rebuilding night 2's model from its ``inputs/`` folder.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

from pecopt.model.registry import TECHNOLOGIES
from pecopt.state import StateStore
from pecopt.workflows.dispatch import dispatch

TZ = "Europe/Helsinki"
#: carried quantities that are inputs of the day, not a state the model carries
GIVEN = {"plugged", "copies"}


def _district(folder: Path, copies: int) -> Path:
    """A small district with every stateful technology, on pecopt's embedded year."""
    arch = {"elec_kwh_m2_yr": 35, "space_heat_kwh_m2_yr": 60, "hot_water_kwh_m2_yr": 30}
    fleet = {"charger_kw": 11, "capacity_kwh": 60, "efficiency": 0.92, "copies": copies}
    doc = {
        "site": {"name": "carry", "latitude": 60.2166, "longitude": 24.7103,
                 "altitude_m": 20, "timezone": TZ},
        "dispatch": {"resolution": "15min", "lookahead_h": 24, "time_limit_s": 120,
                     "stand_ins": "allowed"},
        "buildings": [
            {"name": "apt", "archetype": {"use": "apartment", "floor_area_m2": 8000, **arch},
             "pv": [{"name": "apt_pv", "kwp": 120, "tilt_deg": 15}]},
        ],
        "assets": {
            "grid": {"import_max_kw": 4000, "export_max_kw": 2000,
                     "tariff": {"network": {"power_fee_eur_per_kw_month": 1.72}}},
            "batteries": [{"name": "battery", "capacity_kwh": 300, "power_kw": 150}],
            "thermal_stores": [{"name": "tank", "capacity_kwh": 1500, "power_kw": 300}],
            "heat_pumps": [{"name": "gshp", "source": "ground", "capacity_kw_el": 60,
                            "min_part_load": 0.3, "min_on_h": 2, "min_off_h": 2,
                            "borehole": {"length_m": 3000}}],
            "district_heating": {"import_max_kw": 3000,
                                 "tariff": {"summer_eur_per_kwh": 0.036,
                                            "winter_eur_per_kwh": 0.068,
                                            "power_fee_eur_per_kw_yr": 50.0}},
            "ev_fleets": [
                {"name": "residents", **fleet, "residents": {"vehicles": 4, "seed": 7}},
                {"name": "workplace", **fleet, "workplace": {"vehicles": 3, "seed": 8}},
                {"name": "street", "charger_kw": 11, "capacity_kwh": 60,
                 "public_chargers": {"chargers": 2, "seed": 9}},
            ],
        },
        "solver": {"mip_rel_gap": 1e-6},
    }  # fmt: skip
    path = folder / "district.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _model_start(out: Path) -> dict[tuple[str, str], float]:
    """What night 2's model starts from, rebuilt and solved from its ``inputs/``."""
    import pecopt
    from pecopt.workflows.carry import carried_states
    from pecopt.workflows.solve import read_inputs

    built = pecopt.build(read_inputs(out / "inputs"))
    pecopt.solve(built)
    return {k: float(v[0]) for k, v in carried_states(built.district).items()}


@pytest.mark.parametrize("copies", [1, 9])
def test_the_model_starts_where_last_night_ended(tmp_path: Path, copies: int) -> None:
    scenario = _district(tmp_path, copies)
    state = tmp_path / "state"
    first = dispatch(scenario, tmp_path / "n1", state, day=date(2025, 1, 14))
    second = dispatch(scenario, tmp_path / "n2", state, day=date(2025, 1, 15))
    assert first.exit_code == second.exit_code == 0, second.flags
    assert second.start["source"] == "exact"

    with StateStore(state) as store:
        left = {
            (t.asset, t.quantity): t.at(second.window.start)
            for t in store.trajectories(first.run_id)
        }
    recorded = json.loads((tmp_path / "n2" / "manifest.json").read_text())["dispatch"]
    model = {(a, q): v for a, qs in recorded["start_state"]["model"].items() for q, v in qs.items()}
    rebuilt = _model_start(tmp_path / "n2")

    carried = {k for k in left if k[1] not in GIVEN}
    # every stateful technology is in this district, so a new one is tested here too
    kinds = {q.split(".")[0] for _, q in carried}
    assert {"soc_kwh", "on", "hours_in_state", "billing_peak_kw", "ground_kwh_ytd"} <= kinds
    stateful = {key for key, t in TECHNOLOGIES.items() if t.start is not None}
    assert stateful == {"batteries", "thermal_stores", "heat_pumps", "district_heating",
                        "ev_fleets", "grid"}  # fmt: skip
    assert ("grid", "billing_peak_kw.2025-01") in carried
    evs = [k for k in carried if k[0].startswith(("residents/", "workplace/"))]
    assert len(evs) == 7
    # a fleet's vehicle row holds `copies` cars: a level above one car's battery is real
    top = max(left[k] for k in evs)
    assert top is not None and (copies == 1 or top > 60.0)
    for key in sorted(carried):
        want = left[key]
        assert want is not None, key
        assert model[key] == pytest.approx(want, abs=1e-6), key
        assert rebuilt[key] == pytest.approx(want, abs=1e-6), key
    # what the night was given to start from is what its model started from
    given = recorded["start_state"]["state"]
    for (asset, quantity), v in model.items():
        if quantity in given.get(asset, {}):
            assert given[asset][quantity] == pytest.approx(v, abs=1e-6), (asset, quantity)
    assert not [f for f in second.flags if f.code == "state_clipped"]


def test_a_fleet_that_changes_its_copies_keeps_each_cars_energy(tmp_path: Path) -> None:
    """The store keeps a vehicle row's energy over its copies and how many they were: with
    9 copies one night and 3 the next, each car starts with what it had."""
    state = tmp_path / "state"
    first = dispatch(_district(tmp_path, 9), tmp_path / "n1", state, day=date(2025, 1, 14))
    with StateStore(state) as store:
        trajs = store.trajectories(first.run_id)
    boundary = first.window.end
    per_car = {
        t.asset: (t.at(boundary) or 0.0) / 9.0
        for t in trajs
        if t.quantity == "soc_kwh" and t.asset.startswith("residents/")
    }
    second = dispatch(_district(tmp_path, 3), tmp_path / "n2", state, day=date(2025, 1, 15))
    assert boundary == second.window.start
    got = second.start["model"]
    for asset, e in per_car.items():
        assert got[asset]["soc_kwh"] == pytest.approx(3.0 * e, abs=1e-6), asset
    assert np.isfinite(list(per_car.values())).all() and max(per_car.values()) <= 60.0


@pytest.mark.parametrize("copies", [1, 4])
def test_a_session_across_midnight_gets_its_whole_wish_over_two_nights(
    tmp_path: Path, copies: int
) -> None:
    """A street-charging session from 20:00 to 07:00 local (11 h) wanting 40 kWh per car
    at 5 kW (at most 31.5 kWh fit after midnight): night 1 plans it whole (its 24 h
    look-ahead covers it) and delivers part of it by midnight; night 2 starts from what
    the car received (``session_kwh``, read back from night 2's model) and asks for the
    rest, not for the pro-rata share of its 7 h after midnight (25.45 kWh): over the two
    delivery days the car gets exactly its 40 kWh (and the 10 kWh of a second session)."""
    doc = yaml.safe_load(_district(tmp_path, 1).read_text())
    (tmp_path / "sessions.csv").write_text(
        "vehicle,arrival,departure,energy_kwh\n"
        "pole1,2025-01-14T20:00,2025-01-15T07:00,40\n"
        "pole1,2025-01-15T18:00,2025-01-15T21:00,10\n"
    )
    doc["assets"]["ev_fleets"] = [
        {"name": "street", "charger_kw": 5, "capacity_kwh": 60, "efficiency": 0.9,
         "copies": copies, "timezone": TZ, "sessions": "sessions.csv",
         "shortfall_penalty_eur_per_kwh": 5.0},
    ]  # fmt: skip
    scenario = tmp_path / "sessions.yaml"
    scenario.write_text(yaml.safe_dump(doc, sort_keys=False))
    state = tmp_path / "state"
    first = dispatch(scenario, tmp_path / "n1", state, day=date(2025, 1, 14))
    second = dispatch(scenario, tmp_path / "n2", state, day=date(2025, 1, 15))
    assert first.exit_code == second.exit_code == 0, second.flags
    with StateStore(state) as store:
        got = {t.quantity: t for t in store.trajectories(first.run_id) if t.asset == "street/pole1"}
    boundary = got["session_kwh"].at(second.window.start)
    assert boundary is not None and 8.5 * copies - 1e-6 <= boundary < 40.0 * copies
    model = second.start["model"]["street/pole1"]
    assert model["session_kwh"] == pytest.approx(boundary, abs=1e-6)
    assert _model_start(tmp_path / "n2")[("street/pole1", "session_kwh")] == pytest.approx(
        boundary, abs=1e-6
    )

    def stored(out: Path) -> float:
        """Energy the car took in on the delivery day [kWh] (set-points x 0.25 h x eta)."""
        import pandas as pd

        sp = pd.read_parquet(out / "setpoints.parquet")
        return float(-sp.loc[sp["asset"] == "street/pole1", "setpoint_kw"].sum()) * 0.25 * 0.9

    assert stored(tmp_path / "n1") == pytest.approx(boundary, abs=1e-6)
    # 40 kWh across midnight and 10 kWh on the evening of day 2, per car
    total = stored(tmp_path / "n1") + stored(tmp_path / "n2")
    assert total == pytest.approx(50.0 * copies, abs=1e-6)


@pytest.mark.parametrize("reserve", [True, False])
def test_a_workplace_car_leaves_on_friday_with_its_monday_commute(
    tmp_path: Path, reserve: bool
) -> None:
    """Friday 17 January 2025 with a 24-hour look-ahead: the horizon ends on Saturday
    night, the workplace cars are away until Monday morning and drive to work before they
    plug in again. The plan keeps that commute in each car (``ev_fleets_reserve``, from
    the fleet drawn past the horizon); without ``dispatch.ev_reserve`` nothing values
    energy left in a car at the end and, starting empty, they charge at work just for the
    drive home and end empty (the Monday shortfall a year's replay found)."""
    import pandas as pd

    doc = yaml.safe_load(_district(tmp_path, 1).read_text())
    doc["dispatch"]["ev_reserve"] = reserve
    doc["dispatch"]["initial_share"] = 0.0  # the cars start Friday empty
    scenario = tmp_path / "friday.yaml"
    scenario.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = dispatch(scenario, tmp_path / "fri", tmp_path / "state", day=date(2025, 1, 17))
    assert run.exit_code == 0, run.flags
    need = pd.read_parquet(tmp_path / "fri" / "inputs" / "ev_fleets_reserve.parquet")
    need = need[need["fleet"] == "workplace"].set_index("vehicle")["reserve_kwh"]
    assert len(need) == 3 and (need > 0).all()  # Monday's commute, before work
    st = pd.read_parquet(tmp_path / "fri" / "storage.parquet")
    end = st[pd.DatetimeIndex(st["timestamp"]) == pd.DatetimeIndex(st["timestamp"]).max()]
    left = end.set_index("asset")["soc_kwh"]
    for vehicle, kwh in need.items():
        got = left[f"workplace/{vehicle}"]
        if reserve:
            assert got >= min(kwh, 60.0) - 1e-6, vehicle
        else:
            assert got <= 1e-6, vehicle


def test_a_borehole_cap_left_for_later_has_a_value(tmp_path: Path) -> None:
    """On the year so far, each kWh taken from the ground costs ``ground_value_eur_per_kwh``
    (what the annual cap left is worth later, not money): at 0.5 EUR/kWh, dearer than the
    heat it replaces, a June night (district heat without a power fee) takes none where
    it takes ground heat at 0; the item is 0.5 EUR per kWh taken, and a replay does not
    bill it as money."""
    import pandas as pd

    def ground_kwh(value: float) -> tuple[float, dict]:
        doc = yaml.safe_load(_district(tmp_path, 1).read_text())
        doc["assets"]["heat_pumps"][0]["borehole"]["ground_value_eur_per_kwh"] = value
        doc["assets"]["heat_pumps"][0].update(min_part_load=0.0, min_on_h=0.0, min_off_h=0.0)
        doc["assets"]["district_heating"]["tariff"]["power_fee_eur_per_kw_yr"] = 0.0
        path = tmp_path / f"g{value}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        out = tmp_path / f"out{value}"
        run = dispatch(path, out, tmp_path / f"state{value}", day=date(2025, 6, 16))
        assert run.exit_code == 0, run.flags
        s = pd.read_parquet(out / "schedule.parquet")
        g = s[s["asset"] == "gshp"].groupby("carrier")["flow_kw"].sum()
        items = json.loads((out / "kpis.json").read_text())["cost_eur"]["items"]
        return float(g.drop("electricity").sum() + g["electricity"]) * 0.25, items

    free, _ = ground_kwh(0.0)
    dear, items = ground_kwh(0.5)
    assert free > 100.0 and dear == pytest.approx(0.0, abs=1e-6)
    assert items["ground_energy_value"] == pytest.approx(0.5 * dear, rel=1e-6)
    from pecopt.workflows.replay import NOT_MONEY, _money

    assert "ground_energy_value" in NOT_MONEY
    assert _money({"ground_energy_value": 5.0, "dh_energy": 2.0})[0] == 2.0

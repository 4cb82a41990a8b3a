"""The fast table building of extract and KPIs gives exactly what plain pandas gives.

Extract builds its text columns in Arrow from integer codes and the KPIs group the
schedule on factor codes; both must give the same tables and the same numbers, to the
last bit, as the straightforward pandas code they replace (kept here as the reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pecopt.api import build, solve
from pecopt.results.extract import _obj_array
from pecopt.results.kpis import Groups, energy_by_asset, energy_by_role, peaks, self_use
from pecopt.testing import tiny_inputs


def _solved():
    n = 24
    t = np.arange(n)
    inputs = tiny_inputs(
        n,
        elec_kw=4 + 2 * np.sin(t / 4),
        heat_kw=6 + 3 * np.cos(t / 5),
        spot=0.05 + 0.1 * (t % 24 >= 16) - 0.08 * (t % 24 == 12),
        pv_kw=np.maximum(0, 9 * np.sin((t - 6) / 12 * np.pi)),
        grid_co2=0.1,
        dh_co2=0.05,
        grid={"import_max_kw": 60, "export_max_kw": 30},
        district_heating={"import_max_kw": 40},
        assets={
            "batteries": [{"name": "bat", "capacity_kwh": 20, "power_kw": 8}],
            "thermal_stores": [{"name": "tank", "capacity_kwh": 30, "power_kw": 10}],
            "heat_pumps": [
                {"name": "hp", "capacity_kw_el": 4, "source": "series", "cop_series": 3.0}
            ],
        },
        ev_fleets=(
            (
                {"name": "ev", "charger_kw": 7, "capacity_kwh": 40, "end": "cyclic"},
                [[1] * 8 + [0] * 8 + [1] * 8, [1] * 6 + [0] * 12 + [1] * 6],
                [
                    [0] * 8 + [4] + [0] * 6 + [4] + [0] * 8,
                    [0] * 6 + [3] + [0] * 10 + [3] * 1 + [0] * 6,
                ],
            ),
        ),
    )
    return solve(build(inputs))


def test_text_columns_are_what_pandas_makes_of_python_strings():
    items = ["grid", "ev/car_1", "pv", "grid"]
    got = pd.DataFrame({"asset": _obj_array(items, 3), "x": np.arange(12.0)})
    want = pd.DataFrame(
        {"asset": np.repeat(np.asarray(items, dtype=object), 3), "x": np.arange(12.0)}
    )
    pd.testing.assert_frame_equal(got, want)
    assert got["asset"].dtype == want["asset"].dtype
    empty = pd.DataFrame({"asset": _obj_array([], 3), "x": np.zeros(0)})
    pd.testing.assert_frame_equal(
        empty, pd.DataFrame({"asset": np.repeat(np.asarray([], dtype=object), 3), "x": np.zeros(0)})
    )


def _reference_by_role(schedule, dt_h):
    e = schedule.assign(kwh=schedule["flow_kw"] * dt_h)
    out = {}
    for (carrier, role), grp in e.groupby(["carrier", "role"], sort=True):
        kwh = grp["kwh"].to_numpy()
        out.setdefault(str(carrier), {})[str(role)] = {
            "supply": float(np.maximum(kwh, 0).sum()),
            "draw": float(-np.minimum(kwh, 0).sum()),
        }
    return out


def _reference_by_asset(schedule, dt_h):
    e = schedule.assign(kwh=schedule["flow_kw"] * dt_h)
    out = {}
    for (asset, carrier, role), grp in e.groupby(["asset", "carrier", "role"], sort=True):
        out.setdefault(str(asset), {})[f"{carrier}_{role}_kwh"] = float(grp["kwh"].sum())
    return out


def _reference_peaks(schedule):
    rows = schedule[schedule["role"] == "import"]
    return {str(a): float(g["flow_kw"].max()) for a, g in rows.groupby("asset", sort=True)}


def test_kpi_groups_give_the_numbers_of_pandas_groupby_bit_for_bit():
    sol = _solved()
    sched = sol.results.schedule
    # a shuffled copy too: groups must follow key order, rows their order in the table
    shuffled = sched.sample(frac=1.0, random_state=3).reset_index(drop=True)
    for s in (sched, shuffled):
        assert energy_by_role(s, 1.0) == _reference_by_role(s, 1.0)
        assert energy_by_asset(s, 0.25) == _reference_by_asset(s, 0.25)
        assert peaks(s) == _reference_peaks(s)
        assert self_use(s, 1.0) == self_use(s, 1.0, _reference_by_role(s, 1.0))
    assert list(sol.kpis["energy_kwh"]) == sorted(sol.kpis["energy_kwh"])
    assert sol.kpis["energy_by_asset_kwh"] == _reference_by_asset(sched, 1.0)


def test_groups_skip_missing_keys_like_groupby():
    df = pd.DataFrame(
        {
            "asset": pd.array(["b", None, "a", "b"], dtype="str"),
            "role": pd.array(["import", "import", "export", "import"], dtype="str"),
        }
    )
    got = [(k, rows.tolist()) for k, rows in Groups(df)(("asset", "role"))]
    assert got == [(("a", "export"), [2]), (("b", "import"), [0, 3])]


def test_one_table_of_key_figures_names_labels_and_finds_investment() -> None:
    from pecopt.report.data import HEADLINE, get
    from pecopt.results.summary import flat_kpis
    from pecopt.units import KPIS, label_of, unit_of
    from pecopt.workflows.sweep_query import HEADLINE_KPIS

    kpis = {"cost_eur": {"total": 1000.0, "items": {"investment": 256.5, "dh_energy": 743.5}}}
    row = flat_kpis(kpis)
    assert row["investment_eur"] == 256.5  # the design report showed "investment n/a"
    inv = next(k for k in KPIS if k.name == "investment_eur")
    assert get(kpis, inv.path) == 256.5
    assert [h[0] for h in HEADLINE] == [k.name for k in KPIS]  # the report reads the table
    assert set(HEADLINE_KPIS) < {k.name for k in KPIS}  # so does a sweep's view
    assert label_of("cost_total_eur") == "total cost" and label_of("a_b") == "a b"
    assert (unit_of("capacity_gshp_power_kw_el"), unit_of("self_sufficiency")) == ("kW el", "1")
    assert unit_of("pv_ac_kw_per_kwp") == "kW/kWp"

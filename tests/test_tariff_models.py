"""Tiny models of the distribution power fee, VAT by component and carrier, the
district-heat reserve fee and billing memory, and spot files at 15 min and 1 h through
the grid's ingest; optima worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pecopt.model.blocks.grid import ElectricityTariff
from pecopt.model.core import build_model
from pecopt.results.extract import extract
from pecopt.solver import solve
from pecopt.testing import assert_balanced, inputs_of, tiny_scenario

TOL = 1e-6
# 31 Jan 22:00 local (EET) = 20:00 UTC: two hours of January, then two of February
MONTH_EDGE = pd.Timestamp("2025-01-31T20:00:00+00:00")


def run(scenario):
    inputs = inputs_of(scenario)
    dm = build_model(inputs)
    out = solve(dm.model, inputs.common.solver)
    res = extract(dm)
    assert_balanced(res.schedule)
    assert sum(res.cost_items_eur.values()) == pytest.approx(out.objective, abs=TOL)
    return dm, out, res


def grid_import(res):
    s = res.schedule
    sel = s[(s.asset == "grid") & (s.role == "import")]
    return sel.sort_values("timestamp")["flow_kw"].to_numpy()


BATTERY = dict(
    name="b",
    capacity_kwh=8,
    power_kw=8,
    eta_charge=1.0,
    eta_discharge=1.0,
    soc_initial_kwh=0.0,
    end="free",
)


def fee_scenario(*, battery: bool, network: dict, **tariff):
    s = tiny_scenario(
        4,
        elec_kw=[10.0, 2.0, 2.0, 10.0],
        spot=0.1,
        start=MONTH_EDGE,
        assets={"batteries": [BATTERY]} if battery else None,
    )
    s["assets"]["grid"]["tariff"].update(network=network, **tariff)
    return s


def test_monthly_power_fee_without_a_battery():
    # Peaks: January 10 kW (hour 0), February 10 kW (hour 3). Fee 10 EUR/kW/month on
    # 2/744 of January and 2/672 of February: 10 (20/744 + 20/672) = 0.566436 EUR.
    # Energy 24 kWh at 0.1 = 2.4 EUR.
    dm, out, res = run(fee_scenario(battery=False, network={"power_fee_eur_per_kw_month": 10.0}))
    fee = 10 * (20 / 744 + 20 / 672)
    assert res.cost_items_eur["electricity_power_fee"] == pytest.approx(fee, abs=TOL)
    assert out.objective == pytest.approx(2.4 + fee, abs=TOL)
    assert res.figures["grid.billing_peak_kw.2025-01"] == pytest.approx(10.0)
    assert res.figures["grid.billing_peak_kw.2025-02"] == pytest.approx(10.0)


def test_battery_shaves_the_february_peak_with_energy_from_january():
    # January's peak (10 kW in hour 0) cannot be shaved: the battery starts empty. But
    # charging 8 kWh in hour 1 keeps January at 10 kW (2 + 8), for free, and those 8 kWh
    # cover hour 3: February imports 2 and 2 kW. Energy is unchanged (lossless, flat spot).
    # Cost = 2.4 + 10 (2/744 x 10 + 2/672 x 2) = 2.4 + 0.268817 + 0.059524.
    dm, out, res = run(fee_scenario(battery=True, network={"power_fee_eur_per_kw_month": 10.0}))
    assert out.objective == pytest.approx(2.4 + 10 * (20 / 744 + 4 / 672), abs=TOL)
    np.testing.assert_allclose(grid_import(res), [10.0, 10.0, 2.0, 2.0], atol=TOL)
    peaks = dm.model.grid.peak
    assert [peaks[0].value, peaks[1].value] == pytest.approx([10.0, 2.0], abs=TOL)


def test_vat_by_component_and_basic_fee():
    # Spot 0.1 + margin 0.01 with energy VAT 10 %; network 0.02 and tax class I (2025:
    # 0.02253) with network VAT 25.5 %; power fee as above (battery: 10 and 2 kW peaks);
    # basic fee 100 EUR/month on 2/744 + 2/672 months.
    network = {
        "default_eur_per_kwh": 0.02,
        "power_fee_eur_per_kw_month": 10.0,
        "basic_fee_eur_per_month": 100.0,
    }
    s = fee_scenario(
        battery=True,
        network=network,
        retail_margin_eur_per_kwh=0.01,
        tax_class="I",
        vat_energy=0.10,
        vat_network=0.255,
    )
    dm, out, res = run(s)
    c = res.cost_items_eur
    power = 10 * (20 / 744 + 4 / 672)
    basic = 100 * (2 / 744 + 2 / 672)
    assert c["electricity_spot"] == pytest.approx(2.4, abs=TOL)
    assert c["electricity_margin"] == pytest.approx(0.24, abs=TOL)
    assert c["electricity_network"] == pytest.approx(0.48, abs=TOL)
    assert c["electricity_tax"] == pytest.approx(24 * 0.02253, abs=TOL)
    assert c["electricity_power_fee"] == pytest.approx(power, abs=TOL)
    assert c["electricity_basic_fee"] == pytest.approx(basic, abs=TOL)
    assert c["electricity_vat_energy"] == pytest.approx(0.10 * (2.4 + 0.24), abs=TOL)
    vat_n = 0.255 * (0.48 + 24 * 0.02253 + power + basic)
    assert c["electricity_vat_network"] == pytest.approx(vat_n, abs=TOL)
    assert out.objective == pytest.approx(2.64 * 1.10 + (0.48 + 0.54072 + power + basic) * 1.255)


def test_vat_shortcut_sets_both_components():
    t = ElectricityTariff.model_validate({"vat": 0.24})
    assert (t.vat_energy, t.vat_network) == (0.24, 0.24)
    assert ElectricityTariff.model_validate({"vat_energy": 0.1}).vat_network == 0.0
    with pytest.raises(ValidationError, match="not both"):
        ElectricityTariff.model_validate({"vat": 0.24, "vat_network": 0.24})
    with pytest.raises(ValidationError, match="vat must be a number"):
        ElectricityTariff.model_validate({"vat": 1.5})
    with pytest.raises(ValidationError, match="power_window_h"):
        ElectricityTariff.model_validate({"network": {"power_window_h": 2}})


# ------------------------------------------------------------ consumer view, like with like


def heat_choice(*, vat_el: float, vat_dh: float) -> tuple[float, float]:
    # 1 h, 10 kW heat; an electric boiler (efficiency 1) at 0.10 EUR/kWh ex VAT or district
    # heat at 0.11 EUR/kWh ex VAT. Returns (boiler heat, district heat) [kWh].
    s = tiny_scenario(
        1,
        heat_kw=10.0,
        spot=0.10,
        district_heating={},
        dh_tariff={"energy_eur_per_kwh": 0.11, "vat": vat_dh},
        assets={"electric_boilers": [{"name": "eb", "capacity_kw": 20, "efficiency": 1.0}]},
    )
    s["assets"]["grid"]["tariff"]["vat"] = vat_el
    _, out, res = run(s)
    sched = res.schedule
    dh = sched[(sched.asset == "district_heat")]["flow_kw"].sum()
    eb = sched[(sched.asset == "eb") & (sched.carrier == "hot_water")]["flow_kw"].sum()
    return float(eb), float(dh)


def test_consumer_vat_on_both_carriers_keeps_the_business_choice():
    assert heat_choice(vat_el=0.0, vat_dh=0.0) == pytest.approx((10.0, 0.0))
    # VAT on electricity only: 0.1255 > 0.11, a bookkeeping switch to district heat
    assert heat_choice(vat_el=0.255, vat_dh=0.0) == pytest.approx((0.0, 10.0))
    # like with like: 0.1255 < 0.13805, the boiler again
    assert heat_choice(vat_el=0.255, vat_dh=0.255) == pytest.approx((10.0, 0.0))


# ---------------------------------------------------------------- district-heat fees


def dh_scenario(**tariff):
    # 6 h, heat 60 kW in the last hour; energy 0.05 EUR/kWh; fees per kW-year times
    # years = 6 / 8760, so 1460 EUR/kW/yr is 1.0 EUR per kW over the horizon.
    return tiny_scenario(
        6,
        heat_kw=[0, 0, 0, 0, 0, 60.0],
        district_heating={},
        dh_tariff={"energy_eur_per_kwh": 0.05, "peak_window_h": 3, **tariff},
    )


def test_dh_vat_applies_to_energy_and_power_fee():
    # Usage power 20 kW (60 kWh in the 3-h window 3-5); energy 3.0, power 20.0 EUR;
    # VAT 25.5 % on both: 0.255 x 23 = 5.865 EUR.
    _, out, res = run(dh_scenario(power_fee_eur_per_kw_yr=1460.0, vat=0.255))
    c = res.cost_items_eur
    assert (c["dh_energy"], c["dh_power_fee"]) == pytest.approx((3.0, 20.0), abs=TOL)
    assert c["dh_vat"] == pytest.approx(5.865, abs=TOL)
    assert out.objective == pytest.approx(23.0 * 1.255, abs=TOL)


def test_dh_reserve_fee_on_contracted_minus_usage_power():
    # Contracted 50 kW, usage 20 kW: reserve 30 kW at 730 EUR/kW/yr (0.5 EUR/kW here).
    # Cost = 3.0 + 20 x 1.0 + 30 x 0.5 = 38.0 EUR.
    tariff = dict(
        power_fee_eur_per_kw_yr=1460.0, contracted_kw=50.0, reserve_fee_eur_per_kw_yr=730.0
    )
    _, out, res = run(dh_scenario(**tariff))
    assert res.cost_items_eur["dh_reserve_fee"] == pytest.approx(15.0, abs=TOL)
    assert out.objective == pytest.approx(38.0, abs=TOL)
    # usage above the contract: no reserve
    _, out, res = run(dh_scenario(**{**tariff, "contracted_kw": 10.0}))
    assert res.cost_items_eur["dh_reserve_fee"] == pytest.approx(0.0, abs=TOL)
    assert out.objective == pytest.approx(23.0, abs=TOL)


def peak_choice(**tariff) -> tuple[float, float, float]:
    # dh_scenario's 60 kWh in the last hour, and an electric boiler at spot 0.30 EUR/kWh.
    # District heat costs 0.05 EUR/kWh plus the usage fee on a third of it (the 3-h mean),
    # less the reserve fee it then no longer pays: per kWh 0.05 + (1.0 - 0.5) / 3 = 0.2167
    # with the reserve fee, 0.05 + 1.0 / 3 = 0.3833 without. Returns (boiler heat, district
    # heat, objective).
    s = tiny_scenario(
        6,
        heat_kw=[0, 0, 0, 0, 0, 60.0],
        spot=0.30,
        district_heating={},
        dh_tariff={
            "energy_eur_per_kwh": 0.05,
            "peak_window_h": 3,
            "power_fee_eur_per_kw_yr": 1460.0,
            **tariff,
        },  # fmt: skip
        assets={"electric_boilers": [{"name": "eb", "capacity_kw": 100, "efficiency": 1.0}]},
    )
    _, out, res = run(s)
    sched = res.schedule
    dh = sched[(sched.asset == "district_heat")]["flow_kw"].sum()
    eb = sched[(sched.asset == "eb") & (sched.carrier == "hot_water")]["flow_kw"].sum()
    return float(eb), float(dh), out.objective


def test_dh_reserve_fee_lowers_the_price_of_usage_power():
    # Without a contract the boiler (0.30) beats district heat (0.3833): 60 x 0.30 = 18.0.
    assert peak_choice() == pytest.approx((60.0, 0.0, 18.0), abs=TOL)
    # Contracted 50 kW at 730 EUR/kW/yr (0.5 EUR/kW here): each kW of usage power now
    # costs 1.0 - 0.5, district heat (0.2167) beats the boiler: 3.0 + 20 x 1.0 +
    # (50 - 20) x 0.5 = 38.0 EUR (the boiler instead: 18.0 + 50 x 0.5 = 43.0).
    got = peak_choice(contracted_kw=50.0, reserve_fee_eur_per_kw_yr=730.0)
    assert got == pytest.approx((0.0, 60.0, 38.0), abs=TOL)


def test_dh_previous_peak_in_the_billing_memory_is_the_floor():
    # A 36-month memory already holds 35 kW: the horizon's 20 kW changes nothing, the fee
    # is on 35 kW: 3.0 + 35.0 = 38.0 EUR; the figure reports the horizon's own 20 kW.
    dm, out, res = run(dh_scenario(power_fee_eur_per_kw_yr=1460.0, previous_peak_kw=35.0))
    assert out.objective == pytest.approx(38.0, abs=TOL)
    assert res.figures["district_heat.billing_peak_kw"] == pytest.approx(20.0)


def test_reserve_fee_needs_contracted_power():
    with pytest.raises(ValidationError, match="needs contracted_kw"):
        inputs_of(dh_scenario(reserve_fee_eur_per_kw_yr=10.0))


# --------------------------------------------------------- spot files, 15 min and 1 h


def spot_file(tmp_path: Path, freq: str, values: list[float]) -> Path:
    times = pd.date_range("2025-10-01T00:00Z", periods=len(values), freq=freq)
    path = tmp_path / f"spot_{freq}.csv"
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%MZ"), "spot": values}).to_csv(
        path, index=False
    )
    return path


def grid_spot(tmp_path: Path, path: Path, n: int, dt_h: float) -> np.ndarray:
    s = tiny_scenario(n, dt_h=dt_h, start=pd.Timestamp("2025-10-01T00:00Z"))
    s["assets"]["grid"]["tariff"]["spot"] = {"source": "file", "path": str(path)}
    return inputs_of(s).data["grid"].spot


def test_hourly_spot_file_holds_within_the_hour_on_a_15_min_horizon(tmp_path):
    path = spot_file(tmp_path, "1h", [40.0, -8.0])
    got = grid_spot(tmp_path, path, 8, 0.25)
    np.testing.assert_allclose(got, [0.040] * 4 + [-0.008] * 4)


def test_15_min_spot_file_is_averaged_on_an_hourly_horizon(tmp_path):
    path = spot_file(tmp_path, "15min", [40.0, 44.0, 36.0, 60.0, -8.0, -4.0, 0.0, 4.0])
    got = grid_spot(tmp_path, path, 2, 1.0)
    np.testing.assert_allclose(got, [0.045, -0.002])
    same = grid_spot(tmp_path, path, 8, 0.25)
    np.testing.assert_allclose(same, [0.040, 0.044, 0.036, 0.060, -0.008, -0.004, 0.0, 0.004])

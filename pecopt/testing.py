"""Helpers for tests: tiny districts built straight from arrays, and assertions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pecopt.inputs import DistrictInputs, ElectricityPrices, EVInputs, HeatPumpInputs, PVInputs
from pecopt.scenario import schema as s


def tiny_inputs(
    n: int,
    *,
    dt_h: float = 1.0,
    elec_kw: Any = 0.0,
    heat_kw: Any = 0.0,
    spot: Any = 0.1,
    export: Any | None = None,
    pv_kw: Any | None = None,
    dh_price: Any = 0.05,
    grid_co2: Any = 0.0,
    dh_co2: Any = 0.0,
    grid: s.Grid | None = None,
    batteries: tuple[s.Battery, ...] = (),
    heat_pumps: tuple[tuple[s.HeatPump, Any], ...] = (),
    boilers: tuple[s.ElectricBoiler, ...] = (),
    thermal_stores: tuple[s.ThermalStore, ...] = (),
    district_heating: s.DistrictHeating | None = None,
    dh_tariff: s.DistrictHeatTariff | None = None,
    ev_fleets: tuple[EVInputs, ...] = (),
    objective: s.Objective | None = None,
    solver: s.SolverOptions | None = None,
    carbon: s.Carbon | None = None,
) -> DistrictInputs:
    """A district with ``n`` steps from plain numbers or arrays (broadcast to ``n``)."""

    def arr(x: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

    index = pd.date_range("2025-01-06", periods=n, freq=pd.Timedelta(hours=dt_h), tz="UTC")
    spot_a = arr(spot)
    pv = (
        PVInputs(("pv",), arr(pv_kw)[None, :])
        if pv_kw is not None
        else PVInputs((), np.zeros((0, n)))
    )
    prices = ElectricityPrices(
        spot=spot_a,
        retail_margin=arr(0.0),
        network=arr(0.0),
        tax=arr(0.0),
        vat=0.0,
        export=arr(spot_a if export is None else export),
    )
    return DistrictInputs(
        name="tiny",
        index=index,
        dt_h=dt_h,
        timezone="Europe/Helsinki",
        elec_demand_kw=arr(elec_kw),
        heat_demand_kw=arr(heat_kw),
        pv=pv,
        prices=prices,
        dh_price_eur_per_kwh=arr(dh_price),
        grid_co2_kg_per_kwh=arr(grid_co2),
        dh_co2_kg_per_kwh=arr(dh_co2),
        grid=grid or s.Grid(),
        batteries=batteries,
        heat_pumps=tuple(HeatPumpInputs(h, arr(c)) for h, c in heat_pumps),
        boilers=boilers,
        thermal_stores=thermal_stores,
        district_heating=district_heating,
        dh_tariff=dh_tariff or s.DistrictHeatTariff(energy_eur_per_kwh=0.05),
        ev_fleets=ev_fleets,
        carbon=carbon or s.Carbon(export_credit=False),
        ped=s.PED(),
        objective=objective or s.Objective(),
        solver=solver or s.SolverOptions(),
    )


def ev_availability(spec: s.EVFleet, plugged: Any, drive_kwh: Any) -> EVInputs:
    """An EV fleet from ``(vehicles, steps)`` arrays of plug state and driving energy."""
    p = np.atleast_2d(np.asarray(plugged, dtype=bool))
    d = np.atleast_2d(np.asarray(drive_kwh, dtype=float))
    names = tuple(f"v{i}" for i in range(p.shape[0]))
    initial = None
    if spec.soc_initial_kwh is not None or spec.initial_energy_kwh:
        initial = np.array(
            [spec.initial_energy_kwh.get(v, spec.soc_initial_kwh or 0.0) for v in names]
        )
    return EVInputs(spec, names, p, d, "availability", initial_kwh=initial)


def assert_balanced(schedule: pd.DataFrame, rtol: float = 1e-6) -> None:
    """Every (timestamp, carrier) sums to zero within ``rtol`` of the largest flow."""
    sums = schedule.groupby(["timestamp", "carrier"])["flow_kw"].sum()
    scale = max(1.0, float(schedule["flow_kw"].abs().max()))
    worst = float(sums.abs().max()) if len(sums) else 0.0
    if worst > rtol * scale:
        raise AssertionError(f"bus imbalance {worst:g} kW > {rtol:g} x {scale:g} kW")


def hold_tables(tables: Any, factor: int) -> Any:
    """The same inputs at ``factor`` times finer steps, every value held within the step.

    Power-like columns are repeated; per-step energies (``drive_kwh``) are split evenly;
    session step ranges are scaled. An hourly run and the held 15-minute run
    (``factor=4``) describe the same physical data.
    """
    from dataclasses import replace as dc_replace

    def hold(df: pd.DataFrame) -> pd.DataFrame:
        if df.empty or "timestamp" not in df.columns:
            return df
        ts = pd.DatetimeIndex(df["timestamp"])
        step = pd.Series(ts).diff().dropna()
        step_td = step[step > pd.Timedelta(0)].min()
        sub = step_td / factor
        out = df.loc[df.index.repeat(factor)].reset_index(drop=True)
        k = np.tile(np.arange(factor), len(df))
        out["timestamp"] = pd.DatetimeIndex(out["timestamp"]) + k * sub
        if "drive_kwh" in out.columns:
            out["drive_kwh"] = out["drive_kwh"] / factor
        return out

    sessions = tables.ev_sessions.copy()
    if not sessions.empty:
        sessions["first_step"] = sessions["first_step"] * factor
        sessions["last_step"] = sessions["last_step"] * factor + factor - 1
    return dc_replace(
        tables,
        weather=hold(tables.weather),
        loads=hold(tables.loads),
        pv=hold(tables.pv),
        prices=hold(tables.prices),
        cop=hold(tables.cop),
        ev=hold(tables.ev),
        ev_sessions=sessions,
    )

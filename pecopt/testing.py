"""Helpers for tests: tiny districts from plain numbers, and assertions.

:func:`tiny_scenario` writes a scenario as a dict whose series are inline lists (one
value per step), so a tiny test goes through the same validation, ingest and model as
any scenario; :func:`tiny_inputs` returns its frozen inputs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel

from pecopt.inputs import DistrictInputs

START = pd.Timestamp("2025-01-06T00:00:00+00:00")


def _dump(x: Any) -> Any:
    return x.model_dump(exclude_unset=True) if isinstance(x, BaseModel) else x


def tiny_scenario(
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
    grid: Mapping[str, Any] | BaseModel | None = None,
    assets: Mapping[str, Any] | None = None,
    district_heating: Mapping[str, Any] | BaseModel | None = None,
    dh_tariff: Mapping[str, Any] | BaseModel | None = None,
    objective: Mapping[str, Any] | BaseModel | None = None,
    solver: Mapping[str, Any] | BaseModel | None = None,
    carbon: Mapping[str, Any] | BaseModel | None = None,
    start: pd.Timestamp = START,
    timezone: str = "Europe/Helsinki",
) -> dict[str, Any]:
    """A scenario dict with ``n`` steps from 2025-01-06 00:00 UTC: demand, spot price,
    export price, PV, district-heat price and emission factors as numbers or arrays
    (broadcast to ``n``); ``assets`` adds any other technology by its key
    (``{"batteries": [{...}], "heat_pumps": [...]}``, records as dicts or models)."""

    def arr(x: Any) -> list[float]:
        return [float(v) for v in np.broadcast_to(np.asarray(x, dtype=float), (n,))]

    step = pd.Timedelta(hours=dt_h)
    end = start + n * step
    tariff: dict[str, Any] = {
        "spot": {"source": "series", "series": arr(spot)},
        "tax_class": "none",
        "export_price": arr(spot if export is None else export),
    }
    g = {"tariff": tariff, "co2": {"series": arr(grid_co2)}, **(_dump(grid) or {})}
    a: dict[str, Any] = {"grid": g}
    if pv_kw is not None:
        a["pv_series"] = [{"name": "pv", "series": arr(pv_kw)}]
    if district_heating is not None:
        dh = dict(_dump(district_heating))
        dh.setdefault("tariff", _dump(dh_tariff) or {"price_series": arr(dh_price)})
        dh.setdefault("co2", {"series": arr(dh_co2)})
        a["district_heating"] = dh
    for key, value in (assets or {}).items():
        a[key] = [_dump(v) for v in value] if isinstance(value, list | tuple) else _dump(value)
    out: dict[str, Any] = {
        "site": {"name": "tiny", "timezone": timezone},
        "horizon": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "resolution": "1h" if dt_h == 1.0 else "15min",
        },
        "demand": {"elec": arr(elec_kw), "heat": arr(heat_kw)},
        "assets": a,
        "carbon": _dump(carbon) or {"export_credit": False},
    }
    if objective is not None:
        out["objective"] = _dump(objective)
    if solver is not None:
        out["solver"] = _dump(solver)
    return out


def tiny_milp(mip_start: str = "lp_rounding") -> dict[str, Any]:
    """A 24-hour MILP whose LP-guided start finds a plan: heat demand swinging between 2 and
    14 kW, a 4 kW(el) heat pump with COP 3 and a 30 % minimum load, district heat dearer
    than heat-pump heat, a small tank, and a battery, with exclusivity binaries at every
    step (``binaries: always``) and ``mip_rel_gap`` 0."""
    n = 24
    heat = 8 + 6 * np.sin(np.arange(n) / n * 2 * np.pi)
    spot = 0.05 + 0.1 * (np.arange(n) >= 16)
    return heat_pump_milp(n, heat, spot, min_part_load=0.3, tank_kwh=20, mip_start=mip_start)


def heat_pump_milp(
    n: int,
    heat_kw: Any,
    spot: Any,
    *,
    min_part_load: float,
    tank_kwh: float,
    mip_start: str = "lp_rounding",
) -> dict[str, Any]:
    """A MILP scenario of ``n`` hours: 5 kW of electricity and ``heat_kw`` of heat, a
    4 kW(el) heat pump (COP 3) with a minimum part load, a space-heat tank of ``tank_kwh``
    (10 kW), a 10 kWh / 5 kW battery, district heat at 9 c/kWh, a 50 kW grid, exclusivity
    binaries at every step and ``mip_rel_gap`` 0."""
    return tiny_scenario(
        n,
        heat_kw=heat_kw,
        elec_kw=5.0,
        spot=spot,
        dh_price=0.09,
        grid={"import_max_kw": 50, "export_max_kw": 50},
        assets={
            "heat_pumps": [
                {
                    "name": "hp",
                    "capacity_kw_el": 4.0,
                    "min_part_load": min_part_load,
                    "source": "series",
                    "cop_series": 3.0,
                }
            ],
            "thermal_stores": [
                {"name": "tank", "carrier": "space_heat", "capacity_kwh": tank_kwh, "power_kw": 10}
            ],
            "batteries": [{"name": "bat", "capacity_kwh": 10, "power_kw": 5}],
        },  # fmt: skip
        district_heating={"import_max_kw": 50},
        solver={"binaries": "always", "mip_start": mip_start, "mip_rel_gap": 0.0},
    )


def ev_fleet(
    spec: Mapping[str, Any] | BaseModel,
    plugged: Any,
    drive_kwh: Any,
    folder: Path,
    start: pd.Timestamp = START,
    dt_h: float = 1.0,
) -> dict[str, Any]:
    """An EV fleet record whose availability file (``(vehicles, steps)`` arrays of plug
    state and driving energy, vehicles ``v0, v1, ...``) is written into ``folder``."""
    p = np.atleast_2d(np.asarray(plugged, dtype=bool))
    d = np.atleast_2d(np.asarray(drive_kwh, dtype=float))
    nv, n = p.shape
    times = pd.date_range(start, periods=n, freq=pd.Timedelta(hours=dt_h))
    rec = dict(_dump(spec))
    path = folder / f"ev_{rec.get('name', 'ev')}.csv"
    pd.DataFrame(
        {
            "timestamp": np.tile(times.strftime("%Y-%m-%dT%H:%M:%SZ"), nv),
            "vehicle": np.repeat([f"v{i}" for i in range(nv)], n),
            "plugged": p.ravel(),
            "drive_kwh": d.ravel(),
        }
    ).to_csv(path, index=False)
    rec.pop("synthetic", None)
    rec["availability"] = str(path)
    return rec


def inputs_of(
    scenario: Mapping[str, Any], file: str | None = None, weather: pd.DataFrame | None = None
) -> DistrictInputs:
    """Validate a scenario dict, ingest it (with ``weather`` instead of its weather source,
    if given) and return its inputs."""
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.scenario.schema import Scenario

    s = Scenario.model_validate(scenario)
    return to_inputs(s, ingest(s, file, weather=weather), file)


def constant_weather(n: int, temp_air_c: float, start: pd.Timestamp = START) -> pd.DataFrame:
    """Dark, calm weather at a constant air temperature on ``n`` hourly steps."""
    index = pd.date_range(start, periods=n, freq="1h")
    return pd.DataFrame(
        {"ghi_w_m2": 0.0, "dni_w_m2": 0.0, "dhi_w_m2": 0.0, "temp_air_c": temp_air_c,
         "wind_speed_m_s": 2.0},
        index=index,
    )  # fmt: skip


def tiny_inputs(
    n: int, *, ev_fleets: Sequence[tuple[Any, Any, Any]] = (), **kw: Any
) -> DistrictInputs:
    """The inputs of :func:`tiny_scenario`; ``ev_fleets`` are ``(spec, plugged, drive)``."""
    scenario = tiny_scenario(n, **kw)
    with tempfile.TemporaryDirectory() as tmp:
        if ev_fleets:
            start = pd.Timestamp(scenario["horizon"]["start"])
            dt = kw.get("dt_h", 1.0)
            scenario["assets"]["ev_fleets"] = [
                ev_fleet(spec, p, d, Path(tmp), start, dt) for spec, p, d in ev_fleets
            ]
        return inputs_of(scenario)


def extending(path: Path, base: Path, changes: Mapping[str, Any]) -> Path:
    """Write ``path``: a scenario file that starts from ``base`` (``base:``, an absolute
    path) and changes it as a file with ``base:`` does (sections merge key by key, named
    records by name; see :func:`pecopt.scenario.layouts.load_extending`). For a test that
    needs a file, e.g. for the CLI, of a shipped scenario on another horizon; in Python,
    ``pecopt.load_scenario(base, **changes)`` gives the same scenario. Returns ``path``."""
    doc = {"base": str(Path(base).resolve()), **changes}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def assert_balanced(schedule: pd.DataFrame, rtol: float = 1e-6) -> None:
    """Every (timestamp, carrier) sums to zero within ``rtol`` of the largest flow."""
    sums = schedule.groupby(["timestamp", "carrier"])["flow_kw"].sum()
    scale = max(1.0, float(schedule["flow_kw"].abs().max()))
    worst = float(sums.abs().max()) if len(sums) else 0.0
    if worst > rtol * scale:
        raise AssertionError(f"bus imbalance {worst:g} kW > {rtol:g} x {scale:g} kW")


def hold_tables(tables: Mapping[str, pd.DataFrame], factor: int) -> dict[str, pd.DataFrame]:
    """The same inputs at ``factor`` times finer steps, every value held within the step.

    Power-like columns are repeated; per-step energies (``drive_kwh``) are split evenly;
    session end times move to the last sub-step. An hourly run and the held 15-minute run
    (``factor=4``) describe the same physical data.
    """

    def hold(df: pd.DataFrame) -> pd.DataFrame:
        if df.empty or "timestamp" not in df.columns:
            if "last_utc" in df.columns and not df.empty:
                sub = pd.Timedelta(hours=1) / factor
                return df.assign(last_utc=pd.DatetimeIndex(df["last_utc"]) + (factor - 1) * sub)
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

    return {name: hold(df) for name, df in tables.items()}

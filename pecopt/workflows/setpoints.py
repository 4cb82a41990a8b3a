"""The outputs of a dispatch run: the ``solve`` contract plus the day's set-points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pecopt.scenario.schema import Scenario

__all__ = ["setpoints", "write_outputs"]


def setpoints(plan: Any, start: pd.Timestamp, end: pd.Timestamp, tz: str) -> pd.DataFrame:
    """The day's set-points: one row per step of the delivery window and per (asset,
    carrier) flow that the plan decides (flows with variables), with the asset's level
    where it has one.

    Columns: ``timestamp`` (UTC), ``local_time`` (ISO 8601 with the UTC offset, site
    time), ``asset``, ``carrier``, ``role``, ``setpoint_kw`` (> 0 supplies the bus),
    ``soc_kwh`` (end of step; empty for assets without a level).
    """
    dm = plan.built.district
    results = plan.solution.results
    index = dm.inputs.index
    n = len(index)
    steps = np.flatnonzero(np.asarray((index >= start) & (index < end)))
    flows = [(k, f) for k, f in enumerate(dm.flows) if f.terms]
    flow_kw = results.schedule["flow_kw"].to_numpy(float)
    if flow_kw.size != n * len(dm.flows):  # the schedule is flow by flow, n steps each
        raise AssertionError("unexpected schedule layout")
    levels = results.storage
    soc_of = {
        str(a): levels["soc_kwh"].to_numpy(float)[k * n : (k + 1) * n]
        for k, a in enumerate(pd.unique(levels["asset"].to_numpy(dtype=object)))
    }
    m, rows = steps.size, len(flows)
    soc = np.full((rows, m), np.nan)
    for r, (_, f) in enumerate(flows):
        if f.asset in soc_of:
            soc[r] = soc_of[f.asset][steps]
    local = index[steps].tz_convert(tz).strftime("%Y-%m-%dT%H:%M:%S%z")
    local = [f"{t[:-2]}:{t[-2:]}" for t in local]
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(
                np.tile(index[steps].tz_convert("UTC").tz_localize(None).values, rows)
            ).tz_localize("UTC"),
            "local_time": np.tile(np.asarray(local, dtype=object), rows),
            "asset": np.repeat(np.asarray([f.asset for _, f in flows], dtype=object), m),
            "carrier": np.repeat(np.asarray([f.carrier for _, f in flows], dtype=object), m),
            "role": np.repeat(np.asarray([f.role for _, f in flows], dtype=object), m),
            "setpoint_kw": np.concatenate([flow_kw[k * n + steps] for k, _ in flows])
            if flows
            else np.zeros(0),
            "soc_kwh": soc.ravel(),
        }
    )


def write_outputs(
    plan: Any,
    day_s: Scenario,
    inputs: Any,
    out: Path,
    scenario_file: Path,
    used: list[Path],
    start: pd.Timestamp,
    end: pd.Timestamp,
    tz: str,
    info: dict[str, Any],
    seconds: dict[str, float],
    extra: dict[str, pd.DataFrame] | None = None,
) -> None:
    """The ``solve`` outputs, the set-points, the ``extra`` tables (``NAME.parquet``)
    and the ``dispatch`` block of the manifest, written atomically into ``out``
    (:func:`pecopt.workflows.outputs.atomic_dir`)."""
    from pecopt.ingest.parquet import write_table
    from pecopt.workflows.outputs import MANIFEST, atomic_dir
    from pecopt.workflows.solve import SolveRun, write_results

    run = SolveRun(day_s, inputs, plan.built, plan.solution, seconds)
    with atomic_dir(out, "dispatch", used) as tmp:
        write_results(run, tmp, scenario_file)
        sp = setpoints(plan, start, end, tz)
        write_table(sp, tmp / "setpoints.parquet", f"pecopt dispatch of {scenario_file.name}")
        utc = pd.DatetimeIndex(sp["timestamp"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        rounded = {c: sp[c].round(6) for c in ("setpoint_kw", "soc_kwh")}
        sp.assign(timestamp=utc, **rounded).to_csv(tmp / "setpoints.csv", index=False)
        for name, frame in (extra or {}).items():
            write_table(frame, tmp / f"{name}.parquet", f"pecopt dispatch of {scenario_file.name}")
        manifest = json.loads((tmp / MANIFEST).read_text())
        manifest["dispatch"] = info
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))

"""Scenario-based dispatch benchmark: the extensive form of one night (issue #16).

    python bench/stochastic.py [--members 10] [--hours 48] [--day 2025-03-03]
                               [--noise 0.2] [--spread 0.02] [--out bench/results/stochastic.json]

Kera (``scenarios/kera_replay.yaml``: 15 minutes, every technology, the embedded year) on a
horizon of ``--hours`` from the delivery day's start, one run:

* ``deterministic``: build and solve of the night's model on the point forecast (the
  embedded year itself);
* ``extensive_form``: ``--members`` forecasts (the point forecast and members drawn from
  the ``noisy:SIZE`` error model, seed 1), each member's model built, the
  :func:`pecopt.model.transforms.scenarios` transform (the day-ahead position of the
  first 24 hours and the stores' and EV set-points of the first 24 hours shared), its
  size as HiGHS gets it (rows, columns, nonzeros, integer columns) and its solve;
* ``members_alone``: each member's model solved on its own (what one iteration of a
  decomposition such as progressive hedging costs: M independent solves), in turn and
  on a pool of 2 processes.

The machine's load average and the solves' CPU seconds (``time.process_time``, HiGHS'
threads included) are recorded beside the wall times: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import write_json  # noqa: E402

SCENARIO = HERE.parent / "scenarios" / "kera_replay.yaml"


def _setup(day: str, hours: float) -> tuple[Any, Any, Any, Any]:
    import pandas as pd

    from pecopt.ingest.district import ingest
    from pecopt.scenario import load_scenario
    from pecopt.workflows.dispatch import delivery_window

    base = load_scenario(SCENARIO)
    w = delivery_window(date.fromisoformat(day), base.site.timezone, 0, "15min")
    end = w.start + pd.Timedelta(hours=hours)
    horizon = {"start": w.start.isoformat(), "end": end.isoformat(), "resolution": "15min"}
    s = load_scenario(SCENARIO, {"horizon": horizon})
    return s, ingest(s, str(SCENARIO)), w, end


def _member_solve(args: tuple[str, float, int, float, int]) -> float:
    """Build and solve member ``m`` alone; returns its solve seconds (wall)."""
    day, hours, count, noise, m = args
    s, tables, w, end = _setup(day, hours)
    tables_m = _members(tables, w, end, count, noise)[m]
    from pecopt.api import build, solve
    from pecopt.ingest.district import to_inputs

    built = build(to_inputs(s, tables_m, str(SCENARIO)))
    t0 = time.perf_counter()
    solve(built, kpis=False)
    return time.perf_counter() - t0


def _members(tables: Any, w: Any, end: Any, count: int, noise: float) -> list[Any]:
    import pandas as pd

    from pecopt.ingest.forecasts import members

    return members(tables, count, noise, start=w.start, end=w.end, horizon_end=end,
                   day=w.day, step=pd.Timedelta("15min"), tz=w.tz, seed=1)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--hours", type=float, default=48.0)
    ap.add_argument("--day", default="2025-03-03")
    ap.add_argument("--noise", type=float, default=0.2)
    ap.add_argument("--spread", type=float, default=0.02)
    ap.add_argument("--out", default=str(HERE / "results" / "stochastic.json"))
    a = ap.parse_args()

    from pecopt.api import build, solve
    from pecopt.ingest.district import to_inputs
    from pecopt.model.core import build_model
    from pecopt.model.transforms import scenarios
    from pecopt.solver import solve as solve_model
    from pecopt.solver.compile import compile_model

    load_before = os.getloadavg()
    s, tables, w, end = _setup(a.day, a.hours)
    t0 = time.perf_counter()
    det = build(to_inputs(s, tables, str(SCENARIO)))
    t1 = time.perf_counter()
    lp, _ = compile_model(det.model)
    c1 = time.process_time()
    det_sol = solve(det, kpis=False)
    c2 = time.process_time()
    t2 = time.perf_counter()
    deterministic = {
        "build_s": t1 - t0, "solve_s": det_sol.outcome.seconds["solve"], "total_s": t2 - t0,
        "solve_cpu_s": c2 - c1,
        "rows": lp.num_row, "columns": lp.num_col, "nonzeros": int(lp.a_value.size),
        "objective_eur": det_sol.objective,
    }  # fmt: skip
    draws = _members(tables, w, end, a.members, a.noise)
    t3 = time.perf_counter()
    dms = [build_model(to_inputs(s, d, str(SCENARIO))) for d in draws]
    t4 = time.perf_counter()
    steps = w.steps
    ens = scenarios(dms, position_steps=steps, commit_steps=steps, spread_eur_per_kwh=a.spread)
    t5 = time.perf_counter()
    lp, _ = compile_model(ens.model)
    opts = dms[0].inputs.common.solver.model_copy(update={"time_limit_s": 1800.0})
    c5 = time.process_time()
    out = solve_model(ens.model, opts)
    c6 = time.process_time()
    t6 = time.perf_counter()
    ef = {
        "members_build_s": t4 - t3, "transform_s": t5 - t4, "solve_s": out.seconds["solve"],
        "handoff_s": out.seconds["handoff"], "total_s": t6 - t3, "status": out.status.value,
        "solve_cpu_s": c6 - c5, "mip_gap": out.gap,
        "rows": lp.num_row, "columns": lp.num_col, "nonzeros": int(lp.a_value.size),
        "integer_columns": int(lp.integrality.sum()),
        "expected_cost_eur": ens.expected_cost(), "member_costs_eur": ens.costs().tolist(),
    }  # fmt: skip
    jobs = [(a.day, a.hours, a.members, a.noise, m) for m in range(a.members)]
    t7 = time.perf_counter()
    alone = [_member_solve(j) for j in jobs]
    t8 = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_member_solve, jobs))
    t9 = time.perf_counter()
    result = {
        "scenario": "scenarios/kera_replay.yaml", "day": a.day, "hours": a.hours,
        "members": a.members, "noise": a.noise, "spread_eur_per_kwh": a.spread,
        "deterministic": deterministic, "extensive_form": ef,
        "members_alone": {
            "solve_s_each": alone, "solve_s_sum": sum(alone),
            "build_and_solve_in_turn_wall_s": t8 - t7, "build_and_solve_pool2_wall_s": t9 - t8,
        },
        "target_s": 10.0, "load_average_before": load_before, "load_average_after": os.getloadavg(),
    }  # fmt: skip
    write_json(a.out, result)
    print(result)


if __name__ == "__main__":
    main()

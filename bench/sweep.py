"""Sweep speed: 16 one-month Kera variants on a LocalCluster of 1 and of 2 workers.

Variants: battery capacity {0, 500, 1000, 2000} kWh x PV scale {0.5, 1, 1.5, 2} (every
rooftop array's kWp scaled), May 2025, hourly: a ``--grid`` of 16 rows and 23 override
columns plus a constant ``--vary`` of the horizon, through the same
:func:`pecopt.workflows.sweep_plan.plan_sweep` / :func:`pecopt.workflows.sweep.run_sweep` as
``pecopt sweep``.

For each cluster size W (single-threaded worker processes, HiGHS threads = 1):

- ``cold``: a fresh cluster runs the 16 variants (each worker's first task pays its
  imports and the typical-year caches);
- ``warm``: the same 16 again on the same cluster, into a new folder (steady state);
- ``empty``: 200 no-op tasks through the same ``submit``/``as_completed`` path.

Reported: wall time T_W (first submit to last result written), parallel efficiency
T_1 / (2 T_2), the sum of the tasks' own times on the workers (``task_s``) and their CPU
time (``task_cpu_s``), overhead per variant ``(W T_W - sum task_s) / N`` (scheduling,
transfer, the client's writes, and idle workers at the tail), the per-task cost of empty
tasks, and the CPU-seconds the rest of the machine used meanwhile (``/proc/stat``: on a
shared machine, other jobs slow the W=2 run, whose tasks then wait for a core: task_s >
task_cpu_s). Writes ``--json``.

    python bench/sweep.py [--rounds N] [--json bench/results/sweep.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def _noop(i: int) -> int:
    return i


def grid_file(scenario: Path, folder: Path, quick: bool) -> Path:
    from pecopt.scenario import load_scenario

    base = load_scenario(scenario)
    arrays = {
        f"buildings[{i}].pv[{j}].kwp": a.kwp
        for i, b in enumerate(base.buildings)
        for j, a in enumerate(b.pv)
    }
    caps, scales = ([0, 2000], [0.5, 2.0]) if quick else ([0, 500, 1000, 2000], [0.5, 1, 1.5, 2])
    rows = [
        {"assets.batteries[0].capacity_kwh": c, **{p: round(k * s, 3) for p, k in arrays.items()}}
        for c in caps
        for s in scales
    ]
    path = folder / "grid.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def busy_cpu_s() -> float:
    """CPU-seconds the whole machine (every process, every core) has been busy since boot,
    from ``/proc/stat`` (user + nice + system + irq + softirq + steal)."""
    with open("/proc/stat", encoding="ascii") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")


def timed_sweep(plan: Any, out: Path, client: Any) -> dict[str, Any]:
    from pecopt.workflows.sweep import run_sweep
    from pecopt.workflows.sweep_query import read_kpis

    b0, c0, t0 = busy_cpu_s(), time.process_time(), time.perf_counter()
    counts = run_sweep(plan, out, client)
    wall = time.perf_counter() - t0
    busy, client_cpu = busy_cpu_s() - b0, time.process_time() - c0
    k = read_kpis(out)
    assert counts.done == len(plan.variants), counts
    task_cpu = float(k["task_cpu_s"].sum())
    return {
        "wall_s": wall,
        "machine_busy_cpu_s": busy,
        "client_cpu_s": client_cpu,
        "sum_task_cpu_s": task_cpu,
        # CPU-seconds used by everything else on the machine during the run (other
        # users' jobs, and the workers' own time between tasks)
        "other_cpu_s": busy - client_cpu - task_cpu,
        "sum_task_s": float(k["task_s"].sum()),
        "sum_solve_s": float(k["solve_s"].sum()),
        "sum_phases_s": float(
            k[[c for c in ("ingest_s", "build_s", "handoff_s", "solve_s", "extract_s")]].sum().sum()
        ),
        "workers_used": int(k["worker"].nunique()),
        "cost_total_eur": k.set_index("variant_id")["cost_total_eur"].round(6).to_dict(),
    }


def empty_tasks(client: Any, n: int) -> dict[str, float]:
    from distributed import as_completed

    t0 = time.perf_counter()
    futures = [client.submit(_noop, i, pure=False) for i in range(n)]
    for f in as_completed(futures):
        f.result()
    throughput = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for i in range(20):
        client.submit(_noop, i, pure=False).result()
    return {"per_task_s": throughput, "round_trip_s": (time.perf_counter() - t0) / 20}


def write_cost(out: Path) -> float:
    """Seconds for the client to write one variant's files again (tables as bytes)."""
    from pecopt.ingest.parquet import read_table
    from pecopt.workflows import sweep_dataset as ds

    kpi = next((out / "kpis").glob("*.parquet"))
    vid = kpi.stem
    row = read_table(kpi).iloc[0].to_dict()
    tables = {t: ds.partition(out, t, vid).read_bytes() for t in ("schedule", "storage")}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ds.write_variant(Path(tmp), row, tables, "bench")
        return time.perf_counter() - t0


def one_round(plan: Any, tmp: Path, tag: str) -> dict[str, Any]:
    """W = 1 then W = 2: a fresh cluster each, cold and warm sweeps, empty tasks."""
    from pecopt.workflows.sweep import open_client

    r: dict[str, Any] = {"load_before": os.getloadavg()}
    for w in (1, 2):
        t0 = time.perf_counter()
        with open_client(None, w) as client:
            client.wait_for_workers(w)
            started = time.perf_counter() - t0
            cold = timed_sweep(plan, tmp / f"{tag}-w{w}-cold", client)
            warm = timed_sweep(plan, tmp / f"{tag}-w{w}-warm", client)
            empty = empty_tasks(client, 200)
        r[f"w{w}"] = {"cluster_start_s": started, "cold": cold, "warm": warm, "empty": empty}
        print(f"{tag} W={w}: cold {cold['wall_s']:.2f} s, warm {warm['wall_s']:.2f} s", flush=True)
    n = len(plan.variants)
    for kind in ("cold", "warm"):
        t1, t2 = r["w1"][kind]["wall_s"], r["w2"][kind]["wall_s"]
        r[f"efficiency_{kind}"] = t1 / (2 * t2)
        for w, t in ((1, t1), (2, t2)):
            x = r[f"w{w}"][kind]
            x["overhead_per_variant_s"] = (w * t - x["sum_task_s"]) / n
            # share of the machine's CPU capacity used by other jobs during the run
            x["other_share"] = x["other_cpu_s"] / ((os.cpu_count() or 1) * t)
        r[f"same_costs_{kind}"] = r["w1"][kind]["cost_total_eur"] == r["w2"][kind]["cost_total_eur"]
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "sweep.json")
    ap.add_argument("--quick", action="store_true", help="4 variants of 3 days (a smoke test)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat W=1 / W=2 this many times")
    args = ap.parse_args()

    from pecopt.workflows.sweep_plan import plan_sweep

    scenario = REPO / "scenarios" / "kera.yaml"
    end = "2025-05-04T00:00" if args.quick else "2025-06-01T00:00"
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        vary = ["horizon.start=2025-05-01T00:00", f"horizon.end={end}"]
        t0 = time.perf_counter()
        plan = plan_sweep(scenario, vary, grid_file(scenario, tmp, args.quick))
        results["plan_s"] = time.perf_counter() - t0
        results["variants"] = len(plan.variants)
        results["rounds"] = [one_round(plan, tmp, f"r{i}") for i in range(args.rounds)]
        results["write_one_variant_s"] = write_cost(tmp / "r0-w1-warm")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print_table(results)


def print_table(r: dict[str, Any]) -> None:
    print(f"\n{r['variants']} variants, plan {r['plan_s']:.2f} s")
    print(
        "| round | run | W | T_W [s] | sum task_s [s] | sum task CPU [s] | client CPU [s] "
        "| other jobs' CPU [s] (share) | overhead / variant [s] | efficiency |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for i, rd in enumerate(r["rounds"]):
        for kind in ("cold", "warm"):
            for w in (1, 2):
                x = rd[f"w{w}"][kind]
                eff = f"{rd[f'efficiency_{kind}']:.0%}" if w == 2 else ""
                print(
                    f"| {i} | {kind} | {w} | {x['wall_s']:.2f} | {x['sum_task_s']:.2f} | "
                    f"{x['sum_task_cpu_s']:.2f} | {x['client_cpu_s']:.2f} | "
                    f"{x['other_cpu_s']:.1f} ({x['other_share']:.0%}) | "
                    f"{x['overhead_per_variant_s']:.3f} | {eff} |"
                )
    for i, rd in enumerate(r["rounds"]):
        for w in (1, 2):
            e = rd[f"w{w}"]["empty"]
            print(
                f"round {i}, empty tasks, W={w}: {e['per_task_s'] * 1000:.1f} ms/task "
                f"(200 at once), {e['round_trip_s'] * 1000:.1f} ms round trip; "
                f"cluster start {rd[f'w{w}']['cluster_start_s']:.1f} s"
            )
        print(
            f"round {i}: same costs on 1 and 2 workers: {rd['same_costs_cold']}, "
            f"{rd['same_costs_warm']}; load before {rd['load_before']}"
        )
    print(f"client write of one variant: {r['write_one_variant_s'] * 1000:.0f} ms")


if __name__ == "__main__":  # the LocalCluster's worker processes import this file
    sys.exit(main())

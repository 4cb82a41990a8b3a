"""Near-optimal alternatives on Kera's 12 typical weeks (issue 17 item 2's speed target):
each alternative's solve against a cold sizing solve, and the whole run.

    python bench/alternatives.py [--out bench/results] [--slack 0.02] [--designs 2]
                                 [--probe 3] [--time-limit 1800] [--skip-run]

1. ``pecopt alternatives scenarios/kera_design.yaml --slack S --designs N`` in a fresh
   process, timed from outside (Python start and imports included). From its
   ``alternatives.parquet``: the optimum's solve (the cold sizing solve of the typical
   weeks' model, HiGHS' interior-point method as ``method: choose`` picks it) and each
   alternative's solve (warm: the optimum's basis, primal simplex): median, 90th
   percentile, max, their ratios to the cold solve.
2. ``--probe K``: in this process, on the same model, the K slowest (target, sense) pairs
   of step 1 again, three ways: cold (as the optimum: ``method: choose``), from the
   optimum's basis by the dual simplex, and by the primal simplex (the command's way).

Results in ``OUT/alternatives.json`` and a Markdown table on stdout. The machine is
shared: ratios from one run hold better than absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:  # run as a script from bench/
    import common
except ImportError:  # imported as bench.alternatives from the repository root
    from bench import common

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCENARIO = REPO / "scenarios" / "kera_design.yaml"


def run(out: Path, slack: float, designs: int, time_limit: float) -> tuple[float, int]:
    """``pecopt alternatives`` in a fresh process: wall seconds and exit code (0 or 10)."""
    t0 = time.perf_counter()
    args = ["alternatives", str(SCENARIO), "--out", str(out), "-q", "--slack", str(slack),
            "--designs", str(designs), "--time-limit", str(time_limit)]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", common.PECOPT_CLI, *args], capture_output=True)
    if done.returncode not in (0, 10):
        raise RuntimeError(done.stderr.decode())
    return time.perf_counter() - t0, done.returncode


def figures(out: Path) -> dict:
    """The solves of one run: the cold optimum against the warm alternatives."""
    import pandas as pd

    t = pd.read_parquet(out / "alternatives.parquet")
    r = pd.read_parquet(out / "ranges.parquet")
    m = json.loads((out / "manifest.json").read_text())
    cold = float(t["solve_s"].iloc[0])
    alt = t.iloc[1:]
    s = alt["solve_s"]
    slow = alt.sort_values("solve_s", ascending=False)
    return {
        "cold_sizing_solve_s": cold,
        "alternatives": len(alt),
        "median_s": float(s.median()),
        "p90_s": float(s.quantile(0.9)),
        "max_s": float(s.max()),
        "sum_s": float(s.sum()),
        "median_over_cold": float(s.median()) / cold,
        "max_over_cold": float(s.max()) / cold,
        "over_half_cold": int((s > 0.5 * cold).sum()),
        "under_half_second": int((s < 0.5).sum()),
        "slowest": [
            {"kind": k, "target": x, "solve_s": float(v)}
            for k, x, v in zip(slow["kind"], slow["target"], slow["solve_s"], strict=True)
        ][:8],
        "optimum_cost_eur": float(t["cost_eur"].iloc[0]),
        "max_cost_over_optimum": float(t["cost_vs_optimum"].max()),
        "ranges": r[["target", "unit", "min", "optimum", "max"]].to_dict("records"),
        "manifest_seconds": m.get("seconds"),
        "complete": m.get("complete"),
        "stopped": m.get("stopped"),
    }


def probe(pairs: list[tuple[str, str]], slack: float) -> list[dict]:
    """Each (kind, target) of ``pairs`` solved cold, warm by the dual and by the primal
    simplex, on one model of the typical weeks (see the module docstring)."""
    from pecopt.api import build
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.scenario import load_scenario
    from pecopt.solver.highs import solve
    from pecopt.workflows.alternatives import Explorer, targets_of
    from pecopt.workflows.solve import typical_inputs

    scenario = load_scenario(SCENARIO)
    inputs, _ = typical_inputs(to_inputs(scenario, ingest(scenario, str(SCENARIO)), str(SCENARIO)))
    ex = Explorer(build(inputs))
    row, best = ex.optimum(None)
    ex.near.within(row.cost_eur, slack)
    by = {t.name: t for t in targets_of(ex.built, ex.sized)}
    out = []
    for sense, name in pairs:
        ex.near.aim([(ex.by_name[m].new, 1.0) for m in by[name].members], sense)
        got: dict = {"sense": sense, "target": name}
        for way, basis, primal in (("cold", None, False), ("warm_dual", best.basis, False),
                                   ("warm_primal", best.basis, True)):  # fmt: skip
            o = solve(ex.built.model, ex.opts, basis=basis, primal=primal)
            got[f"{way}_s"] = o.seconds["solve"]
            got[f"{way}_objective"] = o.objective
        out.append(got)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--slack", type=float, default=0.02)
    ap.add_argument("--designs", type=int, default=2)
    ap.add_argument("--probe", type=int, default=3, help="slowest solves re-run three ways")
    ap.add_argument("--time-limit", type=float, default=1800.0)
    ap.add_argument("--skip-run", action="store_true", help="probe the targets of --pairs")
    ap.add_argument("--pairs", default="", help="sense:target,... to probe with --skip-run")
    a = ap.parse_args(argv)
    r: dict = {"load_before": os.getloadavg()}
    pairs = [tuple(p.split(":", 1)) for p in a.pairs.split(",") if p]
    if not a.skip_run:
        with tempfile.TemporaryDirectory() as tmp:
            wall, code = run(Path(tmp) / "alt", a.slack, a.designs, a.time_limit)
            r["run"] = {"wall_s": wall, "exit": code, **figures(Path(tmp) / "alt")}
        pairs = [(s["kind"], s["target"]) for s in r["run"]["slowest"][: a.probe]]
        pairs = [p for p in pairs if p[0] in ("min", "max")]
    if pairs:
        r["probe"] = probe(pairs, a.slack)  # type: ignore[arg-type]
    r["load_after"] = os.getloadavg()
    r["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    common.write_json(Path(a.out) / "alternatives.json", r)
    if "run" in r:
        x = r["run"]
        print("| figure | value |\n|---|---|")
        print(f"| whole run (wall, fresh process) | {x['wall_s']:.1f} s, exit {x['exit']} |")
        print(f"| cold sizing solve (the optimum) | {x['cold_sizing_solve_s']:.1f} s |")
        print(f"| alternatives' solves | {x['alternatives']} |")
        print(f"| median, 90th percentile, max | {x['median_s']:.2f} s, {x['p90_s']:.1f} s, "
              f"{x['max_s']:.1f} s |")  # fmt: skip
        print(f"| median / cold, max / cold | {x['median_over_cold']:.4f}, "
              f"{x['max_over_cold']:.2f} |")  # fmt: skip
    for p in r.get("probe", []):
        ways = ", ".join(f"{p[w + '_s']:.1f} s" for w in ("cold", "warm_dual", "warm_primal"))
        print(f"| {p['sense']} {p['target']}: cold, warm dual, warm primal | {ways} |")


if __name__ == "__main__":
    main()

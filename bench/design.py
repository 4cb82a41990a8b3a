"""Design-mode benchmark: ``pecopt compare`` in parallel against one after another, and a
warm-started Pareto front against one solve, on the Kera default with a one-month horizon.

    python bench/design.py [--start 2025-01-01T00:00] [--end 2025-02-01T00:00] [--repeat 1]
                           [--out bench/results]

Every command runs as a fresh ``pecopt`` process, timed from outside (wall clock,
including Python start and imports), one after the other and never two at once:

compare (4 variants: the base and the first three questions of
``scenarios/kera_layouts.yaml``)

- ``pecopt compare --workers 2`` and ``--workers 1`` (the same pool, one process)
- the four variants as four ``pecopt solve`` runs one after another (each variant's
  validated scenario written out as YAML)

Pareto front

- ``pecopt solve`` of the base, once
- ``pecopt pareto --points 6``
- in one process, after one build: the front's solves warm-started (as ``pecopt pareto``)
  and cold (every point solved from scratch): HiGHS seconds summed over the 7 solves

Within a repeat the measurements run back to back, so ratios are taken per repeat (then
the median); the machine is shared, so absolute times move between runs more than the
ratios do. Results: ``OUT/design.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

try:  # run as a script from bench/
    import common
except ImportError:  # imported as bench.design from the repository root
    from bench import common

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VARIANTS = ("store_instead_of_battery", "market_waste_heat", "school_solar_thermal")
pecopt = common.pecopt_cli  # ``pecopt ARGS`` in a fresh process; its wall time [s]


def setup(work: Path, start: str, end: str) -> tuple[Path, Path, list[Path]]:
    """The month's base scenario, a 4-variant layouts file and each variant as a file."""
    from pecopt.scenario.layouts import load_layouts

    base = yaml.safe_load((REPO / "scenarios" / "kera.yaml").read_text())
    base["horizon"].update(start=start, end=end)
    scenario = work / "kera_month.yaml"
    scenario.write_text(yaml.safe_dump(base, sort_keys=False))
    lay = yaml.safe_load((REPO / "scenarios" / "kera_layouts.yaml").read_text())
    lay["base"] = str(scenario)
    lay["variants"] = {k: lay["variants"][k] for k in VARIANTS}
    layouts = work / "layouts.yaml"
    layouts.write_text(yaml.safe_dump(lay, sort_keys=False))
    files = []
    for v in load_layouts(layouts).variants:
        f = work / f"variant_{v.name}.yaml"
        f.write_text(yaml.safe_dump(v.scenario.model_dump(mode="json"), sort_keys=False))
        files.append(f)
    return scenario, layouts, files


def front_in_process(scenario: Path, points: int, warm: bool) -> dict[str, float]:
    """One build, then the front's 7 solves warm-started or cold; HiGHS and wall seconds."""
    import pecopt
    from pecopt.workflows import pareto as P

    built = pecopt.build(pecopt.load_scenario(scenario, objective={"kind": "cost"}))
    run = P._run
    highs: list[float] = []

    def timed(b: object, w: object, basis: bool = True) -> object:
        out = run(b, w if warm else None, basis)  # type: ignore[arg-type]
        highs.append(out.seconds["solve"])
        return out

    P._run = timed  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        P.front(built, points)
        wall = time.perf_counter() - t0
    finally:
        P._run = run
    return {"highs_s": sum(highs), "front_s": wall, "solves": len(highs), "first_s": highs[0]}


def _share(manifest: dict, workers: int) -> float:
    """CPU seconds the variants got over the seconds they ran, per worker: 1.0 when each
    worker had a core to itself, about 0.5 with two workers when only one core is free."""
    v = manifest["variants"].values()
    cpu = sum(x["cpu_s"] for x in v)
    first = min(x["ran_s"][0] for x in v)
    last = max(x["ran_s"][1] for x in v)
    return cpu / ((last - first) * workers)


def one_repeat(work: Path, scenario: Path, layouts: Path, files: list[Path]) -> dict:
    r: dict[str, float] = {}
    out = work / "out"
    r["compare_w2_s"] = pecopt("compare", str(layouts), "--out", str(out), "--workers", "2", "-q")
    m = json.loads((out / "manifest.json").read_text())
    r["compare_w2_pool_s"] = m["seconds"]["solve"]
    r["compare_w2_report_s"] = m["seconds"]["report"]
    r["compare_w2_cpu_share"] = _share(m, 2)
    r["compare_w1_s"] = pecopt("compare", str(layouts), "--out", str(out), "--workers", "1", "-q")
    m = json.loads((out / "manifest.json").read_text())
    r["compare_w1_pool_s"] = m["seconds"]["solve"]
    r["compare_w1_cpu_share"] = _share(m, 1)
    r["solve_x4_s"] = sum(pecopt("solve", str(f), "--out", str(out), "-q") for f in files)
    r["solve_s"] = pecopt("solve", str(scenario), "--out", str(out), "-q")
    r["pareto6_s"] = pecopt("pareto", str(scenario), "--points", "6", "--out", str(out), "-q")
    m = json.loads((out / "manifest.json").read_text())
    r["pareto6_front_s"] = m["seconds"]["front"]
    r["pareto6_write_s"] = m["seconds"]["write"]
    r["pareto6_report_s"] = m["seconds"]["report"]
    for warm in (True, False):
        f = front_in_process(scenario, 6, warm)
        key = "warm" if warm else "cold"
        r[f"front_{key}_highs_s"] = f["highs_s"]
        r[f"front_{key}_s"] = f["front_s"]
        r[f"front_{key}_first_highs_s"] = f["first_s"]
    r["ratio_solve_x4_over_w2"] = r["solve_x4_s"] / r["compare_w2_s"]
    r["ratio_w1_over_w2"] = r["compare_w1_s"] / r["compare_w2_s"]
    r["ratio_pool_w1_over_w2"] = r["compare_w1_pool_s"] / r["compare_w2_pool_s"]
    r["ratio_pareto6_over_solve"] = r["pareto6_s"] / r["solve_s"]
    r["ratio_highs_warm_front_over_one"] = r["front_warm_highs_s"] / r["front_warm_first_highs_s"]
    r["ratio_highs_cold_over_warm"] = r["front_cold_highs_s"] / r["front_warm_highs_s"]
    return r


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", default="2025-01-01T00:00")
    ap.add_argument("--end", default="2025-02-01T00:00")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="pecopt_bench_design_") as tmp:
        work = Path(tmp)
        scenario, layouts, files = setup(work, args.start, args.end)
        for i in range(args.repeat):
            runs.append(one_repeat(work, scenario, layouts, files))
            print(f"repeat {i + 1}/{args.repeat} done", file=sys.stderr)
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    result = {
        "horizon": [args.start, args.end],
        "machine": {
            "nproc": os.cpu_count(),
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": runs,
        "median": median,
    }
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "design.json").write_text(json.dumps(result, indent=2))
    print("| measurement | seconds (median) |\n|---|---|")
    for k, v in median.items():
        print(f"| {k} | {v:.2f} |")


if __name__ == "__main__":
    main()

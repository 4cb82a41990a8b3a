"""Design-mode sizing benchmark: Kera's full-year sizing against its full-year dispatch and
against sizing on 12 typical weeks (issue #9's speed targets).

    python bench/sizing.py [--out bench/results] [--time-limit 1800] [--skip-full]

Three fresh ``pecopt solve`` processes, one after the other (never two at once), each
timed from outside (wall clock, Python start and imports included):

1. ``scenarios/kera.yaml``: the full-year dispatch of the district (the sizes given);
2. ``scenarios/kera_design.yaml`` without its ``aggregation:`` section (a file with
   ``base:`` and ``aggregation: null``): every designer asset sized on the full year;
3. ``scenarios/kera_design.yaml`` as shipped: sized on 12 typical weeks (tsam), then the
   whole year dispatched with the sizes found.

Ratios come from this one run (the machine is shared: absolute times move between runs
more than ratios do). The typical-week design is judged by its full-year re-check: its
cost against the full-year sizing's optimum (the latter is a lower bound for it). Results
in ``OUT/sizing.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

try:  # run as a script from bench/
    import common
except ImportError:  # imported as bench.sizing from the repository root
    from bench import common

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def run(scenario: Path, out: Path, time_limit: float) -> tuple[float, dict]:
    """``pecopt solve SCENARIO --out OUT`` in a fresh process: wall seconds and kpis.json
    (with the manifest's phase seconds under ``seconds``)."""
    wall = common.pecopt_cli(
        "solve", str(scenario), "--out", str(out), "-q", "--time-limit", str(time_limit)
    )
    k = json.loads((out / "kpis.json").read_text())
    k["seconds"] = json.loads((out / "manifest.json").read_text())["seconds"]
    return wall, k


def summary(wall: float, k: dict) -> dict:
    """The figures kept for one run."""
    agg = k.get("aggregation") or {}
    return {
        "wall_s": wall,
        "solve_s": k["seconds"]["solve"],
        "seconds": k["seconds"],
        "objective_eur": k["solver"]["objective"],
        "status": k["solver"]["status"],
        "rows": k["solver"]["rows"],
        "columns": k["solver"]["columns"],
        "typical_solve_s": (agg.get("seconds") or {}).get("typical_solve"),
        "typical_objective_eur": agg.get("typical_objective"),
        "capacities": k.get("capacities"),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--time-limit", type=float, default=1800.0)
    ap.add_argument("--skip-full", action="store_true", help="no full-year sizing")
    a = ap.parse_args(argv)
    r: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full = work / "kera_design_full_year.yaml"
        full.write_text(f"base: {REPO / 'scenarios' / 'kera_design.yaml'}\naggregation: null\n")
        r["dispatch"] = summary(*run(REPO / "scenarios" / "kera.yaml", work / "d", a.time_limit))
        if not a.skip_full:
            r["full_year_sizing"] = summary(*run(full, work / "f", a.time_limit))
        r["typical_weeks"] = summary(
            *run(REPO / "scenarios" / "kera_design.yaml", work / "t", a.time_limit)
        )
    d, t = r["dispatch"], r["typical_weeks"]
    ratios = {}
    if "full_year_sizing" in r:
        f = r["full_year_sizing"]
        ratios = {
            "full_sizing_over_dispatch_wall": f["wall_s"] / d["wall_s"],
            "full_sizing_over_dispatch_solve": f["solve_s"] / d["solve_s"],
            "full_sizing_over_typical_wall": f["wall_s"] / t["wall_s"],
            "full_sizing_solve_over_typical_solve": f["solve_s"] / t["typical_solve_s"],
            "typical_recheck_over_full_optimum_pct": 100
            * (t["objective_eur"] - f["objective_eur"])
            / f["objective_eur"],
        }
    r["ratios"] = ratios
    r["machine"] = {
        "nproc": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sizing.json").write_text(json.dumps(r, indent=2, default=float))
    print("| run | wall s | HiGHS s | objective EUR | rows | columns |")
    print("|---|---|---|---|---|---|")
    for name in ("dispatch", "full_year_sizing", "typical_weeks"):
        if name in r:
            x = r[name]
            solve = x["solve_s"]
            if x["typical_solve_s"] is not None:
                solve = f"{x['typical_solve_s']:.1f} typical + {x['solve_s']:.1f} re-check"
            else:
                solve = f"{solve:.1f}"
            print(
                f"| {name} | {x['wall_s']:.1f} | {solve} | {x['objective_eur']:,.2f} "
                f"| {x['rows']:,} | {x['columns']:,} |"
            )
    for k, v in ratios.items():
        print(f"- {k}: {v:.3g}")


if __name__ == "__main__":
    main()

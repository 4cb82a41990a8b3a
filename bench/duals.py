"""What does reading duals cost? The solve of a model with and without Pyomo's suffixes.

    python bench/duals.py [--cases kera_week,ref_T168_B10,ref_T8760_B10,ref_T168_B10_milp]
                          [--repeat 3] [--data ../shared/bench] [--out bench/results/duals.json]

Each case runs in a fresh Python process (``--child``), one after the other (never in
parallel). The process builds the model once (``pecopt.build``) and solves it with
``pecopt.solver.solve`` ``repeat`` times in each of two ways, alternating (plain, with,
plain, with, ...) so that a drift of the machine's load falls on both:

- **plain**: the model as built (no suffix): the fast path as it always was;
- **with**: the same model with ``m.dual`` and ``m.rc`` import suffixes: the solve, then the
  duals and reduced costs of every constraint and variable written into them (for a
  MILP: the LP with the integers fixed at the plan, solved apart, then the same).

Per solve the phases of ``SolveOutcome.seconds`` are recorded (``handoff``: compile and
pass to HiGHS; ``solve``: HiGHS; ``read_solution``: the plan into Pyomo; ``duals``: the
fixed LP if any and the suffixes filled; 0 without suffixes) and, side by side in the
table, the medians and ``duals / solve``: the share of the solve that reading duals adds.
Every solve of a case must reach the same objective (checked).

Cases: ``kera_week`` (``scenarios/kera.yaml``, 2025-01-06 to -13, an LP), ``kera_year``
(the embedded year, an LP of 728k columns), ``ref_*`` (``bench/reference/*.yaml``; needs
the reference data, ``../shared/bench`` or ``--data``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REF_REL = "../../../shared/bench"
WEEK = {"start": "2025-01-06", "end": "2025-01-13"}
PHASES = ("handoff", "solve", "read_solution", "duals")


def scenario_file(case: str, data: Path, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The scenario file of ``case`` and its overrides; a reference file is copied with its
    data paths pointed at ``data``."""
    if case == "kera_week":
        return REPO / "scenarios" / "kera.yaml", {"horizon": WEEK}
    if case == "kera_year":
        return REPO / "scenarios" / "kera.yaml", {}
    src = HERE / "reference" / f"ref_{case.removeprefix('ref_')}.yaml"
    if not src.is_file():
        raise SystemExit(f"unknown case {case}")
    if not (data / "ref_T168_B10_series.parquet").is_file():
        raise SystemExit(f"reference data not found in {data} (give --data DIR)")
    out = tmp / src.name
    out.write_text(src.read_text().replace(REF_REL, str(data.resolve())))
    return out, {}


def child(case: str, repeat: int, data: Path, out: Path) -> None:
    """Build the case once and solve it ``repeat`` times each way, alternating."""
    import pyomo.environ as pyo

    import pecopt
    from pecopt.solver import solve

    with tempfile.TemporaryDirectory(prefix="pecopt_duals_") as t:
        file, overrides = scenario_file(case, data, Path(t))
        scenario = pecopt.load_scenario(file, **overrides)
        t0 = time.perf_counter()
        built = pecopt.build(scenario, file)
        build_s = time.perf_counter() - t0
    m, opts = built.model, built.inputs.common.solver
    runs: list[dict[str, Any]] = []
    for _ in range(repeat):
        for way in ("plain", "with"):
            for name in ("dual", "rc"):
                if m.component(name) is not None:
                    m.del_component(name)
            if way == "with":
                m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
                m.rc = pyo.Suffix(direction=pyo.Suffix.IMPORT)
            outcome = solve(m, opts)
            filled = (len(m.dual), len(m.rc)) if way == "with" else (0, 0)
            runs.append(
                {
                    "way": way,
                    "status": outcome.status.value,
                    "objective": outcome.objective,
                    **{k: outcome.seconds.get(k, 0.0) for k in PHASES},
                    "duals_filled": filled[0],
                    "rc_filled": filled[1],
                }
            )
    result = {
        "case": case,
        "build_s": build_s,
        "size": outcome.size,
        "runs": runs,
    }
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Medians per way, and the share of the solve that reading duals adds."""
    row: dict[str, Any] = {"case": result["case"], **result["size"]}
    for way in ("plain", "with"):
        runs = [r for r in result["runs"] if r["way"] == way]
        for k in PHASES:
            row[f"{way}_{k}"] = statistics.median(r[k] for r in runs)
    withs = [r for r in result["runs"] if r["way"] == "with"]
    row["duals_over_solve"] = statistics.median(r["duals"] / r["solve"] for r in withs)
    row["duals_filled"] = withs[0]["duals_filled"]
    row["rc_filled"] = withs[0]["rc_filled"]
    objectives = {round(r["objective"], 6) for r in result["runs"]}
    row["objective"] = result["runs"][0]["objective"]
    row["same_objective"] = len(objectives) == 1
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| case | rows | cols | bin | handoff plain / with [s] | solve plain / with [s] | "
        "read plain / with [s] | duals [s] | duals / solve | duals, rc filled |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['rows']:,} | {r['columns']:,} | {r['binaries']:,} | "
            f"{r['plain_handoff']:.3f} / {r['with_handoff']:.3f} | "
            f"{r['plain_solve']:.3f} / {r['with_solve']:.3f} | "
            f"{r['plain_read_solution']:.3f} / {r['with_read_solution']:.3f} | "
            f"{r['with_duals']:.4f} | {100 * r['duals_over_solve']:.2f} % | "
            f"{r['duals_filled']:,}, {r['rc_filled']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="kera_week,ref_T168_B10,ref_T8760_B10,ref_T168_B10_milp")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "bench")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "duals.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.repeat, args.data, args.json)
        return
    results, rows = [], []
    for case in args.cases.split(","):
        with tempfile.TemporaryDirectory(prefix="pecopt_duals_") as t:
            js = Path(t) / "out.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case]
            cmd += ["--repeat", str(args.repeat), "--data", str(args.data), "--json", str(js)]
            subprocess.run(cmd, check=True)
            result = json.loads(js.read_text(encoding="utf-8"))
        results.append(result)
        rows.append(summary(result))
        print(f"{case}: done", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "when_utc": time.strftime("%Y-%m-%d %H:%M")}
    args.out.write_text(
        json.dumps({"meta": meta, "summary": rows, "runs": results}, indent=1), encoding="utf-8"
    )
    print(table(rows))
    if not all(r["same_objective"] for r in rows):
        raise SystemExit("a case reached different objectives with and without suffixes")


if __name__ == "__main__":
    main()

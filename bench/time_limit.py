"""Does ``pecopt solve --time-limit S`` hold? Wall time, exit code and plan, per case.

    python bench/time_limit.py [--cases kera:3,kera:15,ref_milp:20] [--repeat 1]
                               [--data ../shared/bench] [--out bench/results/time_limit.json]

Each run is the real command, ``pecopt solve SCENARIO --out TMP --time-limit S --quiet``,
in a fresh process, one after the other (never in parallel). The wall time is measured
here, from before the process is created to after it has exited (Python's start-up and
the freeing of the model at exit included, which the limit does not cover: it runs from
the start of the command). Recorded per run: wall [s], overshoot (wall / S - 1), exit
code (0 optimal, 10 a plan stopped by the limit, 4 no plan), ``kpis.json``'s solver
status, objective and gap, ``manifest.json``'s phase seconds and the last stderr line.

Cases: ``kera`` (``scenarios/kera.yaml``, the embedded full year, an LP) and
``ref_milp`` (``bench/reference/ref_T8760_B10_milp.yaml``: 26,280 binaries; needs the
reference data, ``../shared/bench`` or ``--data``).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
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
CASES = {
    "kera": REPO / "scenarios" / "kera.yaml",
    "ref_milp": HERE / "reference" / "ref_T8760_B10_milp.yaml",
}


def pecopt_command() -> list[str]:
    """The ``pecopt`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("pecopt")
    if script.is_file():
        return [str(script)]
    found = shutil.which("pecopt")
    if found is None:
        raise SystemExit("pecopt is not installed in this environment")
    return [found]


def scenario_file(case: str, data: Path, tmp: Path) -> Path:
    """The scenario of ``case``; a reference file is copied with its data paths pointed
    at ``data``."""
    src = CASES[case]
    if case == "kera":
        return src
    if not (data / "ref_T8760_B10_series.parquet").is_file():
        raise SystemExit(f"reference data not found in {data} (give --data DIR)")
    out = tmp / src.name
    out.write_text(src.read_text().replace(REF_REL, str(data.resolve())))
    return out


def run_once(case: str, limit: float, data: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pecopt_tl_") as t:
        tmp = Path(t)
        scenario = scenario_file(case, data, tmp)
        out = tmp / "out"
        cmd = [*pecopt_command(), "solve", str(scenario), "--out", str(out)]
        cmd += ["--time-limit", f"{limit:g}", "--quiet"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        row: dict[str, Any] = {
            "case": case,
            "limit_s": limit,
            "wall_s": wall,
            "overshoot": wall / limit - 1.0,
            "exit": proc.returncode,
            "plan": (out / "kpis.json").is_file(),
            "stderr": (proc.stderr.strip().splitlines() or [""])[-1],
        }
        if row["plan"]:
            solver = json.loads((out / "kpis.json").read_text())["solver"]
            manifest = json.loads((out / "manifest.json").read_text())
            row.update(
                status=solver["status"],
                objective=solver["objective"],
                bound=solver["bound"],
                gap=solver["gap"],
                seconds=manifest["seconds"],
            )
        return row


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'case':<9} {'limit':>6} {'wall':>7} {'over':>7} {'exit':>4} {'status':<11}"
    print(head + f" {'gap':>9} {'objective':>12}  phases [s]")
    for r in rows:
        phases = ", ".join(f"{k} {v:.1f}" for k, v in r.get("seconds", {}).items())
        gap = f"{r['gap']:.2e}" if "gap" in r else "-"
        obj = f"{r['objective']:,.1f}" if "objective" in r else "-"
        print(
            f"{r['case']:<9} {r['limit_s']:>6g} {r['wall_s']:>7.2f} {r['overshoot']:>+7.1%} "
            f"{r['exit']:>4} {r.get('status', 'no plan'):<11} {gap:>9} {obj:>12}  {phases}"
        )
        if not r["plan"]:
            print(f"{'':<9} {r['stderr']}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="kera:3,kera:15,ref_milp:20")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "bench")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "time_limit.json")
    args = ap.parse_args(argv)
    rows = []
    for _ in range(args.repeat):
        for spec in args.cases.split(","):
            case, limit = spec.split(":")
            rows.append(run_once(case, float(limit), args.data))
            print_table(rows[-1:])
    print()
    print_table(rows)
    over = [r["overshoot"] for r in rows]
    print(f"worst overshoot {max(over):+.1%}; median {statistics.median(over):+.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(["python", "bench/time_limit.py", *(argv or sys.argv[1:])]),
        "python": platform.python_version(),
        "runs": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

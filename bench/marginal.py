"""What do marginal values cost? The solve of an LP with and without them, phases apart.

    python bench/marginal.py [--cases kera_week,kera_year,ref_T8760_B10] [--repeat 3]
                             [--data ../shared/bench] [--out bench/results/marginal.json]

Each case runs in a fresh Python process (``--child``), one after the other (never in
parallel). The process builds the model once (``pecopt.build``) and solves it with
``pecopt.solver.solve`` ``repeat`` times in each of two ways, alternating (plain, with,
plain, with, ...) so that a drift of the machine's load falls on both:

- **plain**: the model as built, no suffix (what a solve without marginal values costs);
- **with**: :func:`pecopt.model.transforms.attach_duals` first (as every ``pecopt solve``
  does), then after the solve the three steps that make the marginal values, timed apart:
  ``duals`` (the solver's duals into the suffixes: ``SolveOutcome.seconds["duals"]``),
  ``prices`` (:func:`pecopt.results.marginal.prices`: the table of ``prices.parquet``),
  ``values`` (:func:`pecopt.results.marginal.capacity_values`: ``kpis.json``'s section)
  and ``write`` (``prices.parquet`` written, as ``pecopt solve`` writes it).

The table gives the medians side by side, ``marginal / solve``: the median over the
"with" runs of ``(duals + prices + values) / solve`` of the same run (the target: at most
5 %), and the same with the file written, ``+ write``. Every solve of a case must reach
the same objective (checked).

Cases: ``kera_week`` (``scenarios/kera.yaml``, 2025-01-13 to -20, the cold-spell week, an
LP), ``kera_year`` (the embedded year, an LP), ``ref_*`` (``bench/reference/*.yaml``; needs
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
WEEK = {"start": "2025-01-13", "end": "2025-01-20"}
STEPS = ("duals", "prices", "values", "write")


def scenario_file(case: str, data: Path, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The scenario file of ``case`` and its overrides (a reference file is copied with
    its data paths pointed at ``data``)."""
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
    import pecopt
    from pecopt.ingest.parquet import write_table
    from pecopt.model.transforms import attach_duals
    from pecopt.results.marginal import capacity_values, prices
    from pecopt.solver import solve

    with tempfile.TemporaryDirectory(prefix="pecopt_marginal_") as t:
        file, overrides = scenario_file(case, data, Path(t))
        scenario = pecopt.load_scenario(file, **overrides)
        built = pecopt.build(scenario, file)
        m, dm, opts = built.model, built.district, built.inputs.common.solver
        runs: list[dict[str, Any]] = []
        for _ in range(repeat):
            for way in ("plain", "with"):
                for name in ("dual", "rc"):
                    if m.component(name) is not None:
                        m.del_component(name)
                if way == "with":
                    attach_duals(dm)
                outcome = solve(m, opts)
                run = {
                    "way": way,
                    "objective": outcome.objective,
                    "solve": outcome.seconds["solve"],
                    "duals": outcome.seconds.get("duals", 0.0),
                }
                if way == "with":
                    t0 = time.perf_counter()
                    table = prices(dm)
                    t1 = time.perf_counter()
                    values = capacity_values(dm)
                    t2 = time.perf_counter()
                    assert table is not None and values is not None
                    write_table(table, Path(t) / "prices.parquet", "bench")
                    t3 = time.perf_counter()
                    run |= {"prices": t1 - t0, "values": t2 - t1, "write": t3 - t2}
                    run["price_rows"] = len(table)
                    run["valued"] = sum(len(v) for v in values["capacities"].values())
                runs.append(run)
    out.write_text(
        json.dumps({"case": case, "size": outcome.size, "runs": runs}, indent=1),
        encoding="utf-8",
    )


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Medians per way, and the share of the solve that the marginal values add."""
    row: dict[str, Any] = {"case": result["case"], **result["size"]}
    withs = [r for r in result["runs"] if r["way"] == "with"]
    plains = [r for r in result["runs"] if r["way"] == "plain"]
    row["plain_solve"] = statistics.median(r["solve"] for r in plains)
    row["with_solve"] = statistics.median(r["solve"] for r in withs)
    for k in STEPS:
        row[k] = statistics.median(r[k] for r in withs)
    row["marginal_over_solve"] = statistics.median(
        sum(r[k] for k in STEPS if k != "write") / r["solve"] for r in withs
    )
    row["with_write_over_solve"] = statistics.median(
        sum(r[k] for k in STEPS) / r["solve"] for r in withs
    )
    row["price_rows"] = withs[0]["price_rows"]
    row["valued"] = withs[0]["valued"]
    row["same_objective"] = len({round(r["objective"], 6) for r in result["runs"]}) == 1
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| case | rows | cols | solve plain / with [s] | duals [s] | prices [s] | values [s] "
        "| write [s] | marginal / solve | + write | price rows, capacities valued |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['rows']:,} | {r['columns']:,} | "
            f"{r['plain_solve']:.3f} / {r['with_solve']:.3f} | {r['duals']:.4f} | "
            f"{r['prices']:.4f} | {r['values']:.4f} | {r['write']:.4f} | "
            f"{100 * r['marginal_over_solve']:.2f} % | {100 * r['with_write_over_solve']:.2f} % "
            f"| {r['price_rows']:,}, {r['valued']} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="kera_week,kera_year,ref_T8760_B10")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "bench")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "marginal.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.repeat, args.data, args.json)
        return
    results, rows = [], []
    for case in args.cases.split(","):
        with tempfile.TemporaryDirectory(prefix="pecopt_marginal_") as t:
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
        raise SystemExit("a case reached different objectives with and without duals")


if __name__ == "__main__":
    main()

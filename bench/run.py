import time as _time

_T0 = _time.perf_counter()  # first line: the "import" phase of the child counts from here

"""pecopt benchmark driver: pecopt against the two HiGHS floors, side by side.

    python bench/run.py [--data ../shared/bench] [--sizes T168_B10,T8760_B10,T8760_B50,kera]
                        [--milp] [--repeat 1] [--out bench/results] [--no-floors]

For every case and repeat, three fresh Python processes run one after the other:

1. ``bench/run.py --child pecopt --scenario FILE --json OUT [--write-mps PATH]``: the whole
   ``pecopt solve`` job (``solve_scenario`` into a temporary directory), timed by phase
   (import, ingest, build, handoff, solve, extract, write, total) with its peak RSS.  After the
   timed run (and after peak RSS is read) it rebuilds and compiles the model and writes it
   as MPS for floor (a).
2. floor (b) ``bench/plain_highspy.py``: the reference formulation built with numpy and
   passed straight to highspy (reference sizes only, not for ``kera``).
3. floor (a) ``bench/floor_model_file.py``: a fresh HiGHS reads pecopt's MPS; only
   ``h.run()`` is timed.

Objectives of the LP reference cases are checked against the known optima of
../shared/bench/README.md.  Results: ``OUT/<case>.json`` (raw numbers of every run) and
``OUT/summary.json``; a table is printed.
"""

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (standard library only)

REF_REL = "../../../shared/bench"
KNOWN_OPTIMA = {  # LP variant, ../shared/bench/README.md
    "T168_B10": 1275.1877969084399,
    "T8760_B10": 34319.512372906,
    "T8760_B50": 166772.0782302661,
}
PASS_RTOL = 1e-6
GAP_MARKS = (0.01, 0.005, 0.002, 0.001, 0.0005)  # MILP: when was each proven gap reached


def gap_reached(progress: list, gap: float) -> float | None:
    """Seconds since the process started at which (plan - bound) / |plan| <= ``gap``."""
    for t, plan, bound in progress:
        if abs(plan) < float("inf") and abs(bound) < float("inf"):
            if abs(plan - bound) <= gap * max(abs(plan), 1e-9):
                return t
    return None


PHASES = ("import", "ingest", "build", "handoff", "mip_start", "solve", "extract", "write", "total")


# --------------------------------------------------------------------------- child
def child_pecopt(args: argparse.Namespace) -> None:
    """Run the pecopt solve job once in this (fresh) process and write the JSON."""
    import shutil

    from pecopt.workflows.solve import solve_scenario

    t_imported = _time.perf_counter()
    marks: dict[str, float] = {}

    def progress(step: str) -> None:
        marks[step] = _time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix="pecopt_bench_out_"))
    run = None
    error = None
    try:
        try:
            run = solve_scenario(Path(args.scenario), tmp / "out", progress=progress)
        except Exception as exc:  # noqa: BLE001  e.g. no feasible solution in the time limit
            error = f"{type(exc).__name__}: {exc}"
        t_end = _time.perf_counter()
        peak = common.peak_rss_mb()
        if run is not None:
            phases = {"import": t_imported - _T0, **{k: float(v) for k, v in run.seconds.items()}}
        else:  # reconstruct from the progress marks; hand-off is inside "solve"
            phases = {"import": t_imported - _T0}
            order = ["ingest", "build", "solve", "extract", "write"]
            seen = [k for k in order if k in marks]
            for a, b in zip(seen, seen[1:], strict=False):
                phases[a] = marks[b] - marks[a]
            if seen:
                phases[seen[-1]] = t_end - marks[seen[-1]]
            phases["handoff"] = None
        phases["total"] = t_end - _T0
        phases["other"] = phases["total"] - sum(
            phases[k] or 0.0 for k in PHASES if k != "total" and k in phases
        )
        out_files = (
            sorted(str(p.relative_to(tmp / "out")) for p in (tmp / "out").rglob("*") if p.is_file())
            if (tmp / "out").is_dir()
            else []
        )
        res = {
            "script": "run.py --child pecopt",
            "scenario": str(args.scenario),
            "phases": phases,
            "peak_rss_mb": peak,
            "error": error,
            "files_written": out_files,
        }
        if run is not None:
            oc = run.outcome
            res.update(
                {
                    "rows": int(oc.size["rows"]),
                    "cols": int(oc.size["columns"]),
                    "nnz": int(oc.size["nonzeros"]),
                    "binaries": int(oc.size["binaries"]),
                    "objective": float(oc.objective),
                    "mip_dual_bound": float(oc.bound),
                    "mip_gap": float(oc.gap),
                    "model_status": str(getattr(oc.status, "value", oc.status)),
                    # MILP: (seconds since the process started, best plan, best bound)
                    "progress": [(t - _T0, p, b) for t, p, b in getattr(oc, "progress", ())],
                }
            )
            res["gap_reached_s"] = {
                f"{g:g}": gap_reached(res["progress"], g) for g in GAP_MARKS if res["progress"]
            }
        else:
            res.update(
                {
                    "objective": None,
                    "mip_dual_bound": None,
                    "mip_gap": None,
                    "model_status": "no solution: " + (error or "")[:200],
                }
            )
        if args.write_mps or run is None:  # untimed, after the measurement
            import highspy

            from pecopt.model.core import build_model
            from pecopt.solver.compile import compile_model

            if run is not None:
                inputs = run.inputs
            else:
                from pecopt.ingest.district import ingest, to_inputs
                from pecopt.scenario import load_scenario

                scen = load_scenario(Path(args.scenario))
                inputs = to_inputs(scen, ingest(scen, str(args.scenario)))
            dm = build_model(inputs)
            arrays, layout = compile_model(dm.model)
            if run is None:
                res.update(
                    {
                        "rows": int(layout.n_rows),
                        "cols": int(layout.n_cols),
                        "nnz": int(layout.nnz),
                        "binaries": int(layout.n_binary),
                    }
                )
            if args.write_mps:
                h = highspy.Highs()
                h.setOptionValue("output_flag", False)
                arrays.pass_to(h)
                h.writeModel(str(args.write_mps))
                res["mps"] = str(args.write_mps)
                res["highs_version"] = h.version()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    common.write_json(args.json, json.loads(json.dumps(res, default=str)))


# --------------------------------------------------------------------------- parent
def scenario_for(case: str, milp: bool, data: Path, tmpdir: Path) -> Path:
    """The scenario file of a case; reference YAMLs are copied with their data dir = ``data``."""
    if case == "kera":
        return REPO / "scenarios" / "kera.yaml"
    src = HERE / "reference" / f"ref_{case}{'_milp' if milp else ''}.yaml"
    text = src.read_text().replace(REF_REL, str(data.resolve()))
    dst = tmpdir / src.name
    dst.write_text(text)
    return dst


def solver_opts(scenario: Path) -> dict:
    import yaml

    doc = yaml.safe_load(scenario.read_text()) or {}
    s = doc.get("solver") or {}
    return {
        "time_limit": float(s.get("time_limit_s", 600.0)),
        "mip_rel_gap": float(s.get("mip_rel_gap", 1e-4)),
        "threads": int(s["threads"]) if s.get("threads") else None,
    }


def _flags(opts: dict) -> list[str]:
    out = ["--time-limit", str(opts["time_limit"]), "--mip-rel-gap", str(opts["mip_rel_gap"])]
    if opts.get("threads"):
        out += ["--threads", str(opts["threads"])]
    return out


def _ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def run_case(case: str, milp: bool, data: Path, tmpdir: Path, floors: bool, rep: int, log) -> dict:
    scen = scenario_for(case, milp, data, tmpdir)
    opts = solver_opts(scen)
    timeout = opts["time_limit"] * 2 + 900
    mps = tmpdir / f"{case}{'_milp' if milp else ''}_{rep}.mps"
    label = f"{case}{' MILP' if milp else ' LP'} #{rep + 1}"

    log(f"[{label}] pecopt ...")
    cmd = [
        str(HERE / "run.py"),
        "--child",
        "pecopt",
        "--scenario",
        str(scen),
        "--json",
        str(tmpdir / f"pecopt_{case}_{rep}.json"),
    ]
    if floors:
        cmd += ["--write-mps", str(mps)]
    pec = common.run_subprocess_json(cmd, timeout=timeout, cwd=str(REPO))
    log(
        f"[{label}] pecopt total {pec['phases']['total']:.2f} s, obj {pec['objective']}, "
        f"status {pec['model_status']}"
    )

    run = {
        "case": case,
        "milp": milp,
        "repeat": rep,
        "scenario": str(scen),
        "solver_options": opts,
        "pecopt": pec,
        "floor_b": None,
        "floor_a": None,
    }
    if floors and case in KNOWN_OPTIMA:
        T, B = case[1:].split("_B")
        log(f"[{label}] floor (b) plain highspy ...")
        cmd = [
            str(HERE / "plain_highspy.py"),
            "--data",
            str(data.resolve()),
            "--T",
            T,
            "--B",
            B,
            *_flags(opts),
            "--json",
            str(tmpdir / f"fb_{case}_{rep}.json"),
        ]
        if milp:
            cmd.append("--milp")
        run["floor_b"] = common.run_subprocess_json(cmd, timeout=timeout, cwd=str(REPO))
        log(f"[{label}] floor (b) total {run['floor_b']['phases']['total']:.2f} s")
    if floors and mps.is_file():
        log(f"[{label}] floor (a) MPS solve ...")
        cmd = [
            str(HERE / "floor_model_file.py"),
            str(mps),
            *_flags(opts),
            "--json",
            str(tmpdir / f"fa_{case}_{rep}.json"),
        ]
        run["floor_a"] = common.run_subprocess_json(cmd, timeout=timeout, cwd=str(REPO))
        run["mps_mb"] = mps.stat().st_size / 2**20
        mps.unlink()
        log(f"[{label}] floor (a) solve {run['floor_a']['phases']['solve']:.2f} s")

    # checks and ratios
    known = KNOWN_OPTIMA.get(case) if not milp else None
    if known is not None and pec["objective"] is not None:
        rel = abs(pec["objective"] - known) / abs(known)
        run["check"] = {"known_optimum": known, "rel_error": rel, "pass": rel <= PASS_RTOL}
    else:
        ref = (run["floor_b"] or run["floor_a"] or {}).get("objective")
        rel = (
            None
            if ref is None or pec["objective"] is None
            else abs(pec["objective"] - ref) / max(1.0, abs(ref))
        )
        run["check"] = {
            "known_optimum": known,
            "vs_floor_objective": ref,
            "rel_error": rel,
            "pass": None,
        }
    p = pec["phases"]
    fb, fa = run["floor_b"], run["floor_a"]
    run["ratios"] = {
        "total_vs_floor_b": _ratio(p["total"], fb and fb["phases"]["total"]),
        "peak_vs_floor_b": _ratio(pec["peak_rss_mb"], fb and fb["peak_rss_mb"]),
        "solve_vs_floor_a": _ratio(p["solve"], fa and fa["phases"]["solve"]),
        "overhead_share": (p["total"] - p["solve"]) / p["total"],
    }
    return run


def known_case(key: str) -> bool:
    return key in KNOWN_OPTIMA


def _med(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarise(key: str, runs: list[dict]) -> dict:
    pec = [r["pecopt"] for r in runs]
    fb = [r["floor_b"] for r in runs if r["floor_b"]]
    fa = [r["floor_a"] for r in runs if r["floor_a"]]
    s = {
        "case": key,
        "repeats": len(runs),
        "rows": pec[0]["rows"],
        "cols": pec[0]["cols"],
        "nnz": pec[0]["nnz"],
        "binaries": pec[0]["binaries"],
        "pecopt_phases": {k: _med([x["phases"].get(k) for x in pec]) for k in (*PHASES, "other")},
        "pecopt_peak_mb": _med([x["peak_rss_mb"] for x in pec]),
        "objective": pec[0]["objective"],
        "bound": pec[0]["mip_dual_bound"],
        "gap": pec[0]["mip_gap"],
        "gaps": [x["mip_gap"] for x in pec],
        "gap_0.1%_s": _med([(x.get("gap_reached_s") or {}).get("0.001") for x in pec]),
        "status": pec[0]["model_status"],
        "check": runs[0]["check"],
        "floor_b_total": _med([x["phases"]["total"] for x in fb]),
        "floor_b_solve": _med([x["phases"]["solve"] for x in fb]),
        "floor_b_peak_mb": _med([x["peak_rss_mb"] for x in fb]),
        "floor_b_objective": fb[0]["objective"] if fb else None,
        "floor_b_status": fb[0].get("model_status") if fb else None,
        "floor_b_gap": fb[0].get("mip_gap") if fb else None,
        "floor_b_size": (
            {k: fb[0].get(k) for k in ("rows", "cols", "nnz", "binaries")} if fb else None
        ),
        "floor_a_solve": _med([x["phases"]["solve"] for x in fa]),
        "floor_a_objective": fa[0]["objective"] if fa else None,
        "floor_a_status": fa[0].get("model_status") if fa else None,
        # ratios: per run (side by side), then the median
        "ratios": {k: _med([r["ratios"][k] for r in runs]) for k in runs[0]["ratios"]},
    }
    if known_case(key):
        s["check"] = {**s["check"], "pass": all(bool(r["check"].get("pass")) for r in runs)}
    return s


def _f(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)


def print_table(summaries: list[dict]) -> str:
    head = [
        "case",
        "rows",
        "cols",
        "nnz",
        "bin",
        *PHASES,
        "peak MB",
        "objective",
        "check",
        "b total",
        "b solve",
        "b peak",
        "a solve",
        "tot/b",
        "peak/b",
        "solve/a",
        "ovh",
    ]
    rows = []
    for s in summaries:
        ph = s["pecopt_phases"]
        c = s["check"]
        if c.get("pass") is None:
            if s["objective"] is None:
                chk = "no solution"
            elif s["binaries"]:
                chk = f"{s['status']} gap {s['gap']:.2%}"
                if s.get("gap_0.1%_s") is not None:
                    chk += f", 0.1 % at {s['gap_0.1%_s']:.0f} s"
            else:
                chk = "n/a"
        else:
            chk = f"{'PASS' if c['pass'] else 'FAIL'} {_f(c.get('rel_error'), '{:.1e}')}"
        r = s["ratios"]
        rows.append(
            [
                s["case"],
                f"{s['rows']:,}",
                f"{s['cols']:,}",
                f"{s['nnz']:,}",
                f"{s['binaries']:,}",
                *[_f(ph[k]) for k in PHASES],
                _f(s["pecopt_peak_mb"], "{:.0f}"),
                _f(s["objective"], "{:.10g}"),
                chk,
                _f(s["floor_b_total"]),
                _f(s["floor_b_solve"]),
                _f(s["floor_b_peak_mb"], "{:.0f}"),
                _f(s["floor_a_solve"]),
                _f(r["total_vs_floor_b"]),
                _f(r["peak_vs_floor_b"]),
                _f(r["solve_vs_floor_a"]),
                _f(r["overhead_share"], "{:.0%}"),
            ]
        )
    try:
        from rich.console import Console
        from rich.table import Table

        t = Table(title="pecopt vs HiGHS floors (seconds; medians over repeats)")
        for h in head:
            t.add_column(h, justify="left" if h in ("case", "check") else "right")
        for row in rows:
            t.add_row(*row)
        Console(width=260).print(t)
    except ImportError:
        pass
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(row) + " |" for row in rows]
    text = "\n".join(md)
    try:
        import rich  # noqa: F401
    except ImportError:
        print(text)
    return text


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["mem_total_gb"] = int(line.split()[1]) / 2**20
    except OSError:
        pass
    try:
        from importlib import metadata

        info["highspy"] = metadata.version("highspy")
        info["pecopt"] = metadata.version("pecopt")
    except Exception:  # noqa: BLE001
        pass
    return info


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="pecopt benchmark against the HiGHS floors")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "bench"))
    ap.add_argument("--sizes", default="T168_B10,T8760_B10,T8760_B50,kera")
    ap.add_argument(
        "--milp",
        action="store_true",
        help="also run the _milp.yaml variants of the reference sizes",
    )
    ap.add_argument("--milp-only", action="store_true", help="run only the MILP variants")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--no-floors", action="store_true", help="pecopt only")
    ap.add_argument(
        "--table", action="store_true", help="only print the table of OUT/summary.json (no runs)"
    )
    ap.add_argument(
        "--dispatch",
        action="store_true",
        help="run the nightly-dispatch benchmark instead (bench/dispatch.py, issue #10)",
    )
    # child mode
    ap.add_argument("--child", choices=["pecopt"], help=argparse.SUPPRESS)
    ap.add_argument("--scenario", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    ap.add_argument("--write-mps", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_pecopt(args)
        return
    if args.dispatch:  # 48 h at 15 min for Kera, command start to files written
        import subprocess

        cmd = [sys.executable, str(HERE / "dispatch.py"), "--repeat", str(max(args.repeat, 5))]
        cmd += ["--out", str(Path(args.out) / "dispatch.json")]
        sys.exit(subprocess.run(cmd).returncode)

    data = Path(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, bool]] = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        if size != "kera" and size not in KNOWN_OPTIMA:
            ap.error(f"unknown size {size!r}")
        if not args.milp_only:
            cases.append((size, False))
        if (args.milp or args.milp_only) and size != "kera":
            cases.append((size, True))

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    summary_path = out / "summary.json"
    if args.table:
        cases_done = json.loads(summary_path.read_text())["cases"]
        print_table(list(cases_done.values()))
        return
    previous = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    summaries = dict(previous.get("cases", {}))
    this_run = []
    with tempfile.TemporaryDirectory(prefix="pecopt_bench_") as td:
        for case, milp in cases:
            key = f"{case}{'_milp' if milp else ''}"
            runs = [
                run_case(case, milp, data, Path(td), not args.no_floors, r, log)
                for r in range(args.repeat)
            ]
            s = summarise(key, runs)
            (out / f"{key}.json").write_text(
                json.dumps(
                    {
                        "summary": s,
                        "runs": runs,
                        "machine": machine(),
                        "date": _time.strftime("%Y-%m-%d %H:%M:%S UTC", _time.gmtime()),
                    },
                    indent=2,
                    default=str,
                )
            )
            summaries[key] = s
            this_run.append(s)
    summary_path.write_text(
        json.dumps(
            {
                "date": _time.strftime("%Y-%m-%d %H:%M:%S UTC", _time.gmtime()),
                "command": " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])]),
                "machine": machine(),
                "cases": summaries,
            },
            indent=2,
            default=str,
        )
    )
    print_table(this_run)
    if any(s["check"]["pass"] is False for s in this_run):
        sys.exit(1)


if __name__ == "__main__":
    main()

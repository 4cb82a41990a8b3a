import time as _time

_T0 = _time.perf_counter()  # first line: the child's "import" phase counts from here

"""Nightly dispatch benchmark: 48 h at 15 min for the Kera district (issue #10).

    python bench/dispatch.py [--day 2025-03-10] [--repeat 5] [--cases series,pvlib]
                             [--out bench/results/dispatch.json]

Inputs (made once, untimed, in a temporary folder): a weather forecast CSV (the embedded
typical year's GHI, DNI, DHI, temperature and wind at 15 min over the horizon), the
day-ahead price file of the delivery day only (15 min; the look-ahead's prices are
missing, as every night, and get forecast), and two variants of
``scenarios/kera_dispatch.yaml``:

* ``series``: PV given as a series (one ``pv_series`` file column: the district's
  rooftop arrays computed beforehand with pvlib), the weather forecast only for
  temperatures (heat-pump COP, archetype heat);
* ``pvlib``: the 22 rooftop arrays computed by pvlib from the weather forecast.

Each case: an untimed first night (the day before) fills a fresh state store; then
``--repeat`` timed runs of the delivery day from that state (a re-run reads the same
state), each a fresh ``pecopt dispatch`` process. Reported per run:

* ``command``: wall time of the ``pecopt dispatch`` process, command start to exit (all
  files written), the figure of the issue's targets (median over the repeats);
* a second process per repeat (``--child``) runs the same job in-process and times the
  phases: ``import`` (Python start -> the modules every run needs), then the
  workflow's own timers (``read_state``, ``ingest`` (with any library the run imports
  lazily, e.g. pvlib), ``build``, ``handoff``, ``solve``, ``extract``, ``write``), and
  its CPU time.
"""

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCENARIO = REPO / "scenarios" / "kera_dispatch.yaml"
TARGETS = {"series": 3.0, "pvlib": 4.5}


def child(args: argparse.Namespace) -> None:
    """One dispatch run in this fresh process, timed by phase; writes JSON."""
    from datetime import date

    import pecopt.api  # noqa: F401  the modules every run needs
    import pecopt.ingest.district  # noqa: F401
    import pecopt.workflows.fallback  # noqa: F401
    import pecopt.workflows.solve  # noqa: F401
    from pecopt.workflows.dispatch import dispatch

    t_imported = _time.perf_counter()
    run = dispatch(
        Path(args.scenario), Path(args.out), Path(args.state), day=date.fromisoformat(args.day)
    )
    t_end = _time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    res = {
        "import": t_imported - _T0,
        **{k: float(v) for k, v in run.seconds.items() if k != "total"},
        "workflow": run.seconds["total"],
        "total": t_end - _T0,
        "cpu": usage.ru_utime + usage.ru_stime,
        "plan": run.mode,
        "exit_code": run.exit_code,
        "modules": sorted(m for m in ("pvlib", "scipy", "plotly", "duckdb") if m in sys.modules),
    }
    Path(args.json).write_text(json.dumps(res))


def make_inputs(folder: Path, day: str) -> dict[str, Path]:
    """The forecast, price and PV files and the two scenario variants (untimed)."""
    import numpy as np
    import pandas as pd
    import yaml

    from pecopt.ingest.pv import pv_ac_kw
    from pecopt.ingest.spot import typical_spot_eur_per_kwh
    from pecopt.ingest.weather import typical_year

    doc = yaml.safe_load(SCENARIO.read_text())
    site = doc["site"]
    tz = site["timezone"]
    start = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC") - pd.Timedelta(days=2)
    index = pd.date_range(start, periods=5 * 96, freq="15min", name="timestamp")
    wx = typical_year(index, site["latitude"], site["longitude"], site["altitude_m"])
    forecast = wx.reset_index().assign(
        timestamp=lambda d: d["timestamp"].dt.strftime("%Y-%m-%dT%H:%MZ")
    )
    forecast.to_csv(folder / "forecast.csv", index=False, float_format="%.3f")
    pv = np.zeros(len(index))
    for b in doc["buildings"]:
        for a in b.get("pv", []):
            pv += pv_ac_kw(
                wx, site["latitude"], site["longitude"], site["altitude_m"], a["kwp"],
                a.get("tilt_deg", 30.0), a.get("azimuth_deg", 180.0), a.get("losses_pct", 14.0),
            ).to_numpy()  # fmt: skip
    pd.DataFrame({"timestamp": forecast["timestamp"], "pv_kw": pv}).to_csv(
        folder / "pv.csv", index=False, float_format="%.3f"
    )
    # day-ahead prices: the day before (history) and the delivery day, 15 min
    d0 = pd.Timestamp(day).tz_localize(tz)
    prices = pd.date_range(d0 - pd.Timedelta(days=1), d0 + pd.Timedelta(days=1), freq="15min",
                           inclusive="left").tz_convert("UTC")  # fmt: skip
    spot = typical_spot_eur_per_kwh(pd.DatetimeIndex(prices)).to_numpy() * 1000.0
    pd.DataFrame(
        {"timestamp": prices.strftime("%Y-%m-%dT%H:%MZ"), "price_eur_per_mwh": spot}
    ).to_csv(folder / "prices.csv", index=False, float_format="%.2f")

    doc["weather"] = {"source": "forecast", "path": str(folder / "forecast.csv")}
    doc["assets"]["grid"]["tariff"]["spot"] = {
        "source": "file", "path": str(folder / "prices.csv"), "column": "price_eur_per_mwh",
        "unit": "eur_per_mwh",
    }  # fmt: skip
    out = {}
    pvlib_doc = json.loads(json.dumps(doc))
    (folder / "kera_dispatch_pvlib.yaml").write_text(yaml.safe_dump(pvlib_doc, sort_keys=False))
    out["pvlib"] = folder / "kera_dispatch_pvlib.yaml"
    for b in doc["buildings"]:
        b.pop("pv", None)
    doc["assets"]["pv_series"] = [
        {"name": "rooftop_pv", "series": {"path": str(folder / "pv.csv"), "column": "pv_kw"}}
    ]
    (folder / "kera_dispatch_series.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    out["series"] = folder / "kera_dispatch_series.yaml"
    return out


def run_case(case: str, scenario: Path, day: str, repeat: int, tmp: Path) -> dict:
    import pandas as pd

    pecopt = Path(sys.executable).with_name("pecopt")
    state = tmp / f"state_{case}"
    before = (pd.Timestamp(day) - pd.Timedelta(days=1)).date().isoformat()
    first = [str(pecopt), "dispatch", str(scenario), "--day", before, "--state", str(state),
             "--out", str(tmp / f"{case}_first"), "--quiet"]  # fmt: skip
    subprocess.run(first, check=True, cwd=tmp)
    runs = []
    for k in range(repeat):
        out = tmp / f"{case}_{k}"
        cmd = [str(pecopt), "dispatch", str(scenario), "--day", day, "--state", str(state),
               "--out", str(out), "--quiet"]  # fmt: skip
        t0 = _time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp)
        wall = _time.perf_counter() - t0
        files = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
        js = tmp / f"{case}_{k}.json"
        subprocess.run(
            [sys.executable, str(Path(__file__)), "--child", "--scenario", str(scenario),
             "--day", day, "--state", str(state), "--out", str(out) + "_child", "--json",
             str(js)],
            check=True, cwd=tmp,
        )  # fmt: skip
        phases = json.loads(js.read_text())
        load = os.getloadavg()[0]
        runs.append(
            {"command": wall, "exit_code": proc.returncode, "files": files, "load": load, **phases}
        )
        shown = {x: round(y, 2) for x, y in phases.items() if isinstance(y, float)}
        print(
            f"[{case} #{k + 1}] command {wall:.2f} s, exit {proc.returncode}; {shown}", flush=True
        )
    keys = [k for k, v in runs[0].items() if isinstance(v, float)]
    return {
        "case": case,
        "target_s": TARGETS[case],
        "median": {k: statistics.median(r[k] for r in runs) for k in keys},
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="Nightly dispatch benchmark (issue #10).")
    ap.add_argument("--day", default="2025-03-10")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cases", default="series,pvlib")
    ap.add_argument("--out", default=str(HERE / "results" / "dispatch.json"))
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--scenario")
    ap.add_argument("--state")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.child:
        # the out folder of a child is its own (the CLI run's stays as it was)
        shutil.rmtree(args.out, ignore_errors=True)
        child(args)
        return
    tmp = Path(tempfile.mkdtemp(prefix="pecopt_bench_dispatch_"))
    try:
        scenarios = make_inputs(tmp, args.day)
        results = [
            run_case(c, scenarios[c], args.day, args.repeat, tmp) for c in args.cases.split(",")
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    summary = {"day": args.day, "repeat": args.repeat, "loadavg": load, "cases": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print(f"\nmedians of {args.repeat} (load average {load[0]:.1f}):")
    cols = ["command", "import", "read_state", "ingest", "build", "handoff", "solve",
            "extract", "write", "total", "cpu"]  # fmt: skip
    print("| case | target | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for r in results:
        m = r["median"]
        print(
            f"| {r['case']} | {r['target_s']:.1f} | "
            + " | ".join(f"{m.get(c, float('nan')):.2f}" for c in cols)
            + " |"
        )


if __name__ == "__main__":
    main()

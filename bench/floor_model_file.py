"""Floor (a): HiGHS solving a model file in a fresh process, timing only ``run()``.

Given a model file written by highspy (``.mps``; anything ``Highs.readModel``
accepts works), this script does::

    h = highspy.Highs(); h.readModel(path); <set options>; h.run()

and reports the seconds spent in ``h.run()`` alone -- the solver's time on the
matrix with no modelling layer, build or hand-off in front of it.  Reading the
file and extracting the column values are timed too, but reported separately.

Options come from flags and/or a JSON object (``--options '{"presolve": "off"}'``);
flags win over the JSON object.  ``output_flag`` is always off unless the JSON
sets it.

    python bench/floor_model_file.py model.mps --time-limit 120 --threads 2 --json out.json
"""

import time

_T0 = time.perf_counter()  # before any import

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import highspy  # noqa: E402
import numpy as np  # noqa: E402

try:  # run as a script from bench/
    import common  # noqa: E402
except ImportError:  # imported as bench.floor_model_file from the repository root
    from bench import common  # noqa: E402

_T_IMPORTED = time.perf_counter()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line interface; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="model file for Highs.readModel (.mps, .lp, .mps.gz)")
    ap.add_argument("--options", default=None, help="HiGHS options as a JSON object")
    ap.add_argument("--time-limit", type=float, default=None, help="HiGHS time_limit [s]")
    ap.add_argument("--mip-rel-gap", type=float, default=None, help="HiGHS mip_rel_gap")
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads")
    ap.add_argument("--presolve", default=None, choices=["on", "off", "choose"])
    ap.add_argument("--solver", default=None, help="HiGHS solver option (simplex, ipm, ...)")
    ap.add_argument("--json", default="-", help="output JSON path ('-' = stdout)")
    return ap.parse_args(argv)


def solve_model_file(path: str | Path, options: dict) -> dict:
    """Read ``path`` into a new ``highspy.Highs``, apply ``options``, run and time it.

    Returns ``{"phases": {"read_model", "solve", "extract"}, "rows", "cols",
    "nnz", "binaries", **common.highs_result(h)}``.  Only ``phases["solve"]``
    (wall time of ``h.run()``) is the floor figure.
    """
    h = highspy.Highs()
    common.apply_highs_options(h, {"output_flag": False, **options})
    phases = {}

    t = time.perf_counter()
    status = h.readModel(str(path))
    phases["read_model"] = time.perf_counter() - t
    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"Highs.readModel({path!r}) failed")

    t = time.perf_counter()
    h.run()
    phases["solve"] = time.perf_counter() - t

    t = time.perf_counter()
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    phases["extract"] = time.perf_counter() - t

    peak = common.peak_rss_mb()  # before anything below copies the model out
    info = h.getInfo()
    is_mip = int(info.mip_node_count) >= 0
    res = {
        "phases": phases,
        "peak_rss_mb": peak,
        "rows": int(h.getNumRow()),
        "cols": int(h.getNumCol()),
        "nnz": int(h.getNumNz()),
        **common.highs_result(h, is_mip=is_mip),
        "highs_version": h.version(),
    }
    res["x_sum"] = float(x.sum()) if res["objective"] is not None else None
    return res


def main(argv: list[str] | None = None) -> dict:
    """Solve the model file and write JSON.

    JSON keys: ``script``, ``model``, ``options``, ``phases`` (seconds:
    ``import``, ``read_model``, ``solve``, ``extract``), ``solve_s`` (=
    ``phases["solve"]``, the floor), ``peak_rss_mb``, ``rows``, ``cols``,
    ``nnz``, the keys of :func:`common.highs_result` (``model_status``,
    ``objective``, ``primal_solution_status``, ``mip_dual_bound``, ``mip_gap``,
    ``mip_node_count``, ``simplex_iterations``, ``ipm_iterations``,
    ``highs_run_time``), ``x_sum`` and ``highs_version``.
    """
    args = parse_args(argv)
    options = json.loads(args.options) if args.options else {}
    flags = {
        "time_limit": args.time_limit,
        "mip_rel_gap": args.mip_rel_gap,
        "threads": args.threads,
        "presolve": args.presolve,
        "solver": args.solver,
    }
    options.update({k: v for k, v in flags.items() if v is not None})

    res = solve_model_file(args.model, options)
    res["phases"] = {"import": _T_IMPORTED - _T0, **res["phases"]}
    result = {
        "script": "floor_model_file",
        "model": str(args.model),
        "options": {"output_flag": False, **options},
        "solve_s": res["phases"]["solve"],
        **res,
    }
    common.write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)

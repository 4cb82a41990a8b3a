"""Plain formulation of the reference district problem, passed straight to highspy.

This is the "HiGHS alone" floor of ``/work/shared/bench/README.md``: the plain
formulation exactly as written there (every variable for every hour, EV
charging columns bounded by ``ev_p * plugged`` -- zero-width when unplugged --
and the cyclic predecessor ``p(t) = (t - 1) mod T``), built with vectorised
numpy directly in CSC form (no Python loop per hour) and handed to HiGHS in a
single ``passModel`` call.

Layout (fixed, so MILP timings are comparable run to run):

* columns, in blocks of ``T`` (hour-major inside a block):
  ``gi, ge, pv, bch, bdis, bsoc, hp, dh, sch, sdis, ssoc``, then
  ``c`` (``E*T``, vehicle-major: column ``11T + v*T + t``), ``e`` (``E*T``,
  same order), and for the MILP ``y, u, z`` (``T`` each);
* rows, in blocks: electricity (``T``), heat (``T``), battery (``T``), tank
  (``T``), EV (``E*T``, vehicle-major), and for the MILP the six blocks
  ``bch - bat_p y <= 0``, ``bdis + bat_p y <= bat_p``, ``gi - g_imp_max z <= 0``,
  ``ge + g_exp_max z <= g_exp_max``, ``hp - hp_p u <= 0``,
  ``hp - hp_min hp_p u >= 0``.

Storage rows are written as in the README moved to the left-hand side, e.g.
``bsoc_t - (1 - bat_loss) bsoc_p(t) - bat_eta_ch bch_t + bdis_t / bat_eta_dis = 0``.

Run as a script it times each phase in a fresh process and writes JSON::

    python bench/plain_highspy.py --data ../shared/bench --T 8760 --B 10 --json out.json
"""

import time

_T0 = time.perf_counter()  # process "start" for the import phase: before any import
_WALL0 = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import highspy  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow.parquet  # noqa: E402, F401  (pandas imports it lazily on first read; count it here)

try:  # run as a script from bench/ (sys.path[0] == bench/)
    import common  # noqa: E402
except ImportError:  # imported as bench.plain_highspy from the repository root
    from bench import common  # noqa: E402

_T_IMPORTED = time.perf_counter()

#: Per-hour scalar variables, in column-block order.
HOURLY_VARS = ("gi", "ge", "pv", "bch", "bdis", "bsoc", "hp", "dh", "sch", "sdis", "ssoc")
#: MILP binaries, in column-block order (after ``c`` and ``e``).
BINARY_VARS = ("y", "u", "z")

SERIES_COLUMNS = (
    "electric_load_kw",
    "heat_demand_kw",
    "pv_available_kw",
    "cop",
    "spot_price_eur_per_kwh",
    "dh_price_eur_per_kwh",
    "grid_co2_kg_per_kwh",
)


# --------------------------------------------------------------------------- read
def read_data(data_dir: str | Path, T: int, B: int) -> dict:
    """Read ``ref_T{T}_B{B}_{series,ev}.parquet`` and ``_params.json`` into numpy.

    Returns a dict with the scalar parameters of the JSON, each hourly series
    column as a float array of length ``T``, and ``plugged`` / ``drive_kwh`` as
    ``(E, T)`` arrays (vehicles in sorted name order, hours in time order).
    """
    data_dir = Path(data_dir)
    stem = data_dir / f"ref_T{T}_B{B}"
    params = json.loads(Path(f"{stem}_params.json").read_text(encoding="utf-8"))
    series = pd.read_parquet(f"{stem}_series.parquet", columns=["timestamp", *SERIES_COLUMNS])
    ev = pd.read_parquet(
        f"{stem}_ev.parquet", columns=["vehicle", "timestamp", "plugged", "drive_kwh"]
    )

    if len(series) != T or int(params["T"]) != T or int(params["B"]) != B:
        raise ValueError(
            f"{stem}: series has {len(series)} rows, params say T={params['T']} B={params['B']}"
        )
    E = int(params["E"])
    if len(ev) != E * T:
        raise ValueError(f"{stem}: ev table has {len(ev)} rows, expected E*T = {E * T}")

    series = series.sort_values("timestamp", kind="stable")
    ev = ev.sort_values(["vehicle", "timestamp"], kind="stable")
    # Every vehicle must have exactly the series' hours, in the same order.
    # (datetime64[ns] in UTC: converting tz-aware columns to objects is slow)
    ts = series["timestamp"].to_numpy(dtype="datetime64[ns]")
    ev_ts = ev["timestamp"].to_numpy(dtype="datetime64[ns]").reshape(E, T)
    if not (ev_ts == ts).all():
        raise ValueError(f"{stem}: ev timestamps do not match the series hours")

    data = dict(params)
    for col in SERIES_COLUMNS:
        data[col] = series[col].to_numpy(dtype=np.float64)
    data["plugged"] = ev["plugged"].to_numpy(dtype=bool).reshape(E, T)
    data["drive_kwh"] = ev["drive_kwh"].to_numpy(dtype=np.float64).reshape(E, T)
    data["vehicles"] = list(pd.unique(ev["vehicle"]))
    return data


# -------------------------------------------------------------------------- build
def _column_block(rows: list, vals: list, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSC pieces for ``n`` columns that each have ``len(rows)`` entries.

    ``rows[k]`` / ``vals[k]`` give the row index / coefficient of the k-th entry
    of every column (arrays of length ``n`` or scalars).  Entries are sorted by
    row inside each column.  Returns ``(count_per_column, row_index, value)``.
    """
    k = len(rows)
    r = np.empty((n, k), dtype=np.int64)
    v = np.empty((n, k), dtype=np.float64)
    for j in range(k):  # k <= 4: loop over entries per column, never over hours
        r[:, j] = rows[j]
        v[:, j] = vals[j]
    if k > 1:
        # Only the cyclic wrap-around columns (state at the last hour) are out of order.
        bad = np.flatnonzero((np.diff(r, axis=1) < 0).any(axis=1))
        if bad.size:
            order = np.argsort(r[bad], axis=1, kind="stable")
            r[bad] = np.take_along_axis(r[bad], order, axis=1)
            v[bad] = np.take_along_axis(v[bad], order, axis=1)
    return np.full(n, k, dtype=np.int64), r.ravel(), v.ravel()


def build_arrays(d: dict, milp: bool = False) -> dict:
    """Build the plain LP/MILP as CSC arrays from :func:`read_data` output.

    Returns a dict with ``num_col``, ``num_row``, ``num_nz``, ``col_cost``,
    ``col_lower``, ``col_upper``, ``row_lower``, ``row_upper``, ``a_start``
    (int32, length ``num_col + 1``), ``a_index`` (int32), ``a_value``,
    ``integrality`` (int32 per column, empty for the LP), ``num_binary`` and
    ``col_offset`` (first column of each variable block by name).
    """
    T = len(d["electric_load_kw"])
    E = d["plugged"].shape[0]
    t = np.arange(T, dtype=np.int64)
    succ = (t + 1) % T  # row of hour s with p(s) = t: where a state column reappears

    # Column offsets.
    off = {name: i * T for i, name in enumerate(HOURLY_VARS)}
    off["c"] = len(HOURLY_VARS) * T
    off["e"] = off["c"] + E * T
    n_cont = off["e"] + E * T
    if milp:
        for i, name in enumerate(BINARY_VARS):
            off[name] = n_cont + i * T
    num_col = n_cont + (len(BINARY_VARS) * T if milp else 0)

    # Row offsets.
    r_el, r_ht, r_bat, r_ts, r_ev = 0, T, 2 * T, 3 * T, 4 * T
    n_lp_rows = 4 * T + E * T
    r_m = n_lp_rows  # MILP blocks: r_m + k*T + t, k = 0..5
    num_row = n_lp_rows + (6 * T if milp else 0)

    bat_p, g_imp, g_exp, hp_p = d["bat_p"], d["g_imp_max"], d["g_exp_max"], d["hp_p"]
    el, ht, bat, ts = r_el + t, r_ht + t, r_bat + t, r_ts + t

    def m(k: int) -> list:  # MILP row k of every hour, as an optional extra entry
        return [r_m + k * T + t] if milp else []

    def one(k: int) -> list:
        return [1.0] if milp else []

    # Columns in order; each entry: (rows, values) for one block of columns.
    blocks = [
        # gi: electricity +1 [, gi - g_imp z <= 0]
        ([el, *m(2)], [1.0, *one(2)], T),
        # ge: electricity -1 [, ge + g_exp z <= g_exp]
        ([el, *m(3)], [-1.0, *one(3)], T),
        # pv: electricity +1
        ([el], [1.0], T),
        # bch: electricity -1, battery -eta_ch [, bch - bat_p y <= 0]
        ([el, bat, *m(0)], [-1.0, -d["bat_eta_ch"], *one(0)], T),
        # bdis: electricity +1, battery +1/eta_dis [, bdis + bat_p y <= bat_p]
        ([el, bat, *m(1)], [1.0, 1.0 / d["bat_eta_dis"], *one(1)], T),
        # bsoc_t: own battery row +1, successor's battery row -(1 - loss)
        ([bat, r_bat + succ], [1.0, -(1.0 - d["bat_loss"])], T),
        # hp: electricity -1, heat +cop [, hp - hp_p u <= 0, hp - hp_min hp_p u >= 0]
        ([el, ht, *m(4), *m(5)], [-1.0, d["cop"], *one(4), *one(5)], T),
        # dh: heat +1
        ([ht], [1.0], T),
        # sch: heat -1, tank -eta_ch
        ([ht, ts], [-1.0, -d["ts_eta_ch"]], T),
        # sdis: heat +1, tank +1/eta_dis
        ([ht, ts], [1.0, 1.0 / d["ts_eta_dis"]], T),
        # ssoc_t: own tank row +1, successor's tank row -(1 - loss)
        ([ts, r_ts + succ], [1.0, -(1.0 - d["ts_loss"])], T),
    ]
    vt_t = np.tile(t, E)  # hour of each (v, t) column, vehicle-major
    vt_v = np.repeat(np.arange(E, dtype=np.int64), T)
    blocks += [
        # c_vt: electricity -1, EV row -ev_eta
        ([r_el + vt_t, r_ev + vt_v * T + vt_t], [-1.0, -d["ev_eta"]], E * T),
        # e_vt: own EV row +1, successor's EV row -1
        ([r_ev + vt_v * T + vt_t, r_ev + vt_v * T + np.tile(succ, E)], [1.0, -1.0], E * T),
    ]
    if milp:
        blocks += [
            # y: -bat_p in bch row, +bat_p in bdis row
            ([r_m + t, r_m + T + t], [-bat_p, bat_p], T),
            # u: -hp_p in hp upper row, -hp_min hp_p in hp lower row
            ([r_m + 4 * T + t, r_m + 5 * T + t], [-hp_p, -d["hp_min"] * hp_p], T),
            # z: -g_imp in gi row, +g_exp in ge row
            ([r_m + 2 * T + t, r_m + 3 * T + t], [-g_imp, g_exp], T),
        ]

    pieces = [_column_block(rows, vals, n) for rows, vals, n in blocks]
    counts = np.concatenate([p[0] for p in pieces])
    a_index = np.concatenate([p[1] for p in pieces]).astype(np.int32)
    a_value = np.concatenate([p[2] for p in pieces])
    a_start = np.zeros(num_col + 1, dtype=np.int64)
    np.cumsum(counts, out=a_start[1:])
    assert len(counts) == num_col and a_start[-1] < 2**31

    # Column bounds.
    col_lower = np.zeros(num_col)
    col_upper = np.empty(num_col)
    upper = {
        "gi": g_imp,
        "ge": g_exp,
        "pv": d["pv_available_kw"],
        "bch": bat_p,
        "bdis": bat_p,
        "bsoc": d["bat_e"],
        "hp": hp_p,
        "dh": d["dh_max"],
        "sch": d["ts_p"],
        "sdis": d["ts_p"],
        "ssoc": d["ts_e"],
    }
    for name in HOURLY_VARS:
        col_upper[off[name] : off[name] + T] = upper[name]
    col_upper[off["c"] : off["c"] + E * T] = d["ev_p"] * d["plugged"].ravel()
    col_upper[off["e"] : off["e"] + E * T] = d["ev_cap"]

    # Objective.
    col_cost = np.zeros(num_col)
    spot, co2, cp = d["spot_price_eur_per_kwh"], d["grid_co2_kg_per_kwh"], d["carbon_price"]
    col_cost[off["gi"] : off["gi"] + T] = spot + cp * co2
    col_cost[off["ge"] : off["ge"] + T] = -(spot - d["export_fee"])
    col_cost[off["dh"] : off["dh"] + T] = d["dh_price_eur_per_kwh"] + cp * d["ef_dh"]

    # Row bounds (equalities for the LP part).
    rhs = np.concatenate(
        [d["electric_load_kw"], d["heat_demand_kw"], np.zeros(2 * T), -d["drive_kwh"].ravel()]
    )
    row_lower, row_upper = rhs, rhs.copy()
    integrality = np.empty(0, dtype=np.int32)
    if milp:
        inf = highspy.kHighsInf
        z = np.zeros(T)
        mil_lo = np.concatenate([np.full(5 * T, -inf), z])
        mil_up = np.concatenate([z, np.full(T, bat_p), z, np.full(T, g_exp), z, np.full(T, inf)])
        row_lower = np.concatenate([row_lower, mil_lo])
        row_upper = np.concatenate([row_upper, mil_up])
        col_upper[n_cont:] = 1.0
        integrality = np.zeros(num_col, dtype=np.int32)
        integrality[n_cont:] = int(highspy.HighsVarType.kInteger)

    return {
        "num_col": int(num_col),
        "num_row": int(num_row),
        "num_nz": int(a_start[-1]),
        "col_cost": col_cost,
        "col_lower": col_lower,
        "col_upper": col_upper,
        "row_lower": row_lower,
        "row_upper": row_upper,
        "a_start": a_start.astype(np.int32),
        "a_index": a_index,
        "a_value": a_value,
        "integrality": integrality,
        "num_binary": int(len(BINARY_VARS) * T if milp else 0),
        "col_offset": off,
    }


def to_highs_lp(arrays: dict) -> highspy.HighsLp:
    """Wrap :func:`build_arrays` output in a ``highspy.HighsLp`` (CSC, minimise)."""
    lp = highspy.HighsLp()
    lp.num_col_ = arrays["num_col"]
    lp.num_row_ = arrays["num_row"]
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.col_cost_ = arrays["col_cost"]
    lp.col_lower_ = arrays["col_lower"]
    lp.col_upper_ = arrays["col_upper"]
    lp.row_lower_ = arrays["row_lower"]
    lp.row_upper_ = arrays["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = arrays["num_col"]
    lp.a_matrix_.num_row_ = arrays["num_row"]
    lp.a_matrix_.start_ = arrays["a_start"]
    lp.a_matrix_.index_ = arrays["a_index"]
    lp.a_matrix_.value_ = arrays["a_value"]
    if len(arrays["integrality"]):
        kinds = [highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger]
        lp.integrality_ = [kinds[int(k)] for k in arrays["integrality"]]
    return lp


def build(data_dir: str | Path, T: int, B: int, milp: bool = False) -> highspy.HighsLp:
    """Read the reference data and return the plain model as a ``highspy.HighsLp``.

    Convenience entry point; the timed script uses :func:`read_data`,
    :func:`build_arrays` and :func:`pass_model` separately.
    """
    return to_highs_lp(build_arrays(read_data(data_dir, T, B), milp=milp))


def pass_model(h: highspy.Highs, arrays: dict, how: str = "arrays") -> None:
    """Hand the model to ``h`` in one ``passModel`` call.

    ``how="arrays"`` uses the numpy overload ``passModel(num_col, num_row,
    num_nz, format, sense, offset, cost, lower, upper, row_lower, row_upper,
    start, index, value, integrality)``, which reads the arrays' buffers;
    ``how="highslp"`` builds a ``HighsLp`` first (its setters copy through
    Python sequences) and passes that.
    """
    if how == "highslp":
        status = h.passModel(to_highs_lp(arrays))
    elif how == "arrays":
        integrality = arrays["integrality"]
        if len(integrality) == 0:
            integrality = np.zeros(arrays["num_col"], dtype=np.int32)
        status = h.passModel(
            arrays["num_col"],
            arrays["num_row"],
            arrays["num_nz"],
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize),
            0.0,
            arrays["col_cost"],
            arrays["col_lower"],
            arrays["col_upper"],
            arrays["row_lower"],
            arrays["row_upper"],
            arrays["a_start"],
            arrays["a_index"],
            arrays["a_value"],
            # The binding reads this buffer even when empty: give the LP an
            # all-continuous vector (HiGHS then solves it as an LP).
            integrality,
        )
    else:
        raise ValueError(f"unknown hand-off {how!r}")
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"passModel returned {status}")


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line interface; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/bench", help="directory of ref_T*_B* files")
    ap.add_argument("--T", type=int, default=8760)
    ap.add_argument("--B", type=int, default=10)
    ap.add_argument("--milp", action="store_true", help="add binaries y, u, z per hour")
    ap.add_argument("--time-limit", type=float, default=None, help="HiGHS time_limit [s]")
    ap.add_argument("--mip-rel-gap", type=float, default=None, help="HiGHS mip_rel_gap")
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads")
    ap.add_argument("--presolve", default=None, choices=["on", "off", "choose"])
    ap.add_argument("--solver", default=None, help="HiGHS solver option (simplex, ipm, ...)")
    ap.add_argument("--options", default=None, help="extra HiGHS options as a JSON object")
    ap.add_argument("--handoff", default="arrays", choices=["arrays", "highslp"])
    ap.add_argument(
        "--write-mps", default=None, help="after extract, write the model here (untimed)"
    )
    ap.add_argument("--json", default="-", help="output JSON path ('-' = stdout)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Time read, build, hand-off, solve and extract in this process; write JSON.

    JSON keys: ``script``, ``formulation``, ``T``, ``B``, ``milp``, ``handoff``,
    ``options``, ``phases`` (seconds: ``import``, ``read``, ``build``,
    ``handoff``, ``solve``, ``extract``, ``total``), ``interpreter_startup_s``,
    ``peak_rss_mb``, ``rows``, ``cols``, ``nnz``, ``binaries``, plus the keys of
    :func:`common.highs_result` (``model_status``, ``objective``,
    ``primal_solution_status``, ``mip_dual_bound``, ``mip_gap``,
    ``mip_node_count``, ``simplex_iterations``, ``ipm_iterations``,
    ``highs_run_time``), ``highs_version`` and ``x_sum`` (a checksum of the
    extracted column values).
    """
    args = parse_args(argv)
    phases = {"import": _T_IMPORTED - _T0}

    t = time.perf_counter()
    data = read_data(args.data, args.T, args.B)
    phases["read"] = time.perf_counter() - t

    t = time.perf_counter()
    arrays = build_arrays(data, milp=args.milp)
    phases["build"] = time.perf_counter() - t

    options = {
        "output_flag": False,
        "time_limit": args.time_limit,
        "mip_rel_gap": args.mip_rel_gap,
        "threads": args.threads,
        "presolve": args.presolve,
        "solver": args.solver,
        **(json.loads(args.options) if args.options else {}),
    }
    h = highspy.Highs()
    common.apply_highs_options(h, options)

    t = time.perf_counter()
    pass_model(h, arrays, args.handoff)
    phases["handoff"] = time.perf_counter() - t

    t = time.perf_counter()
    h.run()
    phases["solve"] = time.perf_counter() - t

    t = time.perf_counter()
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    phases["extract"] = time.perf_counter() - t
    phases["total"] = time.perf_counter() - _T0
    peak = common.peak_rss_mb()

    result = {
        "script": "plain_highspy",
        "formulation": "plain",
        "T": args.T,
        "B": args.B,
        "milp": bool(args.milp),
        "handoff": args.handoff,
        "options": {k: v for k, v in options.items() if v is not None},
        "phases": phases,
        "interpreter_startup_s": common.process_startup_seconds(_WALL0),
        "peak_rss_mb": peak,
        "rows": arrays["num_row"],
        "cols": arrays["num_col"],
        "nnz": arrays["num_nz"],
        "binaries": arrays["num_binary"],
        **common.highs_result(h, is_mip=bool(args.milp)),
        "highs_version": h.version(),
    }
    result["x_sum"] = float(x.sum()) if result["objective"] is not None else None
    if args.write_mps:
        h.writeModel(args.write_mps)
    common.write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)

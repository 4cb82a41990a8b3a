"""The layout of an ingested inputs folder, written beside its tables and checked when
the folder is solved again (``pecopt solve --inputs DIR``).

``pecopt ingest`` (and the ``inputs/`` folder of every run) writes ``tables.json``: per
table, its columns in order with their kind (``float``, ``int``, ``bool``, ``time``,
``str``) and unit, its key columns (the ``str`` ones: ``building``, ``array``,
``heat_pump`` and ``sink``, ``fleet`` and ``vehicle``), the names they hold (the
scenario's assets, the EV vehicles) and, for a time table, its row order: one row per
step of the horizon and name, ``time-major`` (every name of a step, then the next step)
or ``key-major`` (every step of a name, then the next name).

:func:`read_checked` reads the tables back and checks each against that record and the
horizon of ``scenario.json``: the file is there and is Parquet, no column is missing or
added (the unit is in the name: ``elec_kw``, not ``elec_mw``), each column has its kind
(whole numbers are taken as floats; timestamps must carry a time zone and are converted
to UTC), numbers are finite (NaN only in a column that had NaN when it was written, e.g.
an air-source heat pump's ``ground_share``), names are the recorded ones, and a time
table has exactly one row per step of the horizon and name. Rows in another order are
put back in the recorded order (a table is aligned by timestamp and name, never taken by
position).
Every mismatch is a :class:`~pecopt.errors.DataError` naming the file, the column and
the row (1-based, as a spreadsheet counts data rows).

A folder without ``tables.json`` (written by pecopt before 0.2) is read as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.ingest.parquet import read_parquet_checked, unit_of

__all__ = ["LAYOUT_FILE", "describe", "read_checked", "write_layout"]

LAYOUT_FILE = "tables.json"
TIME = "timestamp"
_FORMAT = 1


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "time"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_float_dtype(s):
        return "float"
    return "str"


def _layout(
    df: pd.DataFrame, keys: list[str], names: list[tuple[Any, ...]], index: pd.DatetimeIndex
) -> str | None:
    """``time`` (one row a step), ``time-major``, ``key-major`` (one row per step and
    name), or None (a table of other rows)."""
    if TIME not in df.columns or not isinstance(df[TIME].dtype, pd.DatetimeTZDtype):
        return None
    times = pd.DatetimeIndex(df[TIME].drop_duplicates())
    if not times.equals(index):
        return None
    if not keys:
        return "time" if len(df) == len(index) else None
    n_t, n_k = len(times), len(names)
    if n_t * n_k != len(df):
        return None
    key_rows = list(df[keys].itertuples(index=False, name=None))
    t = df[TIME].to_numpy()
    if np.array_equal(t, np.repeat(times.to_numpy(), n_k)) and key_rows == names * n_t:
        return "time-major"
    if np.array_equal(t, np.tile(times.to_numpy(), n_k)) and key_rows == [
        n for n in names for _ in range(n_t)
    ]:
        return "key-major"
    return None


def describe(df: pd.DataFrame, index: pd.DatetimeIndex) -> dict[str, Any]:
    """The record of one table on the horizon ``index`` (see the module docstring)."""
    columns: list[dict[str, Any]] = [
        {"name": str(c), "kind": _kind(df[c]), "unit": unit_of(str(c))}
        | ({"nan": True} if _kind(df[c]) == "float" and df[c].isna().any() else {})
        for c in df
    ]
    keys = [str(c["name"]) for c in columns if c["kind"] == "str"]
    names = list(dict.fromkeys(df[keys].itertuples(index=False, name=None))) if keys else []
    return {
        "columns": columns,
        "keys": keys,
        "names": [list(n) for n in names],
        "layout": _layout(df, keys, names, index),
    }


def write_layout(tables: Mapping[str, pd.DataFrame], folder: Path, index: pd.DatetimeIndex) -> None:
    """Write ``tables.json`` for ``tables`` on the horizon ``index`` into ``folder``."""
    body = {
        "format": _FORMAT,
        "tables": {name: describe(df, index) for name, df in tables.items()},
    }
    (folder / LAYOUT_FILE).write_text(json.dumps(body, indent=1, default=str), encoding="utf-8")


def _row(df: pd.DataFrame, i: int, keys: list[str]) -> str:
    """``row 5 (2025-03-01T04:00Z, building b1)``: a row of ``df`` by position."""
    parts = []
    if TIME in df.columns:
        t = df[TIME].iloc[i]
        parts.append(t.strftime("%Y-%m-%dT%H:%MZ") if isinstance(t, pd.Timestamp) else str(t))
    parts += [f"{k} {df[k].iloc[i]}" for k in keys]
    return f"row {i + 1}" + (f" ({', '.join(parts)})" if parts else "")


def _more(n: int) -> str:
    return f" ({n} such rows)" if n > 1 else ""


def _column(path: Path, df: pd.DataFrame, spec: dict[str, Any], keys: list[str]) -> pd.Series:
    """Column ``spec["name"]`` of ``df`` in its recorded kind, or :class:`DataError`."""
    name, kind, unit = spec["name"], spec["kind"], spec["unit"]
    s = df[name]
    what = f" [{unit}]" if unit else ""
    if kind in ("float", "int"):
        if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
            raise DataError(path, name, f"{s.dtype} values, expected numbers{what}")
        if kind == "int" and not pd.api.types.is_integer_dtype(s):
            raise DataError(path, name, f"{s.dtype} values, expected whole numbers")
        values = s.to_numpy(dtype=float, na_value=np.nan)
        bad = np.flatnonzero(np.isinf(values) if spec.get("nan") else ~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                path, name, f"{_row(df, i, keys)}: {s.iloc[i]} is not a finite number"
                f"{what}{_more(bad.size)}",
            )  # fmt: skip
        return s.astype(float) if kind == "float" else s
    if kind == "bool":
        if not pd.api.types.is_bool_dtype(s) or s.isna().any():
            raise DataError(path, name, f"{s.dtype} values, expected true/false")
        return s.astype(bool)
    if kind == "time":
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            naive = pd.api.types.is_datetime64_dtype(s)
            problem = "timestamps without a time zone" if naive else f"{s.dtype} values"
            raise DataError(path, name, f"{problem}, expected timestamps in UTC")
        if s.isna().any():
            i = int(np.flatnonzero(s.isna().to_numpy())[0])
            raise DataError(path, name, f"row {i + 1}: no timestamp")
        return s.dt.tz_convert("UTC")
    if s.isna().any() or not all(isinstance(v, str) for v in s.drop_duplicates()):
        bad = s.isna().to_numpy() | ~s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        i = int(np.flatnonzero(bad)[0])
        raise DataError(path, name, f"row {i + 1}: {s.iloc[i]!r} is not a name")
    return s.astype(object)


def _align(
    path: Path, df: pd.DataFrame, spec: dict[str, Any], index: pd.DatetimeIndex
) -> pd.DataFrame:
    """The rows of a time table in the recorded order, each step and name once."""
    keys: list[str] = spec["keys"]
    names = [tuple(n) for n in spec["names"]]
    layout = spec["layout"]
    t_pos = index.get_indexer(pd.DatetimeIndex(df[TIME]))
    bad = np.flatnonzero(t_pos < 0)
    if bad.size:
        raise DataError(
            path, TIME, f"{_row(df, int(bad[0]), keys)}: not a time step of the horizon "
            f"({index[0]:%Y-%m-%dT%H:%MZ} to {index[-1]:%Y-%m-%dT%H:%MZ}){_more(bad.size)}",
        )  # fmt: skip
    if layout == "time":
        k_pos = np.zeros(len(df), dtype=np.int64)
        names = [()]
    else:
        lookup = {n: k for k, n in enumerate(names)}
        k_pos = np.fromiter(
            (lookup.get(n, -1) for n in df[keys].itertuples(index=False, name=None)),
            dtype=np.int64,
            count=len(df),
        )
        unknown = np.flatnonzero(k_pos < 0)
        if unknown.size:
            i = int(unknown[0])
            known = ", ".join("/".join(map(str, n)) for n in names[:8])
            more = ", ..." if len(names) > 8 else ""
            raise DataError(
                path, "/".join(keys), f"{_row(df, i, keys)}: not a name of this scenario's "
                f"inputs ({known}{more})",
            )  # fmt: skip
    n_t, n_k = len(index), len(names)
    code = k_pos * n_t + t_pos if layout == "key-major" else t_pos * n_k + k_pos
    seen = np.zeros(n_t * n_k, dtype=bool)
    dup = pd.Series(code).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DataError(path, TIME, f"{_row(df, i, keys)}: a second row for this step")
    seen[code] = True
    if not seen.all():
        c = int(np.flatnonzero(~seen)[0])
        k, t = divmod(c, n_t) if layout == "key-major" else divmod(c, n_k)[::-1]
        who = ", ".join(f"{key} {v}" for key, v in zip(keys, names[k], strict=True))
        raise DataError(
            path, TIME, f"no row for {index[t]:%Y-%m-%dT%H:%MZ}" + (f", {who}" if who else "")
            + f" ({(~seen).sum()} rows missing)",
        )  # fmt: skip
    return df.iloc[np.argsort(code, kind="stable")].reset_index(drop=True)


def read_checked(folder: Path, index: pd.DatetimeIndex) -> dict[str, pd.DataFrame]:
    """The tables of an inputs ``folder``, checked and aligned on the horizon ``index``
    (see the module docstring).

    Raises
    ------
    DataError
        A table is missing, not Parquet, or does not match ``tables.json``: the message
        names the file, the column and the row.
    """
    files = {p.stem: p for p in sorted(folder.glob("*.parquet"))}
    record = folder / LAYOUT_FILE
    if not record.is_file():
        return {name: read_parquet_checked(p) for name, p in files.items()}
    try:
        specs: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))["tables"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(record, "tables", f"not a pecopt table record ({exc})") from None
    for name, p in files.items():
        if name not in specs:
            raise DataError(p, "file", f"not a table of these inputs ({LAYOUT_FILE})")
    tables: dict[str, pd.DataFrame] = {}
    for name, spec in specs.items():
        path = folder / f"{name}.parquet"
        if not path.is_file():
            raise DataError(path, "file", "missing: the scenario's inputs need this table")
        df = read_parquet_checked(path)
        expected = [c["name"] for c in spec["columns"]]
        for c in spec["columns"]:
            if c["name"] not in df.columns:
                unit = f" [{c['unit']}]" if c["unit"] else ""
                raise DataError(path, c["name"], f"missing column{unit}")
        extra = [str(c) for c in df.columns if c not in expected]
        if extra:
            raise DataError(
                path, extra[0], f"not a column of this table (expected {', '.join(expected)})"
            )
        keys: list[str] = spec["keys"]
        df = pd.DataFrame(
            {c["name"]: _column(path, df, c, keys) for c in spec["columns"]}
        ).reset_index(drop=True)
        if spec["layout"] in ("time", "time-major", "key-major"):
            df = _align(path, df, spec, index)
        elif keys:
            allowed = {tuple(n) for n in spec["names"]}
            for i, n in enumerate(df[keys].itertuples(index=False, name=None)):
                if n not in allowed:
                    raise DataError(
                        path, "/".join(keys), f"{_row(df, i, keys)}: not a name of this "
                        "scenario's inputs",
                    )  # fmt: skip
        tables[name] = df
    return tables

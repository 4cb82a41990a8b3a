"""SQL over a sweep dataset with DuckDB: views ``kpis``, ``schedule``, ``storage`` and
``replay``.

``kpis`` holds one row per variant (failed ones too, with ``status`` and ``error`` and no
KPI values); ``schedule``, ``storage`` and (a sweep of replays) ``replay``, one row per
variant and day, hold the rows of the variants whose status is ``ok``, with their
``variant_id`` (from the Hive partition folder). Timestamps are shown
in UTC. See :mod:`pecopt.workflows.sweep_dataset` for the layout.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pecopt.errors import DataError
from pecopt.units import KPIS
from pecopt.workflows.sweep_dataset import KIND

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

#: headline KPIs of the report's sweep view (those present in the dataset are used)
HEADLINE_KPIS = tuple(k.name for k in KPIS if k.short)

_EMPTY = {
    "kpis": "variant_id VARCHAR, hash VARCHAR, status VARCHAR, error VARCHAR",
    "schedule": "timestamp TIMESTAMPTZ, asset VARCHAR, carrier VARCHAR, role VARCHAR, "
    "flow_kw DOUBLE, variant_id VARCHAR",
    "storage": "timestamp TIMESTAMPTZ, asset VARCHAR, soc_kwh DOUBLE, variant_id VARCHAR",
    "replay": "day VARCHAR, variant_id VARCHAR",
}


@dataclass(frozen=True)
class QueryResult:
    """The first rows of a query's answer."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool  # rows beyond the ones fetched exist


def _sql_str(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _empty_view(name: str) -> str:
    cols = [c.strip().split(" ", 1) for c in _EMPTY[name].split(",")]
    select = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in cols)
    return f"CREATE VIEW {name} AS SELECT {select} WHERE false"


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the dataset's views.

    Raises
    ------
    DataError
        ``folder`` is not a pecopt sweep dataset.
    """
    import duckdb

    try:
        marker = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        kind = marker["pecopt_output"]["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        kind = None
    if kind != KIND:
        raise DataError(folder, "manifest.json", "not a pecopt sweep folder")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    root = folder.resolve()
    if any((root / "kpis").glob("*.parquet")):
        glob = _sql_str(root / "kpis" / "*.parquet")
        con.execute(f"CREATE VIEW kpis AS SELECT * FROM read_parquet({glob}, union_by_name=true)")
    else:
        con.execute(_empty_view("kpis"))
    for name in ("schedule", "storage", "replay"):
        if any((root / name).glob("variant_id=*/*.parquet")):
            glob = _sql_str(root / name / "*" / "*.parquet")
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({glob}, "
                "hive_partitioning=true, hive_types={'variant_id': VARCHAR}, "
                "union_by_name=true) "
                "WHERE variant_id IN (SELECT variant_id FROM kpis WHERE status = 'ok')"
            )
        else:
            con.execute(_empty_view(name))
    return con


def _relation(con: duckdb.DuckDBPyConnection, folder: Path, sql: str) -> Any:
    import duckdb

    try:
        rel = con.sql(sql.strip().rstrip(";"))
    except duckdb.Error as exc:
        raise DataError(folder, "SQL", str(exc).splitlines()[0]) from None
    return rel


def run_query(folder: Path, sql: str, limit: int = 50) -> QueryResult | None:
    """The first ``limit`` rows of ``sql`` over the dataset (``None``: no table returned).

    Raises
    ------
    DataError
        Not a sweep folder, or the SQL fails (DuckDB's first message line).
    """
    import duckdb

    con = connect(folder)
    try:
        cursor = con.execute(sql.strip().rstrip(";"))
        if cursor.description is None:
            return None
        columns = [str(d[0]) for d in cursor.description]
        rows = cursor.fetchmany(limit + 1)
    except duckdb.Error as exc:
        raise DataError(folder, "SQL", str(exc).splitlines()[0]) from None
    return QueryResult(columns, rows[:limit], len(rows) > limit)


def write_query(folder: Path, sql: str, to: Path) -> int:
    """Write the whole answer of ``sql`` to ``to`` (``.csv`` or ``.parquet``), atomically;
    returns the number of rows.

    Raises
    ------
    DataError
        Not a sweep folder, bad SQL, or an unknown file type.
    """
    import duckdb

    kind = to.suffix.lower()
    if kind not in (".csv", ".parquet"):
        raise DataError(to, "--to", "expected a .csv or .parquet file name")
    if to.exists() and to.is_dir():
        raise DataError(to, "--to", "is a folder")
    con = connect(folder)
    rel = _relation(con, folder, sql)
    if rel is None:
        raise DataError(folder, "SQL", "the statement returns no table")
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = to.parent / f".{to.name}.{uuid.uuid4().hex}.tmp"
    try:
        if kind == ".csv":
            rel.write_csv(str(tmp), header=True)
            reader = f"read_csv({_sql_str(tmp)}, header=true)"
        else:
            rel.write_parquet(str(tmp))
            reader = f"read_parquet({_sql_str(tmp)})"
        count = con.execute(f"SELECT count(*) FROM {reader}").fetchone()
        os.replace(tmp, to)
    except duckdb.Error as exc:
        raise DataError(folder, "SQL", str(exc).splitlines()[0]) from None
    finally:
        tmp.unlink(missing_ok=True)
    return int(count[0]) if count else 0


def read_kpis(folder: Path) -> pd.DataFrame:
    """The ``kpis`` view as a frame (one row per variant)."""
    return connect(folder).sql("SELECT * FROM kpis ORDER BY variant_id").df()


def varied_parameters(folder: Path) -> list[str]:
    """The override paths of the sweep(s) in ``folder``, in column order."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [str(p) for p in manifest.get("override_paths", [])]


def tidy_kpis(
    kpis: pd.DataFrame, parameters: list[str], names: list[str] | tuple[str, ...]
) -> pd.DataFrame:
    """KPI against each varied parameter, tidy: one row per (variant, parameter, KPI).

    Only variants with ``status = ok``, parameters with more than one value among them,
    and KPIs in ``names`` that are columns of ``kpis``.

    Returns
    -------
    DataFrame
        ``variant_id, parameter, parameter_value, kpi, kpi_value``.
    """
    ok = kpis[kpis["status"] == "ok"]
    params = [p for p in parameters if p in ok.columns and ok[p].nunique(dropna=False) > 1]
    cols = [k for k in names if k in ok.columns]
    parts = []
    for p in params:
        long = ok.melt(
            id_vars=["variant_id", p], value_vars=cols, var_name="kpi", value_name="kpi_value"
        ).rename(columns={p: "parameter_value"})
        parts.append(long.assign(parameter=p))
    columns = ["variant_id", "parameter", "parameter_value", "kpi", "kpi_value"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def kpi_vs_parameter(
    folder: Path, names: list[str] | tuple[str, ...] = HEADLINE_KPIS
) -> pd.DataFrame:
    """The frame the report's sweep view plots: :func:`tidy_kpis` of a sweep folder."""
    return tidy_kpis(read_kpis(folder), varied_parameters(folder), names)

"""SQL over a sweep dataset with DuckDB: views ``kpis``, ``schedule``, ``storage`` and
``replay``.

``kpis`` holds one row per variant (failed ones too, with ``status`` and ``error`` and no
KPI values); ``schedule``, ``storage`` and (a sweep of replays) ``replay``, one row per
variant and day, hold the rows of the variants whose status is ``ok``, with their
``variant_id`` (from the Hive partition folder). Timestamps are shown
in UTC. See :mod:`pecopt.workflows.sweep_dataset` for the layout.

A query only reads. DuckDB runs in memory with external access switched off except for
the dataset's own folder (``allowed_directories``), extensions neither installed nor
loaded, and its configuration locked once the views exist; a statement must be one
``SELECT`` (``WITH``, ``FROM``, ``DESCRIBE``, ``SUMMARIZE`` ...) or ``EXPLAIN``, so
``COPY``, ``ATTACH``, ``INSTALL``, ``LOAD``, ``SET`` and ``CREATE`` are refused before
they run. ``--to`` is written by pecopt (pyarrow), never into the dataset, over its base
scenario or over one of its input files.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pecopt.errors import DataError, OptionError
from pecopt.units import KPIS
from pecopt.workflows.sweep_dataset import KIND, damaged_kpi_files

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


#: the most rows ``--limit`` prints (``--to FILE`` writes any number)
MAX_LIMIT = 100_000

#: statement types a query may run: reading ones only
_READING = ("SELECT", "EXPLAIN")


def _manifest(folder: Path) -> dict[str, Any]:
    """The dataset's manifest, or :class:`DataError` when ``folder`` is not a sweep."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        kind = manifest["pecopt_output"]["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        kind = None
    if kind != KIND:
        raise DataError(folder, "manifest.json", "not a pecopt sweep folder")
    return dict(manifest)


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the dataset's views, that can read nothing but the
    dataset and write nothing at all (see the module docstring).

    Raises
    ------
    DataError
        ``folder`` is not a pecopt sweep dataset, or one of its KPI files is damaged.
    """
    import duckdb

    _manifest(folder)
    root = folder.resolve()
    for f, why in damaged_kpi_files(root):
        raise DataError(
            f, "kpis", f"not a readable Parquet file ({why}); run the sweep again to rewrite "
            "it, or delete it",
        )  # fmt: skip
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET allowed_directories = [{_sql_str(root)}]")
    con.execute("SET enable_external_access = false")
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
    con.execute("SET lock_configuration = true")
    return con


def _statement(con: duckdb.DuckDBPyConnection, folder: Path, sql: str) -> str:
    """``sql`` when it is one reading statement; else :class:`DataError` (nothing ran)."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise DataError(folder, "SQL", str(exc).splitlines()[0]) from None
    if not statements:
        raise DataError(folder, "SQL", "empty statement: give one SELECT")
    if len(statements) > 1:
        raise DataError(folder, "SQL", f"{len(statements)} statements: give one SELECT")
    kind = statements[0].type.name
    if kind not in _READING:
        raise DataError(
            folder, "SQL", f"a {kind} statement: a query only reads the dataset (one SELECT; "
            "--to FILE writes its answer)",
        )  # fmt: skip
    return str(statements[0].query)


def run_query(folder: Path, sql: str, limit: int = 50) -> QueryResult | None:
    """The first ``limit`` rows of ``sql`` over the dataset (``None``: no table returned).

    Raises
    ------
    DataError
        Not a sweep folder, a statement that is not one SELECT, or the SQL fails
        (DuckDB's first message line).
    """
    import duckdb

    if not 1 <= limit <= MAX_LIMIT:
        raise OptionError("--limit", f"from 1 to {MAX_LIMIT} rows (--to FILE writes them all)")
    con = connect(folder)
    query = _statement(con, folder, sql)
    try:
        cursor = con.execute(query)
        if cursor.description is None:
            return None
        columns = [str(d[0]) for d in cursor.description]
        rows = cursor.fetchmany(limit + 1)
    except duckdb.Error as exc:
        raise DataError(folder, "SQL", str(exc).splitlines()[0]) from None
    return QueryResult(columns, rows[:limit], len(rows) > limit)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_to(folder: Path, to: Path) -> None:
    """Refuse a ``--to`` file that would change the dataset or what it was made from.

    Raises
    ------
    DataError
        ``to`` is not ``.csv``/``.parquet``, is a folder, lies under a file, inside the
        dataset, or is its base scenario or one of its input files.
    """
    manifest = _manifest(folder)
    if to.suffix.lower() not in (".csv", ".parquet"):
        raise DataError(to, "--to", "expected a .csv or .parquet file name")
    if to.is_dir():
        raise DataError(to, "--to", "is a folder")
    for parent in to.parents:
        if parent.exists() and not parent.is_dir():
            raise DataError(to, "--to", f"{parent} is a file, not a folder")
    target = to.resolve()
    if _inside(target, folder.resolve()):
        raise DataError(to, "--to", f"inside the dataset {folder}: write the answer elsewhere")
    base = manifest.get("base_scenario", {}).get("path")
    sources = [base, *manifest.get("input_files", {})]
    if any(s and Path(s).resolve() == target for s in sources):
        raise DataError(to, "--to", "an input of the sweep (its scenario or a data file)")


def write_query(folder: Path, sql: str, to: Path) -> int:
    """Write the whole answer of ``sql`` to ``to`` (``.csv`` or ``.parquet``), atomically;
    returns the number of rows. DuckDB streams the answer as Arrow batches; pyarrow
    writes them (DuckDB itself may not write files, see the module docstring).

    Raises
    ------
    DataError
        Not a sweep folder, bad SQL, or a ``--to`` that :func:`check_to` refuses.
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    check_to(folder, to)
    con = connect(folder)
    query = _statement(con, folder, sql)
    try:
        rel = con.sql(query)
        if rel is None:
            raise DataError(folder, "SQL", "the statement returns no table")
        batches = rel.to_arrow_reader(100_000)
    except duckdb.Error as exc:
        raise DataError(folder, "SQL", str(exc).splitlines()[0]) from None
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = to.parent / f".{to.name}.{uuid.uuid4().hex}.tmp"
    count = 0
    try:
        writer: Any = (
            pacsv.CSVWriter(str(tmp), batches.schema)
            if to.suffix.lower() == ".csv"
            else pq.ParquetWriter(str(tmp), batches.schema)
        )
        with writer:
            for batch in batches:
                writer.write_batch(batch)
                count += batch.num_rows
        os.replace(tmp, to)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise DataError(folder, "SQL", str(exc).splitlines()[0]) from None
    finally:
        tmp.unlink(missing_ok=True)
    return count


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

"""The only Parquet I/O: tables with units and sources in the schema metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pecopt.units import COLUMN_UNITS
from pecopt.units import unit_of as suffix_unit


def unit_of(column: str) -> str:
    """The unit of a canonical column, from its name (:data:`pecopt.units.COLUMN_UNITS`,
    else its suffix; "" without one)."""
    if column in COLUMN_UNITS:
        return COLUMN_UNITS[column]
    return suffix_unit(column, default="")


def _with_metadata(df: pd.DataFrame, source: str) -> pa.Table:
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"pecopt.units"] = json.dumps({c: unit_of(c) for c in df.columns}).encode()
    meta[b"pecopt.source"] = source.encode()
    return table.replace_schema_metadata(meta)


def write_table(df: pd.DataFrame, path: Path, source: str) -> None:
    """Write ``df`` to ``path`` with per-column units and the source in the metadata."""
    pq.write_table(_with_metadata(df, source), path)


def table_bytes(df: pd.DataFrame, source: str) -> bytes:
    """The bytes of the file :func:`write_table` would write (e.g. encoded on a Dask
    worker, written by the sweep's client)."""
    sink = pa.BufferOutputStream()
    pq.write_table(_with_metadata(df, source), sink)
    return bytes(sink.getvalue().to_pybytes())


def read_table(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_table`."""
    return pd.read_parquet(path)


def read_parquet_checked(path: Path) -> pd.DataFrame:
    """:func:`read_table`, with a file that is not Parquet (a CSV renamed, a cut file) as
    :class:`~pecopt.errors.DataError`."""
    from pecopt.errors import DataError

    try:
        return read_table(path)
    except (OSError, pa.ArrowException) as exc:
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DataError(path, "file", f"not a readable Parquet file ({why})") from None


def units(path: Path) -> dict[str, str]:
    """The per-column units stored in a pecopt Parquet file."""
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(b"pecopt.units", b"{}"))

"""The sweep dataset under ``--out``: a folder that grows as variants finish.

Layout (Hive partitioning for the per-variant tables)::

    DIR/manifest.json                                marker, base scenario, variant table
    DIR/kpis/<variant_id>.parquet                    one row: status, error, overrides, KPIs
    DIR/schedule/variant_id=<variant_id>/part.parquet  timestamp, asset, carrier, flow_kw
    DIR/storage/variant_id=<variant_id>/part.parquet   timestamp, asset, soc_kwh

Every file is written to a hidden temporary name in its final folder and renamed into
place, and a variant's KPI row is written last: a variant is done when its KPI file says
``status = ok``. The folder as a whole is never replaced (resume adds to it); pecopt writes
into a folder only when it is new, empty, or a sweep of the same base scenario.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pecopt.errors import DataError
from pecopt.ingest.parquet import read_table, write_table

KIND = "sweep"
FORMAT = 1


def check_out(out: Path, base_scenario: Path) -> dict[str, Any] | None:
    """Check that ``out`` may hold a sweep of ``base_scenario`` (nothing is written) and
    return the manifest of an earlier sweep there (``None`` for a new or empty folder).

    Raises
    ------
    DataError
        ``out`` is a file, a non-empty folder without a sweep manifest, another kind of
        pecopt output, or a sweep of another base scenario (exit 2).
    """
    base = str(base_scenario.resolve())
    if out.exists() and not out.is_dir():
        raise DataError(out, "--out", "exists and is a file, not a folder")
    if not out.exists() or not any(out.iterdir()):
        return None
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        marker = manifest["pecopt_output"]
    except (OSError, ValueError, KeyError, TypeError):
        raise DataError(
            out, "--out", "a folder that is not a pecopt sweep (no manifest.json marker)"
        ) from None
    kind = marker.get("kind") if isinstance(marker, dict) else None
    if kind != KIND:
        raise DataError(out, "--out", f"a pecopt {kind!r} output, not a sweep")
    other = manifest.get("base_scenario", {}).get("path")
    if other != base:
        raise DataError(out, "--out", f"a sweep of another base scenario ({other})")
    return dict(manifest)


def prepare_out(out: Path, base_scenario: Path) -> dict[str, Any] | None:
    """:func:`check_out`, then create the folder (or tidy an earlier sweep's leftovers)."""
    previous = check_out(out, base_scenario)
    out.mkdir(parents=True, exist_ok=True)
    remove_temporaries(out)
    return previous


def remove_temporaries(out: Path) -> None:
    """Delete the hidden temporary files an interrupted write left behind."""
    for tmp in out.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically (with the sweep marker)."""
    body = {"pecopt_output": {"kind": KIND, "format": FORMAT}, **manifest}
    body["updated_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = json.dumps(body, indent=2, default=str)
    _atomic(out / "manifest.json", lambda p: p.write_text(text, encoding="utf-8"))


def kpi_file(out: Path, variant_id: str) -> Path:
    return out / "kpis" / f"{variant_id}.parquet"


def partition(out: Path, table: str, variant_id: str) -> Path:
    return out / table / f"variant_id={variant_id}" / "part.parquet"


def write_variant(out: Path, row: dict[str, Any], tables: dict[str, bytes], source: str) -> None:
    """Write a variant's tables (Parquet bytes by name: ``schedule``, ``storage``) and then
    its KPI row."""
    vid = str(row["variant_id"])
    for name, data in tables.items():
        _atomic(partition(out, name, vid), _bytes_writer(data))
    frame = pd.DataFrame([row])
    _atomic(kpi_file(out, vid), lambda p: write_table(frame, p, source))


def _bytes_writer(data: bytes) -> Callable[[Path], int]:
    return lambda path: path.write_bytes(data)


def damaged_kpi_files(out: Path) -> Iterator[tuple[Path, str]]:
    """The KPI files of ``out`` that are not readable Parquet, with the reason (a footer
    read each: cheap)."""
    for f in sorted((out / "kpis").glob("*.parquet")):
        try:
            pq.read_metadata(f)
        except (OSError, pa.ArrowException) as exc:
            yield f, (str(exc).splitlines() or [type(exc).__name__])[0]


def done_hashes(out: Path) -> set[str]:
    """Hashes of the variants whose KPI row says ``status = ok`` (a KPI file that cannot
    be read, or lacks those columns, is not done: its variant runs again and rewrites it)."""
    done: set[str] = set()
    for f in sorted((out / "kpis").glob("*.parquet")):
        try:
            df = read_table(f)
            done.update(df.loc[df["status"] == "ok", "hash"].astype(str))
        except (OSError, ValueError, KeyError, pa.ArrowException):
            continue
    return done


def flatten_kpis(k: dict[str, Any]) -> dict[str, Any]:
    """Nested KPIs -> one flat row with the unit at the end of each column name: the same
    columns as ``comparison.parquet`` and ``pareto.parquet``
    (:func:`pecopt.results.summary.flat_kpis`)."""
    from pecopt.results.summary import flat_kpis

    return dict(flat_kpis(k))

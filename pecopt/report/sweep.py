"""The report of a sweep folder (``pecopt sweep --out DIR``): the KPI table, one row per
variant with its parameters, and the effect of each varied parameter (the mean of each
key figure over the solved variants at each of its values, and how far those means
spread).

A pure function of the folder's ``manifest.json`` and ``kpis/*.parquet`` (read with
pandas; no DuckDB, no Dask). :func:`write_sweep_report` writes ``DIR/report.html``
atomically; the sweep's own files are not touched, so the sweep can be resumed.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from pecopt.errors import DataError
from pecopt.report.html import NA, Figures, esc, number, page, table
from pecopt.units import KPIS, label_of, unit_of

__all__ = ["effects", "is_sweep", "render_sweep", "write_sweep_report"]

REPORT = "report.html"
_TITLE = "<title>pecopt sweep:"
#: the key figures shown (those the dataset has)
KEY_FIGURES = tuple(k.name for k in KPIS if k.short)


def is_sweep(folder: Path) -> bool:
    """Whether ``folder`` holds a sweep dataset (its manifest's marker says ``sweep``)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    marker = manifest.get("pecopt_output") if isinstance(manifest, dict) else None
    return isinstance(marker, dict) and marker.get("kind") == "sweep"


def _read(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = sorted((folder / "kpis").glob("*.parquet"))
    if not files:
        raise DataError(folder, "kpis", "no variant has finished yet (kpis/ is empty)")
    try:
        kpis = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    except (OSError, ValueError) as exc:
        raise DataError(folder, "kpis", f"cannot read: {exc}".splitlines()[0]) from None
    return manifest, kpis.sort_values("variant_id", ignore_index=True)


def effects(kpis: pd.DataFrame, parameters: list[str], names: list[str]) -> dict[str, pd.DataFrame]:
    """Per varied parameter (more than one value among the solved variants): the mean of
    each key figure in ``names`` over the solved variants at each of its values, with
    their count (``variants``), one row per value in ascending order.

    A pure function of the KPI table (``status``, the parameter columns, the figures).
    """
    ok = kpis[kpis["status"] == "ok"]
    out: dict[str, pd.DataFrame] = {}
    for p in parameters:
        if p not in ok.columns or ok[p].nunique(dropna=False) < 2:
            continue
        grouped = ok.groupby(p, dropna=False, sort=True)
        means = grouped[[n for n in names if n in ok.columns]].mean(numeric_only=True)
        means.insert(0, "variants", grouped.size())
        out[p] = means.reset_index()
    return out


def _figure(p: str, frame: pd.DataFrame, names: list[str]) -> go.Figure | None:
    """Each key figure against the parameter, relative to its value at the first one."""
    if not pd.api.types.is_numeric_dtype(frame[p]):
        return None
    fig = go.Figure()
    for n in names:
        first = frame[n].iloc[0]
        if not first or first != first:
            continue
        fig.add_trace(go.Scatter(x=frame[p], y=frame[n] / abs(first) * 100.0, name=label_of(n),
                                 mode="lines+markers"))  # fmt: skip
    fig.update_layout(title=f"key figures against {p} (% of the first value's)",
                      xaxis_title=p, yaxis_title="%", height=360)  # fmt: skip
    return fig if fig.data else None


def render_sweep(folder: Path, name: str | None = None) -> str:
    """The report of the sweep folder ``folder`` as one HTML document.

    Raises
    ------
    DataError
        No finished variant, or unreadable KPI files.
    """
    manifest, kpis = _read(folder)
    name = name or folder.resolve().name
    params = [str(p) for p in manifest.get("override_paths", []) if str(p) in kpis.columns]
    names = [n for n in KEY_FIGURES if n in kpis.columns]
    ok = int((kpis["status"] == "ok").sum())
    base = manifest.get("base_scenario", {}).get("path", "?")
    sets = manifest.get("--set") or []
    header = (
        f"<h1>pecopt sweep: {esc(name)}</h1><p>{len(kpis)} variants ({ok} solved, "
        f"{len(kpis) - ok} failed) of {esc(base)}; varied: "
        + (", ".join(f"<code>{esc(p)}</code>" for p in params) or "nothing")
        + ("; with " + ", ".join(f"<code>--set {esc(s)}</code>" for s in sets) if sets else "")
        + "</p>"
    )
    figs = Figures()
    parts = ["<h2>Effect of each varied parameter</h2>"]
    found = effects(kpis, params, names)
    if not found:
        parts.append(f"<p class='na'>{NA} (no parameter takes two values among the solved "
                     "variants)</p>")  # fmt: skip
    for i, (p, frame) in enumerate(found.items()):
        cols = [n for n in names if n in frame.columns]
        rows = [
            [esc(_value(r[p])), str(int(r["variants"])), *[number(r[n], _unit(n)) for n in cols]]
            for _, r in frame.iterrows()
        ]
        spread = [
            "<b>spread</b>", "", *[number(frame[n].max() - frame[n].min(), _unit(n)) for n in cols]
        ]  # fmt: skip
        head = [p, "variants", *[f"{label_of(n)} [{_unit(n)}]" for n in cols]]
        parts.append(f"<h3><code>{esc(p)}</code></h3>")
        parts.append(table(head, [*rows, spread], numeric_from=1, wrap=True))
        parts.append(figs.div(f"effect-{i}", _figure(p, frame, cols)))
    parts.append("<h2>Key figures per variant</h2>")
    cols = ["variant_id", "status", *params, *names]
    rows = []
    for _, r in kpis.iterrows():
        status = str(r["status"]) if r["status"] == "ok" else f"{r['status']}: {r.get('error')}"
        rows.append([esc(r["variant_id"]), esc(status), *[esc(_value(r[p])) for p in params],
                     *[number(r[n], _unit(n)) for n in names]])  # fmt: skip
    head = ["variant", "status", *params, *[f"{label_of(n)} [{_unit(n)}]" for n in names]]
    parts.append(table(head, rows, numeric_from=2 + len(params), wrap=True))
    return page(f"pecopt sweep: {name}", header, "\n".join(parts), figs)


def _unit(name: str) -> str:
    return "%" if name in ("self_sufficiency", "self_consumption") else unit_of(name)


def _value(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "base"
    if isinstance(v, float) and v.is_integer():
        return f"{v:,.0f}"
    return str(v)


def write_sweep_report(folder: Path, name: str | None = None) -> Path:
    """Write ``folder/report.html`` atomically; an existing one is replaced only if it is
    a pecopt sweep report (a file of that name pecopt did not write is refused).

    Raises
    ------
    DataError
        See :func:`render_sweep`; a ``report.html`` pecopt did not write; or it cannot
        be written.
    """
    path = folder / REPORT
    if path.exists():
        try:
            ours = _TITLE in path.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            ours = False
        if not ours:
            raise DataError(path, "-", "exists and pecopt did not write it; move it out and "
                            "run again")  # fmt: skip
    text = render_sweep(folder, name)
    tmp = folder / f".{REPORT}.{uuid.uuid4().hex}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise DataError(path, "-", f"cannot write: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path

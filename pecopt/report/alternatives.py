"""The report of a near-optimal alternatives folder (:mod:`pecopt.workflows.alternatives`):
a pure function of ``alternatives.parquet``, ``ranges.parquet`` and ``manifest.json``.

Sections: the near-optimal range of every sized capacity and group (a bar from the least
to the most any design within the slack builds, the optimum marked), one chart per unit;
the designs side by side (a table and grouped bars); every solve with its cost, status and
seconds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pecopt.errors import DataError
from pecopt.report.html import NA, Figures, esc, number, page, table

__all__ = ["ALTERNATIVES", "is_alternatives", "render_alternatives"]

ALTERNATIVES = "alternatives.parquet"
RANGES = "ranges.parquet"
_SOLVES = ("kind", "target", "sense", "cost_eur", "status", "solve_s")
_RANGES = ("target", "group", "unit", "optimum", "min", "max")
_UNIT_WORDS = {"kw", "kwh", "kwp", "m2", "m"}


def is_alternatives(folder: Path) -> bool:
    """Whether ``folder`` holds a near-optimal alternatives run."""
    return (Path(folder) / ALTERNATIVES).is_file()


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    from pecopt.report.data import _read_parquet

    df = _read_parquet(path, columns)
    if df.empty:
        raise DataError(path, "-", "no rows")
    return df


def label(target: str) -> str:
    """A readable name: ``apt_A1_pv.kwp`` -> ``apt_A1_pv``, ``gshp.power_kw_heat`` ->
    ``gshp power heat``, ``all_stores.energy_kwh`` -> ``all stores: energy``."""
    asset, _, key = target.rpartition(".")
    what = " ".join(w for w in key.split("_") if w not in _UNIT_WORDS)
    if asset.startswith("all_"):
        group = asset.removeprefix("all_").replace("_", " ")
        return f"all {group}" + (f": {what}" if what else "")
    return f"{asset} {what}".strip()


def _bold(target: str, group: bool) -> str:
    """The label of a target as HTML, a group's in bold."""
    return f"<b>{esc(label(target))}</b>" if group else esc(label(target))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _ranges_figure(r: pd.DataFrame, unit: str) -> go.Figure:
    names = [_bold(str(t), bool(g)) for t, g in zip(r["target"], r["group"], strict=True)]
    lo, hi, opt = (r[c].to_numpy(float) for c in ("min", "max", "optimum"))
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names, x=np.maximum(hi - lo, 0.0), base=lo, orientation="h",
            name="near-optimal range", marker={"color": "#9cc3e6"},
            customdata=np.stack([lo, hi], axis=1),
            hovertemplate="%{y}: %{customdata[0]:,.4g} to %{customdata[1]:,.4g} " + unit
            + "<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            y=names, x=opt, mode="markers", name="optimum",
            marker={"symbol": "diamond", "size": 11, "color": "#cf222e"},
            hovertemplate="%{y}: optimum %{x:,.4g} " + unit + "<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=f"Near-optimal range [{unit}] (bold: groups)",
        xaxis_title=f"new capacity [{unit}]",
        height=110 + 26 * len(names),
        barmode="overlay",
        margin={"t": 50, "l": 20, "r": 20, "b": 50},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def _designs(t: pd.DataFrame) -> pd.DataFrame:
    """The optimum and the designs, one row each, named."""
    d = t[t["kind"].isin(["optimum", "design"])].copy()
    d["name"] = [
        "optimum" if k == "optimum" else str(x) for k, x in zip(d["kind"], d["target"], strict=True)
    ]
    return d


def _designs_figure(d: pd.DataFrame, r: pd.DataFrame, columns: list[str], unit: str) -> go.Figure:
    names = [label(x) for x in r["target"]]
    fig = go.Figure()
    for _, row in d.iterrows():
        hover = "%{x}: %{y:,.4g} " + unit + f"<extra>{esc(row['name'])}</extra>"
        fig.add_trace(
            go.Bar(x=names, y=[row[c] for c in columns], name=str(row["name"]), hovertemplate=hover)
        )
    fig.update_layout(
        title=f"Designs side by side [{unit}]", yaxis_title=f"new capacity [{unit}]",
        barmode="group", height=380, margin={"t": 50, "l": 70, "r": 20, "b": 120},
        xaxis={"automargin": True}, legend={"orientation": "h", "y": 1.08},
    )  # fmt: skip
    return fig


def _column(target: str) -> str:
    from pecopt.results.summary import capacity_column

    asset, what = target.rsplit(".", 1)
    return capacity_column(asset, what, "size")


def _solves_table(t: pd.DataFrame) -> str:
    rows = []
    for _, x in t.iterrows():
        target = "" if pd.isna(x["target"]) else label(str(x["target"]))
        rel = x.get("cost_vs_optimum")
        rows.append(
            [
                esc(x["kind"]), esc(target), esc("" if pd.isna(x["sense"]) else x["sense"]),
                number(float(x["cost_eur"])),
                "n/a" if rel is None or pd.isna(rel) else f"{100 * float(rel):+.2f} %",
                esc(x["status"]), esc(x.get("warm", "")), f"{float(x['solve_s']):.2f}",
            ]
        )  # fmt: skip
    head = ["solve", "capacity or group", "sense", "cost EUR", "vs optimum", "status", "start",
            "solve s"]  # fmt: skip
    return table(head, rows, numeric_from=3)


def _ranges_table(r: pd.DataFrame) -> str:
    rows = []
    for _, x in r.iterrows():
        ends = "yes" if x.get("min_proven", True) and x.get("max_proven", True) else "no"
        rows.append(
            [
                _bold(str(x["target"]), bool(x["group"])),
                esc(x["unit"]), number(float(x["min"])), number(float(x["optimum"])),
                number(float(x["max"])), esc(ends),
            ]
        )  # fmt: skip
    return table(["capacity or group", "unit", "min", "optimum", "max", "proven"], rows, 2)


def _header(name: str, m: dict[str, Any], t: pd.DataFrame) -> str:
    slack = m.get("slack")
    parts = [f"<h1>pecopt near-optimal alternatives: {esc(name)}</h1>"]
    if isinstance(slack, int | float):
        parts.append(
            f"<p>every design costs at most {100 * slack:g} % more than the optimum "
            f"({number(m.get('optimum_cost_eur'))} EUR; bound {number(m.get('cost_bound_eur'))}"
            " EUR)</p>"
        )
    scen = (m.get("scenario") or {}).get("path", "n/a")
    parts.append(f"<p>scenario: {esc(scen)}; model: {esc(m.get('model', 'n/a'))}</p>")
    done = "complete" if m.get("complete", True) else f"stopped early: {m.get('stopped')}"
    seconds = (m.get("seconds") or {}).get("solves")
    took = f"; the solves took {seconds:,.1f} s" if isinstance(seconds, int | float) else ""
    parts.append(f"<p>{len(t)} solves ({esc(m.get('parallel', ''))}), {esc(done)}{took}</p>")
    if m.get("note"):
        parts.append(f"<p>{esc(m['note'])}</p>")
    return "".join(parts)


def render_alternatives(folder: Path, name: str | None = None) -> str:
    """The report of the alternatives folder ``folder`` as one HTML document."""
    folder = Path(folder)
    t = _read(folder / ALTERNATIVES, _SOLVES)
    r = _read(folder / RANGES, _RANGES)
    manifest_file = folder / "manifest.json"
    m: dict[str, Any] = {}
    if manifest_file.is_file():
        try:
            m = json.loads(manifest_file.read_text())
        except ValueError as exc:
            raise DataError(manifest_file, "-", f"cannot read JSON: {exc}") from None
    name = name or folder.resolve().name
    figs = Figures()
    d = _designs(t)
    body = ["<h2>Near-optimal ranges (new capacity)</h2>", _ranges_table(r)]
    for unit, group in r.groupby("unit", sort=False):
        body.append(figs.div(f"range-{_slug(str(unit))}", _ranges_figure(group, str(unit))))
    body.append("<h2>Designs side by side</h2>")
    if len(d) <= 1:
        body.append("<p class='na'>n/a (no designs asked for: --designs N)</p>")
    else:
        cols = [_column(x) for x in r["target"]]
        have = [c in t.columns for c in cols]
        rr = r[have]
        cols = [c for c, h in zip(cols, have, strict=True) if h]
        rows = [
            [esc(label(x)), esc(u), *(number(float(v)) for v in d[c])]
            for x, u, c in zip(rr["target"], rr["unit"], cols, strict=True)
        ]
        rows.append(["cost EUR", "EUR", *(number(float(v)) for v in d["cost_eur"])])
        body.append(table(["capacity or group", "unit", *d["name"].astype(str)], rows, 2))
        for unit in dict.fromkeys(rr["unit"].astype(str)):
            pick = (rr["unit"].astype(str) == unit).to_numpy()
            sub_cols = [c for c, p in zip(cols, pick, strict=True) if p]
            fig = _designs_figure(d, rr[pick], sub_cols, unit)
            body.append(figs.div(f"designs-{_slug(unit)}", fig))
    body += ["<h2>Every solve</h2>", _solves_table(t) if len(t) else NA]
    return page(f"pecopt report: {name}", _header(name, m, t), "\n".join(body), figs)

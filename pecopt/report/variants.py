"""Figures and notes of a comparison or a Pareto front: differences to the first member,
the cost of each member by item, cost against CO2, and which members carry capacities
without investment cost data. Pure functions of the table (and the members' runs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pecopt.report.data import Run, key_columns
from pecopt.report.headline import FIGURES, YEAR_H, difference, unit_label, words
from pecopt.report.tables import cost_label

_LAYOUT = {"template": "plotly_white", "margin": {"l": 70, "r": 20, "t": 60, "b": 50}}
_BASE, _OTHER, _UP, _DOWN = "#24425e", "#9aa0a6", "#d1242f", "#1a7f37"
#: The headline figures drawn as differences to the base (by label), two rows of three.
PANELS = (
    "Total cost incl. annualised investment",
    "of which annualised investment (with fixed O&M)",
    "Net CO2 emissions",
    "Self-sufficiency (electricity)",
    "Peak grid import",
    "District heat import",
)
#: Cost columns of the flat row that are not items of the total.
_NOT_ITEMS = ("cost_total_eur", "cost_carbon_eur", "cost_objective_eur")


def _full_year(t: pd.DataFrame) -> bool:
    return "horizon_h" in t and bool((t["horizon_h"].fillna(0) >= YEAR_H).all())


def delta_panels(t: pd.DataFrame, key: str, base: str) -> go.Figure | None:
    """The headline figures of :data:`PANELS`: each member's difference to the first
    (bars from zero: the first member is the zero line)."""
    if len(t) < 2:
        return None
    records = t.to_dict("records")
    names = t[key].astype(str).tolist()[1:]
    full = _full_year(t)
    figs = [f for label in PANELS for f in FIGURES if f.label == label]
    figs = [f for f in figs if any(f.value(r) is not None for r in records)]
    if not figs:
        return None
    cols = 3
    rows = -(-len(figs) // cols)
    titles = [f"\u0394 {f.label} [{unit_label(f, full).replace('%', 'pp')}]" for f in figs]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.22)
    for i, f in enumerate(figs):
        first = f.value(records[0])
        scale = max((abs(v) for r in records if (v := f.value(r)) is not None), default=0.0)
        d = [difference(f.value(r), first, scale) for r in records[1:]]
        y = np.array([np.nan if v is None else v for v in d], dtype=float)
        fig.add_trace(
            go.Bar(
                x=names,
                y=y,
                marker_color=[_UP if v > 0 else _DOWN for v in np.nan_to_num(y)],
                text=[_short(v) for v in y],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{x}}: %{{y:+,.4g}} vs {base}<extra>{f.label}</extra>",
                showlegend=False,
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    for a in fig.layout.annotations:  # subplot titles: small, to the left of each panel
        a.update(font={"size": 12})
    fig.update_yaxes(zeroline=True, zerolinewidth=2, zerolinecolor="#57606a")
    fig.update_xaxes(tickangle=-25)
    fig.update_layout(
        _LAYOUT,
        title=f"Differences to the {base} (red: more, green: less)",
        height=310 * rows + 80,
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
    )
    return fig


def _short(v: float) -> str:
    if v != v:
        return "n/a"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e6:
        return f"{v / 1e6:+.3g} M"
    if a >= 1e4:
        return f"{v / 1e3:+.3g} k"
    return f"{v:+,.0f}" if a >= 100 else f"{v:+.3g}"


def _padded(v: np.ndarray, share: float = 0.15) -> list[float]:
    """An axis range around ``v`` with room for labels: ``share`` of the span each side."""
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    pad = share * (hi - lo) if hi > lo else max(1.0, 0.05 * abs(hi))
    return [lo - pad, hi + pad]


def cost_stack(t: pd.DataFrame, key: str) -> go.Figure | None:
    """Each member's cost by item, investment included, stacked (revenues below zero),
    with the total marked [EUR/yr over a full year, else EUR]."""
    items = [
        c
        for c in t.columns
        if c.startswith("cost_")
        and c.endswith("_eur")
        and c not in _NOT_ITEMS
        and pd.api.types.is_numeric_dtype(t[c])
        and (t[c].fillna(0).abs() >= 0.5).any()
    ]
    if not items:
        return None
    names = t[key].astype(str).tolist()
    order = sorted(items, key=lambda c: (t[c].fillna(0).mean() < 0, -t[c].fillna(0).abs().mean()))
    per = "EUR/yr" if _full_year(t) else "EUR"
    fig = go.Figure()
    for c in order:
        label = cost_label(c[len("cost_") : -len("_eur")])
        fig.add_trace(
            go.Bar(
                x=names,
                y=t[c].fillna(0).to_numpy(dtype=float),
                name=label,
                hovertemplate=f"{label}: %{{y:,.0f}} {per}<extra>%{{x}}</extra>",
            )
        )
    if "cost_total_eur" in t:
        total = t["cost_total_eur"].to_numpy(dtype=float)
        fig.add_trace(
            go.Scatter(
                x=names,
                y=total,
                mode="markers+text",
                name="total",
                marker={"symbol": "line-ew-open", "size": 36, "color": "#1f2328"},
                text=[f"{v:,.0f}" for v in total],
                textposition="top center",
                hovertemplate=f"total: %{{y:,.0f}} {per}<extra>%{{x}}</extra>",
            )
        )
    fig.update_layout(
        _LAYOUT,
        barmode="relative",
        title="Cost by item, investment included",
        height=480,
        yaxis_title=f"cost [{per}]",
        legend={"traceorder": "normal"},
    )
    return fig


def cost_co2(t: pd.DataFrame, key: str, base: str) -> go.Figure | None:
    """Total cost against net CO2 of each member, labelled; the first stands out."""
    if "cost_total_eur" not in t or "co2_net_kg" not in t:
        return None
    names = t[key].astype(str).tolist()
    per = "/yr" if _full_year(t) else ""
    x = t["cost_total_eur"].to_numpy(dtype=float)
    y = t["co2_net_kg"].to_numpy(dtype=float) / 1000.0
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="markers+text",
            text=names,
            textposition=["top left" if v > np.nanmedian(x) else "top right" for v in x],
            cliponaxis=False,
            marker={"size": 12, "color": [_BASE] + [_OTHER] * (len(names) - 1)},
            hovertemplate=f"%{{text}}<br>%{{x:,.0f}} EUR{per}<br>%{{y:,.1f}} t CO2e{per}"
            "<extra></extra>",
        )
    )
    fig.update_layout(
        _LAYOUT,
        title=f"Cost against net CO2 ({base} in dark blue)",
        height=420,
        xaxis_title=f"total cost incl. annualised investment [EUR{per}]",
        yaxis_title=f"net CO2 [t CO2e{per}]",
        xaxis_range=_padded(x),
        yaxis_range=_padded(y),
        showlegend=False,
    )
    return fig


def kpi_detail(t: pd.DataFrame, key: str, base: str) -> go.Figure | None:
    """One chart, a menu of the key figures (:func:`~pecopt.report.data.key_columns`) that
    differ between the members: each member's difference to the first."""
    cols = [c for c in key_columns(t, key) if t[c].nunique(dropna=False) > 1]
    if not cols or len(t) < 2:
        return None
    names = t[key].astype(str).tolist()[1:]

    def deltas(c: str) -> list[float]:
        v = t[c].to_numpy(dtype=float)
        scale = float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 0.0
        d = [difference(float(x), float(v[0]), scale) for x in v[1:]]
        return [np.nan if x is None else x for x in d]

    fig = go.Figure(
        go.Bar(
            x=names,
            y=deltas(cols[0]),
            marker_color=_OTHER,
            hovertemplate=f"%{{x}}: %{{y:+,.4g}} vs {base}<extra></extra>",
        )
    )
    buttons = [
        {
            "label": words(c),
            "method": "update",
            "args": [{"y": [deltas(c)]}, {"yaxis.title.text": f"\u0394 {words(c)}"}],
        }
        for c in cols
    ]
    fig.update_layout(
        _LAYOUT,
        height=380,
        margin={"l": 70, "r": 20, "t": 70, "b": 50},
        yaxis_title=f"\u0394 {words(cols[0])}",
        updatemenus=[
            {"buttons": buttons, "x": 0.0, "xanchor": "left", "y": 1.18, "yanchor": "top"}
        ],
        showlegend=False,
    )
    return fig


def lacking_cost_data(members: dict[str, Run | None]) -> dict[str, str]:
    """Per member, the capacities it adds or changes against the first member that carry
    no investment cost data (given numbers, not sized), so that its total cost leaves
    their investment out; and what it removes, whose investment is not credited."""
    runs = list(members.items())
    if not runs or runs[0][1] is None:
        return {}
    base = runs[0][1]
    out: dict[str, str] = {}
    if not base.sized:
        out[runs[0][0]] = "all capacities given: no investment cost data"
    for name, run in runs[1:]:
        if run is None:
            continue
        added = [
            f"{k} ({v:,.0f})"
            for k, v in run.capacities.items()
            if k not in run.sized
            and v > 0
            and (base.capacities.get(k) is None or abs(base.capacities[k] - v) > 1e-6 * abs(v))
        ]
        removed = [k for k in base.capacities if k not in run.capacities]
        parts = []
        if added:
            parts.append("no investment cost data for: " + ", ".join(added))
        if removed:
            parts.append("removed, investment not credited: " + ", ".join(removed))
        if parts:
            out[name] = "; ".join(parts)
    return out

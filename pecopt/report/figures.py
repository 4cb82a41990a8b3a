"""One function per figure, each returning a plotly ``Figure`` (or None: nothing to show).

Every axis title carries its unit; time axes are local wall-clock time in the run's zone.
Series keep one colour across all figures of a run (:func:`colours`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from pecopt.report.data import Run, key_columns, unit_of
from pecopt.report.tables import (
    carbon_by_source,
    cost_items,
    cost_label,
    daily,
    duration_curves,
    local,
    monthly_energy,
    price_grid,
    series_order,
    storage_levels,
)

_PALETTE = qualitative.Plotly + qualitative.D3 + qualitative.Set2
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 70, "r": 20, "t": 60, "b": 50},
    "legend": {"orientation": "v"},
}


def colours(labels: list[str]) -> dict[str, str]:
    """A fixed colour per label, in the given order."""
    return {lab: _PALETTE[i % len(_PALETTE)] for i, lab in enumerate(labels)}


def _carriers(table: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(table["carrier"]))
    known = [c for c in ("electricity", "heat") if c in present]
    return known + sorted(c for c in present if c not in known)


def monthly_balance(run: Run, table: pd.DataFrame) -> go.Figure:
    """Stacked bars per local month and carrier: supply above zero, draw below [kWh]."""
    m = monthly_energy(run, table)
    carriers = _carriers(m)
    col = colours(series_order(run))
    fig = make_subplots(
        rows=len(carriers),
        cols=1,
        shared_xaxes=True,
        subplot_titles=carriers,
        vertical_spacing=0.12,
    )
    shown: set[str] = set()
    for row, carrier in enumerate(carriers, start=1):
        mc = m[m["carrier"] == carrier]
        for name in [s for s in col if s in set(mc["series"].unique())]:
            d = mc[mc["series"] == name]
            for part in ("supply_kwh", "draw_kwh"):
                if not (d[part].abs() > 1e-9).any():
                    continue
                fig.add_trace(
                    go.Bar(
                        x=d["month"],
                        y=d[part],
                        name=name,
                        legendgroup=name,
                        showlegend=name not in shown,
                        marker_color=col[name],
                        hovertemplate=f"{name}<br>%{{x}}: %{{y:,.0f}} kWh<extra>{carrier}</extra>",
                    ),
                    row=row,
                    col=1,
                )
                shown.add(name)
        fig.update_yaxes(title_text="energy [kWh]", row=row, col=1)
    fig.update_xaxes(type="category")
    fig.update_xaxes(title_text=f"month ({run.timezone})", row=len(carriers))
    fig.update_layout(
        _LAYOUT,
        barmode="relative",
        height=330 * len(carriers) + 60,
        title="Monthly energy balance per carrier (supply > 0, draw < 0)",
    )
    return fig


#: A duration curve is drawn through at most this many points (it is sorted, so a sample
#: of a year's 8,760 or 35,040 steps draws the same line).
CURVE_POINTS = 600


def _sample(n: int, points: int = CURVE_POINTS) -> np.ndarray:
    """Indices ``0 .. n-1``: all of them, or ``points`` evenly spread with both ends."""
    if n <= points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, points).round().astype(np.int64))


def load_duration(run: Run, table: pd.DataFrame) -> go.Figure | None:
    """Load-duration curves of the imports and the heat demand [kW] against hours [h]."""
    curves = duration_curves(run, table)
    if not curves:
        return None
    fig = go.Figure()
    for name, v in curves.items():
        i = _sample(len(v))
        hours = (i + 1) * run.step_h
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=v[i],
                name=name,
                mode="lines",
                line_shape="hv" if len(i) == len(v) else "linear",
                hovertemplate=f"{name}<br>%{{y:,.1f}} kW or more for %{{x:,.0f}} h<extra></extra>",
            )
        )
    fig.update_layout(
        _LAYOUT,
        title="Load-duration curves: imports and the heat demand (space heat and hot water)",
        height=420,
        xaxis_title="hours at or above the power [h]",
        yaxis_title="power [kW]",
    )
    return fig


def dispatch(
    run: Run, table: pd.DataFrame, title: str, start: pd.Timestamp, end: pd.Timestamp
) -> go.Figure:
    """Stacked areas per carrier over ``[start, end)``: supply above zero, draw below [kW]."""
    w = table[(table["timestamp"] >= start) & (table["timestamp"] < end)]
    carriers = _carriers(w)
    col = colours(series_order(run))
    fig = make_subplots(
        rows=len(carriers),
        cols=1,
        shared_xaxes=True,
        subplot_titles=carriers,
        vertical_spacing=0.1,
    )
    shown: set[str] = set()
    for row, carrier in enumerate(carriers, start=1):
        wc = w[w["carrier"] == carrier]
        for name in [s for s in col if s in set(wc["series"].unique())]:
            d = wc[wc["series"] == name]
            x = local(d["timestamp"], run.timezone)
            for part, group in (("supply_kw", "supply"), ("draw_kw", "draw")):
                if not (d[part].abs() > 1e-9).any():
                    continue
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=d[part].to_numpy(),
                        name=name,
                        legendgroup=name,
                        showlegend=name not in shown,
                        stackgroup=f"{group}{row}",
                        line={"width": 0.5, "shape": "hv", "color": col[name]},
                        hovertemplate=f"{name}: %{{y:,.1f}} kW<extra>{carrier}</extra>",
                    ),
                    row=row,
                    col=1,
                )
                shown.add(name)
        fig.update_yaxes(title_text="power [kW]", row=row, col=1)
    fig.update_xaxes(type="date")
    fig.update_xaxes(title_text=f"time ({run.timezone})", row=len(carriers))
    fig.update_layout(_LAYOUT, title=title, height=330 * len(carriers) + 60, hovermode="x")
    return fig


#: A horizon longer than this many days shows stored levels per local day (min to max).
DAILY_AFTER_DAYS = 21


def storage(run: Run) -> go.Figure | None:
    """Stored energy per store at the end of each step, in % of its capacity (of its
    highest level when the folder does not tell the capacity); an EV fleet is one store
    (:func:`~pecopt.report.tables.storage_levels`). Over more than three weeks, each
    local day's range (min to max) and mean."""
    stores = storage_levels(run)
    if not stores:
        return None
    per_day = run.end_utc - run.start_utc > pd.Timedelta(days=DAILY_AFTER_DAYS)
    col = colours([s.label for s in stores])
    fig = go.Figure()
    for s in stores:
        top = s.capacity_kwh or float(s.soc_kwh.max()) or 1.0
        pct = (100.0 * s.soc_kwh / top).astype(np.float32)
        of = f"{s.capacity_kwh:,.0f} kWh" if s.capacity_kwh else "its highest level"
        if not per_day:
            fig.add_trace(
                go.Scatter(
                    x=local(pd.DatetimeIndex(s.soc_kwh.index), run.timezone),
                    y=pct.to_numpy(),
                    name=s.label,
                    mode="lines",
                    line={"shape": "hv", "color": col[s.label]},
                    hovertemplate=f"{s.label}: %{{y:.0f}} % of {of}<extra></extra>",
                )
            )
            continue
        d = daily(pct, run.timezone)
        x = list(d.index) + list(d.index[::-1])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.concatenate([d["max"].to_numpy(), d["min"].to_numpy()[::-1]]),
                fill="toself",
                fillcolor=col[s.label],
                opacity=0.25,
                line={"width": 0},
                name=f"{s.label}: daily range",
                legendgroup=s.label,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=d.index,
                y=d["mean"].to_numpy(),
                name=s.label,
                legendgroup=s.label,
                mode="lines",
                line={"color": col[s.label]},
                customdata=d[["min", "max"]].to_numpy(),
                hovertemplate=f"{s.label}: %{{y:.0f}} % of {of} on average, "
                "%{customdata[0]:.0f} to %{customdata[1]:.0f} %<extra>%{x|%d %b}</extra>",
            )
        )
    fig.update_layout(
        _LAYOUT,
        title="Storage levels in % of capacity"
        + (" (per day: mean, shaded from the lowest to the highest)" if per_day else ""),
        height=420,
        xaxis_title=f"{'day' if per_day else 'time'} ({run.timezone})",
        yaxis_title="stored energy [% of capacity]",
        yaxis_range=[0, 105],
    )
    return fig


def cost_breakdown(run: Run) -> go.Figure | None:
    """The run's cost items, investment included, down to the total [EUR over the
    horizon] (:func:`~pecopt.report.tables.cost_items`)."""
    items = cost_items(run.kpis)
    if not items:
        return None
    ranked = sorted(items.items(), key=lambda kv: (kv[1] < 0, -abs(kv[1])))
    names = [cost_label(k) for k, _ in ranked] + ["total"]
    values = [v for _, v in ranked] + [sum(items.values())]
    per = "EUR/yr" if run.is_full_year else "EUR"
    fig = go.Figure(
        go.Waterfall(
            y=names,
            x=values,
            orientation="h",
            measure=["relative"] * len(ranked) + ["total"],
            text=[f"{v:,.0f}" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}: %{{x:,.0f}} {per}<extra></extra>",
        )
    )
    fig.update_layout(
        _LAYOUT,
        title="Cost by item, investment included, to the total",
        height=max(300, 28 * len(names) + 110),
        xaxis_title=f"cost [{per}]" if run.is_full_year else "cost over the horizon [EUR]",
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 70, "r": 80, "t": 60, "b": 50},
        showlegend=False,
    )
    return fig


def carbon_waterfall(run: Run) -> go.Figure | None:
    """Emissions by source, credits negative, down to the net [kg CO2e]."""
    by_source = carbon_by_source(run)
    if by_source is None:
        return None
    items = sorted(by_source.items(), key=lambda kv: (kv[1] < 0, kv[0]))
    names = [k for k, _ in items] + ["net"]
    values = [v for _, v in items] + [sum(by_source.values())]
    fig = go.Figure(
        go.Waterfall(
            x=names,
            y=values,
            measure=["relative"] * len(items) + ["total"],
            text=[f"{v:,.0f}" for v in values],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.1f} kg CO2e<extra></extra>",
        )
    )
    fig.update_layout(
        _LAYOUT,
        title="Carbon by source (export credit < 0) to the net",
        height=420,
        xaxis_title="source",
        yaxis_title="emissions [kg CO2e]",
        showlegend=False,
    )
    return fig


def price_heatmap(run: Run, carrier: str) -> go.Figure | None:
    """The marginal price of one more kWh of ``carrier`` [EUR/kWh], local day against
    local hour (:func:`~pecopt.report.tables.price_grid`)."""
    grid = price_grid(run, carrier)
    if grid is None:
        return None
    z = grid.to_numpy(dtype=np.float32)  # 7 digits: enough, and half the bytes in the page
    finite = z[np.isfinite(z)].astype(float)
    low, high = np.percentile(finite, [1, 99])  # a few extreme hours would flatten the rest
    capped = bool(finite.max() > high + 1e-9 or finite.min() < low - 1e-9)
    fig = go.Figure(
        go.Heatmap(
            x=list(grid.index),
            y=list(grid.columns),
            z=z.T,
            zmin=float(low),
            zmax=float(max(high, low + 1e-6)),
            colorscale="Viridis",
            colorbar={"title": {"text": "EUR/kWh"}},
            hovertemplate="%{x} %{y}:00: %{z:.4f} EUR/kWh<extra></extra>",
        )
    )
    note = (
        f"<br><sup>colours from the 1st to the 99th percentile; {finite.min():.3f} to "
        f"{finite.max():.3f} EUR/kWh in all</sup>"
        if capped
        else ""
    )
    fig.update_layout(
        _LAYOUT,
        title=f"Marginal price of {carrier.replace('_', ' ')}: one more kWh of demand{note}",
        height=380,
        xaxis_title=f"day ({run.timezone})",
        yaxis_title="hour of the day",
        yaxis={"dtick": 3},
    )
    return fig


def capacity_values(run: Run) -> go.Figure | None:
    """The value of one more unit of each capacity whose limit binds [EUR/yr per unit],
    ranked; hover shows the capacity and, for sized ones, the break-even capex."""
    vals = sorted(
        (v for v in run.capacity_values if abs(v.eur_per_unit_yr) > 1e-6),
        key=lambda v: v.eur_per_unit_yr,
    )
    if not vals:
        return None
    labels = [f"{v.asset} {v.key}" for v in vals]
    notes = [f"{v.capacity:,.6g} {v.unit}" if v.capacity is not None else "n/a" for v in vals]
    notes = [
        n + ("" if v.break_even_eur_per_unit is None
             else f"<br>break-even capex {v.break_even_eur_per_unit:,.0f} EUR/{v.unit}")
        for n, v in zip(notes, vals, strict=True)
    ]  # fmt: skip
    fig = go.Figure(
        go.Bar(
            x=[v.eur_per_unit_yr for v in vals],
            y=labels,
            orientation="h",
            text=[f"{v.eur_per_unit_yr:,.3g} per {v.unit}" for v in vals],
            textposition="auto",
            customdata=notes,
            hovertemplate="%{y}: %{x:,.4g} EUR/yr per unit<br>%{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        _LAYOUT,
        title="Value of one more unit of each binding capacity (EUR/yr per its unit)",
        height=max(300, 26 * len(vals) + 120),
        xaxis_title="value of one more unit [EUR/yr per unit]",
        yaxis={"automargin": True},
        showlegend=False,
    )
    return fig


def pareto_front(table: pd.DataFrame) -> go.Figure:
    """Cost [EUR] against net emissions [kg CO2e] of each point; hover shows its key
    figures (:func:`~pecopt.report.data.key_columns`)."""
    t = table.sort_values("cost_total_eur")
    cols = key_columns(t, "point")
    custom = t[cols].to_numpy(dtype=float)
    lines = "<br>".join(f"{c} = %{{customdata[{i}]:,.4g}}" for i, c in enumerate(cols))
    fig = go.Figure(
        go.Scatter(
            x=t["cost_total_eur"].to_numpy(dtype=float),
            y=t["co2_net_kg"].to_numpy(dtype=float),
            mode="lines+markers+text",
            text=t["point"].astype(str),
            textposition="top right",
            customdata=custom,
            hovertemplate=f"point %{{text}}<br>{lines}<extra></extra>",
            marker={"size": 10},
        )
    )
    fig.update_layout(
        _LAYOUT,
        title="Pareto front: cost against net emissions",
        height=460,
        xaxis_title="total cost [EUR]",
        yaxis_title="net emissions [kg CO2e]",
    )
    return fig


def kpi_bars(table: pd.DataFrame, key: str) -> list[tuple[str, go.Figure]]:
    """One bar chart per key figure that differs between the variants
    (:func:`~pecopt.report.data.key_columns`), bars in the table's order (base first)."""
    out = []
    names = table[key].astype(str).tolist()
    for c in key_columns(table, key):
        if table[c].nunique(dropna=False) < 2:
            continue
        unit = unit_of(c)
        v = table[c].to_numpy(dtype=float)
        fig = go.Figure(
            go.Bar(
                x=names,
                y=v,
                marker_color=["#636efa"] + ["#9aa0a6"] * (len(v) - 1),
                hovertemplate=f"%{{x}}: %{{y:,.4g}} {unit}<extra></extra>",
            )
        )
        fig.update_layout(
            _LAYOUT,
            title=c,
            height=300,
            margin={"l": 70, "r": 10, "t": 40, "b": 40},
            xaxis_title=key,
            yaxis_title=f"{c} [{unit}]",
            showlegend=False,
        )
        out.append((c, fig))
    return out

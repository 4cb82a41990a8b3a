"""Assemble the report of a results folder and write ``RUN_DIR/report.html`` atomically.

:func:`render` is a pure function of the loaded folder (same folder, same bytes);
:func:`build_report` loads, renders and writes ``report.html``, recording it in the folder's
manifest and touching nothing else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pecopt.report import figures as F
from pecopt.report import headline as H
from pecopt.report import variants as V
from pecopt.report.data import Folder, Run, load_folder, numeric_columns, unit_of
from pecopt.report.html import NA, Figures, cell, esc, number, page, table
from pecopt.report.tables import by_series, price_carriers, weeks
from pecopt.results.summary import flat_kpis

REPORT = "report.html"
_RATIOS = ("self_sufficiency", "self_consumption")


def _unit(name: str) -> str:
    return "%" if name in _RATIOS else unit_of(name)


def _horizon(run: Run) -> str:
    a = run.start_utc.tz_convert(run.timezone)
    b = run.end_utc.tz_convert(run.timezone)
    days = (run.end_utc - run.start_utc) / pd.Timedelta(days=1)
    return (
        f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} ({run.timezone}), {days:,.4g} days, "
        f"step {run.step_h:g} h"
    )


def _kpi_table(run: Run) -> str:
    return H.run_table(flat_kpis(run.kpis), run.is_full_year)


def _ped_table(run: Run) -> str:
    if not run.ped:
        return NA
    rows = []
    for v in run.ped:
        verdict = (
            cell("n/a", "")
            if v.is_ped is None
            else cell("PED" if v.is_ped else "not a PED", "yes" if v.is_ped else "no")
        )
        rows.append([esc(v.basis), verdict, number(v.value), esc(v.unit)])
    note = (
        "<p class='note'>Full year.</p>"
        if run.is_full_year
        else "<p class='note'>Not a full year: pro rata (the balance covers the horizon only).</p>"
    )
    return table(["basis", "verdict", "balance", "unit"], rows, numeric_from=2) + note


def _capacities(run: Run) -> str:
    """Every capacity, those the optimiser chose first, with their limits; EV fleets with
    their copies."""
    if not run.capacities and not run.fleets:
        return "<p class='na'>n/a (the folder lists no capacities)</p>"
    limits = {f"{v.asset} {v.key}": v for v in run.capacity_values}
    rows = []
    order = sorted(run.capacities, key=lambda k: (k not in run.sized, run.capacities[k] <= 0))
    for k in order:
        v = run.capacities[k]
        asset, _, what = k.partition(" ")
        unit = limits[k].unit if k in limits else unit_of(what, "")
        lim = limits.get(k)
        if k in run.sized:
            how = cell("chosen" if v > 0 else "chosen: none", "yes")
            upto = f"\u2264 {number(lim.max)}" if lim and lim.max is not None else "n/a"
            capex = number(lim.capex_eur_per_unit) if lim else "n/a"
        else:
            how, upto, capex = "given", "", ""
        rows.append([esc(asset), esc(_what(what)), number(v), esc(unit), how, upto, capex])
    fleet_rows = {f.name: f for f in run.fleets}
    if run.storage is not None and fleet_rows:
        assets = pd.Series(run.storage["asset"].astype(str).unique())
        rows_per = assets.str.split("/").str[0].value_counts()
        for name, f in fleet_rows.items():
            n = int(rows_per.get(name, 0))
            what = "chargers" if f.chargers else "trip profiles"
            cars = f"{n} {what} \u00d7 {f.copies} = {n * f.copies}" if n else "n/a"
            rows.append([esc(name), "EV fleet", cars, "vehicles", "given", "", ""])
    header = ["asset", "capacity", "value", "unit", "", "limit", "capex [EUR/unit]"]
    return table(header, rows, numeric_from=2)


def _what(key: str) -> str:
    """A capacity's key in words: ``power_kw_heat`` -> "power (heat)", ``kwp`` -> "peak
    power", ``energy_kwh`` -> "energy"."""
    words = [w for w in key.split("_") if w not in ("kw", "kwh", "kwp")]
    if key == "kwp":
        return "peak power"
    if words and words[-1] in ("heat", "el"):
        return " ".join(words[:-1]) + f" ({'heat' if words[-1] == 'heat' else 'electric'})"
    return " ".join(words) or key


def _typical(run: Run) -> str:
    """The typical periods a design was sized on (``kpis.json`` ``aggregation``), or ""."""
    agg = run.kpis.get("aggregation")
    if not isinstance(agg, dict) or not agg.get("representatives_start_utc"):
        return ""
    starts = pd.DatetimeIndex(agg["representatives_start_utc"]).tz_convert(run.timezone)
    weights = agg.get("weight") or [None] * len(starts)
    period_h = float(agg.get("period_h", 0))
    items = ", ".join(
        f"{s:%d %b}" + (f" (\u00d7{w:.1f})" if isinstance(w, int | float) else "")
        for s, w in zip(starts, weights, strict=False)
    )
    est, full = agg.get("typical_objective"), agg.get("full_objective")
    diff = agg.get("difference_pct")
    tail = (
        f" The sizes were found on these periods (objective {number(est)} EUR); the whole "
        f"horizon was then dispatched with them: {number(full)} EUR"
        + (f" ({diff:+.1f} %)." if isinstance(diff, int | float) else ".")
        if isinstance(est, int | float) and isinstance(full, int | float)
        else ""
    )
    return (
        f"<p class='note'><b>Sized on {len(starts)} typical periods of {period_h:g} h</b>, "
        f"starting (local time, weight in periods of the year): {esc(items)}.{esc(tail)}</p>"
    )


def run_sections(run: Run, figs: Figures, prefix: str) -> str:
    """Every single-run section: KPIs, PED, capacities and the figures."""
    t = by_series(run)
    parts = [
        "<div class='row'>",
        f"<div><h2>Key figures</h2>{_kpi_table(run)}</div>",
        "<div class='wide'><h2>Cost by item</h2>"
        f"{figs.div(f'{prefix}costs', F.cost_breakdown(run))}</div>",
        "</div>",
        _typical(run),
        "<div class='row'>",
        f"<div class='headline'><h2>Capacities: chosen and given</h2>{_capacities(run)}</div>",
        f"<div><h2>PED verdict per basis</h2>{_ped_table(run)}</div>",
        "</div>",
        "<h2>Monthly energy balance</h2>",
        figs.div(f"{prefix}monthly", F.monthly_balance(run, t)),
        "<h2>Load-duration curves</h2>",
        figs.div(f"{prefix}duration", F.load_duration(run, t)),
        "<h2>Dispatch</h2>",
    ]
    for i, (title, start, end) in enumerate(weeks(run, t)):
        parts.append(figs.div(f"{prefix}week{i}", F.dispatch(run, t, title, start, end)))
    parts += [
        "<h2>Storage levels</h2>",
        figs.div(f"{prefix}storage", F.storage(run)),
        "<h2>Carbon</h2>",
        figs.div(f"{prefix}carbon", F.carbon_waterfall(run)),
        "<h2>Marginal prices (one more kWh of demand, from the duals)</h2>",
    ]
    carriers = price_carriers(run)
    for carrier in carriers:
        parts.append(figs.div(f"{prefix}price-{carrier}", F.price_heatmap(run, carrier)))
    if not carriers:
        parts.append(NA)
    parts += [
        "<h2>Value of one more unit of capacity</h2>",
        figs.div(f"{prefix}capacity-values", F.capacity_values(run)),
    ]
    return "\n".join(parts)


def _run_header(run: Run) -> str:
    solver = run.kpis.get("solver", {})
    scen = run.manifest.get("scenario", {}).get("path", "n/a")
    return (
        f"<p>{esc(_horizon(run))}</p>"
        f"<p>scenario: {esc(scen)}; solver: {esc(solver.get('status', 'n/a'))}</p>"
    )


def _comparison_table(t: pd.DataFrame, key: str, base: str = "base") -> str:
    """Every column: KPIs as rows (in words, the column's name beside), members as
    columns: the first member's value, then each other's with its difference to the first
    (rounding noise shown as 0); text columns (statuses, errors) as they are."""
    names = t[key].astype(str).tolist()
    numeric = numeric_columns(t, key)
    rows = []

    def label(c: str) -> str:
        return f"{esc(H.words(c))} <code class='col'>{esc(c)}</code>"

    for c in numeric:
        raw = t[c].to_numpy(dtype=float)
        scale = float(np.nanmax(np.abs(raw))) if np.isfinite(raw).any() else 0.0
        v = [H.denoise(float(x), scale) for x in raw]
        v = [v[0] if H.difference(x, v[0], scale) == 0.0 else x for x in v]
        row = [label(c), esc(_unit(c)), number(v[0], _unit(c))]
        for x in v[1:]:
            d = H.difference(x, v[0], scale)
            if d is None or d != d:  # a missing value on either side: no difference to show
                row.append(number(x, _unit(c)))
                continue
            sign = "+" if d > 0 else ""
            rel = f", {sign}{number(d / abs(v[0]), '%')}" if v[0] else ""
            row.append(
                f"{number(x, _unit(c))} <span class='delta'>"
                f"({'+' if d > 0 else ''}{number(d, _unit(c))}{rel})</span>"
            )
        rows.append(row)
    for c in t.columns:
        if c == key or c in numeric or t[c].isna().all():
            continue
        rows.append(
            [label(c), ""] + [esc(x) if isinstance(x, str) else "n/a" for x in t[c].tolist()]
        )
    header = ["KPI", "unit", f"{names[0]} ({base})"] + [
        f"{n} (difference to {base})" for n in names[1:]
    ]
    return table(header, rows, numeric_from=2)


def _overview(folder: Folder, figs: Figures, base: str) -> str:
    """The first screen of a comparison or front: the headline table beside cost against
    CO2; then the differences to the first member, the cost by item, a menu of every key
    figure's differences, and the full table folded."""
    assert folder.table is not None
    t, key = folder.table, folder.key
    lacking = V.lacking_cost_data(folder.members) if folder.kind == "comparison" else {}
    word = "variant" if folder.kind == "comparison" else "point"
    scatter = (
        figs.div("pareto", F.pareto_front(t))
        if folder.kind == "pareto"
        else figs.div("cost-co2", V.cost_co2(t, key, base))
    )
    return "\n".join(
        [
            "<div class='row'>",
            f"<div class='headline'><h2>Key figures, with differences to the {esc(base)}</h2>"
            f"{H.compare_table(t, key, base)}"
            + (
                "<p class='note'>Investment counts every capacity the scenario gives cost "
                "data for (sized ones); these are left out:</p>"
                if lacking
                else ""
            )
            + f"{H.notes_list(lacking)}</div>",
            f"<div class='wide'><h2>Cost against CO2</h2>{scatter}</div>",
            "</div>",
            f"<h2>Differences to the {esc(base)}</h2>",
            figs.div("deltas", V.delta_panels(t, key, base)),
            f"<h2>Cost by item per {word}</h2>",
            figs.div("costs", V.cost_stack(t, key)),
            f"<h2>Any key figure, as a difference to the {esc(base)}</h2>",
            figs.div("kpi-detail", V.kpi_detail(t, key, base)),
            "<details><summary>Every column of the table, with differences to the "
            f"{esc(base)}</summary>{_comparison_table(t, key, base)}</details>",
        ]
    )


def _members(folder: Folder, figs: Figures) -> str:
    sub = "variants" if folder.kind == "comparison" else "points"
    word = "variant" if folder.kind == "comparison" else "point"
    first = "base" if folder.kind == "comparison" else "cost optimum"
    names = list(folder.members)
    options = "".join(
        f'<option value="{i}">{esc(n)}{f" ({first})" if i == 0 else ""}</option>'
        for i, n in enumerate(names)
    )
    out = [
        f"<h2>Per {word}</h2>",
        f'<p class="picker"><label for="pecopt-member">Show {word}: </label>'
        f'<select id="pecopt-member">{options}</select></p>',
    ]
    for i, (name, run) in enumerate(folder.members.items()):
        body = (
            f"<p class='na'>n/a (no results folder at {esc(sub)}/{esc(name)}/)</p>"
            if run is None
            else _run_header(run) + run_sections(run, figs, f"m{i}-")
        )
        hidden = "" if i == 0 else " hidden"
        out.append(
            f'<section class="pecopt-member" data-member="{i}"{hidden}>'
            f"<h2>{esc(word)} {esc(name)}</h2>{body}</section>"
        )
    return "\n".join(out)


def render(folder: Folder, name: str | None = None) -> str:
    """The report of a loaded folder as one HTML document, titled ``name`` (default: the
    folder's name)."""
    figs = Figures()
    name = name or folder.path.resolve().name
    if folder.kind == "run":
        assert folder.run is not None
        header = f"<h1>pecopt report: {esc(name)}</h1>{_run_header(folder.run)}"
        body = run_sections(folder.run, figs, "")
    elif folder.kind == "comparison":
        assert folder.table is not None
        n = len(folder.table)
        header = f"<h1>pecopt comparison: {esc(name)}</h1><p>{n} variants; base = first</p>"
        body = _overview(folder, figs, "base") + _members(folder, figs)
    else:
        assert folder.table is not None
        n = len(folder.table)
        header = f"<h1>pecopt Pareto front: {esc(name)}</h1><p>{n} points</p>"
        body = _overview(folder, figs, "cost optimum") + _members(folder, figs)
    return page(f"pecopt report: {name}", header, body, figs)


def report_text(run_dir: Path, name: str | None = None) -> str:
    """The report of the results folder ``run_dir`` (see :func:`render`; a near-optimal
    alternatives folder: :func:`pecopt.report.alternatives.render_alternatives`)."""
    from pecopt.report.alternatives import is_alternatives, render_alternatives

    if is_alternatives(Path(run_dir)):
        return render_alternatives(Path(run_dir), name)
    return render(load_folder(Path(run_dir)), name)


def build_report(run_dir: Path, name: str | None = None) -> Path:
    """Write ``run_dir/report.html`` for a run, comparison, Pareto or sweep folder (a
    sweep: :mod:`pecopt.report.sweep`); return its path.
    ``name`` titles the report (default: the folder's name; a job writing into a temporary
    folder gives the name of its ``--out``).

    The folder stays a pecopt output folder: ``report.html`` is listed in the manifest of
    the folder (or of the comparison or front it belongs to), so a later ``pecopt solve``
    into it replaces it as usual (:func:`pecopt.workflows.outputs.add_file`). A
    ``report.html`` pecopt did not write is never replaced; in a folder without pecopt's
    marker (older or foreign) the report is written only if there is none.

    Raises
    ------
    DataError
        ``run_dir`` is missing, not a results folder, has malformed tables, holds a
        ``report.html`` pecopt did not write, or the report cannot be written.
    """
    from pecopt.report.sweep import is_sweep, write_sweep_report
    from pecopt.workflows.outputs import add_file

    run_dir = Path(run_dir)
    if is_sweep(run_dir):
        return write_sweep_report(run_dir, name)
    return add_file(run_dir, REPORT, lambda: report_text(run_dir, name))

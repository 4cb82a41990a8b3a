"""Assemble the report of a results folder and write ``RUN_DIR/report.html`` atomically.

:func:`render` is a pure function of the loaded folder (same folder, same bytes);
:func:`build_report` loads, renders and writes ``report.html``, recording it in the folder's
manifest and touching nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pecopt.report import figures as F
from pecopt.report.data import HEADLINE, Folder, Run, load_folder, numeric_columns, unit_of
from pecopt.report.html import NA, Figures, cell, esc, number, page, table
from pecopt.report.tables import by_series, price_carriers, weeks

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
    rows = [
        [esc(label), number(run.headline[name], _unit(name)), esc(_unit(name))]
        for name, label, _ in HEADLINE
    ]
    return table(["KPI", "value", "unit"], rows, numeric_from=1)


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
    if not run.capacities:
        return "<p class='na'>n/a (nothing was sized in this run)</p>"
    rows = [
        [esc(k), number(v), esc(unit_of(k.replace(" ", "_")))] for k, v in run.capacities.items()
    ]
    return table(["capacity", "value", "unit"], rows)


def run_sections(run: Run, figs: Figures, prefix: str) -> str:
    """Every single-run section: KPIs, PED, capacities and the figures."""
    t = by_series(run)
    parts = [
        "<div class='row'>",
        f"<div><h2>Key figures</h2>{_kpi_table(run)}</div>",
        f"<div><h2>PED verdict per basis</h2>{_ped_table(run)}</div>",
        f"<div><h2>Capacities (given and sized)</h2>{_capacities(run)}</div>",
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
    """KPIs as rows, members as columns: the first member's value, then each other's
    with its difference to the first; text columns (statuses, errors) as they are."""
    names = t[key].astype(str).tolist()
    numeric = numeric_columns(t, key)
    rows = []
    for c in numeric:
        v = t[c].to_numpy(dtype=float)
        row = [esc(c), esc(_unit(c)), number(v[0], _unit(c))]
        for x in v[1:]:
            d = x - v[0]
            if d != d:  # a missing value on either side: no difference to show
                row.append(number(x, _unit(c)))
                continue
            rel = f", {d / abs(v[0]):+.1%}" if v[0] != 0.0 else ""
            row.append(
                f"{number(x, _unit(c))} <span class='delta'>"
                f"({'+' if d >= 0 else ''}{number(d, _unit(c))}{rel})</span>"
            )
        rows.append(row)
    for c in t.columns:
        if c == key or c in numeric or t[c].isna().all():
            continue
        rows.append([esc(c), ""] + [esc(x) if isinstance(x, str) else "n/a" for x in t[c].tolist()])
    header = ["KPI", "unit", f"{names[0]} ({base})"] + [
        f"{n} (difference to {base})" for n in names[1:]
    ]
    return table(header, rows, numeric_from=2)


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
        bars = "".join(figs.div(f"kpi-{c}", f) for c, f in F.kpi_bars(folder.table, "variant"))
        body = (
            "<h2>Key figures, with differences to the base</h2>"
            + _comparison_table(folder.table, "variant")
            + f"<h2>KPIs by variant</h2><div class='grid'>{bars}</div>"
            + _members(folder, figs)
        )
    else:
        assert folder.table is not None
        n = len(folder.table)
        header = f"<h1>pecopt Pareto front: {esc(name)}</h1><p>{n} points</p>"
        t = folder.table
        body = (
            "<h2>Pareto front</h2>"
            + figs.div("pareto", F.pareto_front(t))
            + "<h2>Points, with differences to the cost optimum</h2>"
            + _comparison_table(t, "point", "cost optimum")
            + _members(folder, figs)
        )
    return page(f"pecopt report: {name}", header, body, figs)


def report_text(run_dir: Path, name: str | None = None) -> str:
    """The report of the results folder ``run_dir`` (see :func:`render`; a near-optimal
    alternatives folder: :func:`pecopt.report.alternatives.render_alternatives`)."""
    from pecopt.report.alternatives import is_alternatives, render_alternatives

    if is_alternatives(Path(run_dir)):
        return render_alternatives(Path(run_dir), name)
    return render(load_folder(Path(run_dir)), name)


def build_report(run_dir: Path, name: str | None = None) -> Path:
    """Write ``run_dir/report.html`` for a run, comparison or Pareto folder; return its path.
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
    from pecopt.workflows.outputs import add_file

    run_dir = Path(run_dir)
    return add_file(run_dir, REPORT, lambda: report_text(run_dir, name))

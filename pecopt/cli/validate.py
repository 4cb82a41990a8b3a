"""``pecopt validate SCENARIO``: check without solving, print a summary and warnings.

Exit 0 when the scenario is valid (plausibility warnings included), 2 when it is not, or
with ``--strict`` when any plausibility warning was found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pecopt.cli import edge


@edge.guard()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary and warnings as JSON.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Plausibility warnings are errors (exit 2).")
    ] = False,
) -> None:
    """Check a scenario and every file it points to, without solving; sum it up (horizon,
    floor area, demand per m2, PV yield, mean prices, capacities) and warn about values
    that look like unit slips."""
    from pecopt.errors import ScenarioError
    from pecopt.workflows.validate import validate_scenario

    v = validate_scenario(scenario)
    if as_json:
        typer.echo(json.dumps(v.to_dict(), indent=2))
    else:
        console = Console()
        _print_summary(console, v.summary, str(scenario))
        for f in v.findings:
            console.print(f"[bold yellow]warning:[/] {escape(str(f))}", soft_wrap=True)
        n = len(v.findings)
        console.print(
            f"{escape(str(scenario))}: valid"
            + (f", {n} plausibility warning{'s' if n > 1 else ''}" if n else ""),
            highlight=False,
        )
    if strict and v.findings:
        first, n = v.findings[0], len(v.findings)
        more = f" (--strict: {n} plausibility warnings are errors)" if n > 1 else " (--strict)"
        raise ScenarioError(
            first.file, first.field, first.problem + more, line=first.line, column=first.column
        )


def _num(x: float | None, fmt: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _print_summary(console: Console, s: dict[str, Any], title: str) -> None:
    h, b, pv, site = s["horizon"], s["buildings"], s["pv"], s["site"]
    full = abs(h["years"] - 1.0) < 1e-9
    per_year = "per year" if full else "per year, pro rata"
    t = Table(title=f"pecopt validate: {escape(title)}", show_header=False)
    t.add_column("figure")
    t.add_column("value")
    t.add_row(
        "site",
        f"{escape(site['name'])} ({site['latitude']:.4f}, {site['longitude']:.4f}), "
        f"{site['timezone']}",
    )
    t.add_row(
        "horizon",
        f"{h['start_local'][:16]} to {h['end_local'][:16]} local: {h['steps']:,} steps of "
        f"{h['resolution']} ({h['hours'] / 24:,.2f} days)",
    )
    t.add_row(
        "buildings",
        f"{b['count']} ({b['with_floor_area']} with a floor area), heated floor area "
        f"{b['floor_area_m2']:,.0f} m2"
        + (", plus district series" if b["district_series"] else ""),
    )
    for name, d in b["demand"].items():
        t.add_row(
            f"  {name.replace('_', ' ')}",
            f"{d['mwh_per_year']:,.0f} MWh {per_year}, {_num(d['kwh_per_m2_yr'], '.1f')} "
            f"kWh/m2/yr ({d['horizon_mwh']:,.1f} MWh over the horizon)",
        )
    t.add_row(
        "rooftop PV",
        f"{pv['arrays']} arrays, {pv['kwp']:,.0f} kWp, "
        f"{_num(pv['horizon_kwh_per_kwp'])} kWh/kWp over the horizon "
        f"({_num(pv['kwh_per_kwp_yr'])} {per_year})"
        + (f"; PV series {pv['series_horizon_mwh']:,.1f} MWh" if pv["series_horizon_mwh"] else ""),
    )
    for key, p in s["prices"]["import"].items():
        ex = p.get("mean_ex_vat_eur_per_kwh")
        t.add_row(
            f"import price, {key.replace('_', ' ')}",
            f"mean {p['mean_eur_per_kwh']:.4f} EUR/kWh"
            + ("" if ex is None else f" incl. VAT, {ex:.4f} ex VAT"),
        )
    for col, p in s["prices"]["columns"].items():
        t.add_row(
            f"  {col}",
            f"mean {p['mean']:.4f} (min {p['min']:.4f}, max {p['max']:.4f}) EUR/kWh",
        )
    console.print(t)
    caps = Table(title="capacities", show_header=True)
    for c in ("technology", "unit", "field", "value"):
        caps.add_column(c, justify="right" if c == "value" else "left")
    for r in s["capacities"]:
        caps.add_row(r["technology"], escape(r["unit"]), r["field"], f"{r['value']:,.6g}")
    console.print(caps)

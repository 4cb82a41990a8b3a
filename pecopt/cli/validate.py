"""``pecopt validate SCENARIO``: check without solving, print a summary and warnings.

SCENARIO may be a layouts file (``base:`` and ``variants:``): the base and every variant
are checked, each variant named in its messages.

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
from pecopt.cli.options import SetOpt, sets_of
from pecopt.cli.progress import Reporter


@edge.guard()
def validate(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file, or a layouts file (base and variants).")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary and warnings as JSON.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Plausibility warnings are errors (exit 2).")
    ] = False,
    sets: SetOpt = None,
) -> None:
    """Check a scenario and every file it points to, without solving; sum it up (horizon,
    floor area, demand per m2, PV yield, mean prices, capacities) and warn about values
    that look like unit slips. A layouts file: the base and every variant.

    Example: pecopt validate scenarios/kera.yaml --set
    assets.batteries.shared_battery.capacity_kwh=500"""
    from pecopt.errors import ScenarioError
    from pecopt.workflows.validate import Validation, validate_path

    with Reporter("validate") as progress:  # a layouts file's variants: each ingested
        progress("read and ingest")
        v = validate_path(scenario, sets_of(sets))
    if as_json:
        typer.echo(json.dumps(v.to_dict(), indent=2))
    else:
        console = Console()
        if isinstance(v, Validation):
            _print_summary(console, v.summary, str(scenario))
            what = ""
        else:
            first = True
            for name, one in v.variants.items():
                _print_summary(console, one.summary, f"{scenario}, variant {name}", brief=not first)
                first = False
            others = len(v.variants) - ("base" in v.variants)
            what = (
                f" (base and {others} variants)"
                if "base" in v.variants
                else f" ({others} variants)"
            )
        for f in v.findings:
            console.print(f"[bold yellow]warning:[/] {escape(str(f))}", soft_wrap=True)
        n = len(v.findings)
        console.print(
            f"{escape(str(scenario))}: valid{what}"
            + (f", {n} plausibility warning{'s' if n > 1 else ''}" if n else ""),
            highlight=False,
        )
    if strict and v.findings:
        first_f, n = v.findings[0], len(v.findings)
        more = f" (--strict: {n} plausibility warnings are errors)" if n > 1 else " (--strict)"
        raise ScenarioError(
            first_f.file,
            first_f.field,
            first_f.problem + more,
            line=first_f.line,
            column=first_f.column,
        )


def _num(x: float | None, fmt: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _print_summary(console: Console, s: dict[str, Any], title: str, brief: bool = False) -> None:
    """The summary tables; ``brief``: the capacities only (another variant of a layouts
    file, after the first's full summary)."""
    if brief:
        _print_capacities(console, s, f"capacities: {title}")
        return
    h, b, pv, site = s["horizon"], s["buildings"], s["pv"], s["site"]
    full = abs(h["years"] - 1.0) < 1e-9
    part = h["years"] < 1.0 - 1e-9  # less than a year: the horizon's totals, no rate
    per_year = "per year" if full else "per year, pro rata"
    days = f"over the horizon ({h['hours'] / 24:,.2f} days)"
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
            f"{d['horizon_mwh']:,.1f} MWh, {_num(d['horizon_kwh_per_m2'], '.1f')} kWh/m2 {days}"
            if part
            else f"{d['mwh_per_year']:,.0f} MWh {per_year}, {_num(d['kwh_per_m2_yr'], '.1f')} "
            f"kWh/m2/yr ({d['horizon_mwh']:,.1f} MWh over the horizon)",
        )
    t.add_row(
        "rooftop PV",
        f"{pv['arrays']} arrays, {pv['kwp']:,.0f} kWp, "
        f"{_num(pv['horizon_kwh_per_kwp'])} kWh/kWp over the horizon"
        + ("" if part else f" ({_num(pv['kwh_per_kwp_yr'])} {per_year})")
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
    _print_capacities(console, s, "capacities")


def _print_capacities(console: Console, s: dict[str, Any], title: str) -> None:
    """Every capacity: a given one as its value, a sized one as its limit."""
    caps = Table(title=escape(title), show_header=True)
    for c in ("technology", "unit", "field"):
        caps.add_column(c)
    caps.add_column("value", justify="right", no_wrap=True)
    for r in s["capacities"]:
        caps.add_row(r["technology"], escape(r["unit"]), r["field"], escape(r["text"]))
    console.print(caps)

"""``pecopt``: parse, call one workflow, map errors to exit codes (2 bad input,
3 infeasible, 4 solver failure)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pecopt.cli import sweep as sweep_cli  # imports no dask or duckdb
from pecopt.errors import PecoptError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Positive-energy district optimisation with Pyomo and HiGHS.",
)
err = Console(stderr=True)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")]


def _fail(exc: PecoptError) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def _solver_overrides(
    time_limit: float | None, mip_gap: float | None, threads: int | None
) -> dict[str, Any]:
    solver: dict[str, Any] = {}
    if time_limit is not None:
        solver["time_limit_s"] = time_limit
    if mip_gap is not None:
        solver["mip_rel_gap"] = mip_gap
    if threads is not None:
        solver["threads"] = threads
    return {"solver": solver} if solver else {}


@app.command()
def solve(
    scenario: ScenarioArg,
    out: OutOpt,
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit [s].")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap.")] = None,
    threads: Annotated[int | None, typer.Option(help="HiGHS threads (0 = automatic).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary table.")] = False,
) -> None:
    """Ingest, build, solve and write schedule, storage, carbon, KPIs and manifest."""
    from pecopt.workflows.solve import solve_scenario

    console = Console()
    try:
        with console.status("starting", spinner="dots") as status:
            run = solve_scenario(
                scenario,
                out,
                overrides=_solver_overrides(time_limit, mip_gap, threads),
                progress=lambda phase: status.update(f"{phase} ..."),
            )
    except PecoptError as exc:
        _fail(exc)
        return
    if not quiet:
        _summary(console, run.kpis, run.seconds, out)


def _summary(console: Console, k: dict[str, Any], seconds: dict[str, float], out: Path) -> None:
    t = Table(title=f"pecopt: {out}", show_header=True)
    t.add_column("figure")
    t.add_column("value", justify="right")
    ped = k["ped"]
    for basis in ("final_energy", "weighted_energy"):
        t.add_row(
            f"PED, {basis.replace('_', ' ')}",
            f"{'yes' if ped[basis]['is_ped'] else 'no'} "
            f"(surplus {ped[basis]['surplus_kwh']:,.0f} kWh)",
        )
    t.add_row(
        "PED, GHG",
        f"{'yes' if ped['ghg']['is_ped'] else 'no'} (net {ped['ghg']['net_co2_kg']:,.0f} kg CO2e)",
    )
    t.add_row("cost", f"{k['cost_eur']['total']:,.2f} EUR")
    t.add_row("CO2, gross / net", f"{k['co2_kg']['gross']:,.0f} / {k['co2_kg']['net']:,.0f} kg")
    ss = k["self_sufficiency"]
    t.add_row("self-sufficiency", "n/a" if ss is None else f"{ss:.1%}")
    t.add_row("peak grid import", f"{k['peak_grid_import_kw']:,.1f} kW")
    t.add_row("solver", f"{k['solver']['status']}, gap {k['solver']['gap']:.2e}")
    shown = {p: s for p, s in seconds.items() if not (p == "mip_start" and s == 0.0)}
    t.add_row("seconds", ", ".join(f"{p} {s:.2f}" for p, s in shown.items()))
    console.print(t)


@app.command()
def ingest(scenario: ScenarioArg, out: OutOpt) -> None:
    """Write the scenario's canonical input tables as Parquet (UTC, units in names)."""
    from pecopt.workflows.solve import ingest_scenario

    try:
        tables = ingest_scenario(scenario, out)
    except PecoptError as exc:
        _fail(exc)
        return
    for name, df in tables.as_dict().items():
        typer.echo(f"{out / (name + '.parquet')}: {len(df)} rows")


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario file and the data it points to, without solving."""
    from pecopt.ingest.district import ingest as ingest_tables
    from pecopt.ingest.district import to_inputs
    from pecopt.scenario import load_scenario

    try:
        s = load_scenario(scenario)
        to_inputs(s, ingest_tables(s, str(scenario)))
    except PecoptError as exc:
        _fail(exc)
        return
    typer.echo(f"{scenario}: valid")


app.command()(sweep_cli.sweep)
app.command()(sweep_cli.query)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())

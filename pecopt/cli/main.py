"""``pecopt``: parse, call one workflow, map errors to exit codes (2 bad input,
3 infeasible, 4 solver failure; 10 a plan that is not proven optimal or degraded;
``dispatch`` adds 75 store locked)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pecopt import __version__
from pecopt.cli import edge
from pecopt.cli import sweep as sweep_cli  # imports no dask or duckdb
from pecopt.cli.alternatives import alternatives
from pecopt.cli.compare import compare
from pecopt.cli.dispatch import dispatch, runs_app
from pecopt.cli.help import Command, Group
from pecopt.cli.options import SetOpt, sets_of
from pecopt.cli.pareto import pareto
from pecopt.cli.progress import LogFileOpt, QuietOpt, Reporter, VerboseOpt
from pecopt.cli.replay import replay
from pecopt.cli.report import report
from pecopt.cli.validate import validate

app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Positive-energy district optimisation with Pyomo and HiGHS.",
)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pecopt {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show an internal error's traceback here.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Positive-energy district optimisation with Pyomo and HiGHS."""
    edge.set_debug(debug)


#: scenario field -> the option that overrides it (to name the option in an error)
_SOLVER_OPTIONS = {
    "solver.time_limit_s": "--time-limit",
    "solver.mip_rel_gap": "--mip-gap",
    "solver.threads": "--threads",
}


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


@app.command(cls=Command)
@edge.guard(options=_SOLVER_OPTIONS)
def solve(
    out: OutOpt,
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML file (or give --inputs).")
    ] = None,
    inputs: Annotated[
        Path | None,
        typer.Option("--inputs", help="Solve a folder written by `pecopt ingest` instead."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(help="Time limit for the whole command (seconds); a stopped plan exits 10."),
    ] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap.")] = None,
    threads: Annotated[int | None, typer.Option(help="HiGHS threads (0 = automatic).")] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    sets: SetOpt = None,
) -> None:
    """Ingest, build, solve and write schedule, storage, carbon, KPIs and manifest.

    Exit 10: the plan was written but the time limit stopped the solver before it was
    proven optimal (its gap is in kpis.json).

    Example: pecopt solve scenarios/kera.yaml --out runs/kera --set
    horizon.end=2025-01-08"""
    import time

    started = time.perf_counter()
    from pecopt.errors import EXIT_NOT_OPTIMAL, OptionError
    from pecopt.scenario.plausibility import check
    from pecopt.workflows.solve import solve_scenario

    if (scenario is None) == (inputs is None):
        raise OptionError("SCENARIO", "give a scenario file or --inputs DIR (one of them)")
    deadline = None if time_limit is None or time_limit <= 0 else started + time_limit
    with Reporter("solve", quiet=quiet, verbose=verbose, log_file=log_file) as progress:
        run = solve_scenario(
            scenario,
            out,
            overrides=_solver_overrides(time_limit, mip_gap, threads),
            inputs_dir=inputs,
            deadline=deadline,
            progress=progress,
            sets=sets_of(sets),
        )
    if not quiet:
        _summary(Console(), run.kpis, run.seconds, out)
    doubts = len(check(run.inputs))
    if doubts:
        how = f"pecopt validate {scenario}" if scenario is not None else "pecopt validate"
        edge.warn(f"{doubts} plausibility warning{'s' if doubts > 1 else ''} ({how} lists them)")
    if not run.optimal:
        solver = run.kpis["solver"]
        edge.warn(
            f"the time limit stopped the solver: the plan in {out} is feasible but not "
            f"proven optimal (gap {solver['gap']:.2%}, status {solver['status']}); exit "
            f"{EXIT_NOT_OPTIMAL}"
        )
        raise typer.Exit(EXIT_NOT_OPTIMAL)


def _summary(console: Console, k: dict[str, Any], seconds: dict[str, float], out: Path) -> None:
    from pecopt.units import label_of, unit_of

    t = Table(title=f"pecopt: {out}", show_header=True)
    t.add_column("figure")
    t.add_column("value", justify="right")
    ped = k["ped"]
    for basis in ("final_energy", "weighted_energy"):
        t.add_row(
            f"PED, {basis.replace('_', ' ')}",
            f"{ped[basis]['status']} (surplus {ped[basis]['surplus_kwh']:,.0f} kWh)",
        )
    t.add_row("PED, GHG", f"{ped['ghg']['status']} (net {ped['ghg']['net_co2_kg']:,.0f} kg CO2e)")
    t.add_row(label_of("cost_total_eur"), f"{k['cost_eur']['total']:,.2f} EUR")
    invest = k["cost_eur"].get("items", {}).get("investment")
    if invest:
        t.add_row(label_of("investment_eur"), f"{invest:,.2f} EUR (annualised, with fixed O&M)")
    sized = [
        f"{asset} {v:,.0f} {unit_of('_' + kind)}"
        for asset, caps in k.get("sized", {}).items()
        for kind, v in caps.items()
        if abs(v) >= 0.5
    ]
    if k.get("sized"):
        t.add_row("sized (chosen)", ", ".join(sized) if sized else "nothing built")
    agg = k.get("aggregation")
    if agg:
        t.add_row(
            "typical periods",
            f"{agg['typical_periods']} x {agg['period_h']} h: {agg['typical_objective']:,.0f} "
            f"EUR estimated, {agg['full_objective']:,.0f} EUR over the whole horizon "
            f"({agg['difference_pct']:+.1f} %)",
        )
    t.add_row("CO2, gross / net", f"{k['co2_kg']['gross']:,.0f} / {k['co2_kg']['net']:,.0f} kg")
    ss = k["self_sufficiency"]
    t.add_row(label_of("self_sufficiency"), "n/a" if ss is None else f"{ss:.1%}")
    billed = {"district_heat": k.get("figures", {}).get("district_heat.billing_peak_kw")}
    for asset, kw in k["peak_import_kw"].items():
        value = f"{kw:,.1f} kW"
        if billed.get(asset) is not None:  # the fee's peak: the highest window mean
            value += f" (billed {billed[asset]:,.1f} kW)"
        t.add_row(f"peak import, {asset.replace('_', ' ')}", value)
    t.add_row("solver", f"{k['solver']['status']}, gap {k['solver']['gap']:.2e}")
    shown = {p: s for p, s in seconds.items() if not (p == "mip_start" and s == 0.0)}
    t.add_row("seconds", ", ".join(f"{p} {s:.2f}" for p, s in shown.items()))
    console.print(t)


@app.command(cls=Command)
@edge.guard()
def ingest(scenario: ScenarioArg, out: OutOpt, sets: SetOpt = None) -> None:
    """Write the scenario's canonical input tables as Parquet (UTC, units in names).

    Example: pecopt ingest scenarios/kera.yaml --out runs/kera_inputs, then pecopt solve
    --inputs runs/kera_inputs --out runs/kera"""
    from pecopt.workflows.solve import ingest_scenario

    with Reporter("ingest") as progress:
        tables = ingest_scenario(scenario, out, sets=sets_of(sets), progress=progress)
    for name, df in tables.items():
        typer.echo(f"{out / (name + '.parquet')}: {len(df)} rows")


for command in (validate, report, dispatch, replay, compare, pareto, alternatives,
                sweep_cli.sweep,
                sweep_cli.query):  # fmt: skip
    app.command(cls=Command)(command)
app.add_typer(runs_app, name="runs")


def main() -> None:  # pragma: no cover - the console script (tests call `app`)
    """The ``pecopt`` console script: run the command, flush, and leave with its exit code
    without Python's clean-up of every module and object at exit (0.1-1 s for the
    scientific stack and a large model; mypy leaves the same way), so that a command's
    time limit holds for the process. Every command has closed its files and clusters by
    then (with-blocks); an exception other than an exit propagates as usual. A closed
    standard output or error (``| head``) changes no exit code (:func:`edge.guard_streams`)."""
    edge.guard_streams()
    try:
        app()
        code = 0
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

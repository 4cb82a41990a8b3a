"""``pecopt pareto SCENARIO --points N --out DIR``: the cost-CO2 front.

Exit codes as ``pecopt solve``: 0 ok, 2 bad input (nothing written), 3 infeasible,
4 solver failure or the time limit before the first point (nothing written); 10 the front
was written as far as it got (the time limit or a solver failure stopped it after its
first point, or a MILP point is not proven optimal).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pecopt.cli import edge
from pecopt.cli.options import SetOpt, sets_of
from pecopt.cli.progress import LogFileOpt, QuietOpt, Reporter, VerboseOpt


@edge.guard()
def pareto(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    points: Annotated[
        int, typer.Option("--points", "-n", help="Points on the front, both ends included.")
    ] = 6,
    tol: Annotated[
        float,
        typer.Option(help="Relative slack on the CO2 minimum for the last point's cost."),
    ] = 1e-4,
    time_limit: Annotated[
        float | None,
        typer.Option(
            help="Time limit for the whole command (seconds); the points done by then are "
            "written and the command exits 10."
        ),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    sets: SetOpt = None,
) -> None:
    """Trace the cost-CO2 front from the cost optimum to the CO2 minimum (epsilon
    constraint, warm-started); write points/<k>/, pareto.parquet and report.html.

    Exit 10: the time limit (or a solver failure) stopped the front after its first point;
    the points done are written.

    Example: pecopt pareto scenarios/kera.yaml --points 6 --out runs/front"""
    started = time.perf_counter()
    from pecopt.errors import EXIT_NOT_OPTIMAL
    from pecopt.workflows.pareto import pareto as run

    deadline = None if time_limit is None or time_limit <= 0 else started + time_limit
    with Reporter("pareto", quiet=quiet, verbose=verbose, log_file=log_file) as progress:
        result = run(
            scenario,
            out,
            points=points,
            tol=tol,
            deadline=deadline,
            progress=progress,
            sets=sets_of(sets),
        )
    if not quiet:
        t = Table(title=f"pecopt pareto: {out}")
        for c in ("point", "CO2 bound kg", "cost EUR", "CO2 net kg", "status"):
            t.add_column(c, justify="right")
        for _, r in result.table.iterrows():
            eps = r["eps_co2_kg"]
            t.add_row(
                str(r["point"]),
                "none" if eps != eps else f"{eps:,.0f}",
                f"{r['cost_total_eur']:,.0f}",
                f"{r['co2_net_kg']:,.0f}",
                str(r["solver_status"]),
            )
        out_console = Console()
        out_console.print(t)
        out_console.print(
            f"seconds: {result.seconds['total']:.1f}; report: {out / 'report.html'}", markup=False
        )
    if not result.complete:
        edge.warn(
            f"the front stopped early: {result.stopped}; {len(result.table)} of "
            f"{result.points} points written in {out}; exit {EXIT_NOT_OPTIMAL}"
        )
        raise typer.Exit(EXIT_NOT_OPTIMAL)

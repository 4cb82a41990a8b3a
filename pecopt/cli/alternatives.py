"""``pecopt alternatives SCENARIO --slack 0.02 --out DIR``: near-optimal designs.

Exit codes as ``pecopt pareto``: 0 ok, 2 bad input (nothing written), 3 infeasible,
4 solver failure or the time limit before the optimum (nothing written); 10 the run was
written as far as it got (the time limit or a solver failure stopped it after the
optimum).
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
def alternatives(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    slack: Annotated[
        float,
        typer.Option(help="Share of the optimal cost a design may add, in [0, 1] (0.02 = 2 %)."),
    ] = 0.02,
    designs: Annotated[
        int,
        typer.Option("--designs", "-n", help="Designs as different from each other as the "
                     "slack allows (Hop-Skip-Jump), after the ranges."),
    ] = 0,
    time_limit: Annotated[
        float | None,
        typer.Option(
            help="Time limit for the whole command (seconds); the solves done by then are "
            "written and the command exits 10."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://HOST:8786): the min/max solves "
                     "on its workers."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Solve the min/max solves on a local Dask cluster of this many "
                     "workers (default: one after another on one model)."),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    sets: SetOpt = None,
) -> None:  # fmt: skip
    """The least and the most of each sized asset (and of all PV, all stores, all heat
    pumps) that any design within --slack of the optimal cost builds, then --designs
    designs as different as the slack allows; write alternatives.parquet, ranges.parquet
    and report.html.

    Exit 10: the time limit (or a solver failure) stopped the run after the optimum; the
    solves done are written.

    Example: pecopt alternatives scenarios/kera_design.yaml --slack 0.02 --designs 2
    --out runs/alternatives"""
    started = time.perf_counter()
    from pecopt.errors import EXIT_NOT_OPTIMAL
    from pecopt.workflows.alternatives import alternatives as run

    deadline = None if time_limit is None or time_limit <= 0 else started + time_limit
    with Reporter("alternatives", quiet=quiet, verbose=verbose, log_file=log_file) as progress:
        result = run(
            scenario, out, slack=slack, designs=designs, deadline=deadline,
            scheduler=scheduler, workers=workers, progress=progress, sets=sets_of(sets),
        )  # fmt: skip
    if not quiet:
        t = Table(title=f"pecopt alternatives: {out} (within {slack:.1%} of the optimal cost)")
        for c in ("capacity or group", "unit", "min", "optimum", "max"):
            t.add_column(c, justify="left" if c == "capacity or group" else "right")
        for _, r in result.ranges.iterrows():
            t.add_row(
                str(r["target"]), str(r["unit"]),
                *(f"{r[c]:,.0f}" if abs(r[c]) >= 100 else f"{r[c]:,.3g}"
                  for c in ("min", "optimum", "max")),
            )  # fmt: skip
        out_console = Console()
        out_console.print(t)
        out_console.print(
            f"seconds: {result.seconds['total']:.1f}; report: {out / 'report.html'}", markup=False
        )
    if not result.complete:
        edge.warn(
            f"the run stopped early: {result.stopped}; {len(result.table)} solves written "
            f"in {out}; exit {EXIT_NOT_OPTIMAL}"
        )
        raise typer.Exit(EXIT_NOT_OPTIMAL)

"""``pecopt report RUN_DIR``: write ``RUN_DIR/report.html`` (exit 2 for a bad folder); a
sweep folder gets its KPI table and the effect of each varied parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pecopt.cli import edge
from pecopt.cli.progress import Reporter


@edge.guard()
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="Results folder of a solve, a comparison, a Pareto front, alternatives or a sweep."
        ),
    ],
) -> None:
    """Write RUN_DIR/report.html: a self-contained HTML report that works offline.

    Example: pecopt report runs/kera"""
    from pecopt.report import build_report

    with Reporter("report") as progress:  # a sweep's report may take a while
        progress("write the report")
        path = build_report(run_dir)
    typer.echo(str(path))

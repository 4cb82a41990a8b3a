"""``pecopt report RUN_DIR``: write ``RUN_DIR/report.html`` (exit 2 for a bad folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pecopt.cli import edge


@edge.guard()
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="Results folder of a solve, a comparison, a Pareto front or alternatives."
        ),
    ],
) -> None:
    """Write RUN_DIR/report.html: a self-contained HTML report that works offline."""
    from pecopt.report import build_report

    typer.echo(str(build_report(run_dir)))

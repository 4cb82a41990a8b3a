"""``pecopt compare LAYOUTS --out DIR``: solve every variant of a layouts file side by side.

Exit codes: 0 every variant solved; 10 some variant failed (its row says why, the others
are written); 2 a bad layouts file, variant, data file or ``--out`` (nothing written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pecopt.cli import edge
from pecopt.cli.options import SetOpt, sets_of
from pecopt.cli.progress import LogFileOpt, QuietOpt, Reporter, VerboseOpt


@edge.guard()
def compare(
    layouts: Annotated[Path, typer.Argument(help="Layouts YAML file (a base and its variants).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    workers: Annotated[
        int | None,
        typer.Option(help="Variants solved at once, one process each (default: the cores)."),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    sets: SetOpt = None,
) -> None:
    """Solve every variant of LAYOUTS in parallel; write comparison.parquet, a results
    folder per variant and report.html. Exit 10 if some variant failed.

    Example: pecopt compare scenarios/kera_layouts.yaml --out runs/layouts --set
    horizon.end=2025-01-08"""
    from pecopt.workflows.pool import context

    context(start=True)  # the workers' server imports pecopt while this process does
    from pecopt.workflows.compare import SOME_FAILED
    from pecopt.workflows.compare import compare as run

    with Reporter("compare", quiet=quiet, verbose=verbose, log_file=log_file) as progress:
        result = run(layouts, out, workers=workers, progress=progress, sets=sets_of(sets))
    if not quiet:
        _summary(Console(), result.table, out)
    if result.failed:
        Console(stderr=True).print(
            f"[bold red]{len(result.failed)} variant(s) failed:[/] {', '.join(result.failed)} "
            f"(see {out / 'comparison.parquet'})",
            highlight=False,
        )
        raise typer.Exit(SOME_FAILED)


def _summary(console: Console, t: object, out: Path) -> None:
    import pandas as pd

    assert isinstance(t, pd.DataFrame)
    table = Table(title=f"pecopt compare: {out}")
    for c in ("variant", "status", "cost EUR", "CO2 net kg", "self-sufficiency", "s"):
        table.add_column(c, justify="left" if c in ("variant", "status") else "right")

    def num(row: pd.Series, col: str, fmt: str) -> str:
        v = row.get(col)
        return "n/a" if v is None or pd.isna(v) else format(float(v), fmt)

    for _, r in t.iterrows():
        status = str(r["status"]) if pd.isna(r.get("error")) else f"{r['status']}: {r['error']}"
        status = escape(status)  # an error message may hold [brackets]
        table.add_row(
            str(r["variant"]),
            status,
            num(r, "cost_total_eur", ",.0f"),
            num(r, "co2_net_kg", ",.0f"),
            num(r, "self_sufficiency", ".1%"),
            num(r, "wall_s", ".1f"),
        )
    console.print(table)
    console.print(f"report: {out / 'report.html'}", markup=False, highlight=False)

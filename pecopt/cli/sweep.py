"""``pecopt sweep`` and ``pecopt query``: thin commands over
:mod:`pecopt.workflows.sweep` and :mod:`pecopt.workflows.sweep_query`.

Dask and DuckDB are imported only when a command runs.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pecopt.cli import edge
from pecopt.cli.options import SetOpt, sets_of
from pecopt.cli.progress import LogFileOpt, Reporter, VerboseOpt
from pecopt.errors import PecoptError

if TYPE_CHECKING:  # pragma: no cover
    from pecopt.workflows.sweep import SweepCounts

err = Console(stderr=True)

EXIT_INTERRUPTED = 130


def _fail(exc: PecoptError) -> None:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


@edge.guard()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="Base scenario YAML file.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Sweep dataset folder (created, or resumed if it is one)."
        ),
    ],
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            metavar="PATH=V1,V2",
            help="Variants of one value, e.g. assets.batteries.shared_battery.capacity_kwh="
            "0,500 (paths as --set; repeat: cartesian product).",
        ),
    ] = None,
    grid: Annotated[
        Path | None,
        typer.Option(help="CSV or Parquet: one row a variant, columns override paths."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://HOST:8786); default: a LocalCluster."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="LocalCluster worker processes (default: cores).")
    ] = None,
    threads: Annotated[int, typer.Option(min=0, help="HiGHS threads per variant.")] = 1,
    ship_inputs: Annotated[
        bool,
        typer.Option(
            "--ship-inputs", help="Send input files with the tasks (no shared filesystem)."
        ),
    ] = False,
    replay_from: Annotated[
        str | None,
        typer.Option(
            "--replay-from",
            help="Replay every variant from this delivery day (YYYY-MM-DD) instead of "
            "solving it; vary replay.forecast and replay.seed like any path.",
        ),
    ] = None,
    replay_to: Annotated[
        str | None, typer.Option("--replay-to", help="Last delivery day of the replays.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")] = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    sets: SetOpt = None,
) -> None:
    """Solve (or, with --replay-from/--replay-to, replay) every variant of a scenario on
    Dask; results as a Parquet dataset in --out.

    Example: pecopt sweep scenarios/kera.yaml --out runs/batteries --vary
    assets.batteries.shared_battery.capacity_kwh=0,500,1000

    Example: pecopt sweep scenarios/kera_replay.yaml --out runs/replays --replay-from
    2025-03-03 --replay-to 2025-03-09 --vary replay.forecast=perfect,noisy:0.1
    --vary replay.seed=1,2"""
    from pecopt.progress import counted
    from pecopt.workflows.sweep import sweep as run

    shown: list[tuple[int, ...]] = []

    def progress(c: SweepCounts, message: str | None) -> None:
        if message:
            reporter.message(message)
        now = (c.done, c.skipped, c.failed, c.remaining)
        if not shown or shown[-1] != now:  # a step when a variant is done, not each call
            shown.append(now)
            text = f"variants, {c.failed} failed"
            if c.skipped:
                text += f", {c.skipped} done before"
            reporter(counted(text, c.total - c.remaining, c.total))

    try:
        with Reporter("sweep", quiet=quiet, verbose=verbose, log_file=log_file) as reporter:
            reporter("plan the variants and start the cluster")
            job = _replay_job(replay_from, replay_to)
            counts = run(
                scenario,
                out,
                vary=list(vary or []),
                grid=grid,
                scheduler=scheduler,
                workers=workers,
                threads=threads,
                ship_inputs=ship_inputs,
                progress=progress,
                replay=job,
                sets=sets_of(sets),
            )
    except PecoptError as exc:
        _fail(exc)
        return
    _report(counts, out)


def _replay_job(first: str | None, last: str | None) -> Any:
    """The replay options of a sweep of replays, or None (a sweep of solves)."""
    from datetime import date

    from pecopt.errors import OptionError
    from pecopt.workflows.sweep_plan import ReplayJob

    if first is None and last is None:
        return None
    if first is None or last is None:
        raise OptionError("--replay-from" if first is None else "--replay-to",
                          "give both --replay-from and --replay-to")  # fmt: skip
    days = []
    for option, text in (("--replay-from", first), ("--replay-to", last)):
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise OptionError(option, f"{text!r} is not a date YYYY-MM-DD") from None
    if days[1] < days[0]:
        raise OptionError("--replay-to", f"{last} is before --replay-from {first}")
    return ReplayJob(days[0], days[1])


def _report(c: SweepCounts, out: Path) -> None:
    typer.echo(
        f"{out}: {c.total} variants: {c.done} solved, {c.skipped} already done, "
        f"{c.failed} failed, {c.remaining} not run"
    )
    if c.failed:
        typer.echo(
            f"failed variants: pecopt query {out} "
            "\"SELECT variant_id, error FROM kpis WHERE status <> 'ok'\""
        )
    if c.interrupted:
        err.print("interrupted: finished variants are kept; run the same command to resume")
        raise typer.Exit(EXIT_INTERRUPTED)


@edge.guard()
def query(
    folder: Annotated[Path, typer.Argument(help="A sweep dataset folder (pecopt sweep --out).")],
    sql: Annotated[
        str, typer.Argument(help="SQL over the views kpis, schedule, storage (and replay).")
    ],
    to: Annotated[
        Path | None, typer.Option(help="Write the whole answer to FILE.csv or FILE.parquet.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to print.")] = 50,
) -> None:
    """Run DuckDB SQL over a sweep dataset; print a table or write a file.

    Example: pecopt query runs/batteries "SELECT variant_id, cost_total_eur FROM kpis"
    """
    from pecopt.workflows.sweep_query import run_query, write_query

    try:
        if to is not None:
            n = write_query(folder, sql, to)
            typer.echo(f"{to}: {n} rows")
            return
        result = run_query(folder, sql, limit)
    except PecoptError as exc:
        _fail(exc)
        return
    if result is None:
        return
    table = Table(show_header=True, header_style="bold")
    for c in result.columns:
        table.add_column(escape(c), overflow="fold")  # "[...]" would be taken as markup
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    Console().print(table)
    if result.more:
        err.print(f"(first {limit} rows; --limit N for more, --to FILE for all)")


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NULL"
    if isinstance(v, float):
        return f"{v:,.3f}" if v == 0 or 1e-3 <= abs(v) < 1e12 else f"{v:.4g}"
    if isinstance(v, datetime):
        return v.isoformat()
    return escape(str(v))

"""``pecopt dispatch`` (a day's plan from the carried state) and ``pecopt runs list``.

Exit codes of ``dispatch`` (for an operator's scheduler): 0 a plan; 10 a plan made in
degraded mode (prices or weather filled in for the delivery day, an implausible forecast,
time limit, a slack or rule-based plan, no carried state); 2 bad input (an implausible
forecast too, under ``--strict``); 3 no plan possible; 4 solver failure
without any plan; 75 another run holds the state store (try again later); 1 internal
error (traceback in the log file); 130 interrupted.
"""

from __future__ import annotations

import atexit
import gc
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pecopt.cli import edge
from pecopt.cli.help import Command, Group
from pecopt.cli.options import CommitHoursOpt, CvarAlphaOpt, CvarWeightOpt, SetOpt, sets_of
from pecopt.cli.progress import LogFileOpt, QuietOpt, Reporter, VerboseOpt

runs_app = typer.Typer(cls=Group, no_args_is_help=True, help="Past dispatch runs in a state store.")

StateOpt = Annotated[
    Path, typer.Option("--state", help="State store folder (carried from run to run).")
]


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@edge.guard(options={"solver.time_limit_s": "--time-limit"})
def dispatch(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file (with a dispatch: section).")
    ],
    state: StateOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    day: Annotated[
        str | None,
        typer.Option("--day", help="Delivery day YYYY-MM-DD (default: tomorrow, site time)."),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Re-plan the rest of the day from this local time (HH:MM)."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(help="Time limit for the planning, seconds (default: dispatch.time_limit_s)."),
    ] = None,
    members: Annotated[
        int,
        typer.Option(
            help="Plan over N forecasts (0: the forecast alone): the day's and N-1 "
            "drawn around it; members.parquet holds each one's recourse."
        ),
    ] = 0,
    members_file: Annotated[
        Path | None,
        typer.Option(
            help="The members from a file: columns member (0, 1, ...), timestamp "
            "(UTC), series, value (as a forecast file); instead of drawn ones."
        ),
    ] = None,
    member_noise: Annotated[
        float | None, typer.Option(help="Error size of the drawn members (e.g. 0.2).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the drawn members.")] = 0,
    commit_hours: CommitHoursOpt = None,
    cvar_alpha: CvarAlphaOpt = None,
    cvar_weight: CvarWeightOpt = 0.0,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse an implausible forecast (exit 2) instead of planning on it (exit 10).",
        ),
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    sets: SetOpt = None,
) -> None:
    """Plan a delivery day (plus a look-ahead) from the state the last run left.

    Exit 0: a plan; 10: a plan made in degraded mode (an implausible forecast too); 2: bad
    input (and an implausible forecast under --strict); 3: no plan possible; 4: solver
    failure; 75: the state store is locked by another run.

    Example: pecopt dispatch scenarios/kera_dispatch.yaml --state state --day 2025-03-04
    --out runs/night
    """
    from pecopt.workflows.dispatch import dispatch as run_dispatch
    from pecopt.workflows.stochastic import Members

    ensemble = Members.of(
        members, noise=member_noise, seed=seed, commit_hours=commit_hours,
        cvar_alpha=cvar_alpha, cvar_weight=cvar_weight, file=members_file,
    )  # fmt: skip

    # A short job that builds many small objects: no cyclic GC while it runs, and none of
    # its objects traversed again when the interpreter exits (0.1-0.5 s each on Kera).
    atexit.register(gc.freeze)
    gc.disable()
    try:
        with Reporter("dispatch", quiet=quiet, verbose=verbose, log_file=log_file) as progress:
            run = run_dispatch(
                scenario,
                out,
                state,
                day=_day(day),
                from_local=from_,
                time_limit_s=time_limit,
                progress=progress,
                sets=sets_of(sets),
                strict=strict,
                ensemble=ensemble,
            )
    finally:
        gc.enable()
    if not quiet:
        w = run.window
        start = w.start.tz_convert(w.tz).strftime("%Y-%m-%d %H:%M")
        end = w.end.tz_convert(w.tz).strftime("%Y-%m-%d %H:%M %Z")
        typer.echo(
            f"{out}: {w.day} ({start} to {end}, {w.steps} steps of {w.resolution}) "
            f"plan {run.mode}, {run.status}, cost {run.kpis['cost_eur']['total']:,.2f} EUR "
            f"(with the look-ahead), run {run.run_id}, {run.seconds['total']:.2f} s"
        )
        from pecopt.workflows.flags import grouped

        for level, _, count, message in grouped(run.flags):
            more = f" (and {count - 1} more like it)" if count > 1 else ""
            typer.echo(f"  {level}: {message}{more}")
    if run.exit_code:
        raise typer.Exit(run.exit_code)


@runs_app.command("list", cls=Command)
@edge.guard()
def runs_list(
    state: StateOpt,
    last: Annotated[int, typer.Option("--last", help="Show the last N runs.")] = 30,
) -> None:
    """Past runs: day, window, status, plan, cost and flags (newest first).

    Example: pecopt runs list --state state --last 7"""
    from rich.console import Console
    from rich.table import Table

    from pecopt.state import StateStore
    from pecopt.workflows.flags import grouped

    with StateStore(state, write=False) as store:
        runs = store.runs(limit=last)
    t = Table(title=f"pecopt runs: {state}")
    for col in ("run", "day", "from", "finished (UTC)", "status", "exit", "plan", "cost EUR",
                "gap", "flags", "state from"):  # fmt: skip
        t.add_column(col, justify="right" if col in ("run", "exit", "cost EUR", "gap") else "left")
    for r in runs:
        t.add_row(
            str(r.id),
            r.day,
            r.from_local or "",
            r.finished_utc,
            r.status,
            str(r.exit_code),
            r.plan,
            "" if r.cost_eur is None else f"{r.cost_eur:,.2f}",
            "" if r.gap is None else f"{r.gap:.1e}",
            "; ".join(f"{code} x{n}" if n > 1 else code for _, code, n, _ in grouped(r.flags)),
            "" if r.state_from is None else str(r.state_from),
        )
    Console(width=160).print(t)


@runs_app.command("prune")
@edge.guard()
def runs_prune(
    state: StateOpt,
    keep_days: Annotated[
        float, typer.Option("--keep-days", help="Keep the runs of the last N days.")
    ],
) -> None:
    """Delete runs whose window ended over N days before the newest run's; compact."""
    from pecopt.workflows.dispatch import prune_runs

    n, freed = prune_runs(state, keep_days)
    typer.echo(f"{state}: {n} runs deleted, {freed / 1024:,.0f} KiB freed")

"""``pecopt replay``: a period of nights in closed loop, settled against what happened."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pecopt.cli import edge
from pecopt.cli.options import CommitHoursOpt, CvarAlphaOpt, CvarWeightOpt, SetOpt, sets_of
from pecopt.cli.progress import LogFileOpt, QuietOpt, Reporter, VerboseOpt


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


@edge.guard()
def replay(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file (with a dispatch: section).")
    ],
    first: Annotated[str, typer.Option("--from", help="First delivery day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last delivery day, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    forecast: Annotated[
        str,
        typer.Option(
            help="Forecast mode: perfect, persistence, noisy:SIZE (e.g. noisy:0.1), or a "
            "folder of forecast files, one per issue time (YYYY-MM-DDTHHMMZ.parquet)."
        ),
    ] = "perfect",
    seed: Annotated[int, typer.Option(help="Seed of the noisy forecasts.")] = 0,
    reference_time_limit: Annotated[
        float,
        typer.Option(help="Time limit of the perfect-foresight solve of the whole period, s."),
    ] = 3600.0,
    members: Annotated[
        int,
        typer.Option(
            help="Also run a scenario-based controller over N forecasts per night "
            "(0: off): the night's forecast and N-1 drawn around it."
        ),
    ] = 0,
    member_noise: Annotated[
        float | None,
        typer.Option(help="Error size of the drawn members (default: the noisy:SIZE forecast's)."),
    ] = None,
    commit_hours: CommitHoursOpt = None,
    cvar_alpha: CvarAlphaOpt = None,
    cvar_weight: CvarWeightOpt = 0.0,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Stop (exit 2) at an implausible issued forecast instead of planning on it.",
        ),
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    sets: SetOpt = None,
) -> None:
    """Plan every night from --from to --to on forecasts, settle each day against the
    scenario's data, and compare with a rule-based controller and perfect foresight.
    Exit 10: a night was degraded (an implausible issued forecast too) or the
    perfect-foresight reference failed (the nights' results are written all the same).

    Example: pecopt replay scenarios/kera_replay.yaml --from 2025-01-13 --to 2025-01-19
    --forecast noisy:0.1 --out runs/replay
    """
    from pecopt.workflows.replay import Members
    from pecopt.workflows.replay import replay as run_replay

    ensemble = Members.of(
        members, noise=member_noise, forecast=forecast, seed=seed, commit_hours=commit_hours,
        cvar_alpha=cvar_alpha, cvar_weight=cvar_weight,
    )  # fmt: skip
    with Reporter("replay", quiet=quiet, verbose=verbose, log_file=log_file) as progress:
        run = run_replay(
            scenario, out, first=_date(first, "--from"), last=_date(last, "--to"),
            forecast=forecast, seed=seed, reference_time_limit_s=reference_time_limit,
            progress=progress, sets=sets_of(sets), strict=strict,
            ensemble=ensemble,
        )  # fmt: skip
    k = run.kpis
    if not quiet and k.get("reference_failed"):
        typer.echo(
            f"{out}: {k['days']} days, forecast {forecast}; net cost realised "
            f"{k['realised']['net_cost_eur']:,.0f} EUR, rule-based "
            f"{k['rule_based']['net_cost_eur']:,.0f}; the perfect-foresight reference "
            f"failed: {k['perfect_foresight']['error']}"
        )
    elif not quiet:
        typer.echo(
            f"{out}: {k['days']} days, forecast {forecast}; net cost realised "
            f"{k['realised']['net_cost_eur']:,.0f} EUR, rule-based "
            f"{k['rule_based']['net_cost_eur']:,.0f}, perfect foresight "
            f"{k['perfect_foresight']['net_cost_eur']:,.0f}; value of optimisation "
            f"{k['value_of_optimisation_eur']:,.0f} EUR, cost of forecast errors "
            f"{k['cost_of_forecast_errors_eur']:,.0f} EUR"
        )
    doubts = k.get("forecast", {}).get("doubts", [])
    if not quiet and doubts:
        more = f" (and {len(doubts) - 1} more)" if len(doubts) > 1 else ""
        typer.echo(f"  degraded: implausible forecast: {doubts[0]}{more}")
    sb = k.get("scenario_based")
    if not quiet and sb is not None:
        vss = sb["vss_eur"]
        typer.echo(
            f"scenario-based ({sb['members']} members): net cost "
            f"{k['stochastic']['net_cost_eur']:,.0f} EUR ("
            f"{sb['stochastic_minus_deterministic_net_eur']:+,.0f} against deterministic), "
            f"VSS {'n/a' if vss is None else f'{vss:,.0f}'} EUR"
        )
    if k["nights_degraded"] or k.get("reference_failed"):
        raise typer.Exit(10)

"""Options shared by the commands (Typer annotations; nothing heavy is imported)."""

from __future__ import annotations

from typing import Annotated

import typer

#: ``--set PATH=VALUE`` (repeatable) on every command that reads a scenario
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Change one scenario value, e.g. --set horizon.end=2025-01-08 or --set "
        "assets.batteries.shared_battery.capacity_kwh=500 (list items by name, or by "
        "index as \\[0]); repeatable; recorded in the outputs.",
        show_default=False,
    ),
]


def sets_of(values: list[str] | None) -> tuple[str, ...]:
    """The ``--set`` options as given (none: an empty tuple)."""
    return tuple(values or ())


#: the scenario-based options ``dispatch`` and ``replay`` share
#: (:class:`pecopt.workflows.stochastic.Members`)
CommitHoursOpt = Annotated[
    float | None,
    typer.Option(
        help="Hours of shared set-points (stores, EV charging); default: the whole delivery day."
    ),
]
CvarAlphaOpt = Annotated[
    float | None, typer.Option(help="CVaR level of the scenario-based objective, e.g. 0.9.")
]
CvarWeightOpt = Annotated[
    float, typer.Option(help="Weight of the CVaR term (0: the expected cost alone).")
]

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

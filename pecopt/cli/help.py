"""How ``pecopt --help`` reads: the command classes of the Typer app.

* arguments in the usage line as click writes them: ``SCENARIO`` when required,
  ``[SCENARIO]`` when optional (Typer writes ``{scenario}`` and ``[scenario]``), and in
  capitals in the Arguments panel too;
* flags (``--quiet/-q``, ``--json``, ``--help``) without a ``<bool>`` type after them:
  they take no value.

``-h`` is the app's ``context_settings`` (:mod:`pecopt.cli.main`). Nothing here runs at
import time: the classes act when a command is built or its help is written.
"""

from __future__ import annotations

from typing import Any

from typer import _click
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = ["Command", "Group"]


def _tidy(param: Any) -> None:
    """Capital argument names; no type shown for a flag."""
    if isinstance(param, TyperArgument) and param.metavar is None and param.name:
        param.metavar = param.name.upper()
    elif isinstance(param, TyperOption) and (param.is_flag or param.count):
        param.metavar = ""


def _usage(param: TyperArgument) -> str:
    name = param.display_name_raw
    if not param.required:
        name = f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


class _Tidy:
    """Shared by :class:`Command` and :class:`Group`: parameters and the help option
    shown without Typer's ``<bool>`` and ``{name}`` (:func:`_tidy`)."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for p in self.params:
            _tidy(p)

    def get_help_option(self, ctx: _click.Context) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        _tidy(option)
        return option


class Command(_Tidy, TyperCommand):
    """A pecopt command (see the module docstring)."""

    def collect_usage_pieces(self, ctx: _click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for p in self.get_params(ctx):
            if isinstance(p, TyperArgument):
                pieces.append(_usage(p))
            else:
                pieces += p.get_usage_pieces(ctx)
        return pieces


class Group(_Tidy, TyperGroup):
    """The pecopt command group (see the module docstring)."""

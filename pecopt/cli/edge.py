"""Where errors meet the user: every command body runs through :func:`run`.

* a :class:`~pecopt.errors.PecoptError`: one line ``error: <file>:<line>:<col>: <field>:
  <problem>`` and its exit code (2 bad input, 3 infeasible, 4 solver failure);
* ``KeyboardInterrupt`` (Ctrl-C): ``interrupted: stopped by the user``, exit 130;
* anything else (a bug): ``internal error: <type>: <message>; the traceback is in <log
  file>``, exit 1.

A closed standard output (``pecopt solve ... | head -3``) is not an error:
:func:`guard_streams` makes a write to a closed pipe go nowhere, so the command finishes
its work and leaves with its own exit code.

No traceback reaches the terminal unless ``pecopt --debug`` is given, which prints it
instead of writing the log file. Output folders are written atomically
(:func:`pecopt.workflows.outputs.atomic_dir`), so none of these leaves a half-written one.

The log file is ``pecopt-<UTC time>-<pid>.log`` in ``$XDG_STATE_HOME/pecopt/logs`` (by
default ``~/.local/state/pecopt/logs``), or, when that cannot be created, in
``pecopt-logs`` under the system's temporary folder (:func:`tempfile.gettempdir`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pecopt import __version__
from pecopt.errors import OptionError, PecoptError, ScenarioError

__all__ = ["PipeGuard", "guard", "guard_streams", "log_dir", "run", "set_debug", "warn"]

T = TypeVar("T")
P = ParamSpec("P")

#: The ``file`` of a scenario error in a value given on the command line
#: (:data:`pecopt.scenario.loader.OVERRIDES`; repeated here to keep the CLI import light).
_OVERRIDES = "<overrides>"


class PipeGuard:
    """A text stream whose writes to a closed pipe go nowhere.

    ``pecopt solve ... | head -3``: ``head`` exits after three lines, and the next write
    to standard output fails with ``EPIPE`` (Python ignores ``SIGPIPE`` and raises
    :class:`BrokenPipeError`; rich turns it into exit 1, click into an internal error).
    The work is done by then, or still going on; neither may depend on whether someone
    still reads. On the first ``EPIPE`` the stream's file descriptor is pointed at
    ``os.devnull`` with :func:`os.dup2` (Python's recipe, see the note on ``SIGPIPE`` in
    the :mod:`signal` docs), so this and every later write and flush, the interpreter's
    last one included, succeed without output. Everything else is the wrapped stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._on_error(exc)
            return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._on_error(exc)

    def _on_error(self, exc: OSError) -> None:
        if exc.errno != errno.EPIPE:
            raise exc
        self.closed_pipe = True
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):  # no descriptor (an in-memory stream): nothing to do
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
        with contextlib.suppress(OSError):  # what was buffered now goes to /dev/null
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in :class:`PipeGuard` (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, PipeGuard):
            setattr(sys, name, PipeGuard(stream))


def log_dir() -> Path:
    """The folder for internal-error logs (see the module docstring)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "pecopt" / "logs"


def _write_log(exc: BaseException) -> Path | None:
    """Write the traceback to a new log file; None when no folder is writable."""
    now = datetime.now(UTC)
    name = f"pecopt-{now:%Y%m%dT%H%M%SZ}-{os.getpid()}.log"
    text = (
        f"pecopt {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"time: {now.isoformat()}\n"
        f"command: {' '.join(sys.argv)}\n\n" + "".join(traceback.format_exception(exc))
    )
    for folder in (log_dir(), Path(tempfile.gettempdir()) / "pecopt-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


#: ``pecopt --debug``, set by the command group's callback for this invocation
_DEBUG: ContextVar[bool] = ContextVar("pecopt_debug", default=False)


def set_debug(on: bool) -> None:
    """Show tracebacks in the terminal (``pecopt --debug``) for this invocation."""
    _DEBUG.set(on)


def _say(console: Console, label: str, text: str) -> None:
    """Print ``label: text`` on one line (the label in bold red on a terminal)."""
    console.print(f"[bold red]{label}:[/] {escape(text)}", highlight=False, soft_wrap=True)


def warn(text: str) -> None:
    """Print ``warning: text`` on one line to stderr (the label in bold yellow)."""
    Console(stderr=True).print(
        f"[bold yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True
    )


def run(body: Callable[[], T], *, options: Mapping[str, str] | None = None) -> T:
    """Run a command body and map what it raises to one line and an exit code.

    Parameters
    ----------
    body : callable
        The command's work, without arguments.
    options : mapping of str to str, optional
        Scenario field -> the command-line option that set it (``{"solver.time_limit_s":
        "--time-limit"}``), so that a bad option value is reported as the option.

    Raises
    ------
    typer.Exit
        With the exit code, after the message has been printed.
    """
    err = Console(stderr=True)
    debug = _DEBUG.get()
    try:
        return body()
    except (typer.Exit, typer.Abort, typer.TyperException):  # Typer's own exits and usage
        raise
    except PecoptError as exc:
        if (
            isinstance(exc, ScenarioError)
            and exc.file == _OVERRIDES
            and exc.field in (options or {})
        ):
            exc = OptionError((options or {})[exc.field], exc.problem)
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        _say(err, "error", str(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        _say(err, "interrupted", "stopped by the user")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        what = f"{type(exc).__name__}: " + (str(exc).strip().splitlines() or [""])[0]
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
            _say(err, "internal error", what)
        else:
            log = _write_log(exc)
            where = f"the traceback is in {log}" if log else "no folder was writable for the log"
            _say(err, "internal error", f"{what}; {where} (pecopt --debug shows it here)")
        raise typer.Exit(1) from None


def guard(
    options: Mapping[str, str] | None = None,
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a Typer command so that its body runs through :func:`run`.

    The wrapper keeps the command's signature (Typer reads the options from it).
    """

    def decorate(command: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return run(lambda: command(*args, **kwargs), options=options)

        return wrapper

    return decorate

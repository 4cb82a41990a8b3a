"""What a long command shows while it runs (rich), on standard error: its phase, the time,
and during a MILP solve HiGHS' incumbent, bound and gap.

* **On a terminal**: one live line, redrawn four times a second and gone at the end::

      ⠹ solve 12.4 s · 47.9 s in all · incumbent 34,423.10, bound 34,325.00, gap 0.285 %

  A counted phase (``night 2025-01-15 (3/7 done)``) adds an ETA from the pace so far.
* **Elsewhere** (a pipe, a file, cron, nohup, CI): plain lines, never an ANSI code, each
  starting with its UTC time: one when a phase starts (saying how long the one before
  took), one at the end, and a heartbeat whenever no such line has been written for
  :data:`EVERY_S` seconds (``PECOPT_PROGRESS_EVERY_S`` changes it)::

      2026-12-08T00:41:02Z solve: build [3.1 s in all; ingest took 2.9 s]
      2026-12-08T00:41:32Z solve: solve running 27.1 s [30.2 s in all]; incumbent ...
      2026-12-08T00:41:40Z solve: done [38.0 s in all; write took 0.4 s]

  The lines of the first interval are held back and written when it is over (with their
  own times), so that a command that ends or fails within it shows only its result or
  its one error line (unless ``--verbose``).

* ``--verbose``: HiGHS' log too (on a terminal above the live line, elsewhere as
  ``<time> highs: <line>``);
* ``--log-file PATH``: the plain lines and HiGHS' log, whatever else is shown, and, when
  the command fails, its error as the last line. PATH is
  written only if it does not exist or is a log pecopt wrote (its first line starts with
  :data:`LOG_HEADER`); anything else there is refused before the work starts (exit 2), so
  a user's file is never lost;
* ``--quiet``: nothing on the terminal (a log file is still written).

HiGHS' figures come through :mod:`pecopt.progress` (a listener installed for the
command), the phases through the workflows' ``progress`` callback: the reporter is that
callback. Solves in worker processes (``compare``, ``sweep``, ``alternatives`` on Dask)
send theirs here, each headed by its name (a variant's name or id, ``max <target>``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group, RenderableType
from rich.text import Text

from pecopt import __version__
from pecopt.errors import OptionError
from pecopt.progress import listening, parse_counted

if TYPE_CHECKING:  # pragma: no cover - imported when a live line starts
    from rich.live import Live

__all__ = ["EVERY_S", "LOG_HEADER", "LogFileOpt", "Reporter", "VerboseOpt"]

#: seconds without a line after which a heartbeat line is written (not on a terminal)
EVERY_S = 30.0
#: the environment variable that changes :data:`EVERY_S` (seconds, > 0)
EVERY_ENV = "PECOPT_PROGRESS_EVERY_S"
#: the first line of every log file pecopt writes starts with this
LOG_HEADER = "# pecopt log"

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show HiGHS' log (on standard error).")
]
LogFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        metavar="PATH",
        help="Write the progress lines and HiGHS' log to PATH (a new file, or one pecopt "
        "wrote before).",
        show_default=False,
    ),
]


def every_s() -> float:
    """The heartbeat interval: ``PECOPT_PROGRESS_EVERY_S`` if set (seconds > 0), else
    :data:`EVERY_S`."""
    text = os.environ.get(EVERY_ENV)
    if not text:
        return EVERY_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise OptionError(EVERY_ENV, f"{text!r} is not a number of seconds > 0")
    return value


def duration(seconds: float) -> str:
    """``12.3 s`` under a minute, then ``4:05`` (min:s) and ``1:04:05`` (h:min:s)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = int(seconds)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _number(v: float) -> str:
    if not math.isfinite(v):
        return "none"
    return f"{v:,.2f}" if abs(v) < 1e12 else f"{v:.4g}"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_log(path: Path, command: str) -> IO[str]:
    """Open ``path`` for a new log (see the module docstring for what may be replaced) and
    write its header line.

    Raises
    ------
    OptionError
        ``--log-file``: the path is a folder, its folder does not exist, or a file there
        is not a pecopt log.
    """
    if path.is_dir():
        raise OptionError("--log-file", f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise OptionError("--log-file", f"the folder {path.parent} does not exist")
    if path.exists():
        try:
            with path.open(encoding="utf-8", errors="replace") as f:
                first = f.readline()
        except OSError as exc:
            raise OptionError("--log-file", f"{path} cannot be read: {exc.strerror}") from None
        if not first.startswith(LOG_HEADER):
            raise OptionError(
                "--log-file",
                f"{path} exists and is not a pecopt log; pecopt does not write over it "
                "(give a new file name)",
            )
    try:
        f = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise OptionError("--log-file", f"{path} cannot be written: {exc.strerror}") from None
    f.write(f"{LOG_HEADER}: pecopt {__version__} {command}, started {_stamp()}\n")
    f.flush()
    return f


class _Sink:
    """A plain, timestamped output (standard error off a terminal, or the log file).

    ``hold``: keep the lines until :meth:`release` (standard error: a command that ends
    within its first interval shows only its result or its one error line)."""

    def __init__(self, console: Console, *, hold: bool = False) -> None:
        self.console = console
        self.held: list[str] | None = [] if hold else None
        self.last = time.monotonic()  # when the last timestamped progress line was written

    def line(self, text: str, *, progress: bool = True) -> None:
        stamped = f"{_stamp()} {text}"
        if self.held is not None:
            self.held.append(stamped)
        else:
            self._print(stamped)
        if progress:
            self.last = time.monotonic()

    def release(self) -> None:
        """Write the lines held so far, and every line from now on."""
        held, self.held = self.held, None
        for stamped in held or ():
            self._print(stamped)

    def _print(self, stamped: str) -> None:
        self.console.print(stamped, markup=False, highlight=False, emoji=False)
        self.console.file.flush()


class Reporter:
    """The progress of one command (see the module docstring); use it in a ``with`` block
    and pass it as the workflow's ``progress`` callback.

    Parameters
    ----------
    command : str
        The command's name, at the start of every plain line.
    quiet : bool
        Nothing on standard error.
    verbose : bool
        HiGHS' log on standard error.
    log_file : Path, optional
        A log file (checked and created when the ``with`` block starts).
    console : rich.console.Console, optional
        Standard error's console (tests); default ``Console(stderr=True)``.
    """

    def __init__(
        self,
        command: str,
        *,
        quiet: bool = False,
        verbose: bool = False,
        log_file: Path | None = None,
        console: Console | None = None,
    ) -> None:
        self.command = command
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.log_path = log_file
        self.wants_log = self.verbose or log_file is not None
        self.every = every_s()
        self._err = console if console is not None else Console(stderr=True)
        self._lock = threading.RLock()
        self._t0 = self._phase_t0 = time.monotonic()
        self._phase = "starting"
        self._mip: tuple[float, float, float] | None = None
        self._mip_source = ""
        self._count_base: tuple[float, int] | None = None  # (time, done) the ETA counts from
        self._live: Live | None = None
        self._sinks: list[_Sink] = []
        self._log: IO[str] | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._listening = listening(self)

    # -- the with block -------------------------------------------------------------------
    def __enter__(self) -> Reporter:
        if self.log_path is not None:
            self._log = open_log(self.log_path, self.command)
            self._sinks.append(_Sink(Console(file=self._log, color_system=None, soft_wrap=True)))
        if not self.quiet:
            if self._err.is_terminal:
                from rich.live import Live

                self._live = Live(
                    _Render(self), console=self._err, refresh_per_second=4, transient=True
                )
                self._live.start()
            else:
                plain = Console(file=self._err.file, color_system=None, soft_wrap=True)
                self._sinks.append(_Sink(plain, hold=not self.verbose))
        self._t0 = self._phase_t0 = time.monotonic()
        for sink in self._sinks:
            sink.line(f"{self.command}: started")
        if self._sinks:
            self._beat = threading.Thread(target=self._heartbeat, name="pecopt-progress")
            self._beat.daemon = True
            self._beat.start()
        self._listening.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._listening.__exit__(kind, exc, tb)
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if self._live is not None:
            self._live.stop()
        with self._lock:
            now = time.monotonic()
            end = "done" if kind is None else "stopped"
            text = f"{self.command}: {end} [{self._times(now)}; {self._phase} took "
            text += f"{duration(now - self._phase_t0)}]"
            for sink in self._sinks:
                sink.line(text)  # nothing comes of what a sink still holds: a short run
            if exc is not None and self._log is not None:  # why, in the file (standard
                # error gets the command's own one-line error message)
                why = (str(exc).strip().splitlines() or [""])[0]
                self._sinks[0].line(f"{self.command}: {type(exc).__name__}: {why}")
        if self._log is not None:
            self._log.close()

    # -- what the workflow and the solver say ---------------------------------------------
    def __call__(self, phase: str) -> None:
        """A new phase starts (the workflows' ``progress`` callback)."""
        with self._lock:
            now = time.monotonic()
            before, before_t0 = self._phase, self._phase_t0
            self._phase, self._phase_t0, self._mip = phase, now, None
            got = parse_counted(phase)
            if got is None:
                self._count_base = None
            elif self._count_base is None:  # the first of a count: the pace from here
                self._count_base = (now, got[1])
            text = f"{self.command}: {phase} [{self._times(now)}"
            if before_t0 > self._t0 and not (got and parse_counted(before)):
                text += f"; {before} took {duration(now - before_t0)}"  # not the start,
                # nor a count's step before the next: "took" is the time between two
            eta = self._eta(now)
            text += f"; ETA {duration(eta)}]" if eta is not None else "]"
            for sink in self._sinks:
                sink.line(text)

    def message(self, text: str) -> None:
        """A line of its own (a warning while the work goes on, such as a sweep's failed
        variant): never held back, so a short run shows it too (the lines held before it
        are written first, in order)."""
        with self._lock:
            if self._live is not None:
                self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
            for sink in self._sinks:
                if sink.held is not None:
                    sink.release()
                sink.line(f"{self.command}: {text}")

    def mip(self, incumbent: float, bound: float, gap: float, source: str = "") -> None:
        """HiGHS' figures (:class:`pecopt.progress.Listener`; in HiGHS' thread)."""
        with self._lock:
            self._mip = (incumbent, bound, gap)
            self._mip_source = source

    def highs_log(self, text: str, source: str = "") -> None:
        """A message of HiGHS' log, one line or more (:class:`pecopt.progress.Listener`;
        in HiGHS' thread), each line headed ``source:`` if given. Blank lines are
        dropped."""
        for line in text.splitlines():
            if not line.strip():
                continue
            if source:
                line = f"{source}: {line}"
            with self._lock:  # a sink's held lines are released under the lock
                if self._log is not None:
                    self._sinks[0].line(f"highs: {line}", progress=False)
                if not self.verbose:
                    continue
                if self._live is not None:
                    self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)
                else:
                    self._sinks[-1].line(f"highs: {line}", progress=False)

    # -- shown ----------------------------------------------------------------------------
    def _times(self, now: float) -> str:
        return f"{duration(now - self._t0)} in all"

    def _eta(self, now: float) -> float | None:
        got = parse_counted(self._phase)
        if got is None or self._count_base is None:
            return None
        _, done, total = got
        t_base, d_base = self._count_base
        if done <= d_base or done >= total:
            return None
        return (now - t_base) / (done - d_base) * (total - done)

    def solver_text(self) -> str:
        """``incumbent X, bound Y, gap Z %`` of the running MILP, or empty."""
        with self._lock:
            if self._mip is None:
                return ""
            inc, bound, gap = self._mip
            source = f"{self._mip_source}: " if self._mip_source else ""
        shown = f"{100 * gap:.3g} %" if math.isfinite(gap) else "none"  # 0.285 %, 0.0035 %
        return f"{source}incumbent {_number(inc)}, bound {_number(bound)}, gap {shown}"

    def status(self) -> str:
        """The live line's text: phase, its time, the total, solver figures, ETA."""
        with self._lock:
            now = time.monotonic()
            parts = [f"{self._phase} {duration(now - self._phase_t0)}", self._times(now)]
            eta = self._eta(now)
        if eta is not None:
            parts.append(f"ETA {duration(eta)}")
        solver = self.solver_text()
        if solver:
            parts.append(solver)
        return " · ".join(parts)

    def _heartbeat(self) -> None:
        """Write a line to each plain sink that has had none for ``every`` seconds."""
        while True:
            now = time.monotonic()
            wait = min(
                self.every - (now - (self._t0 if s.held is not None else s.last))
                for s in self._sinks
            )  # a sink that holds its lines: until the end of the first interval
            if self._stop.wait(max(0.05, wait)):
                return
            with self._lock:
                now = time.monotonic()
                for sink in self._sinks:
                    if sink.held is not None and now - self._t0 >= self.every - 0.01:
                        sink.release()  # the first interval is over: the lines held so far
                since = duration(now - self._phase_t0)
                if parse_counted(self._phase) is None:
                    text = f"{self.command}: {self._phase} running {since} [{self._times(now)}"
                else:
                    text = f"{self.command}: {self._phase}, {since} ago [{self._times(now)}"
                eta = self._eta(now)
                text += f"; ETA {duration(eta)}]" if eta is not None else "]"
                solver = self.solver_text()
                if solver:
                    text += f"; {solver}"
                for sink in self._sinks:
                    if now - sink.last >= self.every - 0.01:
                        sink.line(text)


class _Render:
    """The live line, rendered afresh at each refresh."""

    def __init__(self, reporter: Reporter) -> None:
        from rich.spinner import Spinner

        self.reporter = reporter
        self.spinner = Spinner("dots")

    def __rich__(self) -> RenderableType:
        self.spinner.update(text=Text(self.reporter.status(), overflow="ellipsis", no_wrap=True))
        return Group(self.spinner)

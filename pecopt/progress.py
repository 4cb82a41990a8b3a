"""Progress of long work: what the workflows and the solver say while they run, and the one
listener that hears it.

Two channels, neither of which prints anything itself:

* **phases** - a workflow takes a ``progress`` callable (:data:`Progress`) and calls it with
  the name of each phase as it starts (``"ingest"``, ``"build"``, ``"solve"``); a phase
  that is one of several counted ones says so with :func:`counted` (``"night 2025-01-15
  (3/7 done)"``), from which a reporter reads the count and an ETA (:func:`parse_counted`);
* **the solver** - while a :class:`Listener` is installed (:func:`listening`, by the CLI
  for one command), every HiGHS instance the solver creates is wired to it by
  :func:`observe`: the incumbent, bound and gap of the whole-model MILP at each improving
  plan and each MIP log line (HiGHS' ``cbMipImprovingSolution`` and ``cbMipLogging``
  callbacks), and, when the listener asks for it, every line of HiGHS' log
  (``cbLogging``).

HiGHS calls back from its own thread; a listener must be thread-safe. Solves in worker
processes reach the listener of the process that started them through a queue:
:func:`forward_to` (the pool's initializer) and :func:`forwarding` (around a job) in the
worker, :func:`relaying` in the parent (``compare``); :func:`dask_sending` in a Dask
task and :func:`dask_receiving` on the client (``sweep``, ``alternatives`` on Dask).

The standard library only: the CLI imports this module without the scientific stack.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

__all__ = [
    "DASK_TOPIC",
    "Forward",
    "Listener",
    "Progress",
    "counted",
    "dask_receiving",
    "dask_sending",
    "forward_to",
    "forwarding",
    "hand",
    "listener",
    "listening",
    "noop",
    "observe",
    "parse_counted",
    "relaying",
]

#: The workflows' progress callback: called with each phase's name as it starts.
Progress = Callable[[str], None]


def noop(_: str) -> None:
    """A :data:`Progress` that ignores everything (a workflow called from Python)."""


_COUNTED = re.compile(r"^(?P<text>.*) \((?P<done>\d+)/(?P<total>\d+) done\)$", re.DOTALL)


def counted(text: str, done: int, total: int) -> str:
    """The phase ``text`` as one of ``total`` counted ones of which ``done`` are done:
    ``"text (done/total done)"`` (the one format :func:`parse_counted` reads)."""
    return f"{text} ({done}/{total} done)"


def parse_counted(phase: str) -> tuple[str, int, int] | None:
    """``(text, done, total)`` of a phase written by :func:`counted`; None for any other."""
    m = _COUNTED.match(phase)
    if m is None:
        return None
    return m["text"], int(m["done"]), int(m["total"])


class Listener(Protocol):
    """What hears the solver (implemented by the CLI's reporter)."""

    #: whether HiGHS' log lines are wanted (``--verbose``, ``--log-file``): HiGHS logs
    #: (to the callback only, never to its console) only then
    wants_log: bool

    def mip(self, incumbent: float, bound: float, gap: float, source: str = "") -> None:
        """The whole-model MILP's best plan's objective, its best bound (both in the
        objective's units, EUR for a cost objective) and the relative gap
        ``|incumbent - bound| / |incumbent|`` (inf before the first plan); ``source``
        names the job in a worker process it comes from (:func:`forwarding`)."""

    def highs_log(self, text: str, source: str = "") -> None:
        """A message of HiGHS' log: one line or more, without the last newline."""


_LOCK = threading.Lock()
_LISTENER: list[Listener] = []


def listener() -> Listener | None:
    """The installed listener, or None (nothing listens: HiGHS stays silent)."""
    with _LOCK:
        return _LISTENER[-1] if _LISTENER else None


@contextlib.contextmanager
def listening(who: Listener) -> Iterator[Listener]:
    """Install ``who`` for the solves made inside the ``with`` block (in any thread of this
    process); the one before it is back afterwards."""
    with _LOCK:
        _LISTENER.append(who)
    try:
        yield who
    finally:
        with _LOCK:
            _LISTENER.remove(who)


def observe(h: Any, *, whole_model: bool = True) -> None:
    """Make the HiGHS instance ``h`` silent on its console and tell the listener, if any.

    Without a listener: ``output_flag`` off (HiGHS prints nothing and logs nothing). With
    one: ``output_flag`` on and ``log_to_console`` off, so HiGHS logs only to its
    callbacks; the listener's :meth:`Listener.mip` gets the incumbent, bound and gap at
    each improving plan and each MIP log line when ``whole_model`` (a sub-MIP of a
    heuristic, ``whole_model=False``, would show its own window's figures), and
    :meth:`Listener.highs_log` each log line when it wants them. Call once per instance,
    before its first run, after any other option that sets ``output_flag``.
    """
    who = listener()
    if who is None:
        h.setOptionValue("output_flag", False)
        return
    h.setOptionValue("output_flag", True)
    h.setOptionValue("log_to_console", False)
    if who.wants_log:
        h.cbLogging.subscribe(lambda e: who.highs_log(str(e.message).rstrip("\n")))
    if whole_model:

        def mip(e: Any) -> None:
            d = e.data_out
            who.mip(float(d.mip_primal_bound), float(d.mip_dual_bound), float(d.mip_gap))

        h.cbMipImprovingSolution.subscribe(mip)
        h.cbMipLogging.subscribe(mip)


Message = tuple[str, str, Any]
"""What a worker sends its parent: ``("mip", source, (incumbent, bound, gap))`` or
``("log", source, text)`` (:func:`hand`)."""


class Forward:
    """A listener in a worker process that sends what it hears to the parent with
    ``send`` (a queue's ``put``, a Dask event), tagged with the job's name ``source``."""

    def __init__(self, send: Callable[[Message], None], source: str, wants_log: bool) -> None:
        self.send, self.source, self.wants_log = send, source, wants_log

    def mip(self, incumbent: float, bound: float, gap: float, source: str = "") -> None:
        self.send(("mip", source or self.source, (incumbent, bound, gap)))

    def highs_log(self, text: str, source: str = "") -> None:
        self.send(("log", source or self.source, text))


def hand(item: Message, who: Listener) -> None:
    """In the parent: give ``who`` one message of a worker's :class:`Forward`."""
    kind, source, body = item
    if kind == "mip":
        incumbent, bound, gap = body
        who.mip(incumbent, bound, gap, source=source)
    else:
        who.highs_log(body, source=source)


#: this worker process's queue to its parent and whether the log is wanted (forward_to)
_FORWARD: list[tuple[Any, bool]] = []


def forward_to(to: Any, wants_log: bool) -> None:
    """In a worker process (a pool's initializer): send the solver's figures, and its log
    if ``wants_log``, to the queue ``to`` during each :func:`forwarding` block (``to``
    None: nothing is sent)."""
    _FORWARD[:] = [] if to is None else [(to, wants_log)]


@contextlib.contextmanager
def forwarding(source: str) -> Iterator[None]:
    """In a worker process: forward what the solves of the ``with`` block say, named
    ``source`` (nothing happens unless :func:`forward_to` was called)."""
    if not _FORWARD:
        yield
        return
    to, wants_log = _FORWARD[0]
    with listening(Forward(to.put, source, wants_log)):
        yield


#: the Dask event topic on which tasks send their solver figures and log to the client
DASK_TOPIC = "pecopt-progress"


@contextlib.contextmanager
def dask_sending(source: str, wants_log: bool | None) -> Iterator[None]:
    """In a Dask task: send what the solves of the ``with`` block say, named ``source``, to
    the client as events on :data:`DASK_TOPIC` (``wants_log`` None, or not on a Dask
    worker: nothing is sent)."""
    worker = None
    if wants_log is not None:
        try:
            from distributed import get_worker

            worker = get_worker()
        except (ImportError, ValueError):  # not on a Dask worker
            worker = None
    if worker is None or wants_log is None:
        yield
        return

    def send(message: Message) -> None:
        worker.log_event(DASK_TOPIC, message)  # thread-safe: from HiGHS' thread too

    with listening(Forward(send, source, wants_log)):
        yield


@contextlib.contextmanager
def dask_receiving(client: Any) -> Iterator[bool | None]:
    """On the client: hand the tasks' :func:`dask_sending` events to the listener, if any,
    until the ``with`` block ends. Yields what to pass the tasks as ``wants_log`` (None:
    nothing listens, send nothing)."""
    who = listener()
    if who is None:
        yield None
        return
    client.subscribe_topic(DASK_TOPIC, lambda event: hand(event[1], who))
    try:
        yield who.wants_log
    finally:
        client.unsubscribe_topic(DASK_TOPIC)


@contextlib.contextmanager
def relaying(from_: Any, who: Listener) -> Iterator[None]:
    """In the parent: hand what the workers put on the queue ``from_`` to ``who``, from a
    thread of its own, until the ``with`` block ends (what is queued by then included)."""
    import queue as queues

    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                hand(from_.get(timeout=0.1), who)
            except queues.Empty:
                continue
            except (EOFError, OSError):  # the queue is gone
                return

    thread = threading.Thread(target=run, name="pecopt-progress-relay", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with contextlib.suppress(queues.Empty, EOFError, OSError):
            while True:
                hand(from_.get_nowait(), who)

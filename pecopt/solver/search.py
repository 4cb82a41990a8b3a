"""The MIP search: HiGHS and the LP-guided start with its windows, side by side.

**Alongside HiGHS.** :func:`search` runs HiGHS' branch and bound on the whole model in a
background thread (``Highs.run`` releases the GIL) from the start; this thread meanwhile
builds the LP-guided start and improves it, and every better plan is handed to HiGHS
through its user-solution callback (``kCallbackMipUserSolution``, called after each round
of root cuts and during the search). HiGHS' cuts raise the bound, the windows lower the
plan: the gap closes from both sides. HiGHS gets one core less than there are (the
windows have the other) and a :class:`Watchdog` that stops it before a root step it
could not stop in time; the windows go on until the deadline or a proven gap.

On the year-long reference MILP (26,280 binaries) the start is 0.29 % above the LP
relaxation; the windows bring it to about 0.13 % of it, and with HiGHS' root cuts the
proven gap is 0.1 % after about 50 s (``bench/README.md``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import highspy
import numpy as np

from pecopt.model.linear import FloatArray
from pecopt.solver.compile import HighsArrays
from pecopt.solver.heuristics import fix_and_optimise, objective

#: seconds before the deadline at which the windows stop (HiGHS still has to return)
RESERVE_S = 1.0
#: share of the time left that HiGHS' own limit keeps back for its overshoot
HIGHS_MARGIN = 0.03


class StartLike(Protocol):
    """What a start heuristic returns (:class:`pecopt.solver.highs.StartHeuristic`)."""

    @property
    def start(self) -> list[float] | None: ...
    @property
    def relaxation_objective(self) -> float: ...
    @property
    def relaxed(self) -> FloatArray | None: ...


@dataclass
class Guided:
    """What :func:`search` found beside HiGHS: the best plan of the heuristics (HiGHS was
    handed every improvement, but may have ended before it could take the last one)."""

    x: FloatArray | None = None
    objective: float = float("inf")
    relaxation_objective: float = float("nan")
    start_seconds: float = 0.0
    returned: bool = True
    """Whether HiGHS returned by the deadline (else ``thread`` still runs: it stops at its
    next limit check; HiGHS cannot be asked for anything meanwhile)."""
    thread: threading.Thread | None = None  # the run given up, to be joined later
    highs_bound: float = float("nan")
    """HiGHS' best bound at its last callback (valid even if it has not returned)."""
    plans: list[tuple[float, str, float]] = field(default_factory=list)
    """(``perf_counter()``, "start" or "window", objective) of each better plan found here."""
    highs: list[tuple[float, float, float]] = field(default_factory=list)
    """(``perf_counter()``, HiGHS' best plan, HiGHS' bound) at each of its callbacks."""

    def progress(self, sense: int) -> list[tuple[float, float, float]]:
        """(``perf_counter()``, best plan, best bound) over time, from both sides: the
        better of the plans found here and HiGHS', and of HiGHS' bound and the LP
        relaxation's."""
        events = sorted(
            [(t, v, None) for t, _, v in self.plans] + [(t, p, d) for t, p, d in self.highs],
            key=lambda e: e[0],
        )
        plan, bound = sense * np.inf, -sense * np.inf
        if np.isfinite(self.relaxation_objective):
            bound = self.relaxation_objective
        out = []
        for t, p, d in events:
            if np.isfinite(p) and sense * (p - plan) < 0:
                plan = p
            if d is not None and np.isfinite(d) and sense * (d - bound) > 0:
                bound = d
            out.append((t, plan, bound))
        return out


def _option(h: highspy.Highs, name: str) -> float:
    """A numeric HiGHS option (highspy returns ``(status, value)`` or the value)."""
    got = h.getOptionValue(name)
    return float(got[1] if isinstance(got, tuple) else got)


def highs_threads(threads: int | None) -> int:
    """Threads for HiGHS' branch and bound beside the windows: one core is left to them.

    With a second worker, HiGHS starts an interior-point analytic-centre computation in
    parallel at the root, which it cannot stop: when its time limit comes first, it waits
    for it (30-60 s on the year-long reference MILP on a busy 2-core machine). With one
    worker the computation only starts after five rounds of root cuts, inline, and is
    dropped when the time limit comes first."""
    cores = threads if threads else (os.cpu_count() or 1)
    return max(1, cores - 1)


@dataclass
class Watchdog:
    """Stops HiGHS (1.16) before a step it could not stop at its time limit.

    In the fifth round of root cuts HiGHS waits for its analytic-centre computation (an
    interior-point solve of the whole LP that nothing interrupts; with one thread it
    only starts there). On the reference MILP it took 1.1 to 1.8 times as long as
    presolve and the root LP had (``root``: from the start to the first callback whose
    bound reaches the LP relaxation's optimum, or the second with a finite bound; each
    round of cuts ends with a callback). When less than ``FACTOR`` times that is left
    before HiGHS' limit, HiGHS is interrupted at its next limit check once it has done
    ``ROUNDS`` rounds (their bounds are worth having and come before the step), or at
    once when less than the root's own time is left. A pause between two callbacks
    longer than the root's time is taken as the step having happened; from then on only
    the time limit stops HiGHS. (Were the step to come after fewer rounds in another
    HiGHS, the watchdog would act too late, as if it were not there.)
    """

    start: float
    limit: float  # perf_counter() at which HiGHS' own time limit ends it
    relaxation: float = float("nan")  # the LP relaxation's optimum, once known
    sense: int = 1
    root: float | None = None  # perf_counter() when the root LP was seen solved
    rounds: int = 0  # callbacks since (and with) the root's: rounds of cuts done
    finite: int = 0  # callbacks seen with a finite bound
    last: float | None = None
    step_done: bool = False

    FACTOR = 2.5
    ROUNDS = 4

    def seen(self, now: float, bound: float) -> None:
        """A user-solution callback at ``now`` with HiGHS' bound ``bound``."""
        if np.isfinite(bound):
            self.finite += 1
        if self.root is None:
            tol = 1e-6 * max(1.0, abs(self.relaxation))
            at_relaxation = np.isfinite(self.relaxation) and (
                self.sense * (bound - self.relaxation) >= -tol
            )
            if at_relaxation or self.finite >= 2:
                self.root = now
        elif self.last is not None and now - self.last > self.root - self.start:
            self.step_done = True
        if self.root is not None:
            self.rounds += 1
        self.last = now

    def risky(self, now: float) -> bool:
        """Whether to stop HiGHS now: the uninterruptible step could outlast its limit."""
        if self.step_done or self.root is None:
            return False
        root, left = self.root - self.start, self.limit - now
        if left >= self.FACTOR * root:
            return False
        return self.rounds >= self.ROUNDS or left < root


def search(
    h: highspy.Highs,
    lp: HighsArrays,
    families: Sequence[tuple[int, int]],
    deadline: float,
    start: Callable[[Callable[[], bool]], StartLike],
    gap: float = 0.0,
    threads: int | None = None,
    run: Callable[[highspy.Highs, float], bool] | None = None,
) -> Guided:
    """Run HiGHS on the whole MIP (``h``, options set) in a background thread, while this
    thread computes ``start(stop)`` (a feasible plan and the LP relaxation; ``stop()``
    says that HiGHS has proved its plan and no other is needed) and improves it by
    :func:`fix_and_optimise` until HiGHS has proved its plan, the best plan is within the
    relative ``gap`` of the best bound, or the deadline. Each better plan is handed to
    HiGHS at its next user-solution callback.

    ``run(h, deadline)`` runs HiGHS and says whether it returned by the deadline
    (:func:`pecopt.solver.highs.run_by`; default: ``h.run()``). Returns when both have
    ended; when HiGHS was given up at the deadline (``returned`` is False; it stops at its
    next limit check) ``h`` must not be touched again, otherwise its result is read from
    ``h`` as usual (the last plans may be better than its own).

    HiGHS' time limit is set here to end ``HIGHS_MARGIN`` of the time left (and
    ``RESERVE_S``) before the deadline (or earlier, if ``h`` already had a shorter one),
    and its threads to :func:`highs_threads` of ``threads`` (the cores pecopt may use;
    None: all of them).
    """
    t0 = time.perf_counter()
    limit = max(0.05, (deadline - t0) * (1 - HIGHS_MARGIN) - RESERVE_S)
    limit = min(limit, _option(h, "time_limit"))  # a shorter limit set by the caller holds
    h.setOptionValue("time_limit", limit)
    h.setOptionValue("threads", highs_threads(threads))
    sense = 1 if lp.sense == 1 else -1
    watch = Watchdog(t0, t0 + limit, sense=sense)
    out = Guided()
    lock = threading.Lock()
    handed = [np.inf]  # sense * objective of the last plan offered to HiGHS
    bound = [-np.inf]  # sense * HiGHS' best bound so far
    stop = threading.Event()
    returned: list[bool] = []  # run's answer, once it has one

    def found(x: FloatArray, value: float, what: str) -> None:
        with lock:
            if out.x is None or sense * (value - out.objective) < 0:
                out.x, out.objective = x, value
                out.plans.append((time.perf_counter(), what, value))

    def better_bound(now: float, plan: float, dual: float) -> None:
        out.highs.append((now, plan, dual))
        with lock:
            if np.isfinite(dual) and sense * dual > bound[0]:
                bound[0], out.highs_bound = sense * dual, dual

    def offer(e: Any) -> None:  # in HiGHS' thread
        primal, dual = e.data_out.mip_primal_bound, e.data_out.mip_dual_bound
        now = time.perf_counter()
        better_bound(now, primal, dual)
        watch.seen(now, dual)
        with lock:
            x, value = out.x, out.objective
            if x is None or sense * value >= handed[0]:
                return
            handed[0] = sense * value
            if sense * (value - primal) >= -1e-9 * abs(value):
                return  # HiGHS has as good a plan already
        e.data_in.user_has_solution = True
        e.data_in.setSolution(x)

    def interrupt(e: Any) -> None:  # in HiGHS' thread
        if stop.is_set() or watch.risky(time.perf_counter()):
            e.interrupt()

    def ended() -> bool:
        """HiGHS has returned (in time): ``h`` may be read."""
        return not thread.is_alive() and returned == [True]

    def proved() -> bool:
        return ended() and h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    final_read: list[bool] = []

    def done() -> bool:
        """Whether the windows can stop: HiGHS proved its plan, or the best plan is within
        ``gap`` of the best bound. HiGHS stopped by its limit (or the watchdog) leaves the
        windows to go on until the deadline, its final bound still proving the gap."""
        if proved():
            return True
        if ended() and not final_read:
            info = h.getInfo()
            better_bound(time.perf_counter(), info.objective_function_value, info.mip_dual_bound)
            final_read.append(True)
        with lock:
            best = max(bound[0], sense * out.relaxation_objective)
            value = sense * out.objective
        return bool(np.isfinite(best) and value - best <= gap * max(abs(value), 1e-9))

    def runner() -> None:
        returned.append(run(h, deadline) if run is not None else (h.run() is not None))

    h.cbMipUserSolution.subscribe(offer)
    h.cbMipInterrupt.subscribe(interrupt)
    thread = threading.Thread(target=runner, name="pecopt-highs-search", daemon=True)
    thread.start()
    try:
        heur = start(proved)
        out.relaxation_objective = watch.relaxation = heur.relaxation_objective
        out.start_seconds = time.perf_counter() - t0
        if heur.start is not None:
            x0 = np.asarray(heur.start, dtype=np.float64)
            found(x0, objective(lp, x0), "start")
            fix_and_optimise(
                lp, x0, heur.relaxed, families, deadline - RESERVE_S, stop=done,
                found=lambda x, v: found(x, v, "window"),
            )  # fmt: skip
    except BaseException:
        stop.set()
        raise
    finally:  # the runner ends by the deadline (run_by gives HiGHS up there)
        thread.join(max(0.0, deadline - time.perf_counter()) + RESERVE_S)
        out.returned = ended()
        if out.returned:
            h.cbMipUserSolution.unsubscribe(offer)
            h.cbMipInterrupt.unsubscribe(interrupt)
        else:
            stop.set()  # interrupted at its next limit check
            out.thread = thread
    return out

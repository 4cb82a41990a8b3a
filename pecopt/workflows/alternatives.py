"""Near-optimal alternatives: the least and the most of each sized asset (and of each
group a designer names) that any design within ``slack`` of the optimal cost builds, then
a few designs as different from each other as the slack allows.

This is modelling to generate alternatives (MGA): Brill, Chang and Hopkins (1982),
"Modeling to generate alternatives: the HSJ approach and an illustration using a problem
in land use planning", Management Science 28(3), 221-235; DeCarolis (2011), "Using
modeling to generate alternatives (MGA) to expand our thinking on energy futures",
Energy Economics 33(2), 145-152; for the spirit of many spread-out designs, Lombardi,
Pickering, Colombo and Pfenninger (2020), "Policy decision support for renewables
deployment through spatially explicit practically optimal alternatives" (SPORES), Joule
4(10), 2185-2207.

On one built model of the scenario (with ``aggregation:``, the model of its typical
periods: the model that sizes; the whole horizon's dispatch is not re-run, and the costs
are that model's estimate of the horizon's), with ``N_i`` the new capacity of sized
capacity ``i`` [its unit] in ``[0, Nmax_i]``:

1. the cost optimum ``C*`` [EUR] (the objective's money: penalties, cost items and any
   carbon price; an ``emissions`` objective is replaced by ``cost``);
2. the bounds ``cost <= C* + slack |C*|`` and ``penalties <= their optimum``
   (:func:`~pecopt.model.transforms.near_optimal`): no design buys unmet energy or a missed
   target with the slack;
3. for each sized capacity and each group (all PV arrays' kWp, all stores' kWh, all heat
   pumps' kW: :func:`~pecopt.model.transforms.capacity_groups`, from the technologies'
   tags), ``min`` and ``max`` of ``sum_{i in G} N_i``: two solves each;
4. ``designs`` designs by Hop-Skip-Jump with integer weights (Brill 1982; the weights of
   DeCarolis 2011): design ``k`` solves

       min  sum_i  w_i N_i / Nmax_i,     w_i = how many of the optimum and designs 1..k-1
                                               build capacity i (N_i > 0.1 % of Nmax_i)

   within the same bounds: each design avoids what earlier ones built, as far as the
   slack allows. (If the optimum builds nothing, design 1 maximises ``sum_i N_i /
   Nmax_i`` instead: the most different design from building nothing.)

**Ranges.** Every solve is a design within the slack, so the least (most) value of a
quantity over all solves is at least the true least (at most the true most), and equal to
it when its min (max) solve is optimal: ``ranges.parquet`` says which ends are proven.
The optimum lies inside each range by construction.

**Warm starts.** After step 1 no row or column changes (only the objective and two
bounds), and the optimum is feasible for every later problem: each min/max solve starts
from the optimum's simplex basis by the primal simplex (HiGHS skips presolve), each
design from the previous design's. A MILP (capacities in modules, binaries) gets the
optimum's plan as its first incumbent and is solved to the scenario's ``mip_rel_gap``,
so its range ends are known within that gap (their ``status`` says whether proven).

**In parallel.** With a Dask client (``--scheduler``, or ``--workers N`` for a local
cluster) the min/max solves are dealt out to the workers in one chunk each: a worker
builds its own model of the same inputs (models do not pickle), sets the same bounds and
starts each solve from the optimum's basis, shipped as status codes
(:func:`pecopt.solver.highs.basis_codes`). The designs follow one another and are solved
on the command's own model. Without a client the solves run one after another on that
model (``bench/alternatives.py`` measures both).

**Within a time limit.** A ``deadline`` bounds the whole command: a time limit (or a
solver failure) after the optimum stops the run there, keeps the rows solved so far and
says why (:attr:`Explored.stopped`); before it, nothing is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pecopt.api import Built, build
from pecopt.errors import OptionError, ScenarioError, SolverError
from pecopt.model.transforms import NearOptimal, Sized, capacity_groups, near_optimal
from pecopt.model.transforms import sized_capacities as _sized
from pecopt.progress import Progress, dask_receiving, dask_sending, noop
from pecopt.results.marginal import unit_of_key
from pecopt.results.summary import capacity_column
from pecopt.solver.highs import BasisCodes, SolveOutcome, Status, basis_codes, basis_of, solve

if TYPE_CHECKING:  # pragma: no cover
    import highspy
    from distributed import Client

    from pecopt.inputs import DistrictInputs

ALTERNATIVES = "alternatives.parquet"
RANGES = "ranges.parquet"
#: the default relative slack on the optimal cost
SLACK = 0.02
#: a capacity counts as built in a design above this share of its room (Hop-Skip-Jump)
BUILT = 1e-3
#: seconds kept back from the time limit for the tables, the manifest and the report
RESERVE_S = 3.0


def check_options(slack: float, designs: int) -> None:
    """``slack`` a share of the optimal cost in [0, 1]; ``designs`` >= 0.

    Raises
    ------
    OptionError
        Either is out of range (exit 2).
    """
    if not 0.0 <= slack <= 1.0:  # also NaN
        raise OptionError(
            "--slack", f"a share of the optimal cost in [0, 1] (0.02 = 2 %), got {slack:g}"
        )
    if designs < 0:
        raise OptionError("--designs", f"a number of designs >= 0, got {designs}")


@dataclass(frozen=True)
class Target:
    """What a min/max pair of solves is about: one sized capacity (``members`` is itself)
    or a group (``group``), named as :attr:`Sized.name` or
    :func:`~pecopt.model.transforms.capacity_groups` name it; ``key`` the capacity key
    (its unit: :func:`~pecopt.results.marginal.unit_of_key`)."""

    name: str
    group: bool
    members: tuple[str, ...]
    key: str

    @property
    def unit(self) -> str:
        return unit_of_key(self.key)

    @property
    def column(self) -> str:
        """Its column in ``alternatives.parquet`` (``size_apt_a1_pv_kwp``,
        ``size_all_stores_energy_kwh``)."""
        asset, what = self.name.rsplit(".", 1)
        return capacity_column(asset, what, "size")


@dataclass(frozen=True)
class Row:
    """One solve: ``kind`` optimum, min, max or design; ``target`` the capacity or group
    minimised or maximised (designs: ``design <k>``); the cost [EUR] and penalties [EUR]
    of its plan; HiGHS' status and seconds (``handoff_s``: compiling the model); how it
    was started (``warm``: ``cold``, ``basis`` or ``incumbent``); ``sizes``: every new
    capacity by :attr:`Sized.name`."""

    kind: str
    target: str | None
    sense: str | None
    cost_eur: float
    penalty_eur: float | None
    status: str
    solve_s: float
    handoff_s: float
    warm: str
    sizes: dict[str, float] = field(default_factory=dict)


def targets_of(built: Built, sized: Sequence[Sized]) -> list[Target]:
    """Every sized capacity, then every group, in model order."""
    out = [Target(s.name, False, (s.name,), s.key) for s in sized]
    for name, members in capacity_groups(built.district, sized).items():
        out.append(Target(name, True, members, name.rsplit(".", 1)[1]))
    return out


class Explorer:
    """Near-optimal solves on one built model (see the module docstring)."""

    def __init__(self, built: Built) -> None:
        self.built = built
        self.near: NearOptimal = near_optimal(built.district)
        self.sized = _sized(built.district)
        self.by_name = {s.name: s for s in self.sized}
        self.opts = built.inputs.common.solver

    def _row(
        self, kind: str, target: str | None, sense: str | None, out: SolveOutcome, warm: str
    ) -> Row:
        pen = None if self.near.penalty is None else float(self.near.penalty[0].value or 0.0)
        return Row(
            kind, target, sense, float(self.near.cost[0].value), pen, out.status.value,
            out.seconds["solve"] + out.seconds["mip_start"], out.seconds["handoff"], warm,
            {s.name: s.value for s in self.sized},
        )  # fmt: skip

    def _solve(
        self,
        deadline: float | None,
        basis: highspy.HighsBasis | None = None,
        start: np.ndarray | None = None,
    ) -> tuple[SolveOutcome, str]:
        mip = start is not None
        out = solve(
            self.built.model, self.opts, deadline=deadline,
            start=start if mip else None, basis=None if mip else basis,
            primal=basis is not None and not mip,
        )  # fmt: skip
        warm = "incumbent" if mip else ("basis" if basis is not None else "cold")
        return out, warm

    def optimum(self, deadline: float | None) -> tuple[Row, SolveOutcome]:
        """Step 1: the cost optimum, from scratch."""
        self.near.minimise_cost()
        out, warm = self._solve(deadline)
        return self._row("optimum", None, "min", out, warm), out

    def extreme(
        self,
        target: Target,
        sense: str,
        deadline: float | None,
        basis: highspy.HighsBasis | None,
        start: np.ndarray | None,
    ) -> tuple[Row, SolveOutcome]:
        """Step 3: ``sense`` (min or max) of the target's new capacity."""
        self.near.aim([(self.by_name[m].new, 1.0) for m in target.members], sense)
        out, warm = self._solve(deadline, basis, start)
        return self._row(sense, target.name, sense, out, warm), out

    def design(
        self, k: int, done: Sequence[Row], deadline: float | None, warm_from: SolveOutcome
    ) -> tuple[Row, SolveOutcome]:
        """Step 4: design ``k`` (from 1), after the designs ``done`` (the optimum first)."""
        rooms = [s.room if np.isfinite(s.room) and s.room > 0 else 1.0 for s in self.sized]
        weights = [
            (s.new, sum(r.sizes[s.name] > BUILT * room for r in done) / room)
            for s, room in zip(self.sized, rooms, strict=True)
        ]
        sense = "min"
        if not any(w for _, w in weights):  # the optimum builds nothing: build most
            weights = [(s.new, 1.0 / room) for s, room in zip(self.sized, rooms, strict=True)]
            sense = "max"
        self.near.aim(weights, sense)
        mip = warm_from.layout.n_binary > 0
        out, warm = self._solve(deadline, warm_from.basis, warm_from.x if mip else None)
        return self._row("design", f"design {k}", sense, out, warm), out


@dataclass(frozen=True)
class Explored:
    """The solves made (the optimum first), the targets, the cost bound [EUR] and why the
    run stopped early (None: complete)."""

    rows: list[Row]
    targets: list[Target]
    sized: list[Sized]
    cost_bound_eur: float
    stopped: str | None = None
    workers: int = 0


class _Stop(Exception):
    """A solve ended the run (the time limit stopped it before it was proven optimal)."""


def _check_status(row: Row) -> None:
    if row.status != Status.OPTIMAL.value:
        raise _Stop(f"the time limit stopped {row.kind} {row.target} before it was proven")


def explore(
    built: Built,
    slack: float = SLACK,
    designs: int = 0,
    *,
    deadline: float | None = None,
    progress: Progress = noop,
    client: Client | None = None,
    done: Callable[[Row], None] | None = None,
) -> Explored:
    """Steps 1-4 of the module docstring on ``built`` (``client``: the min/max solves on
    its workers); ``done(row)`` is called as each solve ends.

    Raises
    ------
    ScenarioError
        The scenario sizes nothing.
    SolverError
        The optimum was not found (the time limit, HiGHS failing); after it, such an
        error ends the run and is returned as :attr:`Explored.stopped`.
    """
    ex = Explorer(built)
    if not ex.sized:
        raise ScenarioError(
            built.inputs.common.file, "assets",
            "nothing to size: near-optimal alternatives are ranges of sizes (give a "
            "capacity as {existing, max, capex_eur_per_unit, ...})",
        )  # fmt: skip
    rows: list[Row] = []

    def keep(row: Row) -> None:
        rows.append(row)
        if done is not None:
            done(row)

    progress("the cost optimum")
    first, best = ex.optimum(deadline)
    keep(first)
    bound, pen_bound = ex.near.within(first.cost_eur, slack)
    targets = targets_of(built, ex.sized)
    mip = best.layout.n_binary > 0
    start = best.x if mip else None
    doing = ["the ranges"]
    stopped = None
    workers = 0
    try:
        _check_status(first)
        if client is None:
            for t in targets:
                for sense in ("min", "max"):
                    doing[0] = f"{sense} {t.name}"
                    progress(doing[0])
                    row, _ = ex.extreme(t, sense, deadline, best.basis, start)
                    keep(row)
                    _check_status(row)
        else:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            progress(f"the ranges on {workers} workers")
            codes = basis_codes(best.basis) if best.basis is not None else None
            got = on_cluster(
                client, built.inputs, targets, workers, (bound, pen_bound), codes, start, deadline
            )
            for row in got:
                if row.kind != "error":
                    keep(row)
            stop = next((r for r in got if r.kind == "error"), None)
            if stop is not None:  # a worker's solver failed: its chunk ended there
                raise _Stop(f"{stop.target}: {stop.status}")
            for row in got:
                _check_status(row)
        warm = best
        made = [first]
        for k in range(1, designs + 1):
            doing[0] = f"design {k}"
            progress(doing[0])
            row, warm = ex.design(k, made, deadline, warm)
            keep(row)
            made.append(row)
            _check_status(row)
    except _Stop as exc:
        stopped = str(exc)
    except SolverError as exc:
        stopped = f"{doing[0]}: {exc}"
    return Explored(rows, targets, ex.sized, bound, stopped, workers)


# ------------------------------------------------------------------ on a Dask cluster


def extremes_task(
    inputs: DistrictInputs,
    jobs: Sequence[tuple[Target, str]],
    bounds: tuple[float, float | None],
    codes: BasisCodes | None,
    start: np.ndarray | None,
    seconds: float | None,
    wants_log: bool | None = None,
) -> list[Row]:
    """On a worker: build the model of ``inputs``, bound it as the command's model
    (``bounds``: cost and penalties [EUR]) and solve each (target, sense) of ``jobs`` from
    the optimum's basis ``codes`` (a MILP: from its plan ``start``), within ``seconds``.
    A solver error ends the chunk with a row of kind ``error``. ``wants_log`` not None:
    each solve's figures (and log, if true) go to the client, named ``<sense> <target>``
    (:func:`pecopt.progress.dask_sending`)."""
    deadline = None if seconds is None else time.perf_counter() + seconds
    ex = Explorer(build(inputs))
    ex.near.bound(*bounds)
    basis = basis_of(codes) if codes is not None else None
    rows: list[Row] = []
    for target, sense in jobs:
        try:
            with dask_sending(f"{sense} {target.name}", wants_log):
                row, _ = ex.extreme(target, sense, deadline, basis, start)
        except SolverError as exc:
            rows.append(Row("error", f"{sense} {target.name}", sense, np.nan, None, str(exc),
                            0.0, 0.0, ""))  # fmt: skip
            break
        rows.append(row)
        if row.status != Status.OPTIMAL.value:
            break
    return rows


def on_cluster(
    client: Client,
    inputs: DistrictInputs,
    targets: Sequence[Target],
    workers: int,
    bounds: tuple[float, float | None],
    codes: BasisCodes | None,
    start: np.ndarray | None,
    deadline: float | None,
) -> list[Row]:
    """The min/max solves of ``targets`` dealt out in ``workers`` chunks (round robin),
    one task each (:func:`extremes_task`); the rows in target order."""
    from distributed import as_completed

    jobs = [(t, s) for t in targets for s in ("min", "max")]
    chunks = [jobs[k::workers] for k in range(workers) if jobs[k::workers]]
    [shipped] = client.scatter([inputs], broadcast=True, hash=False)
    left = None if deadline is None else max(0.0, deadline - time.perf_counter())
    rows: list[Row] = []
    with dask_receiving(client) as wants_log:  # the tasks' solver figures and log
        futures = [
            client.submit(
                extremes_task, shipped, c, bounds, codes, start, left, wants_log, pure=False
            )
            for c in chunks
        ]
        for fut in as_completed(futures):
            rows += fut.result()
    order = {(t.name, s): k for k, (t, s) in enumerate(jobs)}
    return sorted(rows, key=lambda r: order.get((r.target or "", r.sense or ""), len(order)))


# ------------------------------------------------------------------ tables


def table_of(explored: Explored) -> pd.DataFrame:
    """``alternatives.parquet``: one row per solve (module docstring): ``kind``,
    ``target``, ``sense``, ``cost_eur``, ``cost_vs_optimum`` (the cost over the
    optimum's, less 1), ``penalty_eur``, ``status``, ``solve_s``, ``handoff_s``, ``warm``,
    then ``size_<asset>_<what>_<unit>`` for every sized capacity and group [its unit: the
    new capacity]."""
    best = explored.rows[0].cost_eur
    out = []
    for r in explored.rows:
        d = asdict(r)
        sizes = d.pop("sizes")
        rel = (r.cost_eur - best) / abs(best) if best else 0.0
        d = {**d, "cost_vs_optimum": rel}
        for t in explored.targets:
            d[t.column] = float(sum(sizes[m] for m in t.members))
        out.append(d)
    df = pd.DataFrame(out)
    df["penalty_eur"] = df["penalty_eur"].astype("float64")
    for c in ("kind", "target", "sense", "status", "warm"):
        df[c] = df[c].astype("string")
    return df


def ranges_of(explored: Explored, table: pd.DataFrame) -> pd.DataFrame:
    """``ranges.parquet``: per target, ``target``, ``group``, ``members``, ``unit``,
    ``existing``, ``room`` (the most that may be built), ``optimum``, ``min``, ``max``
    (over every solve, all within the slack), ``min_proven`` and ``max_proven`` (its own
    solve was optimal) [the target's unit: new capacity]."""
    sized = {s.name: s for s in explored.sized}
    out = []
    for t in explored.targets:
        v = table[t.column].to_numpy(dtype=float)
        proven = {}
        for sense in ("min", "max"):
            own = table[(table["kind"] == sense) & (table["target"] == t.name)]
            proven[sense] = bool(len(own)) and bool((own["status"] == "optimal").all())
        out.append(
            {
                "target": t.name,
                "group": t.group,
                "members": ", ".join(t.members),
                "unit": t.unit,
                "existing": float(sum(sized[m].existing for m in t.members)),
                "room": float(sum(sized[m].room for m in t.members)),
                "optimum": float(v[0]),
                "min": float(np.nanmin(v)),
                "max": float(np.nanmax(v)),
                "min_proven": proven["min"],
                "max_proven": proven["max"],
            }
        )
    df = pd.DataFrame(out)
    for c in ("target", "members", "unit"):
        df[c] = df[c].astype("string")
    return df


# ------------------------------------------------------------------ the command


@dataclass(frozen=True)
class Alternatives:
    """What an alternatives run produced: the solves, the ranges, the folder, seconds per
    phase, and why it stopped early (None: complete)."""

    table: pd.DataFrame
    ranges: pd.DataFrame
    out: Path
    seconds: dict[str, float]
    stopped: str | None = None

    @property
    def complete(self) -> bool:
        return self.stopped is None


def _scenario(scenario_file: Path, sets: tuple[str, ...] = ()) -> tuple[Any, str | None]:
    """The scenario (with the ``--set`` options), an ``emissions`` objective replaced by
    ``cost`` (and the note)."""
    from pecopt.scenario import load_scenario

    scenario = load_scenario(scenario_file, None, sets)
    if scenario.objective.kind != "emissions":
        return scenario, None
    note = "objective.kind emissions replaced by cost: ranges are of cost-optimal designs"
    return load_scenario(scenario_file, {"objective": {"kind": "cost"}}, sets), note


def alternatives(
    scenario_file: Path,
    out: Path,
    *,
    slack: float = SLACK,
    designs: int = 0,
    deadline: float | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress = noop,
    sets: tuple[str, ...] = (),
) -> Alternatives:
    """The ``pecopt alternatives`` job: ``alternatives.parquet``, ``ranges.parquet``,
    ``manifest.json`` and ``report.html`` in ``out`` (atomically).

    ``scheduler`` (a Dask address) or ``workers`` > 1 (a local cluster): the min/max
    solves in parallel (module docstring); otherwise one after another on one model.
    ``deadline`` (``time.perf_counter()`` seconds) bounds the whole job."""
    from pecopt.ingest.district import ingest, to_inputs
    from pecopt.workflows.compare import header
    from pecopt.workflows.outputs import atomic_dir, check_output
    from pecopt.workflows.solve import before_deadline, input_files, typical_inputs

    t0 = time.perf_counter()
    check_options(slack, designs)
    if workers is not None and workers < 1:
        raise OptionError("--workers", f"at least 1, got {workers}")
    check_output(out, [scenario_file])
    scenario, note = _scenario(scenario_file, sets)
    used = [scenario_file, *input_files(scenario)]
    check_output(out, used)
    progress("ingest")
    file = str(scenario_file)
    inputs = before_deadline(
        deadline, "ingest", lambda: to_inputs(scenario, ingest(scenario, file), file)
    )
    agg = scenario.aggregation
    model = "the whole horizon"
    if agg is not None:
        progress("typical periods")
        inputs, _ = before_deadline(deadline, "typical periods", lambda: typical_inputs(inputs))
        model = (
            f"{agg.typical_periods} typical periods of {agg.period_h} h (the sizing model; "
            "costs are its estimate of the horizon's)"
        )
    t_ingest = time.perf_counter() - t0
    progress("build")
    built = before_deadline(deadline, "the model build", lambda: build(inputs))
    solve_by = deadline
    if deadline is not None:
        solve_by = deadline - min(RESERVE_S, 0.25 * max(deadline - time.perf_counter(), 0.0))
    t1 = time.perf_counter()
    if scheduler or (workers is not None and workers > 1):
        from pecopt.workflows.sweep import open_client

        with open_client(scheduler, workers) as client:
            explored = explore(
                built, slack, designs, deadline=solve_by, progress=progress, client=client
            )
    else:
        explored = explore(built, slack, designs, deadline=solve_by, progress=progress)
    t_solves = time.perf_counter() - t1
    from pecopt.ingest.parquet import write_table

    with atomic_dir(out, "alternatives", used) as tmp:
        src = f"pecopt alternatives of {scenario_file.name}"
        table = table_of(explored)
        ranges = ranges_of(explored, table)
        write_table(table, tmp / ALTERNATIVES, src)
        write_table(ranges, tmp / RANGES, src)
        t2 = time.perf_counter()
        manifest = header("alternatives", {"scenario": scenario_file})
        solves = table["solve_s"].iloc[1:]
        manifest |= {
            "slack": slack,
            "designs": designs,
            "model": model,
            "note": note,
            "optimum_cost_eur": explored.rows[0].cost_eur,
            "cost_bound_eur": explored.cost_bound_eur,
            "targets": len(explored.targets),
            "solves": len(explored.rows),
            "parallel": (
                f"Dask, {explored.workers} workers, each its own model"
                if explored.workers
                else "one model, one solve after another"
            ),
            "complete": explored.stopped is None,
            "stopped": explored.stopped,
            "solve_s": {
                "optimum": explored.rows[0].solve_s,
                "alternatives_median": float(solves.median()) if len(solves) else None,
                "alternatives_max": float(solves.max()) if len(solves) else None,
            },
            "solver_options": scenario.solver.model_dump(),
        }
        seconds = {
            "ingest": t_ingest,
            "build": built.seconds["build"],
            "solves": t_solves,
            "write": t2 - t1 - t_solves,
        }
        manifest["seconds"] = seconds  # the report shows them; report and total follow
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        progress("report")
        from pecopt.report import build_report

        build_report(tmp, Path(out).resolve().name)
        seconds["report"] = time.perf_counter() - t2
        seconds["total"] = time.perf_counter() - t0
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return Alternatives(table, ranges, out, seconds, explored.stopped)

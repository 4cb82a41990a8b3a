"""Sweep plans: the variants of a sweep, validated before anything runs.

Variants come from ``--vary PATH=v1,v2,...`` options (their cartesian product) and/or the
rows of a ``--grid`` file (CSV or Parquet, one column per override path). Each variant's
overrides are applied to the base scenario's YAML data
(:func:`pecopt.scenario.overrides.apply_overrides`) and the result validated as a whole;
each variant gets a content hash (:func:`variant_hash`) that identifies it across runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel

from pecopt import __version__
from pecopt.errors import DataError, ScenarioError
from pecopt.ingest.district import horizon_index
from pecopt.scenario import Scenario, load_scenario
from pecopt.scenario.loader import scenario_from_data
from pecopt.scenario.overrides import (
    apply_overrides,
    apply_sets,
    check_path,
    parse_path,
    parse_value,
)
from pecopt.scenario.overrides import parse_vary as _parse_vary
from pecopt.scenario.yaml_source import YamlDocument

#: override paths of a sweep of replays that set the replay's options (not scenario
#: fields), with their defaults
REPLAY_OPTIONS: dict[str, Any] = {"replay.forecast": "perfect", "replay.seed": 0}


@dataclass(frozen=True)
class ReplayJob:
    """A sweep of replays (``pecopt sweep --replay-from D --replay-to D``): every variant
    is a replay of these days (:func:`pecopt.workflows.replay.replay`), its forecast mode
    and seed set by the override paths ``replay.forecast`` and ``replay.seed``."""

    first: date
    last: date
    reference_time_limit_s: float = 3600.0


@dataclass(frozen=True)
class Variant:
    """One scenario of a sweep: its overrides and the validated scenario they give; for a
    sweep of replays, the replay's options (``job``)."""

    variant_id: str
    hash: str
    overrides: dict[str, Any]
    scenario: Scenario
    job: dict[str, Any] | None = None


@dataclass(frozen=True)
class SweepPlan:
    """Every variant of a sweep, validated, with the override paths in column order."""

    scenario_file: Path
    paths: list[str]
    variants: list[Variant]
    input_files: dict[str, str]  # absolute path -> SHA-256
    job: str = "solve"  # or "replay"
    sets: tuple[str, ...] = ()  # --set PATH=VALUE options applied to the base


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def scenario_paths(model: BaseModel, prefix: str = "") -> list[tuple[str, Path]]:
    """Every file path a scenario points to, with its field path."""
    out: list[tuple[str, Path]] = []
    for name in type(model).model_fields:
        v = getattr(model, name)
        where = f"{prefix}.{name}" if prefix else name
        if isinstance(v, Path):
            out.append((where, v))
        elif isinstance(v, BaseModel):
            out += scenario_paths(v, where)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                if isinstance(x, BaseModel):
                    out += scenario_paths(x, f"{where}[{i}]")
    return out


def map_paths(model: BaseModel, fn: Callable[[Path], Path]) -> BaseModel:
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        v = getattr(model, name)
        if isinstance(v, Path):
            updates[name] = fn(v)
        elif isinstance(v, BaseModel):
            updates[name] = map_paths(v, fn)
        elif isinstance(v, list) and v and isinstance(v[0], BaseModel):
            updates[name] = [map_paths(x, fn) for x in v]
    return model.model_copy(update=updates) if updates else model


def variant_hash(scenario: Scenario, file_sha: dict[str, str]) -> str:
    """SHA-256 of the resolved scenario (canonical JSON, each file path replaced by the
    SHA-256 of the file's bytes) and the pecopt version: equal hashes mean equal runs."""
    by_content = map_paths(scenario, lambda p: Path("sha256:" + file_sha[str(p)]))
    canonical = json.dumps(
        {"pecopt": __version__, "scenario": by_content.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_grid(path: Path, replay: bool = False) -> list[dict[str, Any]]:
    """Variants from a CSV or Parquet file: one row a variant, one column an override path.

    CSV cells are read by YAML scalar rules (as ``--vary`` values); an empty cell (or a
    Parquet null) keeps the base scenario's value.
    """
    if not path.is_file():
        raise DataError(path, "--grid", "file not found")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
            records = frame.to_dict("records")
            rows = [{str(c): _py(v) for c, v in r.items() if pd.notna(v)} for r in records]
        elif path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            records = frame.to_dict("records")
            rows = [{str(c): parse_value(v) for c, v in r.items() if v != ""} for r in records]
        else:
            raise DataError(path, "--grid", "expected a .csv or .parquet file")
    except (ValueError, OSError) as exc:
        raise DataError(path, "--grid", f"cannot read: {exc}".splitlines()[0]) from None
    for col in frame.columns:
        if replay and str(col) in REPLAY_OPTIONS:
            continue
        check_path(parse_path(str(col), path), path)
    if not rows:
        raise DataError(path, "--grid", "no rows")
    return rows


def _py(v: Any) -> Any:
    """A numpy scalar as the Python value (``int``, ``float``, ``bool``, ``str``)."""
    return v.item() if hasattr(v, "item") else v


def _combine(
    vary: list[str], grid: Path | None, replay: bool = False
) -> tuple[list[str], list[dict[str, Any]]]:
    axes = [_parse_vary(spec) for spec in vary]
    rows = read_grid(grid, replay) if grid is not None else [{}]
    paths = [p for p, _ in axes]
    grid_cols = list(dict.fromkeys(c for r in rows for c in r))
    for p in paths:
        if p in REPLAY_OPTIONS:
            if not replay:
                raise ScenarioError(
                    "--vary", p, "a replay option: give --replay-from and --replay-to"
                )
            continue
        check_path(parse_path(p, "--vary"), "--vary")
        if paths.count(p) > 1 or p in grid_cols:
            raise ScenarioError("--vary", p, "given twice (in --vary or in --grid)")
    combos = [
        {**row, **dict(zip(paths, values, strict=True))}
        for row in rows
        for values in itertools.product(*[v for _, v in axes])
    ]
    return grid_cols + paths, combos


def plan_sweep(
    scenario_file: Path,
    vary: list[str],
    grid: Path | None = None,
    threads: int = 1,
    replay: ReplayJob | None = None,
    sets: tuple[str, ...] = (),
) -> SweepPlan:
    """Read and validate every variant of a sweep (nothing is solved or written).

    Parameters
    ----------
    scenario_file
        The base scenario YAML.
    vary
        ``PATH=v1,v2,...`` specs; the variants are their cartesian product (times the grid).
    grid
        A CSV or Parquet file, one row a variant, columns override paths.
    threads
        HiGHS threads per task (``solver.threads``; a ``--vary`` of it wins).
    replay
        Make every variant a replay of these days (``replay.forecast`` and
        ``replay.seed`` may then be varied too).
    sets
        ``--set PATH=VALUE`` options applied to the base scenario before the variants'
        overrides (a ``--vary`` or ``--grid`` of the same path wins).

    Raises
    ------
    ScenarioError, DataError
        A bad path, value or file, naming the path (and the variant); exit 2.
    """
    base = load_scenario(scenario_file, sets=sets)  # the base must be valid (clear messages)
    raw = yaml.safe_load(scenario_file.read_text(encoding="utf-8")) or {}
    if isinstance(raw, dict) and "base" in raw:  # it starts from another file: the merge
        raw = base.model_dump(mode="json")
    else:
        raw = apply_sets(YamlDocument(raw), sets)[0].data
    raw = apply_overrides(raw, {"solver.threads": threads})
    paths, combos = _combine(vary, grid, replay is not None)
    if not paths:
        raise ScenarioError("--vary", "<none>", "give at least one --vary PATH=... or --grid")
    shas: dict[str, str] = {}
    variants: dict[str, Variant] = {}
    for overrides in combos:
        changes = {k: v for k, v in overrides.items() if k not in REPLAY_OPTIONS}
        scenario = _validated(scenario_file, raw, changes)
        for where, p in scenario_paths(scenario):
            if str(p) not in shas:
                if not p.is_file():
                    raise DataError(p, where, f"input file not found ({describe(overrides)})")
                shas[str(p)] = sha256_file(p)
        h = variant_hash(scenario, shas)
        job = None if replay is None else _replay_job(replay, overrides)
        if job is not None:
            text = json.dumps(job, sort_keys=True)
            h = hashlib.sha256(f"{h}:replay:{text}".encode()).hexdigest()
        variants.setdefault(h, Variant(h[:12], h, overrides, scenario, job))
    kind = "solve" if replay is None else "replay"
    return SweepPlan(scenario_file, paths, list(variants.values()), shas, kind, tuple(sets))


def _replay_job(replay: ReplayJob, overrides: dict[str, Any]) -> dict[str, Any]:
    """A variant's replay options, checked (a bad one names the path and the variant)."""
    from pecopt.errors import OptionError
    from pecopt.ingest.forecasts import parse_mode

    opts = {**REPLAY_OPTIONS, **{k: v for k, v in overrides.items() if k in REPLAY_OPTIONS}}
    forecast, seed = str(opts["replay.forecast"]), opts["replay.seed"]
    try:
        mode = parse_mode(forecast)
    except OptionError as exc:
        raise ScenarioError(
            "--vary", "replay.forecast", f"{exc.problem} ({describe(overrides)})"
        ) from None
    if mode.folder is not None:
        forecast = str(mode.folder.resolve())
    if mode.kind != "noisy":
        seed = 0  # only noisy forecasts draw: their seeds are one replay otherwise
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError(
            "--vary", "replay.seed", f"{seed!r} is not a whole number ({describe(overrides)})"
        )
    return {"from": replay.first.isoformat(), "to": replay.last.isoformat(),
            "forecast": forecast, "seed": seed,
            "reference_time_limit_s": replay.reference_time_limit_s}  # fmt: skip


def describe(overrides: dict[str, Any]) -> str:
    return "variant " + ", ".join(f"{k}={v}" for k, v in overrides.items())


def _validated(scenario_file: Path, raw: dict[str, Any], overrides: dict[str, Any]) -> Scenario:
    merged = apply_overrides(raw, overrides, scenario_file)
    try:
        scenario = scenario_from_data(merged, scenario_file)
        horizon_index(scenario, str(scenario_file))
    except ScenarioError as exc:
        field = _bracketed(exc.field)
        raise ScenarioError(exc.file, field, f"{exc.problem} ({describe(overrides)})") from None
    return scenario


def _bracketed(loc: str) -> str:
    """``assets.batteries.0.capacity_kwh`` -> ``assets.batteries[0].capacity_kwh``."""
    parts = loc.split(".")
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


def manifest_body(plan: SweepPlan, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest: base scenario, override paths and variant table (merged with an
    earlier sweep's in the same folder)."""
    old = previous or {}
    table = {v["variant_id"]: v for v in old.get("variants", [])}
    for v in plan.variants:
        table[v.variant_id] = {"variant_id": v.variant_id, "hash": v.hash, "overrides": v.overrides,
                               **({"replay": v.job} if v.job else {})}  # fmt: skip
    return {
        "pecopt": __version__,
        "base_scenario": {
            "path": str(plan.scenario_file.resolve()),
            "sha256": sha256_file(plan.scenario_file),
        },
        "job": plan.job,
        "--set": list(plan.sets),
        "override_paths": list(dict.fromkeys([*old.get("override_paths", []), *plan.paths])),
        "input_files": {**old.get("input_files", {}), **plan.input_files},
        "layout": {
            "kpis": "kpis/<variant_id>.parquet",
            "schedule": "schedule/variant_id=<variant_id>/part.parquet",
            "storage": "storage/variant_id=<variant_id>/part.parquet",
            **(
                {"replay": "replay/variant_id=<variant_id>/part.parquet"}
                if plan.job == "replay"
                else {}
            ),
        },
        "variants": list(table.values()),
    }


def column_values(plan: SweepPlan) -> dict[str, dict[str, Any]]:
    """Override values per variant as KPI columns: one type per column (ints and floats
    as floats; a mix of kinds as text)."""
    out: dict[str, dict[str, Any]] = {v.variant_id: {} for v in plan.variants}
    for path in plan.paths:
        values = [v.overrides.get(path) for v in plan.variants]
        kinds = {type(x) for x in values if x is not None}
        if kinds == {int, float}:
            values = [None if x is None else float(x) for x in values]
        elif len(kinds) > 1:
            values = [None if x is None else str(x) for x in values]
        for v, x in zip(plan.variants, values, strict=True):
            out[v.variant_id][path] = x
    return out

"""Load a scenario YAML file into a validated :class:`~pecopt.scenario.schema.Scenario`.

Precedence: schema defaults < the file < overrides given by the caller (CLI flags).
Relative paths inside the file are resolved against the file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pecopt.errors import ScenarioError
from pecopt.scenario.schema import Scenario


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(err: ValidationError) -> tuple[str, str]:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-after"))
    if first["type"] == "extra_forbidden":
        problem = "unknown key (misspelt?)"
    elif first["type"] == "missing":
        problem = "required key is missing"
    else:
        problem = first["msg"].removeprefix("Value error, ")
        if "input" in first and not isinstance(first["input"], dict | list):
            problem += f" (got {first['input']!r})"
    more = len(err.errors()) - 1
    if more:
        problem += f" (and {more} more problem{'s' if more > 1 else ''})"
    return loc or "<root>", problem


def _resolve_paths(model: BaseModel, base: Path) -> BaseModel:
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Path) and not value.is_absolute():
            updates[name] = (base / value).resolve()
        elif isinstance(value, BaseModel):
            updates[name] = _resolve_paths(value, base)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            updates[name] = [_resolve_paths(v, base) for v in value]
    return model.model_copy(update=updates) if updates else model


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge and validate a scenario file.

    Raises
    ------
    ScenarioError
        Missing file, invalid YAML, unknown key or invalid value, naming file and key.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(path, "<file>", "scenario file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(path, "<yaml>", f"not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(raw, dict):
        raise ScenarioError(path, "<root>", "the file must hold a mapping of sections")
    if overrides:
        raw = _merge(raw, overrides)
    return scenario_from_data(raw, path)


def scenario_from_data(raw: dict[str, Any], path: str | Path) -> Scenario:
    """Validate scenario data already read from ``path`` (relative paths resolve against
    its folder), e.g. a sweep variant's data; errors name ``path`` and the key."""
    path = Path(path)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        field, problem = _describe(exc)
        raise ScenarioError(path, field, problem) from None
    resolved = _resolve_paths(scenario, path.resolve().parent)
    assert isinstance(resolved, Scenario)
    _check_names(resolved, path)
    return resolved


def _check_names(s: Scenario, path: Path) -> None:
    names: list[str] = [b.name for b in s.buildings]
    names += [a.name for b in s.buildings for a in b.pv]
    a = s.assets
    for group in (a.pv_series, a.batteries, a.heat_pumps, a.electric_boilers, a.thermal_stores):
        names += [x.name for x in group]
    names += [f.name for f in a.ev_fleets]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ScenarioError(path, "name", f"asset name {n!r} is used twice")
        seen.add(n)

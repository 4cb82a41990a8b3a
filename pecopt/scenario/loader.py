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


#: Keys that moved in pecopt 0.2 (each technology now holds its own tariff and factors).
MOVED: dict[tuple[str, ...], str] = {
    ("tariffs", "electricity"): "assets.grid.tariff",
    ("tariffs", "district_heat"): "assets.district_heating.tariff",
    ("carbon", "grid"): "assets.grid.co2",
    ("carbon", "district_heat"): "assets.district_heating.co2",
    ("ped", "electricity_factor"): "assets.grid.ped_weight",
    ("ped", "district_heat_factor"): "assets.district_heating.ped_weight",
}


def _check_moved(raw: dict[str, Any], path: Path) -> None:
    for keys, new in MOVED.items():
        node: Any = raw
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        if node is not None:
            raise ScenarioError(path, ".".join(keys), f"this key moved to {new} (pecopt 0.2)")
    if isinstance(raw.get("tariffs"), dict) and not raw["tariffs"]:
        raise ScenarioError(path, "tariffs", "this section moved into assets.grid/district_heating")


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
    _check_moved(raw, path)
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
    from pecopt.model.registry import TECHNOLOGIES

    names: list[str] = [
        u.name for t in TECHNOLOGIES.values() for u in t.units_of(s) if hasattr(u, "name")
    ]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ScenarioError(path, "name", f"asset name {n!r} is used twice")
        seen.add(n)

"""Load a scenario YAML file into a validated :class:`~pecopt.scenario.schema.Scenario`.

Precedence: schema defaults < the file < overrides given by the caller (CLI flags).
Relative paths inside the file are resolved against the file's folder.

Every problem becomes one :class:`~pecopt.errors.ScenarioError` naming the file, the
field and, where the YAML parser knows it, the line and column
(``scenario.yaml:12:7: assets.batteries[0].capacity_kWh: unknown key; did you mean
'capacity_kwh'?``). :func:`validate_document` maps pydantic's errors back onto the YAML
for any pydantic model, so it does not depend on the scenario's field names.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from pecopt.errors import ScenarioError
from pecopt.scenario.schema import Scenario
from pecopt.scenario.yaml_source import DataPath, Mark, YamlDocument

__all__ = ["OVERRIDES", "SET", "scenario_from_data", "scenario_of", "validate_document"]

M = TypeVar("M", bound=BaseModel)

#: The ``file`` of an error in a value given by the caller (CLI flag), not by the file.
OVERRIDES = "<overrides>"
#: The ``file`` of an error in a value given by ``--set PATH=VALUE``.
SET = "--set"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _in(tree: Any, path: DataPath) -> bool:
    """Whether ``path`` (or a prefix of it holding a plain value) is set in ``tree``."""
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return False
        tree = tree[key]
    return True


def field_name(path: DataPath) -> str:
    """``("assets", "batteries", 0, "capacity_kwh")`` -> ``assets.batteries[0].capacity_kwh``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


@dataclass(frozen=True)
class Problem:
    """One validation problem, located in the YAML."""

    path: DataPath
    problem: str
    mark: Mark | None
    from_override: bool = False


# --- the pydantic model behind a data path -------------------------------------------------


def _leaves(tp: Any) -> list[Any]:
    """``tp`` without ``Annotated`` and split into the members of a union."""
    if get_origin(tp) is Annotated:
        return _leaves(get_args(tp)[0])
    if get_origin(tp) in (Union, UnionType):
        return [leaf for arg in get_args(tp) for leaf in _leaves(arg)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _keys_of(model: type[BaseModel]) -> dict[str, Any]:
    """The keys a model accepts (aliases where given) -> their annotations."""
    return {f.alias or name: f.annotation for name, f in model.model_fields.items()}


def _models_at(root: type[BaseModel], path: DataPath) -> list[type[BaseModel]]:
    """The pydantic models that may validate the mapping at ``path`` (several for unions)."""
    types: list[Any] = [root]
    for item in path:
        nxt: list[Any] = []
        for leaf in (x for tp in types for x in _leaves(tp)):
            origin, args = get_origin(leaf), get_args(leaf)
            if _is_model(leaf) and isinstance(item, str) and item in _keys_of(leaf):
                nxt.append(_keys_of(leaf)[item])
            elif isinstance(item, int) and origin in (list, tuple, set, frozenset) and args:
                nxt.append(args[0])
            elif origin in (dict, Mapping) and len(args) == 2:
                nxt.append(args[1])
        types = nxt
    return [leaf for tp in types for leaf in _leaves(tp) if _is_model(leaf)]


def _near(word: str, options: list[str]) -> str | None:
    """The option closest to ``word``, ignoring case (``capacity_kWh`` -> ``capacity_kwh``)."""
    lower = {o.lower(): o for o in options}
    if word.lower() in lower:
        return lower[word.lower()]
    hit = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    return lower[hit[0]] if hit else None


# --- pydantic errors -> located problems -----------------------------------------------------


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[DataPath, tuple[Any, ...]]:
    """Split a pydantic ``loc`` into the path that exists in ``data`` and the rest.

    Items that are neither keys nor list positions in the data (pydantic's union and
    validator tags, such as ``function-after[...]``) are skipped.
    """
    path: list[Hashable] = []
    rest: list[Any] = []
    node = data
    for item in loc:
        if isinstance(node, dict) and item in node:
            node = node[item]
            path.append(item)
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
            path.append(item)
        else:
            rest.append(item)
    return tuple(path), tuple(rest)


#: pydantic messages that read poorly to a scenario author.
_PLAIN = {
    "path_type": "Input should be a file path",
    "finite_number": "Input should be a finite number (not .inf, .nan or beyond 1e308)",
}


def _value_words(error: Mapping[str, Any]) -> str:
    problem = _PLAIN.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if value is None and "input" in error:
        return problem + " (the key has no value)"
    if isinstance(value, dict | list) or repr(value) in problem:
        return problem
    if isinstance(value, date) and error["type"] == "string_type":
        return f'{problem} (YAML read {value} as a date: put it in quotes, "{value}")'
    return f"{problem} (got {value!r})"


def _problems(
    exc: ValidationError,
    doc: YamlDocument,
    model: type[BaseModel],
    data: Any,
    overrides: Mapping[str, Any] | None,
) -> list[Problem]:
    errors = exc.errors()
    found = []
    covered: set[DataPath] = set()  # extra keys already named by a "missing" problem
    for e in errors:
        path, rest = _data_path(tuple(e["loc"]), data)
        kind = e["type"]
        mark = doc.mark(path)
        if kind == "missing" and rest:
            name = rest[-1]
            target = (*path, name)
            mapping = _at(data, path)
            extras = [
                k
                for k in (mapping if isinstance(mapping, dict) else {})
                if isinstance(k, str) and k not in _valid_keys(model, path)
            ]
            near = _near(str(name), extras)
            problem = "required key is missing"
            mark = mark if path else None  # a missing section: no line to point at
            if near is not None:
                covered.add((*path, near))
                spot = doc.key_mark((*path, near))
                mark = spot or mark
                where = f" at line {spot[0]}" if spot else ""
                problem += f"; did you mean the key {near!r}{where}?"
            found.append(Problem(target, problem, mark))
            continue
        if kind == "extra_forbidden":
            key = path[-1] if path else None
            valid = [
                k for k in _valid_keys(model, path[:-1]) if not _in(_at(data, path[:-1]), (k,))
            ]
            near = _near(str(key), valid) if valid else None
            if near is not None:
                problem = f"unknown key; did you mean {near!r}?"
            elif valid and len(valid) <= 12:
                problem = "unknown key (valid keys here: " + ", ".join(valid) + ")"
            else:
                problem = "unknown key"
            found.append(Problem(path, problem, doc.key_mark(path)))
            continue
        problem = _value_words(e)
        from_override = overrides is not None and _in(overrides, path)
        found.append(Problem(path, problem, None if from_override else mark, from_override))
    out, seen = [], set()
    for p in found:
        if p.path in covered or p.path in seen:
            continue
        seen.add(p.path)
        out.append(p)
    return sorted(out, key=lambda p: (p.mark is None, p.mark or (0, 0)))


def _at(data: Any, path: DataPath) -> Any:
    for key in path:
        data = data[key]
    return data


def _valid_keys(model: type[BaseModel], path: DataPath) -> list[str]:
    keys: dict[str, None] = {}
    for m in _models_at(model, path):
        keys.update(dict.fromkeys(_keys_of(m)))
    return list(keys)


def validate_document(
    model: type[M],
    doc: YamlDocument,
    file: str | Path,
    overrides: Mapping[str, Any] | None = None,
    sets: Mapping[DataPath, str] | None = None,
) -> M:
    """Validate YAML ``doc`` (merged with ``overrides``) against any pydantic ``model``.

    ``sets``: where ``--set PATH=VALUE`` options changed ``doc`` (their data path -> the
    option, :func:`pecopt.scenario.overrides.apply_sets`).

    Raises
    ------
    ScenarioError
        The first problem in file order, with its line and column, and how many more
        there are. A problem in an override is reported with ``file`` = :data:`OVERRIDES`;
        one in a value given by ``--set`` first, with ``file`` = :data:`SET` and the
        option's own path.
    """
    data = doc.data
    if data is None:
        raise ScenarioError(file, "<file>", "the file is empty")
    if not isinstance(data, dict):
        raise ScenarioError(
            file, "<root>", f"the file must hold a mapping of keys, not a {type(data).__name__}"
        )
    if overrides:
        data = _merge(data, dict(overrides))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, doc, model, data, overrides)
    if sets:
        _raise_set(problems, sets)
    first = problems[0]
    text = first.problem
    if sets:  # a value given by --set made the mapping around it invalid
        inside = [spec for at, spec in sets.items() if at[: len(first.path)] == first.path]
        text += "".join(f" (with --set {spec})" for spec in inside)
    if len(problems) > 1:
        more = len(problems) - 1
        text += f" (and {more} more problem{'s' if more > 1 else ''})"
    line, column = first.mark if first.mark else (None, None)
    where = OVERRIDES if first.from_override else file
    raise ScenarioError(where, field_name(first.path), text, line=line, column=column)


def _raise_set(problems: list[Problem], sets: Mapping[DataPath, str]) -> None:
    """Raise the first problem in a value given by ``--set``, named by its option's path."""
    for p in problems:
        for at, spec in sets.items():
            if p.path[: len(at)] == at:
                rest = p.path[len(at) :]
                tail = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in rest)
                field = spec.partition("=")[0] + tail
                raise ScenarioError(SET, field, f"{p.problem} (--set {spec})")


# --- the scenario ---------------------------------------------------------------------------


def _resolve_paths(model: BaseModel, base: Path) -> BaseModel:
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Path) and not value.is_absolute():
            try:
                updates[name] = (base / value).resolve()
            except (OSError, RuntimeError):  # a symbolic-link loop: the reader says so
                updates[name] = base / value
        elif isinstance(value, BaseModel):
            updates[name] = _resolve_paths(value, base)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            updates[name] = [_resolve_paths(v, base) for v in value]
    return model.model_copy(update=updates) if updates else model


def scenario_from_data(raw: dict[str, Any], path: str | Path) -> Scenario:
    """Validate scenario data already read from ``path`` (relative paths resolve against
    its folder), e.g. a sweep variant's data; errors name ``path`` and the key."""
    return scenario_of(YamlDocument(raw), Path(path), None)


def scenario_of(
    doc: YamlDocument,
    path: Path,
    overrides: dict[str, Any] | None,
    sets: Mapping[DataPath, str] | None = None,
) -> Scenario:
    """Validate a scenario document read from ``path`` (one without ``base:``); ``sets``
    as for :func:`validate_document`."""
    _check_moved(doc, path)
    scenario = validate_document(Scenario, doc, path, overrides, sets)
    resolved = _resolve_paths(scenario, path.resolve().parent)
    assert isinstance(resolved, Scenario)
    _check_names(resolved, path, doc)
    return resolved


#: Keys that moved in pecopt 0.2 (each technology now holds its own tariff and factors).
MOVED: dict[tuple[str, ...], str] = {
    ("tariffs", "electricity"): "assets.grid.tariff",
    ("tariffs", "district_heat"): "assets.district_heating.tariff",
    ("carbon", "grid"): "assets.grid.co2",
    ("carbon", "district_heat"): "assets.district_heating.co2",
    ("ped", "electricity_factor"): "assets.grid.ped_weight",
    ("ped", "district_heat_factor"): "assets.district_heating.ped_weight",
}


def _check_moved(doc: YamlDocument, path: Path) -> None:
    """A clear message for a key of pecopt 0.1 that moved, instead of 'unknown key'."""
    for keys, new in MOVED.items():
        node: Any = doc.data
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        if node is not None:
            line, column = doc.key_mark(keys) or (None, None)
            raise ScenarioError(
                path,
                ".".join(keys),
                f"this key moved to {new} (pecopt 0.2)",
                line=line,
                column=column,
            )


def _check_names(s: Scenario, path: Path, doc: YamlDocument) -> None:
    from pecopt.model.registry import TECHNOLOGIES

    names: list[str] = [
        u.name for t in TECHNOLOGIES.values() for u in t.units_of(s) if hasattr(u, "name")
    ]
    seen: set[str] = set()
    for n in names:
        if "/" in n:  # "fleet/vehicle" names an EV: "ev/v1" would share its rows and state
            line, column = _last_spot(doc, n)
            raise ScenarioError(
                path, "name", f"asset name {n!r} holds '/', which joins an EV fleet and its "
                "vehicles (fleet/vehicle): choose a name without it", line=line, column=column,
            )  # fmt: skip
        if n in seen:
            line, column = _last_spot(doc, n)
            raise ScenarioError(
                path, "name", f"asset name {n!r} is used twice", line=line, column=column
            )
        seen.add(n)


def _last_spot(doc: YamlDocument, name: str) -> tuple[int | None, int | None]:
    """Line and column of the last ``name:`` key whose value is ``name``."""
    spots = sorted(m for p, m in doc.values.items() if p[-1:] == ("name",) and _is(doc, p, name))
    return spots[-1] if spots else (None, None)


def _is(doc: YamlDocument, path: DataPath, value: str) -> bool:
    try:
        return bool(_at(doc.data, path) == value)
    except (KeyError, IndexError, TypeError):
        return False

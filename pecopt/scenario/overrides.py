"""Override paths: ``--set PATH=VALUE`` on every command, ``--vary PATH=v1,v2`` and a
``--grid`` file's columns in a sweep.

A path is keys joined by dots. An item of a list of named records (buildings, their
``pv`` arrays, every ``assets`` list) is selected by its name, like in a ``base:`` file
or a layouts variant (``assets.batteries.shared_battery.capacity_kwh``); any list item
also by its index (``assets.batteries[0].capacity_kwh``, ``buildings[2].pv[0].kwp``).
Every path is checked against the scenario schema (:class:`~pecopt.scenario.schema.
Scenario`; a misspelt key gets the nearest one) and against the scenario's own data: a
name or an index must point at an existing item. Values follow YAML scalar rules
(``500`` int, ``0.5`` float, ``true`` bool, ``null``, anything else a string), so
``--set``, ``--vary`` and a CSV ``--grid`` read the same way.

Applying an override sets one field of the raw (merged) YAML data; the result is then
validated as a whole by :func:`pecopt.scenario.load_scenario`. These functions are pure
(no I/O).
"""

from __future__ import annotations

import copy
import re
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel

from pecopt.errors import ScenarioError
from pecopt.scenario.loader import _near
from pecopt.scenario.schema import Scenario
from pecopt.scenario.yaml_source import DataPath, YamlDocument

#: The ``file`` of an error in a ``--set`` option.
SET = "--set"

Step = str | int
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_STEP = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_-]*)((?:\[\d+\])*)")
_SYNTAX = "not an override path (keys and item names joined by '.', list items also as [i])"


def parse_path(path: str, source: str | Path | None = None) -> tuple[Step, ...]:
    """``"assets.batteries[0].capacity_kwh"`` -> ``("assets", "batteries", 0, "capacity_kwh")``;
    ``"assets.batteries.big.capacity_kwh"`` -> ``("assets", "batteries", "big",
    "capacity_kwh")`` (whether a word is a key or an item's name, the schema says:
    :func:`check_path`).

    Raises
    ------
    ScenarioError
        The path is not words joined by dots with optional ``[i]`` indices (i >= 0).
    """
    steps: list[Step] = []
    for part in path.split("."):
        m = _STEP.fullmatch(part)
        if m is None:
            raise ScenarioError(source, path, _SYNTAX)
        steps.append(m.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return tuple(steps)


def format_path(steps: Sequence[Any]) -> str:
    """The inverse of :func:`parse_path`."""
    out = ""
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else str(s))
    return out


def parse_value(text: str) -> Any:
    """One scalar by YAML rules: ``"500"`` -> 500, ``"0.5"`` -> 0.5, ``"true"`` -> True,
    ``"null"`` -> None, ``"a.csv"`` -> ``"a.csv"``. Lists and mappings stay strings."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None and text.strip() not in ("null", "~", "Null", "NULL"):
        return text  # an empty cell is not null
    if isinstance(value, str) and _EXPONENT.fullmatch(text.strip()):
        return float(text)  # YAML 1.1 wants "1.0e3"; "1e3" is a number too
    return value if isinstance(value, str | int | float | bool) or value is None else text


def parse_vary(spec: str, source: str = "--vary") -> tuple[str, list[Any]]:
    """``"PATH=v1,v2"`` -> ``("PATH", [v1, v2])`` (values by :func:`parse_value`).

    Raises
    ------
    ScenarioError
        No ``=``, an empty value list, or a malformed path.
    """
    path, sep, values = spec.partition("=")
    path = path.strip()
    if not sep:
        raise ScenarioError(source, spec, "expected PATH=VALUE[,VALUE...]")
    parse_path(path, source)
    items = [v.strip() for v in values.split(",")]
    if not values.strip() or any(v == "" for v in items):
        raise ScenarioError(source, path, "an empty value (give PATH=v1,v2,...)")
    return path, [parse_value(v) for v in items]


def parse_set(spec: str, source: str = SET) -> tuple[str, Any]:
    """``"PATH=VALUE"`` -> ``("PATH", value)`` (the value by :func:`parse_value`; commas
    are part of it).

    Raises
    ------
    ScenarioError
        No ``=``, an empty value, or a malformed path.
    """
    path, sep, value = spec.partition("=")
    path = path.strip()
    if not sep:
        raise ScenarioError(source, spec, "expected PATH=VALUE")
    parse_path(path, source)
    if not value.strip():
        raise ScenarioError(source, path, "an empty value (give PATH=VALUE; null clears it)")
    return path, parse_value(value.strip())


def _unwrap(tp: Any) -> Any:
    """Drop ``None`` from an optional type and ``Annotated`` wrappers."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _kinds(steps: tuple[Step, ...], source: str | Path | None) -> list[str]:
    """What each step is by the schema: ``key`` (of a record), ``entry`` (of a mapping),
    ``index`` or ``name`` (a list item by position or by its ``name``).

    Raises
    ------
    ScenarioError
        A key the schema does not have there (with the nearest one), an index into
        something that is not a list, a name in a list whose items have none, a key
        into a single value, or a path that ends at a whole item selected by name.
    """
    tp: Any = Scenario
    path = format_path(steps)
    kinds: list[str] = []
    for i, step in enumerate(steps):
        tp = _unwrap(tp)
        where = format_path(steps[:i]) or "<root>"
        origin = typing.get_origin(tp)
        if origin is list:
            item = _unwrap(typing.get_args(tp)[0])
            if isinstance(step, str):
                if not (_is_model(item) and "name" in item.model_fields):
                    raise ScenarioError(
                        source, path, f"the items of {where} have no names: give an index [i]"
                    )
                if i == len(steps) - 1:
                    raise ScenarioError(
                        source,
                        path,
                        f"{where} is a list: give an item's name (or index) and then one "
                        f"of its fields, e.g. {where}.NAME.{step} or {where}[0].{step}"
                        if step in item.model_fields
                        else f"{path} is a whole item: give one of its fields",
                    )
            kinds.append("index" if isinstance(step, int) else "name")
            tp = item
        elif isinstance(step, int):
            raise ScenarioError(source, path, f"{where} is not a list: no [{step}]")
        elif _is_model(tp):
            if step not in tp.model_fields:
                near = _near(step, list(tp.model_fields))
                hint = f"; did you mean {near!r}?" if near else " (misspelt?)"
                raise ScenarioError(source, path, f"unknown key {step!r} in {where}{hint}")
            kinds.append("key")
            tp = tp.model_fields[step].annotation
        elif origin is dict:
            kinds.append("entry")
            tp = typing.get_args(tp)[1]
        else:
            raise ScenarioError(source, path, f"{where} is a single value: no key {step!r}")
    return kinds


def check_path(steps: tuple[Step, ...], source: str | Path | None = None) -> None:
    """Check that ``steps`` names a field of the scenario schema (see :func:`_kinds`).

    Raises
    ------
    ScenarioError
        The path does not fit the schema, naming the path and the nearest key.
    """
    _kinds(steps, source)


def resolve_path(
    steps: tuple[Step, ...], data: Any, source: str | Path | None = None
) -> tuple[Step, ...]:
    """``steps`` with each item name replaced by the item's index in ``data``.

    Raises
    ------
    ScenarioError
        The path does not fit the schema, or no item of that name exists (naming the
        nearest name, or the names there are).
    """
    kinds = _kinds(steps, source)
    out: list[Step] = []
    node = data
    for i, (step, kind) in enumerate(zip(steps, kinds, strict=True)):
        if kind == "name":
            items = node if isinstance(node, list) else []
            names = [x.get("name") if isinstance(x, dict) else None for x in items]
            if step not in names:
                where = format_path(steps[:i])
                known = [str(n) for n in names if n is not None]
                near = _near(str(step), known)
                hint = (
                    f"; did you mean {near!r}?"
                    if near
                    else f" (there are: {', '.join(known)})"
                    if known
                    else " (it has none)"
                )
                raise ScenarioError(
                    source, format_path(steps), f"no item named {step!r} in {where}{hint}"
                )
            step = names.index(step)
        out.append(step)
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            node = None
    return tuple(out)


def apply_overrides(
    raw: dict[str, Any], overrides: dict[str, Any], source: str | Path | None = None
) -> dict[str, Any]:
    """A copy of the raw scenario data with each ``path: value`` set.

    Missing mappings on the way are created; a list item (by name or index) must exist
    (its field is replaced).

    Raises
    ------
    ScenarioError
        A path the schema does not have, an unknown item name or an index out of range,
        naming the path.
    """
    out = copy.deepcopy(raw)
    for path, value in overrides.items():
        steps = resolve_path(parse_path(path, source), out, source)
        _put(out, steps, value, path, source)
    return out


def apply_sets(
    doc: YamlDocument, sets: Sequence[str], source: str = SET
) -> tuple[YamlDocument, dict[DataPath, str]]:
    """``doc`` with each ``PATH=VALUE`` of ``sets`` applied (in order), and where each
    landed: its path in the data (names resolved to indices) -> the ``PATH=VALUE`` given.
    The positions of the file's keys and values are kept.

    Raises
    ------
    ScenarioError
        ``source`` (``--set``), the path and the problem: a malformed option, a path
        the schema does not have (with the nearest key), an unknown item, a path given
        twice.
    """
    if not sets or not isinstance(doc.data, dict):
        return doc, {}
    data = copy.deepcopy(doc.data)
    landed: dict[DataPath, str] = {}
    given: set[str] = set()
    for spec in sets:
        path, value = parse_set(spec, source)
        if path in given:
            raise ScenarioError(source, path, "given twice")
        given.add(path)
        steps = resolve_path(parse_path(path, source), data, source)
        _put(data, steps, value, path, source)
        landed[steps] = f"{path}={spec.partition('=')[2].strip()}"
    return YamlDocument(data, doc.keys, doc.values), landed


def _put(out: Any, steps: tuple[Step, ...], value: Any, field: str, source: Any) -> None:
    node = out
    for i, step in enumerate(steps[:-1]):
        nxt = steps[i + 1]
        node = _child(node, step, steps, i, source, isinstance(nxt, int), field)
    last = steps[-1]
    if isinstance(last, int):
        _check_index(node, last, steps, len(steps) - 1, source, field)
    node[last] = value


def _child(
    node: Any,
    step: Step,
    steps: tuple[Step, ...],
    i: int,
    source: Any,
    want_list: bool,
    field: str,
) -> Any:
    if isinstance(step, int):
        _check_index(node, step, steps, i, source, field)
    elif node.get(step) is None:
        if want_list:
            _check_index([], int(steps[i + 1]), steps, i + 1, source, field)
        node[step] = {}
    child = node[step]
    if want_list and not isinstance(child, list):
        raise ScenarioError(source, field, "the scenario holds no list there")
    if not want_list and not isinstance(child, dict):
        raise ScenarioError(source, field, "the scenario holds no mapping there")
    return child


def _check_index(
    node: Any, index: int, steps: tuple[Step, ...], i: int, source: Any, field: str
) -> None:
    if not isinstance(node, list) or index >= len(node):
        n = len(node) if isinstance(node, list) else 0
        where = format_path(steps[:i])
        raise ScenarioError(
            source,
            field,
            f"index {index} out of range: {where} has {n} item{'s' if n != 1 else ''}",
        )

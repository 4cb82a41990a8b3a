"""Override paths for sweeps: ``assets.batteries[0].capacity_kwh=0,500,1000``.

A path is dot-separated keys with optional list indices (``buildings[2].pv[0].kwp``).
Every path is checked against the scenario schema (:class:`~pecopt.scenario.schema.Scenario`)
and against the scenario's own YAML data: an index must point at an existing list item.
Values follow YAML scalar rules (``500`` int, ``0.5`` float, ``true`` bool, ``null``,
anything else a string), so ``--vary`` and a CSV ``--grid`` read the same way.

Applying an override sets one field of the raw YAML data; the result is then validated
as a whole by :func:`pecopt.scenario.load_scenario`. These functions are pure (no I/O).
"""

from __future__ import annotations

import copy
import re
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel

from pecopt.errors import ScenarioError
from pecopt.scenario.schema import Scenario

Step = str | int
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def parse_path(path: str, source: str | Path | None = None) -> tuple[Step, ...]:
    """``"assets.batteries[0].capacity_kwh"`` -> ``("assets", "batteries", 0, "capacity_kwh")``.

    Raises
    ------
    ScenarioError
        The path is not keys joined by dots with optional ``[i]`` indices (i >= 0).
    """
    steps: list[Step] = []
    for part in path.split("."):
        m = _STEP.fullmatch(part)
        if m is None:
            raise ScenarioError(
                source, path, "not an override path (keys joined by '.', list items as [i])"
            )
        steps.append(m.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return tuple(steps)


def format_path(steps: tuple[Step, ...]) -> str:
    """The inverse of :func:`parse_path`."""
    out = ""
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else s)
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


def _unwrap(tp: Any) -> Any:
    """Drop ``None`` from an optional type and ``Annotated`` wrappers."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


def check_path(steps: tuple[Step, ...], source: str | Path | None = None) -> None:
    """Check that ``steps`` names a field of the scenario schema.

    Raises
    ------
    ScenarioError
        A key that the schema does not have there, an index into something that is not a
        list, or a key into a list.
    """
    tp: Any = Scenario
    path = format_path(steps)
    for i, step in enumerate(steps):
        tp = _unwrap(tp)
        where = format_path(steps[:i]) or "<root>"
        origin = typing.get_origin(tp)
        if isinstance(step, int):
            if origin is not list:
                raise ScenarioError(source, path, f"{where} is not a list: no [{step}]")
            tp = typing.get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            if step not in tp.model_fields:
                raise ScenarioError(source, path, f"unknown key {step!r} in {where} (misspelt?)")
            tp = tp.model_fields[step].annotation
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        elif origin is list:
            raise ScenarioError(source, path, f"{where} is a list: give an index, e.g. [0]")
        else:
            raise ScenarioError(source, path, f"{where} is a single value: no key {step!r}")


def apply_overrides(
    raw: dict[str, Any], overrides: dict[str, Any], source: str | Path | None = None
) -> dict[str, Any]:
    """A copy of the raw scenario data with each ``path: value`` set.

    Missing mappings on the way are created; a list index must name an existing item
    (it replaces that field of that item).

    Raises
    ------
    ScenarioError
        A path the schema does not have, or an index out of range, naming the path.
    """
    out = copy.deepcopy(raw)
    for path, value in overrides.items():
        steps = parse_path(path, source)
        check_path(steps, source)
        node: Any = out
        for i, step in enumerate(steps[:-1]):
            nxt = steps[i + 1]
            node = _child(node, step, steps, i, source, want_list=isinstance(nxt, int))
        last = steps[-1]
        if isinstance(last, int):
            _check_index(node, last, steps, len(steps) - 1, source)
        node[last] = value
    return out


def _child(
    node: Any, step: Step, steps: tuple[Step, ...], i: int, source: Any, want_list: bool
) -> Any:
    if isinstance(step, int):
        _check_index(node, step, steps, i, source)
    elif node.get(step) is None:
        if want_list:
            _check_index([], int(steps[i + 1]), steps, i + 1, source)
        node[step] = {}
    child = node[step]
    if want_list and not isinstance(child, list):
        raise ScenarioError(source, format_path(steps), "the scenario holds no list there")
    if not want_list and not isinstance(child, dict):
        raise ScenarioError(source, format_path(steps), "the scenario holds no mapping there")
    return child


def _check_index(node: Any, index: int, steps: tuple[Step, ...], i: int, source: Any) -> None:
    if not isinstance(node, list) or index >= len(node):
        n = len(node) if isinstance(node, list) else 0
        where = format_path(steps[:i])
        raise ScenarioError(
            source,
            format_path(steps),
            f"index {index} out of range: {where} has {n} item{'s' if n != 1 else ''}",
        )

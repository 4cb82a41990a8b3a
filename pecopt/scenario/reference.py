"""The scenario reference: every key a scenario file may hold, generated from the schema.

Each pydantic model reachable from :class:`~pecopt.scenario.schema.Scenario` becomes one
section (in the order a scenario file meets them: depth first, in field order, the
heading one level deeper per level of nesting, down to ``####``) with a
table of its keys: the type (constraints included), the unit (the first ``[...]`` of the
field's description), the default ("required" where there is none) and the description
(the docstring under the field, :class:`~pecopt.scenario.types.Strict`). Models used at
several places (a :class:`~pecopt.scenario.types.Size`, a time-series file) are described
once, under "Shared records", and linked. The layouts file of ``pecopt compare``
follows as an appendix.

Plain Python: the documentation site renders the Markdown (``docs/hooks.py``), and the
tests check it without the documentation tools installed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["reachable_models", "scenario_reference"]

#: Words in brackets that are not units.
_NOT_UNITS = ("assumption", "estimate", "example", "src")
_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _nested(tp: Any) -> list[type[BaseModel]]:
    """The models inside a type annotation (through unions, lists, mappings, Annotated)."""
    if _is_model(tp):
        return [tp]
    return [m for arg in get_args(tp) for m in _nested(arg)]


def reachable_models(root: type[BaseModel]) -> dict[type[BaseModel], list[str]]:
    """Every model reachable from ``root``, depth first in field order, with the key
    paths it appears at (``assets.heat_pumps[].borehole``; ``""`` for the root)."""
    found: dict[type[BaseModel], list[str]] = {}

    def walk(model: type[BaseModel], path: str) -> None:
        first = model not in found
        found.setdefault(model, []).append(path)
        if not first:
            return
        for name, field in model.model_fields.items():
            many = get_origin(field.annotation) is list
            for sub in _nested(field.annotation):
                key = f"{path}.{name}" if path else name
                walk(sub, key + ("[]" if many else ""))

    walk(root, "")
    return found


def _plain(text: str) -> str:
    """Docstring text as Markdown: Sphinx roles as code, on one line, pipes and brackets
    escaped (``[kWh] [assumption]`` is not a Markdown link)."""
    text = " ".join(_ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1]}`", text).split())
    parts = re.split(r"(``.+?``|`[^`]+`)", text)  # code spans stay as written
    for i in range(0, len(parts), 2):
        for char in "|[]":
            parts[i] = parts[i].replace(char, "\\" + char)
    return "".join(parts)


def _bounds(metadata: list[Any]) -> str:
    signs = {at.Ge: ("ge", ">="), at.Gt: ("gt", ">"), at.Le: ("le", "<="), at.Lt: ("lt", "<")}
    out = []
    for item in metadata:
        for kind, (attr, sign) in signs.items():
            if isinstance(item, kind):
                out.append(f"{sign} {getattr(item, attr)}")
        if isinstance(item, FieldInfo):
            out.append(_bounds(item.metadata))
    return ", ".join(x for x in out if x)


def _type(tp: Any, anchors: dict[type[BaseModel], str]) -> str:
    """A readable type: ``float (>= 0)``, ``"air" or "ground"``, ``list of [Size](#size)``."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        bounds = _bounds(list(args[1:]))
        inner = _type(args[0], anchors)
        return f"{inner} ({bounds})" if bounds else inner
    if origin in (Union, UnionType):
        return " or ".join(_type(a, anchors) for a in args)
    if origin is Literal:
        return " or ".join(f'`"{a}"`' if isinstance(a, str) else f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_type(args[0], anchors)}"
    if origin is dict:
        return f"mapping of {_type(args[0], anchors)} to {_type(args[1], anchors)}"
    if origin is tuple:
        return "(" + ", ".join(_type(a, anchors) for a in args) + ")"
    if tp is NoneType:
        return "null"
    if _is_model(tp):
        return f"[{tp.__name__}](#{anchors[tp]})"
    if tp is Path:
        return "path"
    return getattr(tp, "__name__", str(tp))


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        given = value.model_dump(mode="json", exclude_defaults=True)
        return f"`{json.dumps(given)}`" if given else "its defaults"
    if isinstance(value, Path):
        value = str(value)
    return f"`{json.dumps(value)}`".replace("|", "\\|")


def unit(description: str) -> str:
    """The unit of a field: the first ``[...]`` of its description that is not a note
    (``[assumption]``), without the brackets; ``""`` when it has none."""
    prose = re.sub(r"``.+?``|`[^`]+`", "", description)  # not c[v,t] in an equation
    for found in re.findall(r"\[([^\[\]]+)\]", prose):
        if not found.startswith(_NOT_UNITS):
            return found
    return ""


def _section(
    model: type[BaseModel], paths: list[str], anchors: dict[type[BaseModel], str], level: int
) -> list[str]:
    lines = [f"{'#' * level} {model.__name__} {{#{anchors[model]}}}", ""]
    if paths:
        where = ", ".join(f"`{p}`" for p in paths if p) or "the top level of a scenario file"
        lines += [f"At: {where}.", ""]
    if model.__doc__ and not model.__doc__.startswith(model.__name__ + "("):
        for para in model.__doc__.strip().split("\n\n"):
            lines += [_plain(para), ""]
    lines += ["| Key | Type | Unit | Default | Description |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        text = field.description or ""
        tp = _type(field.annotation, anchors)
        bounds = _bounds(field.metadata)
        if bounds:
            tp += f" ({bounds})"
        row = [f"`{name}`", tp, unit(text), _default(field), _plain(text)]
        lines.append("| " + " | ".join(row) + " |")
    return [*lines, ""]


def scenario_reference() -> str:
    """The scenario reference as Markdown (the page ``reference/scenario.md`` of the site)."""
    from pecopt.scenario.layouts import LayoutsFile
    from pecopt.scenario.schema import Scenario

    models = reachable_models(Scenario)
    every: list[type[BaseModel]] = [*models, LayoutsFile]
    anchors = {m: m.__name__.lower().lstrip("_") for m in every}
    lines = [
        "# Scenario reference",
        "",
        "Every key a scenario file may hold, generated from the schema "
        "(`pecopt/scenario/schema.py` and each technology's file) when the site is built. "
        "Unknown keys are errors; numbers must be finite. Units are in brackets "
        "(`[1]`: a fraction); `[assumption]` marks a figure that is not sourced. Relative "
        "paths are relative to the file that wrote them. A *Size* may stand wherever a "
        "capacity is given: the optimiser then chooses it.",
        "",
    ]
    shared = [m for m, paths in models.items() if len(paths) > 1]
    for model, paths in models.items():
        if model not in shared:
            depth = paths[0].count(".") if paths[0] else 0
            lines += _section(model, paths, anchors, min(2 + depth, 4))
    lines += ["## Shared records", "", "Records used at several places.", ""]
    for model in shared:
        lines += _section(model, models[model], anchors, 3)
    lines += [
        "## Appendix: the layouts file",
        "",
        "`pecopt compare` reads a layouts file: a base scenario and named variants that "
        "change parts of it (see the designer's guide).",
        "",
        *_section(LayoutsFile, [], anchors, 3),
    ]
    return "\n".join(lines)

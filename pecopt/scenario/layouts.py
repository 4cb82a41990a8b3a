"""Layouts: a base scenario and named variants that change parts of it, all validated
before anything is solved (``pecopt compare``).

A layouts file::

    base: kera.yaml             # the base scenario, relative to this file
    include_base: true          # solve the base itself as the variant "base" (default)
    common:                     # optional: changes applied to the base and every variant
      horizon: {start: "2025-01-01T00:00", end: "2025-02-01T00:00"}
    variants:
      big_store:                # a name: letters, digits, "_", "-", "." (it names a folder)
        assets:
          batteries: {shared_battery: null}                  # remove an item by name
          thermal_stores: {hot_water_store: {capacity_kwh: 30000}}   # change one field
      second_heat_pump:
        assets:
          heat_pumps: {gshp_2: {source: ground, capacity_kw_el: 300}}  # a new name: added

Merge rules (a variant's value over the base's, after ``common``):

- a mapping over a mapping merges key by key, recursively;
- any other value replaces the base's (numbers, text, ``null``, a list over a list, a
  file column over an inline series); but a list of named records that replaces the
  base's list must not drop fields of an item it names again (they would fall back to
  their defaults): that is refused, saying how to change the item by name;
- a **mapping over a list of named records** (items with a ``name``: buildings, their
  ``pv`` arrays, every ``assets`` list) merges by name: ``NAME: {...}`` merges into the
  item called NAME, or appends a new item called NAME when there is none;
  ``NAME: null`` removes the item. Order: the base's items, then the new ones.

Each variant is validated in full like a scenario file. A problem is reported once, in
the file the faulty value came from: a value a variant wrote names the layouts file,
the line and the path under ``variants.NAME``; a base value that a variant made invalid
names the base file and the variant. Relative paths are relative to the file that
wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel

from pecopt.errors import ScenarioError
from pecopt.scenario.loader import (
    _check_moved,
    _check_names,
    _keys_of,
    _leaves,
    _models_at,
    _near,
    _valid_keys,
    field_name,
    scenario_of,
    validate_document,
)
from pecopt.scenario.overrides import SET, apply_sets
from pecopt.scenario.schema import Scenario
from pecopt.scenario.types import Strict
from pecopt.scenario.yaml_source import DataPath, YamlDocument, YamlProblem, read_yaml

__all__ = [
    "BASE",
    "Layouts",
    "LayoutsFile",
    "Merged",
    "Variant",
    "load_extending",
    "load_layouts",
    "merge",
]

#: The name of the base scenario as a variant.
BASE = "base"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class LayoutsFile(Strict):
    """The keys of a layouts file (see the module docstring)."""

    base: Path
    """The base scenario file, relative to the layouts file."""
    include_base: bool = True
    """Solve the base itself as the variant ``base``."""
    common: dict[str, Any] = {}
    """Changes applied to the base and to every variant (merged like a variant's)."""
    variants: dict[str, dict[str, Any] | None] = {}
    """Named variants: each a set of changes to the base (see the merge rules); null: none."""


@dataclass(frozen=True)
class Variant:
    """One validated variant: its name, its scenario, and the changes it made."""

    name: str
    scenario: Scenario
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Layouts:
    """A validated layouts file: ``variants`` in file order (the base first)."""

    path: Path
    base: Path
    variants: tuple[Variant, ...]

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variants]


# --------------------------------------------------------------------------- merging

#: Where a value of the merged data came from: (source index, path in that source).
Origin = tuple[int, DataPath]
ListField = Callable[[DataPath], bool]


@dataclass
class Merged:
    """Merged scenario data and where each of its values came from."""

    data: Any
    origins: dict[DataPath, Origin]


class MergeProblem(Exception):
    """A change that cannot be applied: ``problem`` at ``path`` of its source."""

    def __init__(self, origin: Origin, problem: str) -> None:
        self.origin = origin
        self.problem = problem
        super().__init__(problem)


def _walk(node: Any, out: DataPath, src: Origin, origins: dict[DataPath, Origin]) -> None:
    """Record the origin of ``node`` placed at ``out`` and of everything below it."""
    origins[out] = src
    if isinstance(node, dict):
        for k, v in node.items():
            _walk(v, (*out, k), (src[0], (*src[1], k)), origins)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk(v, (*out, i), (src[0], (*src[1], i)), origins)


def _copy(
    node: Any,
    old: DataPath,
    new: DataPath,
    before: dict[DataPath, Origin],
    after: dict[DataPath, Origin],
) -> None:
    """Carry the origins of an unchanged subtree from ``old`` to ``new``."""
    after[new] = before.get(old, before.get(new, (0, old)))
    if isinstance(node, dict):
        for k, v in node.items():
            _copy(v, (*old, k), (*new, k), before, after)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _copy(v, (*old, i), (*new, i), before, after)


def _named(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(x, dict) and "name" in x for x in items)


def merge(base: Merged, change: Any, src: Origin, is_list: ListField = lambda p: False) -> Merged:
    """``change`` (from source ``src``) merged over ``base`` by the module's rules.

    Raises
    ------
    MergeProblem
        A by-name change to a list whose items have no names, or a renamed item.
    """
    origins: dict[DataPath, Origin] = {}
    data = _merge(base.data, (), (), change, src, base.origins, origins, is_list)
    return Merged(data, origins)


def _merge_located(
    base: Merged, change: Any, src: Origin, docs: list[YamlDocument], files: list[Path]
) -> Merged:
    """:func:`merge` of scenario data, a problem raised as a :class:`ScenarioError` at the
    file, line and field it came from (``docs[i]`` and ``files[i]`` are source ``i``)."""
    try:
        return merge(base, change, src, _schema_list)
    except MergeProblem as exc:
        i, p = exc.origin
        line, column = docs[i].key_mark(p) or (None, None)
        raise ScenarioError(
            files[i], field_name(p), exc.problem, line=line, column=column
        ) from None


def _merge(
    old: Any,
    old_path: DataPath,
    out: DataPath,
    change: Any,
    src: Origin,
    before: dict[DataPath, Origin],
    after: dict[DataPath, Origin],
    is_list: ListField,
) -> Any:
    if isinstance(change, dict) and isinstance(old, dict):
        after[out] = before.get(old_path, src)
        result: dict[Hashable, Any] = {}
        for k, v in old.items():
            if k not in change:
                _copy(v, (*old_path, k), (*out, k), before, after)
                result[k] = v
        for k, v in change.items():
            sub = (src[0], (*src[1], k))
            if k in old or (isinstance(v, dict) and is_list((*out, k))):
                result[k] = _merge(
                    old.get(k), (*old_path, k), (*out, k), v, sub, before, after, is_list
                )
            else:
                _walk(v, (*out, k), sub, after)
                result[k] = v
        return {k: result[k] for k in [*old, *(k for k in change if k not in old)] if k in result}
    if isinstance(change, dict) and (_named(old) or (old is None and is_list(out))):
        return _by_name(old or [], old_path, out, change, src, before, after, is_list)
    if isinstance(change, dict) and isinstance(old, list) and any(isinstance(x, dict) for x in old):
        raise MergeProblem(
            src,
            "the base holds a list whose items have no 'name', so it cannot be changed "
            "by name: give the whole list",
        )
    if _named(old) and _named(change):
        _check_replacement(old, change, out, src)
    _walk(change, out, src, after)
    return change


def _check_replacement(
    old: list[dict[str, Any]], new: list[dict[str, Any]], out: DataPath, src: Origin
) -> None:
    """Refuse a list of named records that replaces the base's list and drops fields of
    an item it names again (they would silently fall back to their defaults).

    Raises
    ------
    MergeProblem
        Naming the item, the fields it would lose, and how to change it by name.
    """
    before = {item["name"]: item for item in old}
    for item in new:
        base = before.get(item["name"])
        lost = [k for k in base or {} if k not in item]
        if base is None or not lost:
            continue
        key = str(out[-1]) if out else "items"
        changed = [k for k in item if k != "name" and item[k] != base.get(k)]
        example = ", ".join(f"{k}: {item[k]!r}" for k in changed[:2]) or "KEY: VALUE"
        raise MergeProblem(
            src,
            f"this list replaces the base's, and its item {item['name']!r} would lose "
            f"{', '.join(map(str, lost))} (back to their defaults): change items by name "
            f"instead, {key}: {{{item['name']}: {{{example}}}}} (other items are kept; "
            "NAME: null removes one), or repeat every field",
        )


def _by_name(
    old: list[dict[str, Any]],
    old_path: DataPath,
    out: DataPath,
    change: dict[Any, Any],
    src: Origin,
    before: dict[DataPath, Origin],
    after: dict[DataPath, Origin],
    is_list: ListField,
) -> list[Any]:
    after[out] = before.get(old_path, src)
    result: list[Any] = []
    index = {item["name"]: i for i, item in enumerate(old)}
    for name, v in change.items():
        sub = (src[0], (*src[1], name))
        if v is not None and not isinstance(v, dict):
            raise MergeProblem(sub, "an item changed by name takes a mapping of keys, or null")
        if isinstance(v, dict) and "name" in v and v["name"] != name:
            raise MergeProblem(
                (sub[0], (*sub[1], "name")), f"the name differs from its key {name!r}"
            )
        if v is None and name not in index:
            raise MergeProblem(
                sub, f"no item named {name!r} to remove (there are: {', '.join(map(str, index))})"
            )
    for i, item in enumerate(old):
        name = item["name"]
        at = (*out, len(result))
        if name not in change:
            _copy(item, (*old_path, i), at, before, after)
            result.append(item)
        elif change[name] is not None:
            sub = (src[0], (*src[1], name))
            result.append(
                _merge(item, (*old_path, i), at, change[name], sub, before, after, is_list)
            )
    for name, v in change.items():
        if name in index:
            continue
        sub = (src[0], (*src[1], name))
        item = {"name": name, **v}
        at = (*out, len(result))
        _walk(item, at, sub, after)
        after[(*at, "name")] = sub  # the key names the item
        result.append(item)
    return result


def _schema_list(path: DataPath) -> bool:
    """Whether the scenario schema has a list at ``path`` (e.g. ``assets.waste_heat``)."""
    if not path or not isinstance(path[-1], str):
        return False
    for model in _models_at(Scenario, path[:-1]):
        ann = _keys_of(model).get(path[-1])
        if ann is not None and any(get_origin(x) is list for x in _leaves(ann)):
            return True
    return False


# --------------------------------------------------------------------------- loading


def _read(path: Path) -> YamlDocument:
    try:
        return read_yaml(path)
    except YamlProblem as exc:
        field = field_name(exc.path) if exc.path else exc.field
        raise ScenarioError(path, field, exc.problem, line=exc.line, column=exc.column) from None


def _doc(merged: Merged, docs: list[YamlDocument]) -> YamlDocument:
    """The merged data with each key's and value's position in the file it came from."""
    keys, values = {}, {}
    for out, (i, p) in merged.origins.items():
        k, v = docs[i].keys.get(p) or docs[i].values.get(p), docs[i].values.get(p)
        if k is not None:
            keys[out] = k
        if v is not None:
            values[out] = v
    return YamlDocument(merged.data, keys, values)


def _located(
    exc: ScenarioError,
    merged: Merged,
    docs: list[YamlDocument],
    files: list[Path],
    name: str,
) -> ScenarioError:
    """``exc`` (about the merged data) told in the file and at the path it came from."""
    last = len(docs) - 1  # the layouts (or extending scenario) file; before it, its bases
    layouts = files[last]
    by_field = {field_name(p): p for p in merged.origins}
    hit = max(
        (f for f in by_field if exc.field == f or exc.field.startswith((f + ".", f + "["))),
        key=len,
        default=None,
    )
    if hit is None:  # the root: the variant as a whole
        return ScenarioError(
            layouts, f"variants.{name}", exc.problem, line=exc.line, column=exc.column
        )
    at = by_field[hit]
    i, p = merged.origins[at]
    line, column = exc.line, exc.column
    problem = exc.problem
    if i != last and name != BASE:  # a base value: did the variant write anything below it?
        for q, (j, r) in merged.origins.items():
            if j == last and q[: len(at)] == at and len(r) > len(q) - len(at):
                i, p = last, r[: len(r) - (len(q) - len(at))]
                line, column = docs[last].key_mark(p) or (None, None)
                break
    if problem.startswith("unknown key") and len(at) >= 1:
        near = _near(str(at[-1]), _valid_keys(Scenario, at[:-1]))
        if near is not None and near != at[-1]:
            problem = f"unknown key; did you mean {near!r}?"
    field = field_name(p) + exc.field[len(hit) :]
    if i != last and name != BASE:
        problem += f" (in variant {name!r} of {layouts})"
    elif i != last:
        problem += f" (the base of {layouts})"
    return ScenarioError(files[i], field, problem, line=line, column=column)


def _resolve_paths(
    model: BaseModel, path: DataPath, folder: Callable[[DataPath], Path]
) -> BaseModel:
    """Relative paths made absolute against the folder of the file that wrote them."""
    updates: dict[str, Any] = {}
    for key in type(model).model_fields:
        value = getattr(model, key)
        here = (*path, key)
        if isinstance(value, Path) and not value.is_absolute():
            try:
                updates[key] = (folder(here) / value).resolve()
            except (OSError, RuntimeError):  # a symbolic-link loop: the reader says so
                updates[key] = folder(here) / value
        elif isinstance(value, BaseModel):
            updates[key] = _resolve_paths(value, here, folder)
        elif isinstance(value, list) and any(isinstance(v, BaseModel) for v in value):
            updates[key] = [
                _resolve_paths(v, (*here, i), folder) if isinstance(v, BaseModel) else v
                for i, v in enumerate(value)
            ]
    return model.model_copy(update=updates) if updates else model


def _variant(
    name: str,
    base: Merged,
    change: dict[str, Any] | None,
    at: DataPath,
    docs: list[YamlDocument],
    files: list[Path],
    overrides: dict[str, Any] | None = None,
    sets: Sequence[str] = (),
) -> Variant:
    last = len(docs) - 1
    layouts = files[last]
    merged = _merge_located(base, change or {}, (last, at), docs, files)
    doc, landed = apply_sets(_doc(merged, docs), sets)
    try:
        scenario = validate_document(Scenario, doc, layouts, overrides, landed)
    except ScenarioError as exc:
        if exc.file == SET:
            raise
        raise _located(exc, merged, docs, files, name) from None

    def folder(p: DataPath) -> Path:
        origin = merged.origins.get(p)
        return files[origin[0] if origin else 0].resolve().parent

    resolved = _resolve_paths(scenario, (), folder)
    assert isinstance(resolved, Scenario)
    try:
        _check_names(resolved, layouts, doc)
    except ScenarioError as exc:
        raise ScenarioError(
            layouts, f"variants.{name}", exc.problem, line=exc.line, column=exc.column
        ) from None
    return Variant(name, resolved.with_set_options(tuple(sets)), dict(change or {}))


def load_layouts(path: str | Path, sets: Sequence[str] = ()) -> Layouts:
    """Read a layouts file and validate the base and every variant in full, each with
    the ``--set PATH=VALUE`` options ``sets`` applied after its changes.

    Raises
    ------
    ScenarioError
        The first problem: in the layouts file (its keys, a variant name, a change that
        cannot be applied or an invalid value it writes), or in the base scenario.
    """
    path = Path(path)
    doc = _read(path)
    spec = validate_document(LayoutsFile, doc, path)
    for name in spec.variants:
        line, column = doc.key_mark(("variants", name)) or (None, None)
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ScenarioError(
                path,
                f"variants.{name}",
                "a variant name is 1-100 letters, digits, '_', '-' or '.', starting with a "
                "letter or digit (it names a folder)",
                line=line,
                column=column,
            )
        if name == BASE and spec.include_base:
            raise ScenarioError(
                path,
                f"variants.{name}",
                f"{BASE!r} is the base scenario's own name (or set include_base: false)",
                line=line,
                column=column,
            )
    if not spec.variants and not spec.include_base:
        raise ScenarioError(path, "variants", "nothing to solve: no variants and no base")
    base_file = spec.base if spec.base.is_absolute() else path.parent / spec.base
    base, docs, files = _chain(base_file)
    docs, files = [*docs, doc], [*files, path]
    base = _merge_located(base, spec.common, (len(docs) - 1, ("common",)), docs, files)
    out = []
    if spec.include_base:
        out.append(_variant(BASE, base, {}, ("common",), docs, files, sets=sets))
    for name, change in spec.variants.items():
        out.append(_variant(name, base, change, ("variants", name), docs, files, sets=sets))
    return Layouts(path, base_file, tuple(out))


def _chain(
    path: Path, seen: tuple[Path, ...] = ()
) -> tuple[Merged, list[YamlDocument], list[Path]]:
    """A scenario file merged over the chain of files it starts from (``base: FILE``),
    with each value's origin (index into the returned documents and files)."""
    doc = _read(path)
    _check_moved(doc, path)
    if not isinstance(doc.data, dict):
        validate_document(Scenario, doc, path)  # says what is wrong with it
    here = path.resolve()
    if here in seen:
        line, column = doc.mark(("base",)) or (None, None)
        raise ScenarioError(path, "base", "the files start from each other in a loop",
                            line=line, column=column)  # fmt: skip
    if "base" not in doc.data:
        start: dict[DataPath, Origin] = {}
        _walk(doc.data, (), (0, ()), start)
        return Merged(doc.data, start), [doc], [path]
    ref = doc.data["base"]
    if not isinstance(ref, str) or not ref:
        line, column = doc.mark(("base",)) or (None, None)
        raise ScenarioError(path, "base", "give the scenario file this one starts from",
                            line=line, column=column)  # fmt: skip
    base_file = Path(ref) if Path(ref).is_absolute() else path.parent / ref
    merged, docs, files = _chain(base_file, (*seen, here))
    change = {k: v for k, v in doc.data.items() if k != "base"}
    docs, files = [*docs, doc], [*files, path]
    return _merge_located(merged, change, (len(docs) - 1, ()), docs, files), docs, files


def load_extending(
    path: Path, doc: YamlDocument, overrides: dict[str, Any] | None, sets: Sequence[str] = ()
) -> Scenario:
    """A scenario file that starts from another: ``base: FILE`` (relative to this file;
    that file may start from another in turn) and the changes to it, merged as a layouts
    variant's are (named records by name; ``NAME: null`` removes one). Problems are told
    in the file the value came from."""
    assert isinstance(doc.data, dict)
    ref = doc.data["base"]
    if not isinstance(ref, str) or not ref:
        line, column = doc.mark(("base",)) or (None, None)
        raise ScenarioError(path, "base", "give the scenario file this one starts from",
                            line=line, column=column)  # fmt: skip
    _check_moved(doc, path)
    base_file = Path(ref) if Path(ref).is_absolute() else path.parent / ref
    base, docs, files = _chain(base_file, (path.resolve(),))
    change = {k: v for k, v in doc.data.items() if k != "base"}
    v = _variant(path.stem, base, change, (), [*docs, doc], [*files, path], overrides, sets)
    return v.scenario


def load_scenario(
    path: str | Path, overrides: dict[str, Any] | None = None, sets: Sequence[str] = ()
) -> Scenario:
    """Read, merge and validate a scenario file.

    ``sets``: ``--set PATH=VALUE`` options, applied in order to the file's data (merged
    over its ``base:`` files) before validation (:mod:`pecopt.scenario.overrides`); the
    scenario records them (:attr:`~pecopt.scenario.schema.Scenario.set_options`).
    ``overrides`` (command-line flags such as ``--threads``) are merged over that.

    Raises
    ------
    ScenarioError
        The file cannot be read (missing, a folder, a symbolic-link loop, not UTF-8), is
        not valid YAML, repeats a key, or holds an unknown key or an invalid value; the
        message names the file, the key and, where known, the line and column. A bad
        ``--set`` is named as ``--set: PATH: problem``.
    """
    path = Path(path)
    try:
        doc = read_yaml(path)
    except YamlProblem as exc:
        field = field_name(exc.path) if exc.path else exc.field
        raise ScenarioError(path, field, exc.problem, line=exc.line, column=exc.column) from None
    if isinstance(doc.data, dict) and "base" in doc.data:  # starts from another scenario
        return load_extending(path, doc, overrides, sets)
    changed, landed = apply_sets(doc, sets)
    return scenario_of(changed, path, overrides, landed).with_set_options(tuple(sets))

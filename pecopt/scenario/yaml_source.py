"""Read a YAML file into plain data plus the line and column of every key and value.

:class:`PositionLoader` is PyYAML's ``SafeLoader`` (no arbitrary Python objects) with two
additions: a key given twice in one mapping is an error naming both lines (plain
``SafeLoader`` keeps the last one silently), and :meth:`PositionLoader.load_document`
records where each key and value stands, keyed by its path in the data, e.g.
``("assets", "batteries", 0, "capacity_kwh")``. Merge keys (``<<: *defaults``) and anchors
work as in ``SafeLoader``; a key given after a merge overrides the merged one (not a
duplicate).

:func:`read_yaml` turns every failure (file, encoding, syntax, duplicates) into a
:class:`YamlProblem` with the position when the parser knows it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pecopt.files import FileProblem, read_utf8

__all__ = ["DataPath", "Mark", "PositionLoader", "YamlDocument", "YamlProblem", "read_yaml"]

#: A path into parsed YAML data: mapping keys and list positions.
DataPath = tuple[Hashable, ...]
#: ``(line, column)``, both 1-based.
Mark = tuple[int, int]

_MERGE_TAG = "tag:yaml.org,2002:merge"
#: Stop recording positions beyond this many nodes (alias bombs expand exponentially).
_MAX_NODES = 200_000


class YamlProblem(Exception):
    """A YAML file cannot be read: ``problem`` at ``path`` (data path), ``line``, ``column``.

    ``field`` names what is wrong when the path is empty: ``<file>`` (reading, encoding)
    or ``<yaml>`` (syntax).
    """

    def __init__(
        self,
        problem: str,
        path: DataPath = (),
        line: int | None = None,
        column: int | None = None,
        *,
        field: str = "<yaml>",
    ) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        self.column = column
        self.field = field
        super().__init__(problem)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML ``data`` with the positions of its keys and values."""

    data: Any
    keys: dict[DataPath, Mark] = field(default_factory=dict)
    values: dict[DataPath, Mark] = field(default_factory=dict)

    def mark(self, path: DataPath) -> Mark | None:
        """Where the value at ``path`` starts, or failing that its key."""
        return self.values.get(path) or self.keys.get(path)

    def key_mark(self, path: DataPath) -> Mark | None:
        """Where the key of ``path`` stands (a list item: where the item starts)."""
        return self.keys.get(path) or self.values.get(path)


def _mark(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class PositionLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses duplicate keys and records positions (see module doc)."""

    def load_document(self) -> YamlDocument:
        """Compose, check and construct the single document of the stream.

        Raises
        ------
        yaml.YAMLError
            Syntax errors, several documents, unknown tags.
        YamlProblem
            A duplicate key.
        """
        node = self.get_single_node()
        if node is None:
            return YamlDocument(None)
        doc = YamlDocument(None)
        self._record(node, (), doc, set(), [0])
        return YamlDocument(self.construct_document(node), doc.keys, doc.values)

    def _key(self, node: Node) -> Hashable | None:
        if not isinstance(node, ScalarNode):
            return None  # a complex key: SafeLoader itself reports unhashable ones
        key = self.construct_object(node, deep=True)
        return key if isinstance(key, Hashable) else None

    def _record(
        self, node: Node, path: DataPath, doc: YamlDocument, stack: set[int], count: list[int]
    ) -> None:
        count[0] += 1
        if count[0] > _MAX_NODES or id(node) in stack:  # huge, or a recursive alias
            return
        doc.values.setdefault(path, _mark(node))
        if isinstance(node, SequenceNode):
            stack.add(id(node))
            for i, item in enumerate(node.value):
                self._record(item, (*path, i), doc, stack, count)
            stack.discard(id(node))
        elif isinstance(node, MappingNode):
            stack.add(id(node))
            own: dict[Hashable, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self._key(key_node)
                if key is None:
                    continue
                if key in own:
                    first = _mark(own[key])
                    line, column = _mark(key_node)
                    raise YamlProblem(
                        f"duplicate key {key!r}: first at line {first[0]}, column {first[1]}, "
                        f"again at line {line}, column {column} (keep one)",
                        (*path, key),
                        line,
                        column,
                    )
                own[key] = key_node
            for merged in self._merged(node):  # merged keys first: own keys override them
                for key_node, value_node in merged.value:
                    key = self._key(key_node)
                    if key is not None and key not in own:
                        doc.keys[(*path, key)] = _mark(key_node)
                        self._record(value_node, (*path, key), doc, stack, count)
            for key_node, value_node in node.value:
                key = self._key(key_node) if key_node.tag != _MERGE_TAG else None
                if key is not None:
                    doc.keys[(*path, key)] = _mark(key_node)
                    doc.values[(*path, key)] = _mark(value_node)
                    self._record(value_node, (*path, key), doc, stack, count)
            stack.discard(id(node))

    @staticmethod
    def _merged(node: MappingNode) -> Iterator[MappingNode]:
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            parts = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            yield from (p for p in parts if isinstance(p, MappingNode))


def _syntax_problem(exc: yaml.YAMLError, text: str) -> YamlProblem:
    """One line from a PyYAML error, with the position of the problem."""
    if isinstance(exc, yaml.MarkedYAMLError):
        words = [w for w in (exc.context, exc.problem) if w]
        problem = ": ".join(words) or "not valid YAML"
        mark = exc.problem_mark or exc.context_mark
        line = column = None
        if mark is not None:
            line, column = mark.line + 1, mark.column + 1
            if line <= len(text.splitlines()) and "\t" in text.splitlines()[line - 1][:column]:
                problem += " (YAML indents with spaces, not tabs)"
        return YamlProblem(f"not valid YAML: {problem}", (), line, column)
    if isinstance(exc, yaml.reader.ReaderError):
        pos = exc.position
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character))
        return YamlProblem(
            f"not valid YAML: control character U+{char:04X} is not allowed", (), line, column
        )
    return YamlProblem(f"not valid YAML: {exc}".splitlines()[0])


def parse_yaml(text: str) -> YamlDocument:
    """Parse YAML ``text`` with :class:`PositionLoader`.

    Raises
    ------
    YamlProblem
        Syntax error or duplicate key, with its line and column.
    """
    try:
        loader = PositionLoader(text)  # the reader checks for control characters here
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, text) from None
    try:
        return loader.load_document()
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, text) from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> YamlDocument:
    """Read and parse a UTF-8 YAML file (see :func:`pecopt.files.read_utf8`).

    Raises
    ------
    YamlProblem
        The file cannot be read (missing, a folder, a symbolic-link loop, no permission,
        not UTF-8), or is not valid YAML, or holds a duplicate key.
    """
    try:
        text = read_utf8(path)
    except FileProblem as exc:
        raise YamlProblem(exc.problem, (), exc.line, exc.column, field="<file>") from None
    return parse_yaml(text)

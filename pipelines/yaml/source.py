"""Read YAML while remembering where every key and value stands, for errors with line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Document:
    """Plain Python data from a YAML file, plus the position of every key path in it."""

    path: Path
    data: Any
    positions: dict[KeyPath, Position] = field(default_factory=dict)
    key_positions: dict[KeyPath, Position] = field(default_factory=dict)
    collections: set[KeyPath] = field(default_factory=set)
    duplicates: list[tuple[KeyPath, Position]] = field(default_factory=list)

    def where(self, key_path: KeyPath, *, key: bool = False) -> Position:
        """Where ``key_path`` stands, or the nearest enclosing node.

        A scalar is pointed at itself; a mapping or list (or anything, with
        ``key``) at the key that names it, the line a reader looks for.
        """
        table = self.key_positions if key or key_path in self.collections else self.positions
        probe = key_path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), Position(1, 1))


class YamlSyntaxError(Exception):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(node: yaml.Node, path: KeyPath, document: Document) -> Any:
    document.positions[path] = _position(node)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        document.collections.add(path)
    if isinstance(node, yaml.MappingNode):
        own_keys = {id(key_node) for key_node, _ in node.value}
        # Resolve `<<: *defaults` merge keys as safe_load does; merged keys may be overridden.
        yaml.constructor.SafeConstructor().flatten_mapping(node)
        result: dict[Any, Any] = {}
        merged: set[str] = set()
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else key_node.start_mark.name
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            if key in result and key not in merged:
                document.duplicates.append((child, _position(key_node)))
            else:
                document.key_positions[child] = _position(key_node)
            merged.discard(key)
            if id(key_node) not in own_keys:
                merged.add(key)
            result[key] = _convert(value_node, child, document)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, index), document) for index, item in enumerate(node.value)]
    return _scalar(node)


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as safe_load reads it, except that dates stay text: templates and
    parameter defaults decide what a date means, not the YAML resolver."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _scalar(node: yaml.Node) -> Any:
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


_PLACEHOLDER = re.compile(r"\{[A-Za-z_][\w.]*(:[^}]*)?\}")


def _syntax_error(exc: yaml.MarkedYAMLError, source: str) -> YamlSyntaxError:
    problem_mark, context_mark = exc.problem_mark, exc.context_mark
    mark = problem_mark or context_mark
    position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if context_mark and exc.context and "flow" in exc.context and problem_mark:
        # An unclosed bracket is noticed lines later: point at the bracket.
        opened = Position(context_mark.line + 1, context_mark.column + 1)
        if opened.line != position.line:
            message = (
                f"YAML syntax error: the {exc.context.removeprefix('while parsing a ')} opened here "
                f"is not closed ({exc.problem} at line {position.line})"
            )
            position = opened
    lines = source.splitlines()
    line = lines[position.line - 1] if 0 < position.line <= len(lines) else ""
    if _PLACEHOLDER.search(line):
        message += '; quote values that contain {placeholders}, as in "{root}/out.csv"'
    return YamlSyntaxError(message, position)


def load(path: Path, text: str | None = None) -> Document:
    """Parse ``path`` (or ``text``); raise :class:`YamlSyntaxError` with a position on bad YAML."""
    source = path.read_text(encoding="utf-8") if text is None else text
    try:
        root = yaml.compose(source, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML syntax error: {exc}", Position(1, 1)) from None
    document = Document(path=path, data=None)
    if root is None:
        return document
    try:
        document.data = _convert(root, (), document)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlSyntaxError(f"YAML error: {exc.problem}", position) from None
    return document

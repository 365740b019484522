"""Read YAML while remembering where every key and value stands, for errors with line numbers."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.yaml.errors import YamlSyntaxError

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


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


# Deeper than any pipeline needs; it keeps PyYAML's recursive composer (and every reader of the
# data) far from Python's recursion limit, aliases included.
MAX_DEPTH = 100
# Aliases may repeat a value, but not explode it ("billion laughs"): this many values beyond the
# nodes written in the file, plus ten times their number, are allowed.
MAX_ALIAS_EXPANSION = 100_000


def _merged_pairs(
    node: yaml.MappingNode, cache: dict[int, list[tuple[yaml.Node, yaml.Node, bool]]]
) -> list[tuple[yaml.Node, yaml.Node, bool]]:
    """``node``'s (key, value, own) pairs with ``<<`` merge keys resolved as safe_load resolves them:
    merged mappings first (the first listed wins), then the node's own keys, which override them.

    Unlike PyYAML's flatten_mapping this neither recurses (a chain of merges may be long) nor
    modifies the shared nodes, and a mapping that merges itself is an error rather than a crash.
    """
    stack: list[tuple[yaml.MappingNode, bool]] = [(node, False)]
    active: set[int] = set()
    while stack:
        current, expanded = stack.pop()
        if id(current) in cache:
            continue
        sources: list[yaml.MappingNode] = []
        for key_node, value_node in current.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
                continue
            items = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for item in items:
                if not isinstance(item, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        current.start_mark,
                        f"expected a mapping or list of mappings for merging, but found {item.id}",
                        item.start_mark,
                    )
                sources.append(item)
        if not expanded:
            pending = [source for source in sources if id(source) not in cache]
            if pending:
                if id(current) in active:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        "a mapping merges itself (<<: alias to a mapping that contains it)",
                        current.start_mark,
                    )
                active.add(id(current))
                stack.append((current, True))
                stack.extend((source, False) for source in pending)
                continue
        for source in sources:
            if id(source) not in cache:  # it is being expanded further up: a loop of merges
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "a mapping merges itself (<<: alias to a mapping that contains it)",
                    source.start_mark,
                )
        pairs: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for key_node, value_node in current.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
                continue
            items = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for item in reversed(items):
                pairs.extend((key, value, False) for key, value, _ in cache[id(item)])
        pairs.extend(
            (key_node, value_node, True)
            for key_node, value_node in current.value
            if key_node.tag != "tag:yaml.org,2002:merge"
        )
        cache[id(current)] = pairs
        active.discard(id(current))
    return cache[id(node)]


def _key_text(key_node: yaml.Node) -> str:
    if isinstance(key_node, yaml.ScalarNode):
        key = _scalar(key_node)
        return key if isinstance(key, str) else str(key)
    kind = "mapping" if isinstance(key_node, yaml.MappingNode) else "list"
    return f"<a {kind} used as a key at line {key_node.start_mark.line + 1}>"


def _convert(root: yaml.Node, document: Document, composed: int) -> Any:
    """Plain data from the node graph, walked with an explicit stack (no recursion), recording
    positions; raise ConstructorError for an alias loop, nesting too deep or an alias explosion."""
    merges: dict[int, list[tuple[yaml.Node, yaml.Node, bool]]] = {}
    seen: set[int] = set()
    budget = MAX_ALIAS_EXPANSION + 10 * composed
    holder: list[Any] = [None]
    # (node, key path, container, slot in it, ancestors: the collection nodes above, innermost last)
    stack: list[tuple[yaml.Node, KeyPath, Any, Any, tuple[int, ...]]] = [(root, (), holder, 0, ())]
    while stack:
        node, path, container, slot, ancestors = stack.pop()
        if id(node) in seen:
            budget -= 1
            if budget < 0:
                raise yaml.constructor.ConstructorError(
                    None, None, "aliases expand to too many values (an alias bomb?)", node.start_mark
                )
        seen.add(id(node))
        document.positions[path] = _position(node)
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            container[slot] = _scalar(node)
            continue
        if id(node) in ancestors:
            raise yaml.constructor.ConstructorError(
                None, None, "this value contains an alias to itself: it would never end", node.start_mark
            )
        if len(ancestors) >= MAX_DEPTH:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"values nest more than {MAX_DEPTH} levels deep (counting aliases)",
                node.start_mark,
            )
        document.collections.add(path)
        below = (*ancestors, id(node))
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = [None] * len(node.value)
            container[slot] = items
            stack.extend(
                reversed(
                    [(item, (*path, index), items, index, below) for index, item in enumerate(node.value)]
                )
            )
        else:
            result: dict[str, Any] = {}
            container[slot] = result
            merged: set[str] = set()
            children: dict[str, tuple[yaml.Node, KeyPath, Any, Any, tuple[int, ...]]] = {}
            for key_node, value_node, own in _merged_pairs(node, merges):
                key = _key_text(key_node)
                child = (*path, key)
                if key in result and key not in merged:
                    document.duplicates.append((child, _position(key_node)))
                else:
                    document.key_positions[child] = _position(key_node)
                merged.discard(key)
                if not own:
                    merged.add(key)
                # Insertion order is the file's; a later duplicate replaces the value, as safe_load does.
                result[key] = None
                children[key] = (value_node, child, result, key, below)
            stack.extend(reversed(children.values()))
    return holder[0]


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as safe_load reads it, except that dates stay text: templates and
    parameter defaults decide what a date means, not the YAML resolver.

    PyYAML composes nodes recursively; nesting is refused past MAX_DEPTH so it never meets
    Python's recursion limit, and nodes are counted to bound what aliases may expand to.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.composed = 0

    def _enter(self) -> None:
        self.depth += 1
        self.composed += 1
        if self.depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"values nest more than {MAX_DEPTH} levels deep", self.peek_event().start_mark
            )

    def compose_sequence_node(self, anchor: Any) -> yaml.Node:
        self._enter()
        node = super().compose_sequence_node(anchor)
        self.depth -= 1
        return node

    def compose_mapping_node(self, anchor: Any) -> yaml.Node:
        self._enter()
        node = super().compose_mapping_node(anchor)
        self.depth -= 1
        return node

    def compose_scalar_node(self, anchor: Any) -> yaml.Node:
        self.composed += 1
        return super().compose_scalar_node(anchor)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scalar(node: yaml.Node) -> Any:
    """A scalar as plain data: text, a number, true/false or null, nothing else downstream must expect."""
    try:
        value = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        raise
    except Exception:  # PyYAML lets !!int abc, !!bool x, !!timestamp x escape as ValueError & co.
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}", node.start_mark
        ) from None
    if isinstance(value, dt.date):  # an explicit !!timestamp: dates stay text, as everywhere else
        return value.isoformat()
    if isinstance(value, str):
        if _SURROGATE.search(value):  # a "\ud800" escape: no file name or message can hold it
            raise yaml.constructor.ConstructorError(
                None, None, "text contains a lone UTF-16 surrogate (an escape like \\ud800)", node.start_mark
            )
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    raise yaml.constructor.ConstructorError(
        None, None, f"a {node.tag.rsplit(':', 1)[-1]} value is not supported in a pipeline", node.start_mark
    )


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


_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16: its BOM starts with UTF-16 LE's
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _line_column(data: bytes | str, offset: int) -> Position:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line_start = data.rfind(newline, 0, offset) + 1  # type: ignore[arg-type]
    return Position(data.count(newline, 0, offset) + 1, offset - line_start + 1)  # type: ignore[arg-type]


def decode(raw: bytes) -> str:
    """A pipeline file's text. Pipelines are UTF-8; a UTF-8 byte-order mark is dropped. UTF-16 and
    UTF-32 are refused even with a BOM, because every other tool reading the file (editors' YAML
    plugins, grep, diff, the shell commands in it) expects UTF-8: the fix is one re-save."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise YamlSyntaxError(
                f"the file is {name} (it starts with a {name} byte-order mark): save it as UTF-8",
                Position(1, 1),
            )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if raw.startswith(codecs.BOM_UTF8) else 0)
        position = _line_column(raw, start)
        raise YamlSyntaxError(
            f"the file is not UTF-8: byte 0x{raw[start]:02x} at line {position.line}, column "
            f"{position.column} (byte {start}) cannot be decoded; save the file as UTF-8",
            position,
        ) from None


def load(path: Path, text: str | None = None) -> Document:
    """Parse ``path`` (or ``text``); raise :class:`YamlSyntaxError` with a position on bad YAML."""
    source = decode(path.read_bytes()) if text is None else text
    loader: _Loader | None = None
    try:
        loader = _Loader(source)  # the reader checks every character already here
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from None
    except yaml.reader.ReaderError as exc:
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise YamlSyntaxError(
            f"YAML syntax error: the control character {character} is not allowed in YAML "
            "(write it as an escape in double quotes)",
            _line_column(source, exc.position),
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML syntax error: {exc}", Position(1, 1)) from None
    finally:
        if loader is not None:
            loader.dispose()
    document = Document(path=path, data=None)
    if root is None:
        return document
    try:
        document.data = _convert(root, document, loader.composed if loader else 0)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlSyntaxError(f"YAML error: {exc.problem}", position) from None
    return document

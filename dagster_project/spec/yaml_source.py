"""YAML with positions: every mapping key and sequence item is remembered with its line and column.

Validation errors point at the place a user has to edit (`file:line:col: dotted.path: message`), which neither
pydantic nor PyYAML's safe_load can do on their own. Duplicate keys, which safe_load silently lets the last one win,
are errors here.

A spec is text a person writes, so its size is limited while it is read, before anything grows (each limit an
error at the place it is exceeded, exit 2):

- MAX_SPEC_BYTES (yaml_doc.py): the file's size (checked before parsing; a 50 MB file is refused without being read).
- MAX_DEPTH: how deeply mappings and sequences nest (deeper would exhaust Python's stack).
- MAX_ALIASES: how many aliases (`*name`) a file uses; an alias inside the value it names (`a: &a [*a]`, an
  endless value) is refused too.
- MAX_NODES: how many nodes the document has with every alias expanded (an alias bomb - "billion laughs" - is a
  few aliases that expand to billions of nodes; it is refused while it is composed, before anything is built).

Events come from libyaml's C parser when PyYAML has it (CSafeLoader's parser, the same events and marks as the
pure-Python one, much faster); nodes are composed here, in Python, to count and bound them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from dagster_project.spec.yaml_doc import Path_, Position, YamlDocument, YamlError, read_text

MAX_DEPTH = 50
MAX_ALIASES = 1_000
MAX_NODES = 100_000


class _LimitExceeded(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark, self.message = mark, message


class _Composing(Composer):
    """PyYAML's composer, counting nesting depth, aliases and the size of the document with aliases expanded."""

    def _init_limits(self) -> None:
        self.depth = 0
        self.aliases = 0
        self.expanded = 0  # nodes, each alias counting as the whole node it names
        self.sizes: dict[int, int] = {}  # id(node) -> its expanded size
        self.open_anchors: set[str] = set()  # anchors of the values being composed (an alias to one is a cycle)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                raise _LimitExceeded(
                    event.start_mark,
                    f"invalid YAML: alias *{event.anchor} is inside the value it names (an endless value)",
                )
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _LimitExceeded(event.start_mark, f"too large: more than {MAX_ALIASES} aliases")
            node = super().compose_node(parent, index)
            self._grow(self.sizes.get(id(node), 1), event.start_mark)
            return node
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _LimitExceeded(event.start_mark, f"too large: nested more than {MAX_DEPTH} levels deep")
        before = self.expanded
        self._grow(1, event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.open_anchors.add(anchor)
        node = super().compose_node(parent, index)
        self.open_anchors.discard(anchor)
        self.sizes[id(node)] = self.expanded - before
        self.depth -= 1
        return node

    def _grow(self, nodes: int, mark: Any) -> None:
        self.expanded += nodes
        if self.expanded > MAX_NODES:
            raise _LimitExceeded(
                mark, f"too large: more than {MAX_NODES} values with aliases expanded (an alias bomb?)"
            )


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    # Composer's methods first (get_single_node ...), the C parser's events (check_event, get_event ...) after.
    class _Loader(_Composing, CParser, SafeConstructor, Resolver):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _Composing.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._init_limits()

else:  # pragma: no cover - PyYAML without libyaml

    class _Loader(_Composing, yaml.SafeLoader):  # type: ignore[no-redef]
        def __init__(self, text: str) -> None:
            super().__init__(text)
            self._init_limits()


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(node: yaml.Node, loc: Path_, doc: YamlDocument, loader: Any) -> Any:
    doc.positions.setdefault(loc, _mark(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise YamlError(doc.path, _mark(key_node), f"keys must be text, got {key!r}", _dotted(loc))
            if key in out:
                first = doc.positions[(*loc, key)].line
                raise YamlError(
                    doc.path, _mark(key_node), f"key appears twice (first at line {first})", _dotted((*loc, key))
                )
            doc.positions[(*loc, key)] = _mark(key_node)
            out[key] = _construct(value_node, (*loc, key), doc, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), doc, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _dotted(loc: Path_) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


def load_yaml(path: Path, text: str | None = None) -> YamlDocument:
    """Parse one YAML document with positions; YamlError (with a position) for anything malformed. `text`: the
    file's text when the caller has read it already (yaml_doc.read_text)."""
    docs = _load(path, stream=False, text=text)
    return docs[0]


def load_yaml_stream(path: Path) -> list[YamlDocument]:
    """Every document of a `---`-separated stream (OpenSLO files hold several), each with its positions; the same
    limits apply to the whole file."""
    return _load(path, stream=True)


def _load(path: Path, stream: bool, text: str | None = None) -> list[YamlDocument]:
    doc = YamlDocument(path=path, data=None)
    docs = [doc]
    if text is None:
        text = read_text(path)
    loader = _Loader(text)
    try:
        if stream:
            docs = []
            while loader.check_node():
                node = loader.get_node()
                doc = YamlDocument(path=path, data=None)
                doc.data = None if node is None else _construct(node, (), doc, loader)
                docs.append(doc)
            if not docs:
                raise YamlError(path, Position(1, 1), "the file is empty")
        else:
            node = loader.get_single_node()
            if node is None:
                raise YamlError(path, Position(1, 1), "the file is empty")
            doc.data = _construct(node, (), doc, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        context = ""
        if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            context = f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise YamlError(path, position, f"invalid YAML: {exc.problem or exc.context}{context}") from None
    except _LimitExceeded as exc:
        position = Position(exc.mark.line + 1, exc.mark.column + 1) if exc.mark else Position(1, 1)
        raise YamlError(path, position, exc.message) from None
    except yaml.YAMLError as exc:  # libyaml's few errors without a mark (e.g. a reader error)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise YamlError(path, Position(1, 1), f"invalid YAML: {first}") from None
    finally:
        loader.dispose()
    return docs

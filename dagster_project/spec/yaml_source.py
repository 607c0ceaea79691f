"""YAML with positions: every mapping key and sequence item is remembered with its line and column.

Validation errors point at the place a user has to edit (`file:line:col: dotted.path: message`), which neither
pydantic nor PyYAML's safe_load can do on their own. Duplicate keys, which safe_load silently lets the last one win,
are errors here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class YamlDocument:
    path: Path
    data: Any
    positions: dict[Path_, Position] = field(default_factory=dict)

    def position(self, loc: Path_) -> Position:
        """The position of `loc`, or of its nearest ancestor that has one (e.g. a missing key's parent)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.positions:
                return self.positions[loc[:end]]
        return Position(1, 1)


class YamlError(ValueError):
    def __init__(self, path: Path, position: Position, message: str, where: str = "(document)") -> None:
        self.path, self.position, self.message, self.where = path, position, message, where
        super().__init__(f"{path}:{position.line}:{position.column}: {where}: {message}")


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(node: yaml.Node, loc: Path_, doc: YamlDocument, loader: yaml.SafeLoader) -> Any:
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


def load_yaml(path: Path) -> YamlDocument:
    """Parse one YAML document with positions; YamlError (with a position) for anything malformed."""
    doc = YamlDocument(path=path, data=None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(path, Position(1, 1), f"cannot read: {exc}") from None
    loader = yaml.SafeLoader(text)
    try:
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
    finally:
        loader.dispose()
    return doc

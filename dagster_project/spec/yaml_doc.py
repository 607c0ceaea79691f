"""A spec file's text and its parsed document with positions: what validation needs without importing PyYAML (a
spec remembered in the state folder, spec/spec_cache.py, is read as text and never parsed). The parser that makes
documents is yaml_source.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Path_ = tuple[str | int, ...]

MAX_SPEC_BYTES = 1_000_000
SPEC_SUFFIXES = (".yaml", ".yml")


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


def read_text(path: Path) -> str:
    """The file's text: at most MAX_SPEC_BYTES of UTF-8 (checked before anything is parsed: a 50 MB file is refused
    without being read); YamlError (with a position) otherwise."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)  # never more, whatever the file claims to be
        if len(raw) > MAX_SPEC_BYTES:
            raise YamlError(path, Position(1, 1), f"the file is larger than {MAX_SPEC_BYTES} bytes; a spec is text")
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(path, Position(line, column), f"not UTF-8 text: byte 0x{raw[exc.start]:02x}") from None
    except OSError as exc:
        raise YamlError(path, Position(1, 1), f"cannot read: {exc.strerror or exc}") from None


def spec_files(paths: Iterable[Path]) -> list[Path]:
    """The spec files named, folders expanded to their *.yaml / *.yml files (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file()))
        else:
            files.append(path)
    return files

"""Spec files validated by an earlier command, remembered in the state folder (`<state>/cache/specs/`).

`slo check` and `slo validate` read the same files on every call; parsing them (PyYAML, every position kept) and
building and running the pydantic models is most of what their validation costs, with the same answer every time. A
file that passed its structural validation (yaml_source.py, spec/models.py) is remembered by its path as named and
its whole text, one file per spec (`<key>.pickle`, so a call reads only the specs it names): the document with its
positions and the validated model, as the cold path made them. Everything else that answer depends on is in each
file's header (sql_cache.fingerprint: every module of this package, pydantic and its typing helpers, PyYAML,
Python): a changed rule or library is a cold start, never a stale answer. What depends on the machine is done again
on every call that validates: a server's relative paths made absolute (validate._paths_from), the checks across
files and against the database (a `slo check` that finds its whole clean check remembered, verify/check_memory.py,
validates nothing). A file that failed is not remembered: its problems are found again, at their places.

Each file is read only where no one else could have put it (state_memory.py); where the system cannot say who owns
a file or open one folder inside another (Windows), nothing is remembered. Only commands that name a state folder use
it (`use`, and `forget` when they end); elsewhere (tests, the Dagster code) nothing is remembered.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.spec.state_memory import PickleFolder
from dagster_project.spec.yaml_doc import YamlDocument

if TYPE_CHECKING:  # the models load pydantic: a command that remembers only what it checked never needs them
    from dagster_project.spec.models import SpecFile

FOLDER = "specs"
FORMAT = 2
MAX_FILES = 64  # beyond this the oldest are removed when this command remembers one (edited files leave old texts)
_MEMORY = PickleFolder(FOLDER, f"specs {FORMAT}", MAX_FILES)

Remembered = tuple[YamlDocument, "SpecFile"]
_entries: dict[str, Remembered] = {}  # remembered or validated in this process, for its state folder
_fresh: set[str] = set()  # validated in this process, not yet on disk
_state: Path | None = None


def cache_folder(state_dir: Path) -> Path:
    return _MEMORY.path(state_dir)


def use(state_dir: Path) -> None:
    """Remember validated files in `state_dir` (each read at its `recall`, written by `save`); what this process
    remembered for another folder is dropped."""
    global _state
    forget()
    _state = state_dir


def forget() -> None:
    """No folder, nothing remembered (the end of a command; tests)."""
    global _state
    _state = None
    _entries.clear()
    _fresh.clear()


def recall(path: Path, text: str) -> Remembered | None:
    """The document and validated model of the file at `path` (as named) whose text is `text`, if remembered."""
    if _state is None:
        return None
    key = _key(path, text)
    if key not in _entries:
        remembered = _read(_state, key)
        if remembered is None:
            return None
        _entries[key] = remembered
    return _entries[key]


def keep(path: Path, text: str, doc: YamlDocument, spec: SpecFile) -> None:
    """Remember a file that passed structural validation (when a state folder is in use)."""
    if _state is None:
        return
    key = _key(path, text)
    _entries[key] = (doc, spec)
    _fresh.add(key)


def save() -> None:
    """Write the files validated by this process (each atomically, readable by the user only), when `use` named a
    state folder that exists and is the user's own; anything that cannot be written is left as it is."""
    if _state is None or not _fresh:
        return
    fresh = sorted(_fresh)
    _fresh.clear()
    _MEMORY.write(_state, {key: _entries[key] for key in fresh})


def _key(path: Path, text: str) -> str:
    return hashlib.sha256(f"{FORMAT}\0{path}\0".encode() + text.encode()).hexdigest()


def _read(state: Path, key: str) -> Remembered | None:
    from dagster_project.spec.models import SpecFile

    value = _MEMORY.read(state, key)
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], YamlDocument)
        and isinstance(value[1], SpecFile)
    ):
        return value
    return None

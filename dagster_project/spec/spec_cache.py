"""Spec files validated by an earlier command, remembered in the state folder (`<state>/cache/specs.pickle`).

`slo check` and `slo validate` read the same files on every call; parsing them (PyYAML, every position kept) and
building and running the pydantic models is most of what their validation costs, with the same answer every time. A
file that passed its structural validation (yaml_source.py, spec/models.py) is remembered by its path as named and
its whole text: the document with its positions and the validated model, as the cold path made them. Everything else
that answer depends on is in the file's fingerprint (sql_cache.fingerprint: every module of this package, pydantic,
PyYAML, Python): a changed rule or library is a cold start, never a stale answer. What depends on the machine is done
again on every call: a server's relative paths made absolute (validate._paths_from), the checks across files and
against the database. A file that failed is not remembered: its problems are found again, at their places.

The file is a pickle, read only when it belongs to the user running the command and no one else may write it
(anything else - another owner, group- or world-writable, another fingerprint, a corrupt or truncated file - is
ignored, and replaced when this command remembers something). Only commands that name a state folder use it
(`use`); elsewhere (tests, the Dagster code) nothing is remembered.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path

from dagster_project.spec.models import SpecFile
from dagster_project.spec.sql_cache import fingerprint
from dagster_project.spec.yaml_doc import YamlDocument

FILE_NAME = "specs.pickle"
FORMAT = 1
MAX_ENTRIES = 256  # spec files; beyond this the file starts again from this run's (edited files leave old texts)

Remembered = tuple[YamlDocument, SpecFile]
_entries: dict[str, Remembered] = {}
_fresh: set[str] = set()  # validated in this process, not yet on disk
_file: Path | None = None
_read = False


def cache_file(state_dir: Path) -> Path:
    return state_dir / "cache" / FILE_NAME


def use(state_dir: Path) -> None:
    """Remember validated files in `state_dir` (read at the first `recall`, written by `save`)."""
    global _file, _read
    _file, _read = cache_file(state_dir), False


def forget() -> None:
    """No folder, nothing remembered (tests)."""
    global _file
    _file = None
    _entries.clear()
    _fresh.clear()


def recall(path: Path, text: str) -> Remembered | None:
    """The document and validated model of the file at `path` (as named) whose text is `text`, if remembered."""
    if _file is None:
        return None
    if not _read:
        _read_file(_file)
    return _entries.get(_key(path, text))


def keep(path: Path, text: str, doc: YamlDocument, spec: SpecFile) -> None:
    """Remember a file that passed structural validation (when a state folder is in use)."""
    if _file is None:
        return
    key = _key(path, text)
    _entries[key] = (doc, spec)
    _fresh.add(key)


def save() -> None:
    """Write this process's new entries beside the remembered ones (atomically, readable by the user only), when
    `use` named a folder that exists; a folder that cannot be written is left as it is."""
    if _file is None or not _fresh or not _file.parent.parent.is_dir():
        return
    if not _read:
        _read_file(_file)  # keep what other commands remembered
    keep = _entries if len(_entries) <= MAX_ENTRIES else {k: _entries[k] for k in _fresh}
    try:
        payload = _header() + pickle.dumps(keep, protocol=pickle.HIGHEST_PROTOCOL)
        _file.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=_file.parent, prefix=".specs.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(payload)
            os.replace(tmp, _file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return
    _fresh.clear()


def _key(path: Path, text: str) -> str:
    return hashlib.sha256(f"{FORMAT}\0{path}\0".encode() + text.encode()).hexdigest()


def _header() -> bytes:
    return f"slo-monitor specs {FORMAT} {fingerprint()}\n".encode()


def _trusted(st: os.stat_result) -> bool:
    """A regular file of the user running the command that no one else may write."""
    if not stat.S_ISREG(st.st_mode) or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    uid = getattr(os, "geteuid", None)
    return uid is None or st.st_uid == uid()


def _read_file(file: Path) -> None:
    global _read
    _read = True
    try:
        with file.open("rb") as f:
            if not _trusted(os.fstat(f.fileno())) or f.readline() != _header():
                return
            stored = pickle.load(f)
    # A damaged pickle fails in many ways (UnpicklingError, EOFError, an unknown class, a bad argument): each is a
    # cold start, as a missing file is.
    except Exception:
        return
    if not isinstance(stored, dict):
        return
    for key, value in stored.items():
        if (
            isinstance(key, str)
            and isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], YamlDocument)
            and isinstance(value[1], SpecFile)
        ):
            _entries.setdefault(key, value)

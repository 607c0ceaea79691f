"""What `slo validate` and `slo check` work out about a spec's SQL, remembered between commands in the state folder
(`<state>/cache/sql.json`): the verdicts on its free SQL, measure expressions, row filters and regexes
(free_sql.py), and the plan's queries rendered as text (slo/rendered.py).

Checking a text parses it with sqlglot and with DuckDB, and rendering the plan builds and renders sqlglot trees:
most of what these commands do after their imports, with the same answers every call. Each entry's key holds what
it was computed from (the text and what it is checked as: kind, dialect, allowed tables; for a rendered query, the
indicator's type and repr, its dataset, row filter, the dataset's text columns and the dialect). Everything else it
depends on is in the file's fingerprint: the size and time of every module of this package (the rules and the
rendering; what Python checks its own bytecode against),
the installed sqlglot, DuckDB, pydantic (with pydantic-core, annotated-types and typing-inspection), PyYAML and
slo-monitor versions (pydantic and PyYAML for the validated spec files remembered with the same fingerprint,
spec_cache.py), DuckDB's extension module's size and time, and Python's
version. The file is read only when its fingerprint matches: a changed rule, renderer or library is a cold start,
never a stale answer.

Only commands that name a state folder use the file (`use`), and only when that folder exists (no folder is made
for it); elsewhere (tests, the Dagster code) entries stay in memory for the process. A file that cannot be read, is
corrupt or of another fingerprint is ignored (and replaced when the folder is writable); an entry of the wrong shape
is computed again; a folder that cannot be written is not an error: the next call computes again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

FILE_NAME = "sql.json"
FORMAT = 1
MAX_ENTRIES = 4096  # beyond this the file starts again from this run's entries (specs change; old texts pile up)

_entries: dict[str, Any] = {}
_fresh: set[str] = set()  # computed in this process, not yet on disk
_file: Path | None = None
_fingerprint: str | None = None
MISSING = object()  # recall's answer when nothing is remembered
_LIBRARIES = ("sqlglot", "duckdb", "pydantic", "pydantic_core", "annotated_types", "typing_inspection", "yaml")
# Their dist-info folders' names (PyYAML's distribution is not named after its module).
_DISTRIBUTIONS = (*(f"{n}-" for n in _LIBRARIES if n != "yaml"), "pyyaml-", "slo_monitor-")


def cache_file(state_dir: Path) -> Path:
    return state_dir / "cache" / FILE_NAME


def fingerprint() -> str:
    """What every entry depends on besides its own key (see the module docstring); computed once per process."""
    global _fingerprint
    if _fingerprint is None:
        _fingerprint = _compute_fingerprint()
    return _fingerprint


def _compute_fingerprint() -> str:
    import importlib.util

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    start = len(str(package)) + 1
    for root, dirs, files in os.walk(package):  # strings, not Paths: a third of the time (~170 modules, every call)
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(root, name)
            st = os.stat(path)  # what Python itself checks its bytecode against: a module's size and time
            digest.update(f"{path[start:]} {st.st_size} {st.st_mtime_ns}\n".encode())
    parts: list[str] = [f"format {FORMAT}", sys.version, digest.hexdigest()]
    folders = {package.parent}  # where an installed slo-monitor's dist-info sits (or the source tree)
    for name in (*_LIBRARIES, "_duckdb"):
        spec = importlib.util.find_spec(name)  # a top-level name: found, not imported
        if spec is None or spec.origin is None:
            parts.append(f"{name}: none")
            continue
        origin = Path(spec.origin)
        st = origin.stat()
        parts.append(f"{name}: {origin} {st.st_size} {st.st_mtime_ns}")
        folders.add(origin.parent if name == "_duckdb" else origin.parent.parent)
        if name == "sqlglot":  # its version (also in its dist-info's name below)
            with contextlib.suppress(OSError):
                parts.append((origin.parent / "_version.py").read_text(encoding="utf-8"))
    for folder in sorted(folders):
        with contextlib.suppress(OSError):
            names = os.listdir(folder)
            parts.extend(sorted(n for n in names if n.endswith(".dist-info") and n.lower().startswith(_DISTRIBUTIONS)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def use(state_dir: Path) -> None:
    """Read the entries remembered in `state_dir` (if they are of this fingerprint), and remember new ones there on
    `save`. Never raises for the file: a cold start instead."""
    global _file
    _file = cache_file(state_dir)
    try:
        stored = json.loads(_file.read_text(encoding="utf-8"))
        if not isinstance(stored, dict) or stored.get("fingerprint") != fingerprint():
            return
        entries = stored["entries"]
        if not isinstance(entries, dict):
            return
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    for key, value in entries.items():
        _entries.setdefault(key, value)


def save() -> None:
    """Write this process's new entries beside the remembered ones (atomically), when `use` named a folder that
    exists; a folder that cannot be written is left as it is."""
    if _file is None or not _fresh or not _file.parent.parent.is_dir():
        return
    keep = _entries if len(_entries) <= MAX_ENTRIES else {k: _entries[k] for k in _fresh}
    try:
        text = json.dumps({"fingerprint": fingerprint(), "entries": keep}, sort_keys=True)
        _file.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=_file.parent, prefix=".sql.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, _file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return
    _fresh.clear()


def forget() -> None:
    """No folder, nothing remembered (tests)."""
    global _file
    _file = None
    _entries.clear()
    _fresh.clear()


def in_use() -> bool:
    """Whether a state folder was named (`use`): then entries are meant for the next command too."""
    return _file is not None


def _bounded() -> None:
    if len(_entries) >= 2 * MAX_ENTRIES:  # a long-lived process that checks ever new texts
        _entries.clear()
        _fresh.clear()


def remembered(kind: str, key_parts: list[object], compute: Callable[[], str | None]) -> str | None:
    """The verdict on `key_parts` checked as `kind`: remembered, or computed now and remembered."""
    key = json.dumps([kind, *key_parts], separators=(",", ":"))
    verdict = _entries.get(key, MISSING)
    if verdict is None or isinstance(verdict, str):
        return verdict
    verdict = compute()
    _bounded()
    _entries[key] = verdict
    _fresh.add(key)
    return verdict


def recall(key: str) -> Any:
    """What was remembered under `key` (a JSON value: the caller checks its shape), or MISSING."""
    return _entries.get(key, MISSING)


def keep(key: str, value: Any) -> None:
    """Remember `value` (JSON) under `key`."""
    _bounded()
    _entries[key] = value
    _fresh.add(key)

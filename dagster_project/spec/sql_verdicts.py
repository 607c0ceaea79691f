"""Verdicts on a spec's SQL remembered between commands, in the state folder (`<state>/cache/sql_verdicts.json`).

Checking free SQL, measure expressions, row filters and regexes (free_sql.py) parses each text with sqlglot and with
DuckDB: most of what `slo validate` does after its imports, and the same texts every call. A verdict (why a text is
refused, or that it is fine) depends only on the text and what it is checked as (its kind, dialect and allowed
tables, all in the entry's key), on free_sql.py's rules, and on the sqlglot and DuckDB that parse it. The file is
stamped with a fingerprint of those - free_sql.py's bytes, the installed sqlglot, DuckDB and slo-monitor versions,
DuckDB's extension module's size and time, Python's version - and is read only when the stamp matches: anything
else, a changed rule or library, is a cold start, never a stale answer.

Only commands that name a state folder use the file (`use`); elsewhere (tests, the Dagster code) verdicts stay in
memory for the process. A file that cannot be read, is corrupt or of another fingerprint is ignored (and replaced
when the folder is writable); a folder that cannot be written is not an error: the next call computes again.
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

FILE_NAME = "sql_verdicts.json"
FORMAT = 1
MAX_ENTRIES = 4096  # beyond this the file starts again from this run's verdicts (specs change; old texts pile up)

_verdicts: dict[str, str | None] = {}
_fresh: set[str] = set()  # computed in this process, not yet on disk
_file: Path | None = None
_fingerprint: str | None = None
_DISTRIBUTIONS = ("sqlglot-", "duckdb-", "slo_monitor-")


def cache_file(state_dir: Path) -> Path:
    return state_dir / "cache" / FILE_NAME


def fingerprint() -> str:
    """What every verdict depends on besides its own key (see the module docstring); computed once per process."""
    global _fingerprint
    if _fingerprint is None:
        _fingerprint = _compute_fingerprint()
    return _fingerprint


def _compute_fingerprint() -> str:
    import importlib.util

    here = Path(__file__).resolve().parent
    parts: list[str] = [
        f"format {FORMAT}",
        sys.version,
        hashlib.sha256((here / "free_sql.py").read_bytes()).hexdigest(),
    ]
    folders = {here.parent.parent}  # where an installed slo-monitor's dist-info sits (or the source tree)
    for name in ("sqlglot", "duckdb", "_duckdb"):
        spec = importlib.util.find_spec(name)  # a top-level name: found, not imported
        if spec is None or spec.origin is None:
            parts.append(f"{name}: none")
            continue
        origin = Path(spec.origin)
        st = origin.stat()
        parts.append(f"{name}: {origin} {st.st_size} {st.st_mtime_ns}")
        folders.add(origin.parent if name == "_duckdb" else origin.parent.parent)
        if name == "sqlglot":
            parts.append((origin.parent / "_version.py").read_text(encoding="utf-8"))
    for folder in sorted(folders):
        with contextlib.suppress(OSError):
            names = os.listdir(folder)
            parts.extend(sorted(n for n in names if n.endswith(".dist-info") and n.lower().startswith(_DISTRIBUTIONS)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def use(state_dir: Path) -> None:
    """Read the verdicts remembered in `state_dir` (if any are of this fingerprint), and remember new ones there on
    `save`. Never raises for the file: a cold start instead."""
    global _file
    _file = cache_file(state_dir)
    try:
        stored = json.loads(_file.read_text(encoding="utf-8"))
        if not isinstance(stored, dict) or stored.get("fingerprint") != fingerprint():
            return
        verdicts = stored["verdicts"]
        if not isinstance(verdicts, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in verdicts.items()
        ):
            return
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    for key, verdict in verdicts.items():
        _verdicts.setdefault(key, verdict)


def save() -> None:
    """Write this process's new verdicts beside the remembered ones (atomically), when `use` named a folder that
    exists; a folder that cannot be written is left as it is."""
    if _file is None or not _fresh or not _file.parent.parent.is_dir():
        return
    keep = _verdicts if len(_verdicts) <= MAX_ENTRIES else {k: _verdicts[k] for k in _fresh}
    try:
        text = json.dumps({"fingerprint": fingerprint(), "verdicts": keep}, sort_keys=True)
        _file.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=_file.parent, prefix=".sql_verdicts.", suffix=".tmp")
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
    _verdicts.clear()
    _fresh.clear()


def remembered(kind: str, key_parts: list[object], compute: Callable[[], str | None]) -> str | None:
    """The verdict on `key_parts` checked as `kind`: remembered, or computed now and remembered."""
    key = json.dumps([kind, *key_parts], separators=(",", ":"))
    if key in _verdicts:
        return _verdicts[key]
    verdict = compute()
    _verdicts[key] = verdict
    _fresh.add(key)
    return verdict

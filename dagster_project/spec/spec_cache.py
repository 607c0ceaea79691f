"""Spec files validated by an earlier command, remembered in the state folder (`<state>/cache/specs/`).

`slo check` and `slo validate` read the same files on every call; parsing them (PyYAML, every position kept) and
building and running the pydantic models is most of what their validation costs, with the same answer every time. A
file that passed its structural validation (yaml_source.py, spec/models.py) is remembered by its path as named and
its whole text, one file per spec (`<key>.pickle`, so a call reads only the specs it names): the document with its
positions and the validated model, as the cold path made them. Everything else that answer depends on is in each
file's header (sql_cache.fingerprint: every module of this package, pydantic and its typing helpers, PyYAML,
Python): a changed rule or library is a cold start, never a stale answer. What depends on the machine is done again
on every call: a server's relative paths made absolute (validate._paths_from), the checks across files and against
the database. A file that failed is not remembered: its problems are found again, at their places.

A pickle runs code when read, so one is read only where no one else could have put it: `cache/specs` (made 0700)
and the file itself must belong to the user running the command and be writable by no one else, `cache` and `specs`
are opened one inside the other without following a link, the file is not followed through a link either and has
no second name (a hard link). Anything else - another owner, a folder others may write, another fingerprint, a
corrupt or truncated file - is ignored (a cold start) and, where the folder is the user's own, replaced. Where the
system cannot say who owns a file or open one folder inside another (Windows), nothing is remembered. Only commands
that name a state folder use it (`use`, and `forget` when they end); elsewhere (tests, the Dagster code) nothing is
remembered.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
from collections.abc import Iterator
from pathlib import Path

from dagster_project.spec.models import SpecFile
from dagster_project.spec.sql_cache import fingerprint
from dagster_project.spec.yaml_doc import YamlDocument

FOLDER = "specs"
FORMAT = 2
MAX_FILES = 64  # beyond this the oldest are removed when this command remembers one (edited files leave old texts)
MAX_BYTES = 64 * 1024 * 1024  # a remembered spec (at most 1 MB of YAML) is far smaller; a larger file is not read

Remembered = tuple[YamlDocument, SpecFile]
_entries: dict[str, Remembered] = {}  # remembered or validated in this process, for its state folder
_fresh: set[str] = set()  # validated in this process, not yet on disk
_state: Path | None = None
# Who owns a file, a folder opened inside another, no link followed (not on Windows: nothing is remembered there).
_SUPPORTED = all(hasattr(os, n) for n in ("geteuid", "O_NOFOLLOW", "O_DIRECTORY")) and os.open in os.supports_dir_fd


def cache_folder(state_dir: Path) -> Path:
    return state_dir / "cache" / FOLDER


def use(state_dir: Path) -> None:
    """Remember validated files in `state_dir` (each read at its `recall`, written by `save`); what this process
    remembered for another folder is dropped."""
    global _state
    forget()
    _state = state_dir if _SUPPORTED else None


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
    try:
        with _folder(_state, create=True) as fd:
            if fd is None:
                return
            for key in fresh:
                _write(fd, key, _header() + pickle.dumps(_entries[key], protocol=pickle.HIGHEST_PROTOCOL))
            _prune(fd, keep=set(fresh))
    # A folder that cannot be written, or a model pickle refuses: the next call validates again, nothing is lost.
    except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return


def _key(path: Path, text: str) -> str:
    return hashlib.sha256(f"{FORMAT}\0{path}\0".encode() + text.encode()).hexdigest()


def _header() -> bytes:
    return f"slo-monitor specs {FORMAT} {fingerprint()}\n".encode()


def _own(st: os.stat_result) -> bool:
    """The user's, and writable by no one else."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@contextlib.contextmanager
def _folder(state: Path, create: bool = False) -> Iterator[int | None]:
    """The open `<state>/cache/specs` folder (a descriptor): `cache` and `specs` reached without following a link,
    `specs` the user's own and writable by no one else; None when it is not (or, without `create`, does not
    exist)."""
    opened: list[int] = []
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(state, flags)  # the folder the user named, wherever it leads
        opened.append(fd)
        for name in ("cache", FOLDER):
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=fd)
            fd = os.open(name, flags | os.O_NOFOLLOW, dir_fd=fd)
            opened.append(fd)
        yield fd if _own(os.fstat(fd)) else None
    except FileNotFoundError:
        yield None
    finally:
        for fd in opened:
            os.close(fd)


def _read(state: Path, key: str) -> Remembered | None:
    try:
        with _folder(state) as folder:
            if folder is None:
                return None
            fd = os.open(f"{key}.pickle", os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=folder)
            with os.fdopen(fd, "rb") as file:
                st = os.fstat(file.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or not _own(st) or st.st_size > MAX_BYTES:
                    return None
                header = _header()
                if file.read(len(header)) != header:
                    return None
                value = pickle.load(file)
    # A damaged pickle fails in many ways (UnpicklingError, EOFError, an unknown class, a bad argument): each is a
    # cold start, as a missing file is.
    except Exception:
        return None
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], YamlDocument)
        and isinstance(value[1], SpecFile)
    ):
        return value
    return None


def _write(folder: int, key: str, payload: bytes) -> None:
    temporary = f".{key}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(temporary, f"{key}.pickle", src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        raise


def _prune(folder: int, keep: set[str]) -> None:
    """The oldest remembered files beyond MAX_FILES removed (never one written by this command)."""
    files = []
    for name in os.listdir(folder):
        if name.endswith(".pickle") and name.removesuffix(".pickle") not in keep:
            with contextlib.suppress(OSError):
                files.append((os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime_ns, name))
    for _, name in sorted(files)[: max(0, len(files) + len(keep) - MAX_FILES)]:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=folder)

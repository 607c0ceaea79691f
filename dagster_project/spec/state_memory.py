"""Pickled memories in the state folder (`<state>/cache/<folder>/<key>.pickle`), read only where no one else could
have put them: the spec files validated by an earlier command (spec_cache.py) and what a clean `slo check` found
(verify/check_memory.py) keep their answers here.

A pickle runs code when read, so one is read only where no one else could have put it: `cache/<folder>` (made 0700)
and the file itself must belong to the user running the command and be writable by no one else, `cache` and the
folder are opened one inside the other without following a link, the file is not followed through a link either and
has no second name (a hard link). Each file starts with a header naming what it holds and the fingerprint of
everything its answer depends on (sql_cache.fingerprint: every module of this package, the libraries that parse and
validate, Python): a changed rule or library is a cold start, never a stale answer. Anything else - another owner, a
folder others may write, another fingerprint, a corrupt or truncated file - is ignored (a cold start) and, where the
folder is the user's own, replaced. Where the system cannot say who owns a file or open one folder inside another
(Windows), nothing is remembered. No pydantic here: `slo check`'s warm path reads through this module.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from dagster_project.spec.sql_cache import fingerprint

# Who owns a file, a folder opened inside another, no link followed (not on Windows: nothing is remembered there).
SUPPORTED = all(hasattr(os, n) for n in ("geteuid", "O_NOFOLLOW", "O_DIRECTORY")) and os.open in os.supports_dir_fd
MAX_BYTES = 64 * 1024 * 1024  # any memory is far smaller; a larger file is not read


class PickleFolder:
    """One folder of memories under `<state>/cache`: `what` (with its format) names them in each file's header; at
    most `max_files` are kept, the oldest removed first."""

    def __init__(self, folder: str, what: str, max_files: int) -> None:
        self.folder = folder
        self.what = what
        self.max_files = max_files

    def path(self, state_dir: Path) -> Path:
        return state_dir / "cache" / self.folder

    def read(self, state: Path, key: str) -> object | None:
        """The value remembered under `key`, or None (not there, not safe to read, another fingerprint, damaged;
        always where the system cannot tell, SUPPORTED)."""
        if not SUPPORTED:
            return None
        try:
            with self._open(state) as folder:
                if folder is None:
                    return None
                fd = os.open(f"{key}.pickle", os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=folder)
                with os.fdopen(fd, "rb") as file:
                    st = os.fstat(file.fileno())
                    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or not _own(st) or st.st_size > MAX_BYTES:
                        return None
                    header = self._header()
                    if file.read(len(header)) != header:
                        return None
                    return pickle.load(file)  # type: ignore[no-any-return]
        # A damaged pickle fails in many ways (UnpicklingError, EOFError, an unknown class, a bad argument): each is
        # a cold start, as a missing file is.
        except Exception:
            return None

    def write(self, state: Path, values: Mapping[str, object]) -> None:
        """Each value under its key (atomically, readable by the user only), then the oldest beyond `max_files`
        removed; nothing when the folder is not the user's own. Anything that cannot be written is left as it is:
        the next call does the work again, nothing is lost."""
        if not values or not SUPPORTED:
            return
        try:
            with self._open(state, create=True) as fd:
                if fd is None:
                    return
                for key, value in values.items():
                    _write(fd, key, self._header() + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                _prune(fd, keep=set(values), max_files=self.max_files)
        except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
            return

    def _header(self) -> bytes:
        return f"slo-monitor {self.what} {fingerprint()}\n".encode()

    @contextlib.contextmanager
    def _open(self, state: Path, create: bool = False) -> Iterator[int | None]:
        """The open `<state>/cache/<folder>` (a descriptor): `cache` and the folder reached without following a
        link, the folder the user's own and writable by no one else; None when it is not (or, without `create`,
        does not exist)."""
        opened: list[int] = []
        flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(state, flags)  # the folder the user named, wherever it leads
            opened.append(fd)
            for name in ("cache", self.folder):
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


def _own(st: os.stat_result) -> bool:
    """The user's, and writable by no one else."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


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


def _prune(folder: int, keep: set[str], max_files: int) -> None:
    """The oldest remembered files beyond `max_files` removed (never one written by this command)."""
    files = []
    for name in os.listdir(folder):
        if name.endswith(".pickle") and name.removesuffix(".pickle") not in keep:
            with contextlib.suppress(OSError):
                files.append((os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime_ns, name))
    for _, name in sorted(files)[: max(0, len(files) + len(keep) - max_files)]:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=folder)

"""What a clean `slo check` found, remembered in the state folder (`<state>/cache/checks/`): the next call with the
same spec files against the same database evaluates without parsing or validating the specs (no YAML, no pydantic)
and without checking them against the database again, unless the database answers differently.

A check is clean when every spec file passed every layer of validation and the database check found nothing. What a
later call's validation and database check would conclude depends only on
- the spec files, as named, and their whole texts, and the rules that judge them (the package's and its libraries'
  fingerprint, state_memory.py): these are the memory's key, so any edit is a cold start;
- the database's answers (its catalog, and the columns or error of every query the check prepared): these are asked
  again at every call (answers.py), and any difference is a cold start that finds and reports what changed.
Remembered: the SLOs in their domain form (slo/domain.py), where each is written (file:line, for the errors the
results store keeps), and the database check's answers. A check is remembered only when no spec names a `server:`
(its data all in the deployment's database): with one that does (PostgreSQL, Spark, another DuckDB file), every
call checks every spec.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.spec.state_memory import PickleFolder
from dagster_project.verify.answers import Answers

if TYPE_CHECKING:
    from dagster_project.slo.domain import Slo

FORMAT = 1
_MEMORY = PickleFolder("checks", f"checks {FORMAT}", max_files=16)


@dataclass(frozen=True)
class CleanCheck:
    slos: tuple[Slo, ...]
    where: Mapping[str, str]  # SLO id -> file:line where it is written
    answers: Answers


def key(files: Sequence[tuple[Path, str]], db: Path) -> str:
    """The key of a check of these spec files (path as named, whole text) against the database `db` (as named)."""
    digest = hashlib.sha256(f"{FORMAT}\0{db}\0{len(files)}\0".encode())
    for path, text in files:
        digest.update(f"{path}\0{len(text)}\0".encode())
        digest.update(text.encode())
    return digest.hexdigest()


def recall(state: Path, files: Sequence[tuple[Path, str]], db: Path) -> CleanCheck | None:
    """The clean check remembered in the state folder for these files and database, if any."""
    if not files:
        return None
    value = _MEMORY.read(state, key(files, db))
    return value if isinstance(value, CleanCheck) else None


def keep(state: Path, files: Sequence[tuple[Path, str]], db: Path, check: CleanCheck) -> None:
    """Remember a clean check in the state folder (nothing where nothing can be remembered safely: state_memory)."""
    if not files:
        return
    _MEMORY.write(state, {key(files, db): check})


def cache_folder(state_dir: Path) -> Path:
    return _MEMORY.path(state_dir)

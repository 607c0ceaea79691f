"""The spec files a command works on: `--slos` paths, else the default slo_definitions/, validated; any problem is a
usage error listing every one (exit 2)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_project.errors import UsageError
from dagster_project.settings import default_spec_paths

if TYPE_CHECKING:  # the models load pydantic: only when a command runs, not for `slo --help`
    from dagster_project.spec.models import SpecFile


def add_slos_option(parser: Any) -> None:
    parser.add_argument("--slos", type=Path, action="append", help="spec files or folders (default slo_definitions/)")


def load_specs(paths: Sequence[Path] | None) -> list[SpecFile]:
    from dagster_project.spec.validate import validate

    specs, issues = validate(list(paths) if paths else list(default_spec_paths()))
    if issues:
        raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
    return [s.spec for s in specs]

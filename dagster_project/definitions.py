"""Dagster's entry point (`dagster dev`, [tool.dagster] in pyproject.toml): the one place settings are read from
the environment. Nothing else imports this module. Without specs it fails to load saying where to name them (as
every `slo` command does), rather than loading empty definitions."""

from __future__ import annotations

from dagster_project.defs.factory import build_definitions
from dagster_project.errors import UsageError
from dagster_project.settings import NO_SPECS, settings_from_env

_settings = settings_from_env()
if not _settings.spec_paths:
    raise UsageError(NO_SPECS)
defs = build_definitions(_settings)

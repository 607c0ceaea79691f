"""Dagster's entry point (`dagster dev`, [tool.dagster] in pyproject.toml): the one place settings are read from
the environment. Nothing else imports this module."""

from __future__ import annotations

from dagster_project.defs.factory import build_definitions
from dagster_project.settings import settings_from_env

defs = build_definitions(settings_from_env())

"""Shared fixtures: generated source data and one data product built through Dagster per session."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagster_project.datagen.generator import GeneratorConfig, generate
from dagster_project.settings import BuildParams, Settings

AS_OF = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
# The bundled example's build job and publish asset (build_<product>, <product>/published_database).
BUILD_JOB = "build_product_affinity"
PUBLISH_KEY_PATH = ["product_affinity", "published_database"]
REPO = Path(__file__).resolve().parent.parent


def make_sources(out: Path, orders: int = 3_000, **kwargs: object) -> Path:
    generate(GeneratorConfig(out_dir=out, as_of=AS_OF, orders=orders, **kwargs))  # type: ignore[arg-type]
    return out


def make_settings(tmp: Path, data_dir: Path) -> Settings:
    return Settings(state_dir=tmp / "state", data_dir=data_dir, build=BuildParams(as_of=AS_OF))


@pytest.fixture(scope="session")
def built_product(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The data product built by the real Dagster job from 4,000 generated orders."""
    from dagster_project.defs.runner import run_build

    tmp = tmp_path_factory.mktemp("built")
    settings = make_settings(tmp, make_sources(tmp / "src", orders=4_000))
    run_build(settings)
    return settings


# The shared PostgreSQL cluster and Spark session (one each per test session): tests ask for `postgres` or `spark`.
from tests.server_support import postgres, spark  # noqa: E402, F401

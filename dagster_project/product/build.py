"""The Product Affinity build, declared through the public build API: the service reaches it only through the spec
(`build: "dagster_project.product.build:BUILD"` in slo_definitions/product_affinity.yaml), never by a static import.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dagster_project.build_api import Build
from dagster_project.product.params import AffinityParams
from dagster_project.product.summary import summary
from dagster_project.product.tables import BUILT_TABLES
from dagster_project.sources import SOURCE_TABLES


def _sample_data(out_dir: Path, as_of: datetime, orders: int, seed: int) -> None:
    from dagster_project.datagen.generator import GeneratorConfig, generate  # numpy: only when sample data is made

    generate(GeneratorConfig(out_dir=out_dir, as_of=as_of, orders=orders, seed=seed))


BUILD = Build(
    product="product_affinity",
    description="Load the sources, build staging and the Product Affinity tables, publish the database.",
    sources=SOURCE_TABLES,
    tables=BUILT_TABLES,
    params=AffinityParams.from_build,
    summary=summary,
    sample_data=_sample_data,
)

"""A spec's `build:` reference resolved to the Build it names, with errors at the spec's place (file:line).

Imported only where a build is needed (the Dagster definitions, `slo run`, `slo tree`) or checked (`slo validate`):
resolving imports the product's module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagster_project.build_api import Build, load_build
from dagster_project.errors import UsageError
from dagster_project.spec.validate import LoadedSpec, SpecIssue


@dataclass(frozen=True)
class ProductBuild:
    """A product's build, as declared by its spec."""

    spec: LoadedSpec
    build: Build


def _resolve(s: LoadedSpec) -> tuple[Build | None, SpecIssue | None]:
    ref = s.spec.build
    if ref is None:
        return None, None
    try:
        build = load_build(ref)
    except UsageError as exc:
        return None, s.issue(("build",), str(exc))
    if build.product != s.spec.data_product.id:
        return None, s.issue(
            ("build",), f"build {ref!r} builds product {build.product!r}, not {s.spec.data_product.id!r}"
        )
    return build, None


def build_issues(specs: Sequence[LoadedSpec]) -> list[SpecIssue]:
    """Every `build:` that does not import, is not a Build, or builds another product; more than one build."""
    issues, with_build = [], []
    for s in specs:
        build, issue = _resolve(s)
        if issue is not None:
            issues.append(issue)
        elif build is not None:
            with_build.append(s)
    for s in with_build[1:]:
        first = with_build[0]
        issues.append(
            s.issue(
                ("build",),
                f"only one product per deployment may declare a build (one database); "
                f"{first.spec.data_product.id} in {first.doc.path} already does",
            )
        )
    return sorted(issues)


def product_build(specs: Sequence[LoadedSpec]) -> ProductBuild | None:
    """The build the specs declare, or None when every product is check-only; UsageError (file:line) otherwise."""
    issues = build_issues(specs)
    if issues:
        raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
    for s in specs:
        build, _issue = _resolve(s)
        if build is not None:
            return ProductBuild(s, build)
    return None

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


def _pii_issues(s: LoadedSpec, build: Build) -> list[SpecIssue]:
    """A sample key that the build declares personal data (SourceColumn(pii=True) of a source it loads into
    raw.<name>) must be in the spec's pii_columns too, so samples show *** for it: the spec is what `slo check`
    reads, and it does not import the build."""
    declared = {f"raw.{t.name}": set(t.pii_columns) for t in build.sources}
    issues = []
    for i, slo in enumerate(s.spec.slos):
        if slo.samples is None:
            continue
        marked = set(s.spec.pii_columns.get(slo.dataset, ()))
        for j, key in enumerate(slo.samples.keys):
            if key in declared.get(slo.dataset, set()) - marked:
                issues.append(
                    s.issue(
                        ("slos", i, "samples", "keys", j),
                        f"key column {key!r} is personal data in the build's source {slo.dataset} (pii=True): list "
                        f"it under pii_columns: {{{slo.dataset}: [{key}]}} so samples show *** instead of its values",
                    )
                )
    return issues


def build_issues(specs: Sequence[LoadedSpec]) -> list[SpecIssue]:
    """Every `build:` that does not import, is not a Build, or builds another product; more than one build; a
    sample key the build declares personal data that the spec does not mark as PII."""
    issues, with_build = [], []
    for s in specs:
        build, issue = _resolve(s)
        if issue is not None:
            issues.append(issue)
        elif build is not None:
            with_build.append(s)
            issues.extend(_pii_issues(s, build))
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

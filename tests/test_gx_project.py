"""The GX file context is a project GX users can work in: its checkpoint runs with plain GX from any directory, its
suites name the table's real columns and carry GX's severities (warn SLOs `warning`), its Data Docs name the run and
the data asset, and they render styled offline (checked in headless Chromium with the network unreachable)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dagster_project.engines import gx, gx_docs, gx_suite
from dagster_project.engines.native import open_for_checks
from dagster_project.indicators.registry import make
from dagster_project.settings import Settings
from dagster_project.slo.domain import Slo, Threshold
from dagster_project.slo.plan import compile_plan
from dagster_project.warehouse.connection import table_schema
from tests.conftest import AS_OF
from tests.test_gx_engine import shipped_slos

NAIVE_AS_OF = AS_OF.replace(tzinfo=None)
INSTALL = "sudo apt-get install -y --no-install-recommends chromium"
PRODUCT_CHECKPOINT = "slo__product_affinity"


def _project(built_product: Settings, base: Path) -> Path:
    """The shipped product checked through GX, its file context made under a path given relative to the working
    directory, as `slo check` gives `.slo_state` (then the working directory is left)."""
    base.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(base)
    try:
        with open_for_checks(built_product.database, landing=built_product.landing_database) as con:
            gx.evaluate(con, compile_plan(shipped_slos()), NAIVE_AS_OF, Path("state"))
    finally:
        os.chdir(here)
    return base / "state"


@pytest.fixture(scope="module")
def project(built_product: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(built_product, tmp_path_factory.mktemp("gx_project"))


def _context(root: Path) -> Any:
    import great_expectations as gx_core

    return gx_core.get_context(mode="file", project_root_dir=str(root))


def test_a_gx_user_runs_the_checkpoint_with_plain_gx_from_any_directory(
    built_product: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(built_product, tmp_path / "made")  # a project of its own: this test's run adds to it
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # copies nothing: the context stays where `slo check` wrote it
    result = _context(project).checkpoints.get(PRODUCT_CHECKPOINT).run()
    outcomes = [r for v in result.run_results.values() for r in v.results]
    assert len(result.run_results) >= 4 and len(outcomes) >= 10
    errors = [r.exception_info for r in outcomes if r.exception_info.get("raised_exception")]
    assert errors == [] and result.success, errors
    # The data paths GX keeps are absolute, not relative to wherever `slo check` ran.
    config = yaml.safe_load((project / "gx" / "great_expectations.yml").read_text())
    assets = [a for d in config["fluent_datasources"].values() for a in d.get("assets", {}).values()]
    paths = [a["path"] for a in assets if "path" in a]
    assert paths and all(Path(p).is_absolute() and Path(p).is_file() for p in paths), paths


def test_suites_name_the_tables_real_columns(project: Path, built_product: Settings) -> None:
    with open_for_checks(built_product.database, landing=built_product.landing_database) as con:
        real = {s.dataset: {c for c, _ in table_schema(con, s.dataset)} for s in shipped_slos()}
    compound = {gx_suite.key_column(s.indicator.columns) for s in shipped_slos() if s.kind == "uniqueness"}  # type: ignore[attr-defined]
    seen: set[str] = set()
    for path in (project / "gx" / "expectations").glob("slo__*.json"):
        suite = json.loads(path.read_text())
        dataset = suite["meta"]["dataset"]
        for expectation in suite["expectations"]:
            column = expectation["kwargs"]["column"]
            assert column in real[dataset] or column in compound, (path.name, column)
            seen.add(column)
    assert "channel" in seen  # a set of strings: compared as text, under the column's own name


def test_sets_and_patterns_keep_the_column_name_and_cast_it(tmp_path: Path) -> None:
    words = gx_suite.translate(_slo("in_set", column="k", values=["1", "x"]))
    assert words.batch == (gx_suite.BatchColumn("k", ("k",), "VARCHAR"),)
    assert words.parts[0].kwargs["column"] == "k"
    pattern = gx_suite.translate(_slo("matches_pattern", column="ts", regex="2026-.*"))
    assert pattern.batch == (gx_suite.BatchColumn("ts", ("ts",), "VARCHAR"),)


def test_a_column_cast_two_ways_gets_a_batch_per_cast() -> None:
    present = gx_suite.translate(_slo("non_null_ratio", "present", columns=["k"]))
    as_text = gx_suite.translate(_slo("matches_pattern", "as_text", column="k", regex="[0-9]+"))
    as_number = gx_suite.translate(_slo("in_set", "as_number", column="k", values=[1, 2]))
    as_text_too = gx_suite.translate(_slo("in_set", "as_text_too", column="k", values=["1"]))
    batches = gx_suite.batches([present, as_text, as_number, as_text_too])
    assert [(b.suffix, [t.slo.id for t in b.items], b.columns) for b in batches] == [
        ("", ["present"], (gx_suite.BatchColumn("k", ("k",)),)),
        ("as_text", ["as_text", "as_text_too"], (gx_suite.BatchColumn("k", ("k",), "VARCHAR"),)),
        ("as_number", ["as_number"], (gx_suite.BatchColumn("k", ("k",), "DOUBLE"),)),
    ]
    # A text column cast to text is the column as it is: one batch.
    unchanged = gx_suite.batches([present, as_text], lambda c: c.cast == "VARCHAR")
    assert [(b.suffix, len(b.items), b.columns) for b in unchanged] == [("", 2, (gx_suite.BatchColumn("k", ("k",)),))]


def test_warn_slos_are_gx_warnings_and_error_slos_critical(project: Path) -> None:
    severities = {}
    for path in (project / "gx" / "expectations").glob("slo__*.json"):
        for expectation in json.loads(path.read_text())["expectations"]:
            severities[expectation["meta"]["slo"]] = expectation["severity"]
    expected = {s.id: "warning" if s.severity == "warn" else "critical" for s in shipped_slos() if s.id in severities}
    assert severities == expected
    assert "warning" in severities.values() and "critical" in severities.values()


def test_data_docs_name_the_run_and_the_data_asset(project: Path) -> None:
    site = project / "gx" / "uncommitted" / "data_docs" / "local_site"
    run = gx.run_name("product_affinity", NAIVE_AS_OF)
    assert run == "product_affinity-20261127T060000Z"
    pages = sorted((site / "validations").rglob("*.html"))
    assert pages and all(run in p.parts for p in pages)
    for page in pages:
        html = page.read_text()
        asset = page.parts[page.parts.index("validations") + 1]  # the suite's name is its asset's
        assert "__none__" not in html and run in html
        assert "Data asset:" in html and "Data asset: None" not in _text(html)
        assert f"Data asset: {asset}" in _text(html), page


def _text(html: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- Data Docs offline -------------------------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener('load', () => document.fonts.ready.then(() => {
  const style = (selector, property) => {
    const element = document.querySelector(selector);
    return element ? getComputedStyle(element)[property] : null;
  };
  const out = {
    navbar_display: style('nav.navbar', 'display'),
    alert_background: style('.alert-secondary', 'backgroundColor'),
    icon_font: style('i.fas', 'fontFamily'),
    icon_fonts_loaded: Array.from(document.fonts)
      .filter(f => f.family.includes('Font Awesome') && f.status === 'loaded').length,
    jquery: typeof window.jQuery,
    bootstrap_table: !!(window.jQuery && window.jQuery.fn.bootstrapTable),
    stylesheets: Array.from(document.styleSheets).map(s => s.href).filter(h => h),
    scripts: Array.from(document.scripts).map(s => s.src).filter(s => s),
    images: Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0]),
  };
  const pre = document.createElement('pre');
  pre.id = 'slo-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}));
</script>
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is not installed; .ci/run must install it ({INSTALL})")
        pytest.skip(f"chromium is not installed; to run this test: {INSTALL}")
    return path


def _probe(page: Path, profile: Path) -> dict[str, Any]:
    """What headless Chromium computes for the page, with every non-loopback address unreachable: a copy of the
    page beside it (same relative links) with a script that writes the computed styles into the DOM it dumps."""
    import re

    probe = page.with_name(f"probe-{page.name}")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}"]
    args += ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000"]
    dom = subprocess.run([*args, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    probe.unlink()
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="slo-probe">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found is not None, dom.stdout[-2000:]
    import html

    seen: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return seen


def test_data_docs_render_styled_offline_in_a_browser(project: Path, tmp_path: Path) -> None:
    site = project / "gx" / "uncommitted" / "data_docs" / "local_site"
    index = site / "index.html"
    validation = sorted((site / "validations").rglob("*.html"))[0]
    for page in (index, validation):
        assert gx_docs.remote_addresses(page.read_text()) == [], page
        seen = _probe(page, tmp_path / "profile")
        # Bootstrap applied (a navbar is a flex box only through it), jQuery and bootstrap-table loaded.
        assert seen["navbar_display"] == "flex", (page.name, seen)
        assert seen["jquery"] == "function" and seen["bootstrap_table"] is True, seen
        local = [*seen["stylesheets"], *seen["scripts"], *(src for src, _ in seen["images"])]
        assert local and all(address.startswith("file://") for address in local), local
        assert all(shown for _, shown in seen["images"]), seen["images"]  # the logo: GX's own copy
    # The validation page: its overview box is Bootstrap's grey alert, its status icons Font Awesome's.
    seen = _probe(validation, tmp_path / "profile")
    assert seen["alert_background"] == "rgb(226, 227, 229)", seen
    assert "Font Awesome" in seen["icon_font"] and seen["icon_fonts_loaded"] >= 1, seen


def test_localizing_data_docs_is_idempotent_and_drops_what_it_does_not_ship(tmp_path: Path) -> None:
    page = tmp_path / "site" / "validations" / "s" / "r" / "t" / "p.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/vega@5"></script>\n'
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>\n'
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-x"'
        ' crossorigin="anonymous"></script><style>a { background: url(\'https://great-expectations-web-assets.s3'
        ".us-east-2.amazonaws.com/full_logo_dark.png') }</style></head>\n"
        '<body><a href="https://greatexpectations.io">GX</a></body></html>'
    )
    gx_docs.localize(tmp_path / "site")
    once = page.read_text()
    assert gx_docs.main([str(tmp_path / "site")]) == 0  # as documented, for a site GX built by itself
    assert gx_docs.main([str(tmp_path / "no_site")]) == 2
    assert page.read_text() == once and gx_docs.remote_addresses(once) == []
    assert "vega" not in once and "integrity" not in once
    assert 'href="../../../../static/vendor/css/bootstrap.min.css"' in once
    assert 'src="../../../../static/vendor/js/bootstrap.min.js"' in once
    assert "url('../../../../static/images/logo-long.png')" in once
    assert '<a href="https://greatexpectations.io">' in once  # a link is the reader's to follow
    assert (tmp_path / "site" / "static" / "vendor" / "css" / "bootstrap.min.css").is_file()


def _slo(kind: str, id_: str = "t", **params: Any) -> Slo:
    return Slo(
        id=id_,
        product="p",
        dimension="validity",
        dataset="s.t",
        indicator=make(kind, **params),
        threshold=Threshold.of("min", 0.99),
        severity="error",
        objective=0.99,
        windows_s=(86400.0,),
        protects=("goal", "g"),
    )

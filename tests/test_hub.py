"""Many data products: the shipped Product Affinity spec beside a second product over tables of its own
(tests/specs/products/flight_punctuality.yaml, whose database the tests build with DuckDB directly). Rules,
dashboards, `slo tree`, /metrics and `slo report` cover both; the data product hub (index.html) lists both with their
badges and budgets; `slo serve` serves the same hub and reports live, checked in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta
from html import unescape
from pathlib import Path

import duckdb
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from dagster_project.exporter import names as n
from dagster_project.exporter.server import Exporter, ExporterConfig, make_server
from dagster_project.generators.dashboards import GRAFANA_UID_MAX, dashboards
from dagster_project.report.build import reports
from dagster_project.report.html import render
from dagster_project.report.hub import render_index
from dagster_project.report.live import LivePages
from dagster_project.results.store import record
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.spec.models import SpecFile
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import AS_OF, REPO
from tests.prometheus_support import free_port, running
from tests.test_report import chromium

FLIGHTS = REPO / "tests" / "specs" / "products" / "flight_punctuality.yaml"
SHIPPED = REPO / "slo_definitions"
PRODUCTS = ("product_affinity", "flight_punctuality")
REPORT_AT = AS_OF + timedelta(hours=1)


def build_flights_db(path: Path) -> Path:
    """Departures every 37 minutes up to an hour before AS_OF; one carrier in four ('ZZ') is not in the carrier
    table, so carriers_known (warn) fails and the others pass."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA flights")
        con.execute("CREATE TABLE flights.carriers (carrier VARCHAR, name VARCHAR)")
        con.execute("INSERT INTO flights.carriers VALUES ('AA', 'American'), ('UA', 'United'), ('B6', 'JetBlue')")
        con.execute(
            "CREATE TABLE flights.departures AS SELECT i AS flight_id, ['AA', 'UA', 'B6', 'ZZ'][1 + i % 4] AS carrier,"
            " TIMESTAMP '2026-11-27 05:00:00' - INTERVAL (i * 37) MINUTE AS dep_ts,"
            " CASE WHEN i % 5 = 0 THEN 40 ELSE i % 10 END AS dep_delay_min FROM range(1, 2000) t(i)"
        )
    return path


def specs() -> list[SpecFile]:
    loaded, issues = validate([SHIPPED, FLIGHTS])
    assert issues == []
    return [s.spec for s in loaded]


def record_product_affinity(store: Path, failing: set[str], minutes: int) -> None:
    """One run of every Product Affinity SLO, `minutes` after AS_OF (its data is not in this database)."""
    (spec,) = [s for s in specs() if s.data_product.id == "product_affinity"]
    records = [
        {
            "slo": s.id, "product": s.product, "dimension": s.dimension, "dataset": s.dataset,
            "indicator": s.kind, "objective": s.objective, "observed": 0.0 if s.id in failing else 1.0,
            "threshold": {"bound": s.threshold.bound, "value": s.threshold.value}, "passed": s.id not in failing,
            "severity": s.severity, "engine": "native", "error": None,
        }
        for s in slos_from_spec(spec)
    ]  # fmt: skip
    record(store, f"pa-{minutes}", AS_OF + timedelta(minutes=minutes), records)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ops.duckdb (the flights tables), results.sqlite with two evaluations of each product (the
    flights ones by `slo check`, the real engine), and nothing else."""
    tmp = tmp_path_factory.mktemp("hub")
    db = build_flights_db(tmp / "ops.duckdb")
    store = tmp / "results.sqlite"
    for minutes in (0, 30):
        at = (AS_OF + timedelta(minutes=minutes)).isoformat()
        checked = run_slo("check", "--db", str(db), "--slos", str(FLIGHTS), "--results", str(store), "--as-of", at)
        assert checked.returncode == 0, checked.stderr  # the failing SLO is a warn
    record_product_affinity(store, set(), 0)
    record_product_affinity(store, {"orders_fresh", "order_item_prices_valid"}, 40)
    return tmp


def both(*args: str) -> list[str]:
    return [*args, "--slos", str(SHIPPED), "--slos", str(FLIGHTS)]


def test_rules_have_groups_and_a_missing_run_alert_for_every_product(tmp_path: Path) -> None:
    made = run_slo(*both("rules", "-o", str(tmp_path)))
    assert made.returncode == 0, made.stderr
    groups = yaml.safe_load((tmp_path / "slo_rules.yml").read_text())["groups"]
    names = [g["name"] for g in groups]
    assert len(names) == len(set(names))
    for spec in specs():
        for s in spec.slos:
            assert f"dataslo-{spec.data_product.id}-{s.id}" in names
    (pipeline,) = [g for g in groups if g["name"] == "dataslo-pipeline-alerts"]
    teams = {r["labels"]["product"]: r["labels"]["team"] for r in pipeline["rules"] if "product" in r["labels"]}
    assert teams == {"product_affinity": "marketing-analytics", "flight_punctuality": "airport-ops"}
    sloth_ids = [r["labels"]["sloth_id"] for g in groups for r in g["rules"] if "sloth_id" in r.get("labels", {})]
    assert {i.split("-")[0] for i in sloth_ids} == set(PRODUCTS)


def test_dashboards_are_per_product_with_distinct_uids_grafana_accepts(tmp_path: Path) -> None:
    made = run_slo(*both("dashboards", "-o", str(tmp_path)))
    assert made.returncode == 0, made.stderr
    boards = {p.name: json.loads(p.read_text()) for p in (tmp_path / "grafana").glob("*.json")}
    assert set(boards) == {f"{p}-{role}.json" for p in PRODUCTS for role in ("oncall", "owner")}
    for name, board in boards.items():
        product = name.rsplit("-", 1)[0]
        (variable,) = [v for v in board["templating"]["list"] if v["name"] == "product"]
        assert variable["current"]["value"] == product
    uids = [b["uid"] for b in boards.values()]
    assert len(set(uids)) == 4 and all(len(u) <= GRAFANA_UID_MAX for u in uids)


def _renamed(spec: SpecFile, product: str, name: str, slo_prefix: str) -> SpecFile:
    data = spec.model_dump(by_alias=True, exclude_none=True)
    data["data_product"] |= {"id": product, "name": name}
    for s in data["slos"]:
        s["id"] = slo_prefix + s["id"]
    return SpecFile.model_validate(data)


def test_long_product_ids_get_grafana_uids_of_at_most_40_characters_and_never_the_same() -> None:
    # Grafana refuses a dashboard uid over 40 characters; an id may have 64, and two may share their first 30.
    flights = specs()[1]
    long_a = _renamed(flights, "a" * 40 + "_first_product", "A", "a_")
    long_b = _renamed(flights, "a" * 40 + "_second_product", "B", "b_")
    uids = [json.loads(text)["uid"] for text in dashboards([long_a, long_b]).values()]
    assert len(uids) == 4 and len(set(uids)) == 4
    assert all(len(u) <= GRAFANA_UID_MAX and u.startswith("dataslo-aaaa") for u in uids), uids


def test_products_with_the_same_name_get_distinct_dashboard_titles() -> None:
    # Grafana keeps titles unique in a folder: two boards of one title would not both be provisioned.
    flights = specs()[1]
    twin = _renamed(flights, "flight_punctuality_jfk", flights.data_product.name, "jfk_")
    titles = [json.loads(text)["title"] for text in dashboards([flights, twin]).values()]
    assert len(set(titles)) == 4
    assert "Flight Punctuality - on-call (flight_punctuality_jfk)" in titles


def test_tree_shows_every_product_with_its_own_statuses(state: Path) -> None:
    shown = run_slo(*both("tree", "--json", "--results", str(state / "results.sqlite")))
    assert shown.returncode == 0, shown.stderr
    trees = json.loads(shown.stdout)
    assert [t["product"] for t in trees] == list(PRODUCTS)
    text = json.dumps(trees[1])
    assert "flights.departures" in text and "carriers_known" in text and "orders_fresh" not in text
    one = run_slo(*both("tree", "flight_punctuality", "--results", str(state / "results.sqlite")))
    assert one.returncode == 0 and "Flight Punctuality (flight_punctuality)" in one.stdout
    assert "warn carriers_known" in one.stdout and "Product Affinity" not in one.stdout


def _series(body: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (sample.name, sample.labels) for family in text_string_to_metric_families(body) for sample in family.samples
    ]


def test_metrics_cover_every_product_with_no_series_twice(state: Path) -> None:
    exporter = Exporter(ExporterConfig(specs(), state / "results.sqlite", state / "ops.duckdb", as_of=REPORT_AT))
    series = _series(exporter.refresh().decode())
    keys = [(name, tuple(sorted(labels.items()))) for name, labels in series]
    assert [k for k, count in Counter(keys).items() if count > 1] == []

    def products(metric: n.Metric, slo_id: str) -> list[str]:
        return [labels["product"] for name, labels in series if name == metric.sample and labels["slo"] == slo_id]

    for spec in specs():
        for s in spec.slos:
            assert products(n.SLO_INFO, s.id) == [spec.data_product.id]
            assert products(n.CHECK_PASSED, s.id) == [spec.data_product.id]
    # Each product's North Star from its own measure; Product Affinity's tables are not in this database.
    stars = {labels["product"]: labels["measure"] for name, labels in series if name == n.NORTH_STAR_VALUE.sample}
    assert stars == {"flight_punctuality": "on_time_share"}


def _hub_rows(html: str) -> dict[str, str]:
    return dict(re.findall(r"<tr id=.product-(\w+).>(.*?)</tr>", html, re.DOTALL))


def test_slo_report_writes_a_hub_listing_every_product_with_its_badges_and_budget(state: Path) -> None:
    out = state / "report"
    written = run_slo(
        *both("report", "-o", str(out), "--results", str(state / "results.sqlite"), "--db", str(state / "ops.duckdb")),
        "--state-dir", str(state / "no-state"), "--as-of", REPORT_AT.isoformat(),
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in out.iterdir()) == ["flight_punctuality.html", "index.html", "product_affinity.html"]
    hub = (out / "index.html").read_text()
    rows = _hub_rows(hub)
    assert list(rows) == list(PRODUCTS)
    assert "airport-ops" in rows["flight_punctuality"] and "marketing-analytics" in rows["product_affinity"]
    for product in PRODUCTS:
        assert f"href='{product}.html'" in rows[product]
        page = (out / f"{product}.html").read_text()
        assert 'href="index.html"' in page  # and back
        # Every badge of the product's report, with the same text and colour, under the product's own id.
        badges = re.findall(r"<span class='(badge \w+)' id='badge-(\w+)' [^>]*>([^<]*)<", page)
        assert badges
        for cls, dimension, text in badges:
            assert f"<span class='{cls}' id='badge-{product}-{dimension}' " in rows[product]
            assert re.search(rf"id='badge-{product}-{dimension}' [^>]*>{re.escape(text)}<", rows[product])
    # flights: one warn SLO failing since AS_OF, so its budget is spent; the lowest budget names it.
    assert "1 warn" in rows["flight_punctuality"] and "lowest: carriers_known" in rows["flight_punctuality"]
    assert "class='badge poor' id='badge-flight_punctuality-accuracy'" in rows["flight_punctuality"]
    assert "class='badge good' id='badge-flight_punctuality-freshness'" in rows["flight_punctuality"]
    assert "2 failing" in rows["product_affinity"] and "lowest: order" in rows["product_affinity"]
    assert re.search(r"id='budget-flight_punctuality' [^>]*>-?\d+\.\d%<", rows["flight_punctuality"])


def test_the_hub_lists_a_product_never_evaluated(tmp_path: Path) -> None:
    # No evaluation at all: every product is still listed, with its owner, grey badges and no budget figure.
    built = reports(specs(), tmp_path / "empty.sqlite", REPORT_AT, None, None)
    rows = _hub_rows(render_index(built, REPORT_AT))
    assert list(rows) == list(PRODUCTS)
    for product, row in rows.items():
        assert "none yet" in row and "not measured yet" in row and "class='badge none'" in row
        assert "class='badge good'" not in row and f"id='budget-{product}'" not in row


def test_the_served_pages_are_what_slo_report_writes_and_follow_the_store(state: Path, tmp_path: Path) -> None:
    store = tmp_path / "results.sqlite"
    store.write_bytes((state / "results.sqlite").read_bytes())
    config = ExporterConfig(specs(), store, state / "ops.duckdb", as_of=REPORT_AT)
    exporter = Exporter(config)
    exporter.refresh()
    pages = LivePages(exporter)
    built = reports(specs(), store, REPORT_AT, state / "ops.duckdb", None)
    hub = pages("/")
    assert hub is not None and pages("/index.html") == hub
    assert hub.decode() == render_index(built, REPORT_AT).replace("<code>slo report</code>", "<code>slo serve</code>")
    for r in built:
        assert pages(f"/{r.spec.data_product.id}.html") == render(r, tmp_path).encode()
    for unknown in ("/nope.html", "/index.htm", "/../index.html", "/metrics.html", "/product_affinity"):
        assert pages(unknown) is None
    # A new evaluation reaches the pages with the next refresh, not before.
    before = _hub_rows(hub.decode())["product_affinity"]
    record_product_affinity(store, set(), 50)
    assert pages("/") == hub
    exporter.refresh()
    after = _hub_rows((pages("/") or b"").decode())["product_affinity"]
    assert after != before and "2 failing" in before and "all passing" in after


def _dom(browser: str, url: str, profile: Path) -> str:
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    args += ["--window-size=1200,3000", f"--user-data-dir={profile}", "--dump-dom", url]
    shown = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert [line for line in shown.stderr.splitlines() if ":CONSOLE" in line] == []
    return shown.stdout


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_slo_serve_serves_the_hub_and_each_report_in_a_browser(state: Path, tmp_path: Path) -> None:
    browser = chromium()
    port = free_port()
    serve_state = tmp_path / "serve-state"
    serve = [
        sys.executable, "-m", "dagster_project.cli.main",
        *both("serve", "--port", str(port), "--results", str(state / "results.sqlite")),
        "--db", str(state / "ops.duckdb"), "--state-dir", str(serve_state), "--as-of", REPORT_AT.isoformat(),
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with running(serve, f"{base}/metrics", tmp_path / "serve.log"):
        hub = _dom(browser, f"{base}/", tmp_path / "profile")
        for product, owner in zip(PRODUCTS, ("marketing-analytics", "airport-ops"), strict=True):
            assert f'id="product-{product}"' in hub and f'<td id="owner-{product}">{owner}</td>' in hub
        for dimension in ("freshness", "completeness", "uniqueness", "validity", "accuracy"):
            assert f'id="badge-flight_punctuality-{dimension}"' in hub
            assert f'id="badge-product_affinity-{dimension}"' in hub
        assert 'id="budget-flight_punctuality"' in hub
        link = re.search(r'<a id="link-flight_punctuality" href="([^"]+)"', hub)
        assert link is not None
        page = _dom(browser, f"{base}/{unescape(link.group(1))}", tmp_path / "profile")
        assert "<h1>Flight Punctuality</h1>" in page and "owned by airport-ops" in page
        for s in specs()[1].slos:
            assert f'id="slo-{s.id}"' in page
        assert re.search(r'id="north-star-value">\d+\.\d%<', page)  # from ops.duckdb, as /metrics has it
        assert re.search(r'<li id="breach-carriers_known">.*warn', page)
        assert _get(f"{base}/nope")[0] == 404 and _get(f"{base}/product_affinity.html")[0] == 200
        assert _get(f"{base}/metrics")[0] == 200
    assert not serve_state.exists() or not any(serve_state.rglob("*.html"))  # served, never written
    assert not list(state.glob("*.html")) and not (state / "no-state").exists()


def test_a_page_that_cannot_be_rendered_is_a_500_and_metrics_still_answer(state: Path) -> None:
    exporter = Exporter(ExporterConfig(specs(), state / "results.sqlite", None, as_of=REPORT_AT))
    exporter.refresh()

    def broken(path: str) -> bytes | None:
        raise ValueError("boom")

    server = make_server(exporter, "127.0.0.1", 0, pages=broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert _get(f"{base}/")[0] == 500
        assert _get(f"{base}/metrics")[0] == 200
    finally:
        server.shutdown()
        server.server_close()

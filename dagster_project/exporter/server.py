"""`slo serve`: a long-running exporter of /metrics for Prometheus.

Every value comes from the persisted results store (and the spec, and the published data product for the North
Star and goals), so a restarted exporter, or a second one, exports the same numbers. A background thread catches up
with the store (new rows only), recomputes the snapshot and renders the exposition text; a scrape returns the last
rendering. Scrapes therefore cost the same whatever the size of the history, and never wait for the store or for
DuckDB. The rendering is at most `refresh_s` old (`dataslo_exporter_last_refresh_timestamp_seconds` says when).

Beside /metrics and /healthz the server can answer other paths through a `pages` function (`slo serve` gives it the
data product hub and the reports, report/live.py, rendered from this exporter's state); any other path is a 404.

The HTTP server keeps connections alive (HTTP/1.1, as Prometheus scrapes), closes one that stays idle for
IDLE_TIMEOUT_S, queues up to LISTEN_BACKLOG connections while its threads are busy, and says nothing when a client
hangs up mid-response: that is the client's business, not a traceback per scrape.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from dagster_project.engines.measures import Measured, MeasureValue, measure_products
from dagster_project.engines.servers import uses_deployment_database
from dagster_project.exporter import names as n
from dagster_project.exporter.history import History
from dagster_project.exporter.snapshot import Families, product_families, slo_families
from dagster_project.results.address import StoreAddress
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec.models import SpecFile

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 128  # socketserver's default of 5 refused ~1% of 200 concurrent scrapers
IDLE_TIMEOUT_S = 30.0  # a kept-alive connection with no request for this long is closed (a scrape every 15 s stays)


@dataclass(frozen=True)
class ExporterConfig:
    specs: Sequence[SpecFile]
    results: StoreAddress  # a SQLite file or a PostgreSQL URL
    database: Path | None  # the published data product, for the North Star and goals
    landing: Path | None = None
    refresh_s: float = 5.0
    measures_every_s: float = 60.0
    as_of: datetime | None = None  # windows end here instead of now (`slo serve --as-of`: reproducible renderings)


class _Fixed(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


class Exporter:
    def __init__(self, config: ExporterConfig) -> None:
        self.config = config
        self.slos = all_slos(config.specs)
        self.history = History(config.results, {slo.id: slo.kind for slo in self.slos})
        self.measures: dict[str, dict[str, MeasureValue]] = {}
        self.measured: dict[str, Measured] = {}  # the same values with the North Star per day, for the report pages
        self._measured_at = 0.0
        self._measured_db: tuple[int, int] | None = None
        self.body = b""
        self.refreshed_at = 0.0
        self._lock = threading.Lock()
        # Held while the history and measures change (refresh) and while something else reads them (the pages).
        self.state_lock = threading.RLock()
        self.generation = 0  # counts successful refreshes: what is rendered from the state is current for one
        self.window_end = 0.0  # where the last refresh ended every window (--as-of, else its `now`)

    def _refresh_measures(self, now: float, at: float) -> None:
        """The measures of every product, where its data lives (its spec's server, else the deployment's database):
        again when the deployment's database changed, else every `measures_every_s`."""
        db = self.config.database
        on_db = db is not None and db.is_file()
        if not on_db and all(uses_deployment_database(s.server) for s in self.config.specs):
            return
        identity = None
        if db is not None and on_db:
            stat = db.stat()
            identity = (stat.st_ino, stat.st_mtime_ns)
        if identity == self._measured_db and now - self._measured_at < self.config.measures_every_s:
            return
        as_of = datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
        known = set(self.degraded())
        try:
            measured = measure_products(self.config.specs, db, as_of, self.config.landing, previous=self.measured)
        except Exception as exc:  # a database being replaced or unreadable: keep the last values, say why
            log.warning("cannot compute measures from %s: %s", db, exc)
            return
        # A product whose data could not be read this time keeps its last values (measure_products); one on the
        # deployment's database while there is none keeps them too.
        self.measured = {**self.measured, **measured}
        self.measures = {product: m.measures for product, m in self.measured.items()}
        for problem in self.degraded():
            if problem not in known:  # once, not every refresh
                log.warning("%s", problem)
        self._measured_db, self._measured_at = identity, now

    def refresh(self, now: float | None = None) -> bytes:
        """Catch up with the store and re-render; returns the new exposition text. Windows end at the configured
        as-of, else at `now`; the refresh timestamp is always `now` (it says the exporter is alive)."""
        started = time.perf_counter()
        now = time.time() if now is None else now
        at = self.config.as_of.timestamp() if self.config.as_of is not None else now
        with self.state_lock:
            self.history.refresh()
            self._refresh_measures(now, at)
            families = Families()
            slo_families(families, self.slos, self.history, at)
            product_families(families, self.config.specs, self.measures)
            families.add(n.EXPORTER_EVALUATIONS, [], self.history.rows)
            self.generation += 1
            self.window_end = at
        families.add(n.EXPORTER_REFRESH, [], now)
        families.add(n.EXPORTER_REFRESH_DURATION, [], time.perf_counter() - started)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Fixed(families.all()))
        body = generate_latest(registry)
        with self._lock:
            self.body = body
            self.refreshed_at = now
        return body

    def current(self) -> bytes:
        with self._lock:
            return self.body

    def run_refresher(self, stop: threading.Event) -> None:
        """Refresh until stopped. A failure keeps the last rendering (whose refresh timestamp then ages, so
        DataSloExporterDown fires) and is logged once per distinct message, in one line."""
        last_error = ""
        while not stop.wait(self.config.refresh_s):
            try:
                self.refresh()
                last_error = ""
            except Exception as exc:
                text = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                if text != last_error:
                    log.warning("refresh failed, serving the last values: %s", text)
                    last_error = text

    def degraded(self) -> list[str]:
        """Why part of /metrics is missing although the refresh works: each measure (the North Star's, a goal's)
        that cannot be computed, with DuckDB's reason."""
        return [
            f"measure {product}.{name} cannot be computed: {value.error}"
            for product, values in sorted(self.measures.items())
            for name, value in sorted(values.items())
            if value.error is not None
        ]

    def healthy(self, now: float | None = None) -> bool:
        """Refreshed recently: within three refresh intervals (and a minute of slack)."""
        now = time.time() if now is None else now
        return now - self.refreshed_at <= 3 * self.config.refresh_s + 60


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away (a broken pipe, a reset) or went quiet: nothing to report
        super().handle_error(request, client_address)  # type: ignore[arg-type]


Pages = Callable[[str], bytes | None]  # a path -> an HTML page, or None: not one of its pages


def make_server(
    exporter: Exporter, host: str, port: int, idle_timeout_s: float = IDLE_TIMEOUT_S, pages: Pages | None = None
) -> _Server:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: every reply says its Content-Length
        timeout = idle_timeout_s

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/metrics":
                body, ctype = exporter.current(), CONTENT_TYPE_LATEST
            elif path == "/healthz":
                if not exporter.healthy():
                    self.send_error(503, "stale: the last refresh failed or is too old (see the exporter's log)")
                    return
                problems = exporter.degraded()
                if problems:  # serving, but the North Star or a goal is missing from /metrics: say which and why
                    self.reply(503, "".join(f"degraded: {p}\n" for p in problems).encode(), "text/plain")
                    return
                body, ctype = b"ok\n", "text/plain"
            else:
                try:
                    page = None if pages is None else pages(path)
                except Exception as exc:  # a page that cannot be rendered: say so in one line, keep serving
                    log.warning("cannot render %s: %s: %s", path, type(exc).__name__, exc)
                    self.send_error(500, "this page cannot be rendered (see the exporter's log)")
                    return
                if page is None:
                    self.send_error(404, "try /metrics" if pages is None else "try /, /metrics or /healthz")
                    return
                body, ctype = page, "text/html; charset=utf-8"
            self.reply(200, body, ctype)

        def reply(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return _Server((host, port), Handler)

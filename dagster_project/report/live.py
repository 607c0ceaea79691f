"""The hub and the reports as `slo serve` serves them (`/`, `/index.html`, `/<product>.html`): rendered from the
exporter's own state - the history it caught up with the store and the measures it read from the published database,
at the instant its last refresh ended the windows - so a page says what /metrics says. Nothing is written; a page is
rendered when asked for, at most once per refresh."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.engines.measures import Measured
from dagster_project.exporter.server import Exporter
from dagster_project.report.build import product_report
from dagster_project.report.html import render
from dagster_project.report.hub import INDEX, page_name, render_index


class LivePages:
    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter
        self._lock = threading.Lock()
        self._generation = -1
        self._pages: dict[str, bytes] = {}
        products = [spec.data_product.id for spec in exporter.config.specs]
        self.paths = {"/": INDEX, f"/{INDEX}": INDEX} | {f"/{page_name(p)}": page_name(p) for p in products}

    def __call__(self, path: str) -> bytes | None:
        """The page at `path`, or None when there is none (a 404)."""
        name = self.paths.get(path)
        return None if name is None else self.current()[name]

    def current(self) -> dict[str, bytes]:
        """Every page by file name, as of the exporter's last refresh."""
        with self._lock:
            exporter = self.exporter
            if self._generation != exporter.generation:
                with exporter.state_lock:
                    generation = exporter.generation
                    as_of = datetime.fromtimestamp(exporter.window_end, UTC)
                    reports = [
                        product_report(
                            spec,
                            exporter.history,
                            as_of,
                            None,
                            None,
                            exporter.measured.get(spec.data_product.id) or Measured(),
                        )
                        for spec in exporter.config.specs
                    ]
                pages = {INDEX: render_index(reports, as_of, "slo serve").encode()}
                for r in reports:
                    pages[page_name(r.spec.data_product.id)] = render(r, Path(".")).encode()
                self._pages, self._generation = pages, generation
            return self._pages

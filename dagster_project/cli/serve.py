"""`slo serve`: the Prometheus exporter, a long-running process, which also serves the data product hub and the
reports (read-only, from the same state as /metrics)."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from typing import Any

from dagster_project.cli.specs import add_slos_option, add_state_options, config_of, load_specs
from dagster_project.errors import EXIT_OK, UsageError
from dagster_project.settings import parse_timestamp

DEFAULT_PORT = 9469

EPILOG = """\
examples:
  slo serve                                         /metrics and the hub (/) on 127.0.0.1:9469 from .slo_state/
  slo serve --host 0.0.0.0 --port 9100 --results /srv/slo/results.sqlite --db /srv/warehouse.duckdb
  slo serve --as-of 2026-11-27T06:00:00Z             every window ends at that instant, not now (reproducible)

Values come from the results store (every SLO's history) and the published database (North Star, goals), so a
restarted exporter, or a second one, exports the same numbers. Scrape it every 15-60 s.
/ is the data product hub and /<product>.html each product's report, as `slo report` writes them, rendered from
the same state as /metrics at its last refresh (nothing is written); /healthz says whether the refresh keeps up.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="export SLO attainment, error budgets and the North Star on /metrics, and serve the hub and reports",
        description="Serve /metrics (Prometheus text format) computed from the results store and the spec, and the "
        "data product hub (/) and reports (/<product>.html) rendered from the same state.",
        epilog=EPILOG,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    add_state_options(p)
    add_slos_option(p)
    p.add_argument("--refresh", type=float, default=5.0, help="seconds between recomputations (default 5)")
    p.add_argument(
        "--as-of",
        help="compute every window (and the latest check) as if at this time, ISO 8601 (default: now): the same "
        "store and --as-of give the same SLO values",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.exporter.server import Exporter, ExporterConfig, make_server
    from dagster_project.report.live import LivePages

    if not (math.isfinite(args.refresh) and args.refresh > 0):
        raise UsageError("--refresh must be a positive number of seconds")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    as_of = parse_timestamp(args.as_of) if args.as_of else None
    where = config_of(args)
    specs = load_specs(where)
    db = where.database
    config = ExporterConfig(
        specs=specs,
        results=where.results_path,
        database=db,
        landing=db.with_name(db.name + ".landing"),
        refresh_s=args.refresh,
        as_of=as_of,
    )
    exporter = Exporter(config)
    exporter.refresh()  # the first scrape already has everything
    try:
        server = make_server(exporter, args.host, args.port, pages=LivePages(exporter))
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host, port = str(server.server_address[0]), int(server.server_address[1])
    at = f", as of {as_of:%Y-%m-%dT%H:%M:%SZ}" if as_of else ""
    print(
        f"serving /metrics on http://{host}:{port}/metrics and the hub on http://{host}:{port}/ "
        f"({len(specs)} data product(s), {len(exporter.slos)} SLOs, {config.results}{at})",
        flush=True,
    )
    stop = threading.Event()
    refresher = threading.Thread(target=exporter.run_refresher, args=(stop,), daemon=True)
    refresher.start()

    def _stop(signum: int, frame: object) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.serve_forever()
    server.server_close()
    print("stopped", file=sys.stderr)
    return EXIT_OK

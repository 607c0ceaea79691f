"""Pushing a run's results to a Prometheus Pushgateway, for deployments where runs are batch jobs and nothing
long-running is scraped. One group per SLO (job="dataslo_push", product, slo), so a run that evaluated only some
SLOs (a build stopped early) replaces only theirs. The exporter (`slo serve`) remains the source of budgets and
windows; the push carries each SLO's latest outcome. Its job (names.PUSH_JOB) is not the exporter's scrape job, so
the dashboards can prefer the exporter's series and fall back on the pushed ones only where there is no exporter.

A push is a convenience (the store has every result): it is bounded in time (PUSH_TIMEOUT_S for a whole batch, and
it stops at the first group that fails), and any failure is a warning for the caller to show, never an error.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dagster_project.exporter import names as n
from dagster_project.results.address import StoreAddress

# The most one batch of pushes may take: a slow or silent gateway costs a run this much, no more.
PUSH_TIMEOUT_S = 3.0


class PushGaveUp(TimeoutError):
    """The batch's time ran out before every group was pushed."""


def push_results(
    url: str, evaluated_at: datetime, results: Sequence[Mapping[str, Any]], timeout_s: float = PUSH_TIMEOUT_S
) -> int:
    """Push each result, all within `timeout_s`; returns how many groups were pushed. Raises what the first failing
    push raised (OSError for an unreachable or silent gateway, an HTTP error status, ...), or PushGaveUp."""
    # Imported only when pushing: `slo check` without a gateway need not pay for prometheus_client's start-up.
    from prometheus_client import CollectorRegistry, Gauge
    from prometheus_client.exposition import push_to_gateway

    deadline = time.monotonic() + timeout_s
    for pushed, r in enumerate(results):
        left = deadline - time.monotonic()
        if left <= 0:
            raise PushGaveUp(f"gave up after {timeout_s:g}s with {pushed} of {len(results)} results pushed")
        registry = CollectorRegistry()
        labels = {"product": r["product"], "slo": r["slo"]}
        passed = Gauge(n.CHECK_PASSED.name, n.CHECK_PASSED.help, registry=registry)
        passed.set(1.0 if r["passed"] is True else 0.0)
        error = Gauge(n.CHECK_ERROR.name, n.CHECK_ERROR.help, registry=registry)
        error.set(1.0 if r["passed"] is None else 0.0)
        when = Gauge(n.LAST_EVALUATION.name, n.LAST_EVALUATION.help, registry=registry)
        when.set(evaluated_at.timestamp())
        if r["observed"] is not None:
            Gauge(n.OBSERVED.name, n.OBSERVED.help, registry=registry).set(float(r["observed"]))
        push_to_gateway(url, job=n.PUSH_JOB, grouping_key=labels, registry=registry, timeout=left)
    return len(results)


def push(pushgateway: str, evaluated_at: datetime, records: Sequence[Mapping[str, Any]]) -> str | None:
    """Push the records when a gateway is configured; the warning to show when that failed, whatever the reason."""
    if not pushgateway or not records:
        return None
    try:
        push_results(pushgateway, evaluated_at, records)
    except Exception as exc:  # any failure (network, HTTP status, a malformed answer) is a warning
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"could not push to {pushgateway}: {reason}"
    return None


def keep(
    store: StoreAddress | None,
    pushgateway: str,
    run_id: str,
    evaluated_at: datetime,
    records: Sequence[Mapping[str, Any]],
) -> str | None:
    """What every producer of results does with them: append them to the store (unless `store` is None) and push
    them when a gateway is configured. Returns the warning to show when the push failed: the store has the results
    and the exporter serves them, so a push is a convenience, never a reason to fail the run."""
    if store is not None:
        from dagster_project.results.store import record  # only when recording: `slo check --no-record` need not

        record(store, run_id, evaluated_at, records)
    return push(pushgateway, evaluated_at, records)

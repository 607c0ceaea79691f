"""Running the build job in-process on the persistent Dagster instance under the state folder.

Runs land in the same instance `dagster dev` shows when started with DAGSTER_HOME=<state>/dagster (`make dev`).
A failed step is turned back into the user's error (bad source data, a busy build file, a refused publish) as one
line; anything else is reported with the step and the innermost error.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dagster_project.defs.checks import RESULT_METADATA_KEY
from dagster_project.defs.factory import build_definitions, build_job_name, load_build, load_specs
from dagster_project.defs.instance import build_instance
from dagster_project.errors import SloError, SourceDataError, UsageError
from dagster_project.settings import Settings
from dagster_project.warehouse.lock import BuildBusy
from dagster_project.warehouse.ownership import ForeignDatabase
from dagster_project.warehouse.publish import PublishError

# Dagster's console logger would print every event (and a traceback on failure); the CLI reports for itself.
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def no_build(products: Iterable[str]) -> str:
    names = ", ".join(products) or "none"
    return (
        f"nothing to build: no data product in the specs declares a build (build: module:ATTRIBUTE; products: "
        f"{names}); a product without a build is check-only: use `slo check`"
    )


class BuildFailed(SloError):
    """A build step failed for a reason other than bad source data."""


@dataclass(frozen=True)
class BuildRun:
    run_id: str
    steps: int
    results: tuple[dict[str, Any], ...]  # one SLO result record per check that ran (slo/report.py's shape)
    published: bool  # False when a blocking (error-severity) SLO failed and stopped the build before publishing


def _results(result: dg.ExecuteInProcessResult) -> tuple[dict[str, Any], ...]:
    records = []
    for evaluation in result.get_asset_check_evaluations():
        entry = evaluation.metadata.get(RESULT_METADATA_KEY)
        if entry is not None and isinstance(entry.value, dict):
            records.append(entry.value)
    return tuple(sorted(records, key=lambda r: (r["dataset"], r["slo"])))


# Errors raised inside steps that the CLI reports as they are. They cross the run boundary serialized, by class name.
_USER_ERRORS: dict[str, type[SloError]] = {
    cls.__name__: cls for cls in (SourceDataError, BuildBusy, PublishError, ForeignDatabase)
}


def _user_error(error: object) -> SloError | None:
    """The first user-facing error in a serialized error's cause chain, rebuilt from its message."""
    for _ in range(20):
        if error is None:
            return None
        cls = _USER_ERRORS.get(str(getattr(error, "cls_name", "")))
        if cls is not None:
            head, _sep, rest = str(getattr(error, "message", "")).strip().partition(": ")
            message = rest if head.endswith(cls.__name__) else f"{head}: {rest}"
            return SourceDataError.from_message(message) if cls is SourceDataError else cls(message)
        error = getattr(error, "cause", None)
    return None


def _is_blocked(error: object) -> bool:
    """A step that failed only because a blocking SLO check failed (the data is bad, the build is fine)."""
    return getattr(error, "cls_name", None) == "DagsterAssetCheckFailedError"


def _root_cause(error: object) -> str:
    """The first line of the innermost error: what went wrong, without Dagster's wrapping."""
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    lines = str(getattr(error, "message", "unknown error")).strip().splitlines()
    return lines[0] if lines else "unknown error"


def _report_steps(
    instance: dg.DagsterInstance, run_id: str, total: int, progress: Callable[[int, int], None], done: threading.Event
) -> None:
    """Poll the run's finished steps and report them until the run is over (progress is best effort)."""
    while True:
        over = done.wait(0.3)
        try:
            finished: int | None = len(instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS))
        except Exception:  # a progress line must never break a build
            finished = None
        if finished is not None:
            progress(min(finished, total), total)
        if over:
            return


def run_build(settings: Settings, progress: Callable[[int, int], None] | None = None) -> BuildRun:
    """Build through Dagster; `progress(done, total)` is called as steps finish, when given."""
    build = load_build(settings)
    if build is None:
        raise UsageError(no_build(s.data_product.id for s in load_specs(settings)))
    defs = build_definitions(settings)
    job = defs.resolve_job_def(build_job_name(build))
    with build_instance(settings.dagster_home) as instance:
        run_id = str(uuid.uuid4())
        done = threading.Event()
        reporter = None
        if progress is not None:
            total = len(job.graph.node_dict)
            reporter = threading.Thread(
                target=_report_steps, args=(instance, run_id, total, progress, done), daemon=True
            )
            reporter.start()
        try:
            result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=_QUIET, run_id=run_id)
        finally:
            done.set()
            if reporter is not None:
                reporter.join()
        steps = len(result.get_step_success_events())
        if result.success:
            return BuildRun(result.run_id, steps, _results(result), published=True)
        failures = result.get_step_failure_events()
        # A user's error (a bad file, a busy build) names what to fix, so it wins over blocked checks, whatever
        # order the steps failed in; blocked checks alone mean the data broke a promise: not published, exit 1.
        for event in failures:
            user_error = _user_error(event.step_failure_data.error)
            if user_error is not None:
                raise user_error
        if failures and all(_is_blocked(e.step_failure_data.error) for e in failures):
            return BuildRun(result.run_id, steps, _results(result), published=False)
        for event in failures:
            error = event.step_failure_data.error
            if _is_blocked(error):
                continue
            raise BuildFailed(
                f"step {event.step_key} failed: {_root_cause(error)} (run {result.run_id}; details in the Dagster UI)"
            )
        # No step failed: the run failed around them (e.g. a resource could not be set up). Its events carry why.
        for event in result.all_events:
            error = getattr(event.event_specific_data, "error", None)
            if error is None:
                continue
            user_error = _user_error(error)
            if user_error is not None:
                raise user_error
            raise BuildFailed(f"run {result.run_id} failed: {_root_cause(error)}")
        raise BuildFailed(f"run {result.run_id} failed before any step ran")

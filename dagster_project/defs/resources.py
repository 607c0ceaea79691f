"""Dagster resources: thin configurable wrappers over the warehouse functions, so the UI can show and change them."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from dagster_project.errors import UsageError
from dagster_project.exporter.push import push
from dagster_project.results.store import record
from dagster_project.settings import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_DUCKDB_THREADS,
    SECRET_ENV,
    BuildParams,
    parse_pushgateway,
    parse_timestamp,
)
from dagster_project.warehouse.connection import connect
from dagster_project.warehouse.lock import BuildLock, lock_path
from dagster_project.warehouse.ownership import Owner, mark, refuse_foreign
from dagster_project.warehouse.publish import discard_unsafe_build_file


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The DuckDB build database (and the landing file the build loads the sources into) and the published database
    it replaces when a build succeeds (the landing file then replaces the published one, `<published>.landing`).

    It writes only to files the build created (warehouse/ownership.py): `product`, `schemas` and `sources` say whose
    they are; a run refuses, before it writes anything, any of the four files that is someone else's."""

    build_database: str
    landing_database: str
    published_database: str
    product: str
    schemas: list[str]
    sources: list[str]
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    threads: int = DEFAULT_DUCKDB_THREADS
    _lock: BuildLock | None = PrivateAttr(default=None)
    _log: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Nothing yet: a run that only checks (the check jobs, "Execute check" in the UI) runs the assets' steps
        without making them, and must neither take the build lock nor touch the build's files."""
        self._log = context.log

    def _prepare(self) -> None:
        """Before the run's first write: refuse files that are not the build's own, take the build lock for the rest
        of the run (resources live once per in-process run), and mark the build's files as ours."""
        owner = Owner(self.product, tuple(self.schemas), tuple(self.sources))
        published = Path(self.published_database)
        refuse_foreign(owner, published, published.with_name(published.name + ".landing"))  # before the lock file
        lock = BuildLock(lock_path(Path(self.build_database)))
        lock.acquire()
        try:
            refuse_foreign(owner, Path(self.build_database), Path(self.landing_database), intermediate=True)
            if discard_unsafe_build_file(Path(self.build_database)) and self._log is not None:
                self._log.info(f"discarded {self.build_database}: made by an older version that kept raw data in it")
            with self._connect() as con:
                mark(con, owner)
        except Exception:
            lock.release()
            raise
        self._lock = lock

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the build database; the first of a run takes the build lock (_prepare)."""
        if self._lock is None:
            self._prepare()
        with self._connect() as con:
            yield con

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(
            Path(self.build_database),
            landing=Path(self.landing_database),
            memory_limit=self.memory_limit,
            threads=self.threads,
        ) as con:
            yield con


class SourceFilesResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The folder holding customers, products, orders and order_items (.csv or .parquet)."""

    data_dir: str


class BuildParamsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Parameters of the build: as_of empty means the time of the build; `options` (a JSON object) are the build's
    own knobs by name, e.g. {"min_pair_orders": 10} for Product Affinity, checked by the build."""

    as_of: str = ""
    customer_salt: str
    options: str = "{}"

    @classmethod
    def from_params(cls, params: BuildParams, env: Mapping[str, str] | None = None) -> BuildParamsResource:
        """A salt that is SLO_CUSTOMER_SALT's value is handed to Dagster as the variable (dg.EnvVar), read when a
        run starts: the UI, the run's configuration and the definitions show the variable's name, never the secret.
        (Only the development default, not a secret, is given as a value.)"""
        env = os.environ if env is None else env
        variable = SECRET_ENV["customer_salt"]
        from_env = bool(env.get(variable)) and env.get(variable) == params.customer_salt
        return cls(
            as_of=params.as_of.isoformat() if params.as_of else "",
            customer_salt=dg.EnvVar(variable) if from_env else params.customer_salt,
            options=json.dumps(dict(params.options), sort_keys=True),
        )

    def params(self) -> BuildParams:
        try:
            options = json.loads(self.options)
        except json.JSONDecodeError as exc:
            raise UsageError(f"build_params.options: not a JSON object ({exc})") from None
        if not isinstance(options, dict):
            raise UsageError("build_params.options: not a JSON object")
        return BuildParams(
            as_of=parse_timestamp(self.as_of) if self.as_of else None,
            customer_salt=self.customer_salt,
            options=options,
        )


class ResultsStoreResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The append-only store every check writes its evaluations to (`path`: a SQLite file or a postgresql:// URL
    without its password, which comes from PGPASSWORD or .pgpass; see results/store.py), and the
    Pushgateway each batch of results is also pushed to, when one is configured.

    Results are kept in the store as they come; they are pushed when the run is over (the resource's teardown: the
    jobs run in one process), so in a build the push comes after publishing and a slow gateway cannot delay it."""

    path: str
    pushgateway: str = ""
    _unpushed: list[tuple[datetime, list[Mapping[str, Any]]]] = PrivateAttr(default_factory=list)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        parse_pushgateway(self.pushgateway, "results_store.pushgateway")  # a malformed URL: before any step runs

    def record(self, run_id: str, evaluated_at: datetime, records: Sequence[Mapping[str, Any]]) -> None:
        record(self.path, run_id, evaluated_at, records)
        if self.pushgateway:
            self._unpushed.append((evaluated_at, list(records)))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        batches, self._unpushed = self._unpushed, []
        for evaluated_at, records in batches:
            warning = push(parse_pushgateway(self.pushgateway), evaluated_at, records)
            if warning is not None:  # the store has them; the rest would fail the same way
                logging.getLogger(__name__).warning(warning)
                return

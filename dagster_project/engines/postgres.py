"""The PostgreSQL adapter (psycopg 3): every query in a read-only transaction, in UTC, under a server-side time limit.

Read-only three ways: the session's default_transaction_read_only, each query in `BEGIN READ ONLY`, and the plan
only ever sending one SELECT. A query past its limit is cancelled by the server (statement_timeout) and raised as
QueryTimedOut; an unreachable server, a wrong password, a missing table or a permission error is an EngineError whose
message names no data value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dagster_project.engines.adapter import Catalog, Column, EngineError, PermissionDenied, TypeFamily
from dagster_project.engines.error_text import redact
from dagster_project.engines.time_limit import QueryTimedOut
from dagster_project.engines.types import same_type

if TYPE_CHECKING:
    import psycopg

    from dagster_project.spec.server import PostgresServer

_FAMILIES: dict[str, TypeFamily] = {
    "text": "text", "character varying": "text", "character": "text", "varchar": "text", "bpchar": "text",
    "name": "text", "citext": "text",
    "smallint": "integer", "integer": "integer", "bigint": "integer",
    "numeric": "decimal",
    "real": "float", "double precision": "float",
    "boolean": "boolean",
    "date": "date",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamp",
}  # fmt: skip
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def family(type_name: str) -> TypeFamily:
    base = type_name.split("(", 1)[0].strip()
    return _FAMILIES.get(base, "other")


def _plain(value: Any) -> Any:
    """Numbers as int/float, timestamps naive in UTC (the adapter contract)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def connection_info(server: PostgresServer) -> dict[str, Any]:
    """psycopg's keyword arguments for `server`; credentials only from the environment variables it names (else
    libpq's own: PGUSER, PGPASSWORD, ~/.pgpass)."""
    kwargs: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "dbname": server.database,
        "connect_timeout": server.connect_timeout,
        "application_name": "slo-monitor",
    }
    user = server.user or (os.environ.get(server.user_env) if server.user_env else None)
    if server.user_env and not user:
        raise EngineError(f"environment variable {server.user_env} (the user for {server.host}) is not set")
    if user:
        kwargs["user"] = user
    if server.password_env:
        password = os.environ.get(server.password_env)
        if password is None:
            raise EngineError(f"environment variable {server.password_env} (the password for {server.host}) is not set")
        kwargs["password"] = password
    if server.sslmode:
        kwargs["sslmode"] = server.sslmode
    return kwargs


def _message(exc: BaseException) -> str:
    """One line that names what went wrong and no data value: PostgreSQL's primary message, redacted where it may
    quote a value (errors raised while reading rows)."""
    import psycopg

    diag = getattr(exc, "diag", None)
    primary = (getattr(diag, "message_primary", None) or str(exc)).strip().splitlines()
    text = primary[0] if primary else type(exc).__name__
    sqlstate = getattr(exc, "sqlstate", None) or ""
    # Class 42 (syntax error or access rule violation: undefined table/column, permission denied) and class 28
    # (invalid authorization) describe the query or the login, never a row: kept as they are.
    if sqlstate[:2] in ("42", "28", "3D", "08") or (isinstance(exc, psycopg.OperationalError) and not sqlstate):
        return text
    return redact(text)


class PostgresAdapter:
    name = "postgres"
    dialect = "postgres"

    def __init__(self, con: psycopg.Connection[Any], label: str) -> None:
        self.con = con
        self.label = label  # host:port/database, for messages

    @classmethod
    def open(cls, server: PostgresServer) -> PostgresAdapter:
        import psycopg

        label = f"{server.host}:{server.port}/{server.database}"
        try:
            con = psycopg.connect(**connection_info(server), autocommit=True)
            con.execute("SET default_transaction_read_only = on")
            con.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as exc:
            raise EngineError(f"cannot connect to PostgreSQL at {label}: {_message(exc)}") from None
        return cls(con, label)

    @classmethod
    def from_connection(cls, con: psycopg.Connection[Any], label: str = "postgres") -> PostgresAdapter:
        """An adapter on a connection someone else opened (autocommit; made read-only and UTC here)."""
        con.autocommit = True
        con.execute("SET default_transaction_read_only = on")
        con.execute("SET TIME ZONE 'UTC'")
        return cls(con, label)

    def catalog(self) -> Catalog:
        rows = self.fetch(
            "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
            "has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') "
            "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
            "ORDER BY n.nspname, c.relname, a.attnum",
            timeout_s=60,
            max_rows=None,
        )
        # Tables the role may not read are listed too, as denied: their SLOs are errors saying so ("permission denied
        # for table ..."), not "does not exist", and validation does not refuse the spec for it.
        tables: dict[str, list[Column]] = {}
        denied = set()
        for schema, table, column, type_, readable in rows:
            tables.setdefault(f"{schema}.{table}", []).append(Column(column, type_, family(type_)))
            if not readable:
                denied.add(f"{schema}.{table}")
        return Catalog({name: tuple(columns) for name, columns in tables.items()}, frozenset(denied))

    @contextmanager
    def _read_only(self, timeout_s: float) -> Iterator[Any]:
        """A cursor in a read-only transaction under the time limit; the server's errors as the adapter's (a
        statement timeout, a permission denied, anything else)."""
        import psycopg
        from psycopg import errors

        try:
            with self.con.transaction(), self.con.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
                yield cur
        except errors.QueryCanceled as exc:
            if "statement timeout" in str(exc):
                raise QueryTimedOut(timeout_s) from None
            raise EngineError(_message(exc)) from None
        except errors.InsufficientPrivilege as exc:
            raise PermissionDenied(_message(exc)) from None
        except psycopg.Error as exc:
            raise EngineError(_message(exc)) from None

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        with self._read_only(timeout_s) as cur:
            cur.execute(sql.encode())  # bytes: the SQL as written, not a template (a literal % stays)
            rows = cur.fetchall() if max_rows is None else cur.fetchmany(max_rows)
        return [tuple(_plain(v) for v in row) for row in rows]

    def describe(self, sql: str, timeout_s: float) -> list[Column]:
        """Planned, never run: the query under LIMIT 0 (the executor stops before reading a row), in the read-only
        transaction and time limit of `fetch`; its columns' type OIDs named by the server as the catalog names
        them (format_type)."""
        body = sql.strip().rstrip(";").rstrip()
        with self._read_only(timeout_s) as cur:
            cur.execute(f"SELECT * FROM (\n{body}\n) AS q LIMIT 0".encode())
            described = [(c.name, c.type_code) for c in cur.description or ()]
            cur.execute(
                "SELECT format_type(t, NULL) FROM unnest(%s::oid[]) WITH ORDINALITY AS u(t, i) ORDER BY i",
                [[oid for _, oid in described]],
            )
            names = [str(row[0]) for row in cur.fetchall()]
        return [Column(name, type_, family(type_)) for (name, _), type_ in zip(described, names, strict=True)]

    def same_type(self, expected: str, actual: Column) -> bool:
        return same_type(expected, actual.type, "postgres")

    def close(self) -> None:
        self.con.close()

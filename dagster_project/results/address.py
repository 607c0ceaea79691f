"""Where the results store is: a SQLite file (a plain path, or `sqlite:///path`) or a PostgreSQL database
(`postgresql://user@host:port/db`), one setting (`--results`, SLO_RESULTS, `results` in slo.toml).

A PostgreSQL URL never carries the password: libpq reads it from PGPASSWORD or a `.pgpass` file (see PostgreSQL's
"The Password File"), so it is never in a command line, a configuration file, the Dagster UI or an error message.
Everything else libpq understands may be in the URL (`?sslmode=require`, `?options=-csearch_path%3Dslo` for a schema
of its own). `sqlite:///relative.sqlite` and `sqlite:////absolute.sqlite` follow SQLAlchemy's spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from dagster_project.errors import UsageError

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")
NO_PASSWORD = "a password has no place in it: set PGPASSWORD or use a .pgpass file"


@dataclass(frozen=True)
class PostgresUrl:
    """A results store in a PostgreSQL database; `url` as given (it never holds a password)."""

    url: str

    def __str__(self) -> str:
        return self.url


StoreAddress = Path | PostgresUrl


def parse_store_address(text: str | Path, what: str = "--results", base: Path | None = None) -> StoreAddress:
    """A path, `sqlite:///path` or `postgresql://...`; relative SQLite paths against `base` when given (a
    configuration file's folder). A UsageError naming `what` for anything else, and for a URL with a password."""
    if isinstance(text, Path):
        return base / text if base is not None else text
    raw = text.strip()
    if raw.startswith(SQLITE_PREFIX):
        path = Path(raw[len(SQLITE_PREFIX) :])
        if not raw[len(SQLITE_PREFIX) :]:
            raise UsageError(f"{what}: {raw!r} names no file; use e.g. sqlite:///.slo_state/results.sqlite")
        return base / path if base is not None else path
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if not scheme:
        return base / raw if base is not None else Path(raw)
    if scheme not in POSTGRES_SCHEMES:
        raise UsageError(
            f"{what}: {_shown(raw)!r}: unknown kind of results store {scheme!r}; give a path, sqlite:///path or"
            " postgresql://user@host:port/database"
        )
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise UsageError(f"{what}: {_shown(raw)!r} is not a PostgreSQL URL ({exc})") from None
    if parts.password is not None or any(k == "password" for k, _ in parse_qsl(parts.query)):
        raise UsageError(f"{what}: {_shown(raw)!r}: {NO_PASSWORD}")
    if not parts.path.strip("/"):
        raise UsageError(f"{what}: {_shown(raw)!r} names no database; use postgresql://user@host:port/database")
    return PostgresUrl(raw)


def _shown(url: str) -> str:
    """The URL with any password (in the user part or the query) replaced, for an error message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://..."
    if parts.password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1))
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k == "password" for k, _ in query):
        parts = parts._replace(query="&".join(f"{k}={'***' if k == 'password' else v}" for k, v in query))
    return parts.geturl()


def store_exists(address: StoreAddress) -> bool:
    """Whether a store is there to read: the file exists, or the database holds one (a reachable server is
    asked; one that cannot be reached raises ResultsStoreError)."""
    if isinstance(address, Path):
        return address.is_file()
    from dagster_project.results.postgres import holds_store

    return holds_store(address)


def gx_root(address: StoreAddress, state_dir: Path) -> Path:
    """Where GX's file context and Data Docs go: beside a SQLite store, in the state folder otherwise."""
    return address.parent if isinstance(address, Path) else state_dir

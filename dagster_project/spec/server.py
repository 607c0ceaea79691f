"""Where a product's data lives (`server:` in its spec): the engine its checks run on and how to reach it.

No credential is ever written in a spec: a password (or a Spark Connect token) is named by the environment variable
that holds it, or left to the engine's own mechanisms (PGPASSWORD / ~/.pgpass for PostgreSQL). A spec without
`server:` is checked on the deployment's DuckDB database (`--db`, SLO_DB, `db` in slo.toml), as before.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

EnvName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128),
    Field(description="The name of an environment variable (its value is never written in the spec)."),
]
HostName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:\[\]-]+$", max_length=253)]
_SECRETS = ("password", "token", "secret", "passwd")


class _Server(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # as indicators/fields.py Strict

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_the_spec(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key.lower() in _SECRETS:
                    raise ValueError(
                        f"'{key}' cannot be written in a spec: name the environment variable that holds it "
                        f"({key}_env: MY_VARIABLE)"
                    )
        return data


class DuckDbServer(_Server):
    """A DuckDB database file."""

    type: Literal["duckdb"]
    path: str | None = Field(
        default=None,
        min_length=1,
        description="The database file, relative to the spec's folder; default: the deployment's database (--db).",
    )


class PostgresServer(_Server):
    """A PostgreSQL database, read through a read-only transaction."""

    type: Literal["postgres"]
    host: HostName = "localhost"
    port: int = Field(default=5432, ge=1, le=65535)
    database: str = Field(min_length=1, max_length=63)
    user: str | None = Field(default=None, min_length=1, max_length=63, description="Default: user_env, or libpq's.")
    user_env: EnvName | None = None
    password_env: EnvName | None = Field(
        default=None, description="The variable holding the password; default: PGPASSWORD or ~/.pgpass (libpq)."
    )
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = None
    connect_timeout: int = Field(default=10, ge=1, le=600, description="Seconds to wait for the server.")


class SparkServer(_Server):
    """Apache Spark: a session on `master` (default local[*]), or a Spark Connect server at `remote`."""

    type: Literal["spark"]
    master: str | None = Field(default=None, min_length=1, description="e.g. local[2], spark://host:7077.")
    remote: str | None = Field(
        default=None, pattern=r"^sc://", description="A Spark Connect URL, e.g. sc://spark.example.com:15002."
    )
    tables: str | None = Field(
        default=None,
        min_length=1,
        description="A folder of Parquet tables as <schema>/<table>/, registered as read-only external tables; "
        "relative to the spec's folder. Default: the tables the session's catalog already has.",
    )
    conf: dict[str, str] = Field(default_factory=dict, description="Spark configuration for a new session.")

    @model_validator(mode="after")
    def _one_way_in(self) -> SparkServer:
        if self.master is not None and self.remote is not None:
            raise ValueError("give master or remote, not both")
        return self


Server = Annotated[DuckDbServer | PostgresServer | SparkServer, Field(discriminator="type")]
EngineName = Literal["duckdb", "postgres", "spark"]

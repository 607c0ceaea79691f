"""The one settings object: where state lives and the knobs of the build.

Built once (by the CLI from its arguments, or by definitions.py from the environment) and passed down; nothing reads
the environment anywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from dagster_project.errors import UsageError

DEFAULT_STATE_DIR = Path(".slo_state")
# A development salt. Set SLO_CUSTOMER_SALT (or --salt) to a secret of your own in any real deployment.
DEFAULT_SALT = "slo-monitor-dev-salt"
# DuckDB's memory cap per connection: with Python and Dagster around it, a 10M-line build peaks near 1 GB RSS.
DEFAULT_DUCKDB_MEMORY_LIMIT = "1500MB"
DEFAULT_DUCKDB_THREADS = 2


@dataclass(frozen=True)
class BuildParams:
    """The parameters of the product tables. Documented in README.md (The data product)."""

    as_of: datetime | None = None  # None: the time the build runs
    customer_salt: str = DEFAULT_SALT
    min_pair_orders: int = 3
    recommendations_per_customer: int = 5
    neighbours_per_product: int = 20


def default_spec_paths() -> tuple[Path, ...]:
    """slo_definitions/ in the working directory, else the one shipped beside the package (a source checkout)."""
    here = Path("slo_definitions")
    if here.is_dir():
        return (here,)
    shipped = Path(__file__).resolve().parent.parent / "slo_definitions"
    return (shipped,) if shipped.is_dir() else ()


@dataclass(frozen=True)
class Settings:
    state_dir: Path = DEFAULT_STATE_DIR
    data_dir: Path | None = None  # None: sample data generated under the state folder
    db_path: Path | None = None  # None: warehouse.duckdb under the state folder
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = DEFAULT_DUCKDB_THREADS
    spec_paths: tuple[Path, ...] = field(default_factory=lambda: default_spec_paths())
    build: BuildParams = BuildParams()
    results_db: Path | None = None  # None: results.sqlite under the state folder
    pushgateway: str = ""  # a Pushgateway URL every batch of results is also pushed to ("" for none)

    @property
    def database(self) -> Path:
        return self.db_path if self.db_path is not None else self.state_dir / "warehouse.duckdb"

    @property
    def build_database(self) -> Path:
        """Where the next build is made; it replaces `database` only when every step succeeded."""
        return self.database.with_name(self.database.name + ".build")

    @property
    def landing_database(self) -> Path:
        """The raw source tables of the published build, personal data included: what `slo check` attaches as raw
        beside the published database; never part of the published file itself."""
        return self.database.with_name(self.database.name + ".landing")

    @property
    def build_landing_database(self) -> Path:
        """Where the next build loads the sources: beside the build, published with it (as `landing_database`), so a
        build that is stopped leaves the published pair as it was."""
        return self.build_database.with_name(self.build_database.name + ".landing")

    @property
    def sources_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else self.state_dir / "sample_data"

    @property
    def results_path(self) -> Path:
        """The append-only store of every SLO evaluation (results/store.py)."""
        return self.results_db if self.results_db is not None else self.state_dir / "results.sqlite"

    @property
    def dagster_home(self) -> Path:
        return self.state_dir / "dagster"

    def with_build(self, **changes: object) -> Settings:
        return replace(self, build=replace(self.build, **changes))  # type: ignore[arg-type]


def parse_timestamp(text: str, what: str = "--as-of") -> datetime:
    """ISO 8601; a missing zone means UTC. 'now' is accepted."""
    if text.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{what}: cannot parse {text!r}; use ISO 8601, e.g. 2026-11-27T06:00:00Z") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_pushgateway(text: str, what: str = "--pushgateway") -> str:
    """A Pushgateway address as the push will use it (http:// added when no scheme is given, as prometheus_client
    does), or "" for none; a UsageError saying what is wrong otherwise - checked before anything runs, so a typo
    cannot fail a build half-way or be found only when the first push is tried."""
    text = text.strip()
    if not text:
        return ""
    url = text if "://" in text else f"http://{text}"
    problem = None
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            problem = f"scheme {parts.scheme!r} is not http or https"
        elif not parts.hostname:
            problem = "no host"
        elif parts.netloc.endswith(":"):
            problem = "no port after ':'"
        elif parts.query or parts.fragment or any(c.isspace() for c in url):
            problem = "a query, fragment or space has no place in it"
        else:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError as exc:
        problem = str(exc)
    if problem is not None:
        raise UsageError(f"{what}: {text!r} is not a Pushgateway URL ({problem}); use e.g. http://pushgateway:9091")
    return url.rstrip("/")


def pushgateway_setting(option: str | None, env: Mapping[str, str] | None = None) -> str:
    """The CLI's --pushgateway when given, else SLO_PUSHGATEWAY; checked, and named as given when malformed."""
    if option is not None:
        return parse_pushgateway(option, "--pushgateway")
    env = os.environ if env is None else env
    return parse_pushgateway(env.get("SLO_PUSHGATEWAY", ""), "SLO_PUSHGATEWAY")


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings for `dagster dev`: SLO_STATE_DIR, SLO_DATA_DIR, SLO_DB, SLO_SPECS, SLO_AS_OF, SLO_CUSTOMER_SALT,
    SLO_RESULTS, SLO_PUSHGATEWAY."""
    env = os.environ if env is None else env
    state = Path(env.get("SLO_STATE_DIR", str(DEFAULT_STATE_DIR)))
    as_of = parse_timestamp(env["SLO_AS_OF"], "SLO_AS_OF") if env.get("SLO_AS_OF") else None
    return Settings(
        state_dir=state,
        data_dir=Path(env["SLO_DATA_DIR"]) if env.get("SLO_DATA_DIR") else None,
        db_path=Path(env["SLO_DB"]) if env.get("SLO_DB") else None,
        spec_paths=(
            tuple(Path(p) for p in env["SLO_SPECS"].split(os.pathsep)) if env.get("SLO_SPECS") else default_spec_paths()
        ),
        build=BuildParams(as_of=as_of, customer_salt=env.get("SLO_CUSTOMER_SALT", DEFAULT_SALT)),
        results_db=Path(env["SLO_RESULTS"]) if env.get("SLO_RESULTS") else None,
        pushgateway=parse_pushgateway(env.get("SLO_PUSHGATEWAY", ""), "SLO_PUSHGATEWAY"),
    )

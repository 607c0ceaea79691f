"""The one settings object: where state lives and the knobs of the build, and the one way it is found.

Every command and the Dagster definitions find the specs, the results store, the state folder, the database and the
Pushgateway the same way (load_config): command-line flags, then SLO_* environment variables, then a configuration
file (`slo.toml`, or a `[tool.slo]` table in `pyproject.toml`, in the working directory or the nearest folder above
it that has one), then defaults. Secrets (the customer salt) come only from the environment. Outside a checkout
nothing falls back to the bundled example: without specs a command says where to name them.

Built once (by the CLI from its arguments, or by definitions.py from the environment) and passed down; nothing reads
the environment anywhere else.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from dagster_project.build_api import DEFAULT_SALT, BuildParams
from dagster_project.errors import UsageError
from dagster_project.results.address import StoreAddress, parse_store_address

__all__ = ["DEFAULT_SALT", "BuildParams", "Config", "Settings", "load_config", "settings_from_env"]

DEFAULT_STATE_DIR = Path(".slo_state")
# DEFAULT_SALT is a development salt. Set SLO_CUSTOMER_SALT to a secret of your own in any real deployment.
# DuckDB's memory cap per connection: with Python and Dagster around it, a 10M-line build peaks near 1 GB RSS.
DEFAULT_DUCKDB_MEMORY_LIMIT = "1500MB"
DEFAULT_DUCKDB_THREADS = 2


def default_spec_paths() -> tuple[Path, ...]:
    """slo_definitions/ in the working directory when there is one; nothing otherwise (never the bundled example)."""
    here = Path("slo_definitions")
    return (here,) if here.is_dir() else ()


CONFIG_FILE = "slo.toml"
# Configuration keys: the same in slo.toml, in [tool.slo] and (upper-cased, SLO_ prefixed) in the environment.
CONFIG_KEYS = ("specs", "state_dir", "results", "db", "data_dir", "pushgateway")
ENV_VARS = {key: f"SLO_{key.upper()}" for key in CONFIG_KEYS}
# Never read from a file: a configuration file is committed, a secret is not.
SECRET_ENV = {"customer_salt": "SLO_CUSTOMER_SALT"}
NO_SPECS = (
    "no SLO specs found: name them (--slos, or the paths of `slo validate`), set SLO_SPECS, set specs in slo.toml "
    "(or [tool.slo] in pyproject.toml), or run where a slo_definitions/ folder is"
)


@dataclass(frozen=True)
class Config:
    """Where things are, resolved from flags, environment, configuration file and defaults (in that order)."""

    specs: tuple[Path, ...] = ()
    state_dir: Path = DEFAULT_STATE_DIR
    results: StoreAddress | None = None  # a SQLite file or a PostgreSQL URL (results/address.py)
    db: Path | None = None
    data_dir: Path | None = None
    pushgateway: str = ""
    customer_salt: str = DEFAULT_SALT
    file: Path | None = None  # the configuration file read, if any
    origins: Mapping[str, str] = field(default_factory=dict)  # key -> "--flag", "SLO_X", a file, or "default"

    @property
    def results_path(self) -> StoreAddress:
        """The results store: a SQLite file (by default results.sqlite in the state folder) or a PostgreSQL URL."""
        return self.results if self.results is not None else self.state_dir / "results.sqlite"

    @property
    def database(self) -> Path:
        return self.db if self.db is not None else self.state_dir / "warehouse.duckdb"

    def require_specs(self) -> tuple[Path, ...]:
        if not self.specs:
            raise UsageError(NO_SPECS)
        return self.specs


def find_config_file(start: Path) -> Path | None:
    """slo.toml, or a pyproject.toml with a [tool.slo] table, in `start` or the nearest folder above it."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _tool_table(pyproject) is not None:
            return pyproject
    return None


def _tool_table(pyproject: Path) -> dict[str, object] | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # not ours to judge: a project file we cannot read simply has no [tool.slo]
    table = data.get("tool", {}).get("slo") if isinstance(data.get("tool"), dict) else None
    return table if isinstance(table, dict) else None


def read_config_file(path: Path) -> dict[str, object]:
    """The file's settings, paths made absolute against the file's folder; UsageError naming the file and key."""
    if path.name == "pyproject.toml":
        table, where = _tool_table(path) or {}, f"{path}: [tool.slo]"
    else:
        try:
            table, where = tomllib.loads(path.read_text(encoding="utf-8")), str(path)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
    out: dict[str, object] = {}
    for key, value in table.items():
        if key in SECRET_ENV:
            raise UsageError(f"{where}: {key}: secrets are read only from the environment ({SECRET_ENV[key]})")
        if key not in CONFIG_KEYS:
            raise UsageError(f"{where}: unknown key {key!r}; known: {', '.join(CONFIG_KEYS)}")
        if key == "specs":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
                raise UsageError(f"{where}: specs: give a path or a list of paths (spec files or folders)")
            out[key] = tuple(path.parent / v for v in items)
        elif not isinstance(value, str) or not value:
            raise UsageError(f"{where}: {key}: give a non-empty string")
        elif key == "results":
            out[key] = parse_store_address(value, f"{where}: results", base=path.parent)
        else:
            out[key] = value if key == "pushgateway" else path.parent / value
    return out


def load_config(
    flags: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Config:
    """Flags (given ones only: None means not given), then SLO_* variables, then the configuration file, then
    defaults. `flags` keys are CONFIG_KEYS (`specs` a list of paths)."""
    flags = flags or {}
    env = os.environ if env is None else env
    path = find_config_file((cwd or Path.cwd()).resolve())
    from_file = read_config_file(path) if path is not None else {}
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    for key in CONFIG_KEYS:
        flag, variable = flags.get(key), env.get(ENV_VARS[key], "")
        if flag is not None and flag != [] and flag != ():
            origin = f"--{key.replace('_', '-')}"
            values[key] = parse_store_address(flag, origin) if key == "results" else flag  # type: ignore[arg-type]
            origins[key] = origin
        elif variable:
            values[key] = (
                variable
                if key == "pushgateway"
                else parse_store_address(variable, ENV_VARS[key])
                if key == "results"
                else tuple(Path(p) for p in variable.split(os.pathsep) if p)
                if key == "specs"
                else Path(variable)
            )
            origins[key] = ENV_VARS[key]
        elif key in from_file:
            values[key], origins[key] = from_file[key], str(path)
    pushgateway_origin = origins.get("pushgateway", "pushgateway")
    return Config(
        specs=tuple(values["specs"]) if "specs" in values else default_spec_paths(),  # type: ignore[arg-type]
        state_dir=values.get("state_dir", DEFAULT_STATE_DIR),  # type: ignore[arg-type]
        results=values.get("results"),  # type: ignore[arg-type]
        db=values.get("db"),  # type: ignore[arg-type]
        data_dir=values.get("data_dir"),  # type: ignore[arg-type]
        pushgateway=parse_pushgateway(str(values.get("pushgateway", "")), pushgateway_origin),
        customer_salt=env.get(SECRET_ENV["customer_salt"]) or DEFAULT_SALT,
        file=path,
        origins=origins,
    )


@dataclass(frozen=True)
class Settings:
    state_dir: Path = DEFAULT_STATE_DIR
    data_dir: Path | None = None  # None: sample data generated under the state folder
    db_path: Path | None = None  # None: warehouse.duckdb under the state folder
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = DEFAULT_DUCKDB_THREADS
    spec_paths: tuple[Path, ...] = field(default_factory=lambda: default_spec_paths())
    build: BuildParams = field(default_factory=BuildParams)
    results_db: StoreAddress | None = None  # None: results.sqlite under the state folder
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
    def results_path(self) -> StoreAddress:
        """The append-only store of every SLO evaluation (results/store.py): a SQLite file or a PostgreSQL URL."""
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


def settings_from_env(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Settings for `dagster dev`: the configuration (SLO_* variables, then slo.toml / [tool.slo], then defaults),
    and SLO_AS_OF."""
    env = os.environ if env is None else env
    config = load_config(env=env, cwd=cwd)
    as_of = parse_timestamp(env["SLO_AS_OF"], "SLO_AS_OF") if env.get("SLO_AS_OF") else None
    return settings_from_config(config, as_of)


def settings_from_config(config: Config, as_of: datetime | None) -> Settings:
    """The build's settings where the configuration says; the customer salt only from SLO_CUSTOMER_SALT."""
    return Settings(
        state_dir=config.state_dir,
        data_dir=config.data_dir,
        db_path=config.db,
        spec_paths=config.specs,
        build=BuildParams(as_of=as_of, customer_salt=config.customer_salt),
        results_db=config.results,
        pushgateway=config.pushgateway,
    )

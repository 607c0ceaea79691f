"""One configuration for every command: flags, then SLO_* variables, then slo.toml or [tool.slo], then defaults;
secrets only from the environment; outside a checkout no command falls back to the bundled example."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.errors import UsageError
from dagster_project.settings import DEFAULT_SALT, find_config_file, load_config, settings_from_env

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "slo_definitions" / "product_affinity.yaml"


def slo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLO_")}
    return subprocess.run(
        [sys.executable, "-m", "dagster_project", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_flags_win_over_the_environment_which_wins_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "slo.toml").write_text('specs = ["from_file"]\nstate_dir = "file_state"\nresults = "file.sqlite"\n')
    env = {"SLO_STATE_DIR": "/env/state"}
    config = load_config({"results": Path("/flag.sqlite")}, env=env, cwd=tmp_path)
    assert config.results == Path("/flag.sqlite") and config.origins["results"] == "--results"
    assert config.state_dir == Path("/env/state") and config.origins["state_dir"] == "SLO_STATE_DIR"
    assert config.specs == (tmp_path / "from_file",) and config.origins["specs"] == str(tmp_path / "slo.toml")
    assert config.database == Path("/env/state/warehouse.duckdb")  # a default, under the chosen state folder


def test_paths_in_the_file_are_relative_to_the_file_and_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.slo]\nspecs = "specs"\ndb = "w.duckdb"\n')
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    assert find_config_file(deeper) == tmp_path / "pyproject.toml"
    config = load_config(env={}, cwd=deeper)
    assert config.specs == (tmp_path / "specs",) and config.db == tmp_path / "w.duckdb"


def test_the_results_store_is_a_path_a_sqlite_url_or_a_postgresql_url_in_flags_env_and_file(tmp_path: Path) -> None:
    from dagster_project.results.address import PostgresUrl

    url = "postgresql://slo@db.internal:5432/slo?sslmode=require"
    (tmp_path / "slo.toml").write_text(f'results = "{url}"\n')
    assert load_config(env={}, cwd=tmp_path).results == PostgresUrl(url)  # not made a path under the file's folder
    (tmp_path / "slo.toml").write_text('results = "sqlite:///state/r.sqlite"\n')
    assert load_config(env={}, cwd=tmp_path).results == tmp_path / "state" / "r.sqlite"
    assert load_config(env={"SLO_RESULTS": url}, cwd=tmp_path).results == PostgresUrl(url)
    assert load_config({"results": "sqlite:////abs/r.sqlite"}, env={}, cwd=tmp_path).results == Path("/abs/r.sqlite")
    assert load_config({"results": "plain/r.sqlite"}, env={}, cwd=tmp_path).results == Path("plain/r.sqlite")


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            "flag",
            "postgresql://slo:hunter2@db/slo",
            "--results: 'postgresql://slo:***@db/slo': a password has no place",
        ),
        ("env", "postgresql://slo@db/slo?password=hunter2", "SLO_RESULTS: "),
        ("file", "postgres://slo:hunter2@db:5432/slo", "slo.toml: results: 'postgres://slo:***@db:5432/slo'"),
        ("flag", "mysql://slo@db/slo", "unknown kind of results store 'mysql'"),
        ("flag", "postgresql://slo@db", "names no database"),
    ],
)
def test_a_results_url_with_a_password_or_of_another_kind_is_refused_without_showing_the_password(
    tmp_path: Path, where: str, value: str, message: str
) -> None:
    if where == "file":
        (tmp_path / "slo.toml").write_text(f'results = "{value}"\n')
    flags = {"results": value} if where == "flag" else {}
    env = {"SLO_RESULTS": value} if where == "env" else {}
    with pytest.raises(UsageError) as caught:
        load_config(flags, env=env, cwd=tmp_path)
    assert message in str(caught.value) and "hunter2" not in str(caught.value)
    run = slo("store", "check", cwd=tmp_path, env={**env, **({"SLO_RESULTS": value} if where == "flag" else {})})
    assert run.returncode == 2 and "hunter2" not in run.stderr and "Traceback" not in run.stderr


def test_a_pyproject_without_a_tool_slo_table_is_not_a_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config_file(tmp_path) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('customer_salt = "s3cret"\n', "customer_salt: secrets are read only from the environment (SLO_CUSTOMER_SALT)"),
        ('spec = "x"\n', "unknown key 'spec'"),
        ("specs = 3\n", "specs: give a path or a list of paths"),
        ("specs = [\n", "not valid TOML"),
    ],
)
def test_a_bad_configuration_file_is_named_with_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "slo.toml").write_text(text)
    with pytest.raises(UsageError, match=str(tmp_path / "slo.toml")) as caught:
        load_config(env={}, cwd=tmp_path)
    assert message in str(caught.value)


def test_the_customer_salt_comes_from_the_environment_for_dagster_and_the_cli(tmp_path: Path) -> None:
    assert load_config(env={}, cwd=tmp_path).customer_salt == DEFAULT_SALT
    assert load_config(env={"SLO_CUSTOMER_SALT": "pepper"}, cwd=tmp_path).customer_salt == "pepper"
    settings = settings_from_env({"SLO_CUSTOMER_SALT": "pepper", "SLO_SPECS": str(SPEC)}, cwd=tmp_path)
    assert settings.build.customer_salt == "pepper" and settings.spec_paths == (SPEC,)


def test_dagster_shows_the_customer_salt_as_its_variable_never_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the UI shows of a resource is the repository snapshot: the salt is there as SLO_CUSTOMER_SALT only."""
    import dagster as dg
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster._serdes import serialize_value

    from dagster_project.defs.factory import build_definitions

    secret = "pepper-7f3a9c-not-for-the-ui"
    monkeypatch.setenv("SLO_CUSTOMER_SALT", secret)
    defs = build_definitions(settings_from_env({"SLO_CUSTOMER_SALT": secret, "SLO_SPECS": str(SPEC)}, cwd=tmp_path))
    snapshot = RepositorySnap.from_def(defs.get_repository_def())
    (build_params,) = [r for r in snapshot.resources or [] if r.name == "build_params"]
    assert build_params.configured_values["customer_salt"].name == "SLO_CUSTOMER_SALT"  # type: ignore[union-attr]
    assert secret not in serialize_value(snapshot)
    # Read when a run starts (test_slo_run_uses_the_customer_salt_from_the_environment: the keys use that salt).
    assert isinstance(defs.resources["build_params"].customer_salt, dg.EnvVar)  # type: ignore[index]


COMMANDS_READING_SPECS = [
    ["validate"],
    ["check", "--db", "x.duckdb"],
    ["tree"],
    ["explain", "orders_fresh"],
    ["rules"],
    ["dashboards", "-o", "out"],
    ["report"],
    ["serve", "--port", "0"],
    ["run", "--data-dir", "nowhere"],
]


@pytest.mark.parametrize("args", COMMANDS_READING_SPECS, ids=lambda a: a[0])
def test_outside_a_checkout_no_command_falls_back_to_the_bundled_example(tmp_path: Path, args: list[str]) -> None:
    result = slo(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: no SLO specs found: name them (--slos, or the paths of `slo validate`), set SLO_SPECS, set specs in "
        "slo.toml (or [tool.slo] in pyproject.toml), or run where a slo_definitions/ folder is"
    ]
    assert list(tmp_path.iterdir()) == []  # and nothing was written


@pytest.mark.parametrize("source", ["env", "file"])
def test_every_command_finds_the_specs_the_same_way(tmp_path: Path, source: str) -> None:
    shutil.copy(SPEC, tmp_path / "mine.yaml")
    env = {"SLO_SPECS": str(tmp_path / "mine.yaml")} if source == "env" else {}
    if source == "file":
        (tmp_path / "slo.toml").write_text('specs = ["mine.yaml"]\n')
    assert slo("validate", cwd=tmp_path, env=env).returncode == 0
    tree = slo("tree", "--json", cwd=tmp_path, env=env)
    assert tree.returncode == 0 and json.loads(tree.stdout)[0]["product"] == "product_affinity"
    rules = slo("rules", cwd=tmp_path, env=env)
    assert rules.returncode == 0 and "orders_fresh" in rules.stdout


def test_validate_checks_against_the_configured_database(tmp_path: Path) -> None:
    """A database named by SLO_DB or slo.toml is what `slo validate` checks the spec against, as --db would."""
    db = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    (tmp_path / "slo.toml").write_text(f'specs = ["{SPEC}"]\ndb = "mine.duckdb"\n')
    result = slo("validate", "--json", cwd=tmp_path)
    payload = json.loads(result.stdout)
    assert result.returncode == 2 and payload["database"] == str(db)
    assert any("raw.orders" in p["message"] for p in payload["problems"])  # the spec's tables are not in this file


def test_validate_json_names_a_missing_database_in_json_too(tmp_path: Path) -> None:
    result = slo("validate", str(SPEC), "--db", str(tmp_path / "nope.duckdb"), "--json", cwd=tmp_path)
    payload = json.loads(result.stdout)
    assert result.returncode == 2 and payload["valid"] is False
    assert payload["problems"][0]["message"] == "no such database (from --db)"
    assert not (tmp_path / "nope.duckdb").exists()


def test_validate_json_lists_problems_with_their_places(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.read_text().replace("objective: 0.99", "objective: 1.5", 1))
    result = slo("validate", str(bad), "--json", cwd=tmp_path)
    payload = json.loads(result.stdout)
    assert result.returncode == 2 and payload["valid"] is False and payload["slos"] is None
    problem = payload["problems"][0]
    assert problem["file"] == str(bad) and problem["line"] > 1 and "objective" in problem["path"]
    good = json.loads(slo("validate", str(SPEC), "--json", cwd=tmp_path).stdout)
    assert good["valid"] is True and good["slos"] > 0 and good["problems"] == []


def test_version_and_python_dash_m(tmp_path: Path) -> None:
    from importlib.metadata import version

    script = str(Path(sys.executable).with_name("slo"))
    for argv in ([sys.executable, "-m", "dagster_project", "--version"], [script, "--version"]):
        result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, check=False)
        assert result.returncode == 0 and result.stdout.strip() == f"slo {version('slo-monitor')}"


def test_slo_run_uses_the_customer_salt_from_the_environment(tmp_path: Path) -> None:
    """The published customer keys are SHA-256(salt || id): with SLO_CUSTOMER_SALT set, they use that salt."""
    from tests.conftest import make_sources

    src = make_sources(tmp_path / "src", orders=200)
    state = tmp_path / "state"
    result = slo(
        "run",
        "--data-dir",
        str(src),
        "--state-dir",
        str(state),
        "--slos",
        str(SPEC),
        "--as-of",
        "2026-11-27T06:00:00Z",
        cwd=tmp_path,
        env={"SLO_CUSTOMER_SALT": "pepper"},
    )
    assert result.returncode in (0, 1), result.stderr
    con = duckdb.connect(str(state / "warehouse.duckdb"), read_only=True)
    key = con.execute("SELECT customer_key FROM product_affinity.customer_metrics LIMIT 1").fetchone()
    con.close()
    assert key is not None
    ids = [line.split(",")[0] for line in (src / "customers.csv").read_text().splitlines()[1:]]
    hashed = {hashlib.sha256(f"pepper{i}".encode()).hexdigest()[:16] for i in ids}
    assert key[0] in hashed


def test_dagster_definitions_without_specs_fail_to_load_saying_where_to_name_them(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLO_")}
    result = subprocess.run(
        [sys.executable, "-c", "import dagster_project.definitions"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "UsageError: no SLO specs found" in result.stderr

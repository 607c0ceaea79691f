"""The rules for SQL written in a spec, checked on its parse tree (sqlglot, in the dialect of the engine that will
run it: "duckdb", "postgres" or "spark"), never on its text; on DuckDB also on DuckDB's own parse.

- Free SQL (custom indicators, consumer queries) is exactly one read-only query: a SELECT (or a UNION etc. of
  SELECTs), with no statement anywhere inside it that writes or changes the session (a writing CTE
  `WITH d AS (DELETE ... RETURNING *)`, DDL, PRAGMA, ATTACH, COPY, INSTALL, LOAD, SET ...), no table function in
  FROM (read_csv, read_parquet, glob, range ...: they read files or make data out of nothing) and no function that
  reads the environment or files. Every table it names is written schema.table and, where the spec is known, is
  one of the spec's datasets (a CTE's own name is fine).
- A measure expression is one SQL expression (no statement, no comment), over those same tables; placed in
  `SELECT (<expression>) FROM <table> [WHERE <window>]` it must leave that query's FROM and WHERE exactly as they
  were built - checked on both sqlglot's and DuckDB's own parse of the query (json_serialize_sql), so a quoting
  trick one parser reads differently from the other cannot widen the query either.

Regexes are checked per dialect too (regex_error): RE2 on DuckDB (DuckDB's own parser), and on PostgreSQL and Spark
the syntax their engines share with Python's, without the constructs one of them reads differently or lacks.

A read-only connection with external access off still accepts statements that change the session - a temporary
macro shadowing a built-in function, DETACH and ATTACH ':memory:' replacing a catalogue - and those would change
what every later check on the connection computes. One read-only query cannot. The engine also runs free SQL after
every other check on that read-only connection, as the second line of defence.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from dagster_project.indicators.lazy import exp
from dagster_project.spec.sql_cache import remembered

if TYPE_CHECKING:
    import duckdb

DIALECT = "duckdb"  # the default, and the dialect of measures (which run on the published DuckDB database)


class FreeSqlRejected(ValueError):
    pass


# Statements and clauses that write, change the session or leave the query: refused wherever they appear.
@functools.cache
def _forbidden_nodes() -> tuple[type[exp.Expr], ...]:  # a function: sqlglot is imported when something is parsed
    return (
        exp.DML,  # INSERT, UPDATE, DELETE, MERGE (also inside a CTE)
        exp.DDL,  # CREATE, DROP, ...
        exp.Alter,
        exp.Attach,
        exp.Detach,
        exp.Cache,
        exp.Command,  # what sqlglot does not know (LOAD, CALL, CHECKPOINT, ...): never a plain read
        exp.Commit,
        exp.Copy,
        exp.Describe,
        exp.Export,
        exp.Grant,
        exp.Install,
        exp.Into,  # SELECT ... INTO
        exp.Lock,  # SELECT ... FOR UPDATE / FOR SHARE: takes locks (PostgreSQL, DuckDB ignores it)
        exp.Kill,
        exp.LoadData,
        exp.Pragma,
        exp.Refresh,
        exp.Revoke,
        exp.Rollback,
        exp.Set,
        exp.Show,
        exp.Summarize,
        exp.Transaction,
        exp.TruncateTable,
        exp.Uncache,
        exp.Use,
    )


# Functions that read files, other databases or the environment, or change state (lower case).
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "read_text",
        "read_blob",
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_json_objects",
        "glob",
        "query",
        "query_table",
        "sniff_csv",
        "nextval",
        "setseed",
        # PostgreSQL: files, other servers, settings, sessions, sequences, sleeping
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "lo_export",
        "dblink",
        "dblink_exec",
        "set_config",
        "setval",
        "pg_sleep",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_advisory_lock",
        "txid_current",
        # Spark: calls into the JVM, reads files
        "reflect",
        "java_method",
        "read_files",
    }
)


def _parse(sql: str, dialect: str = DIALECT) -> list[exp.Expr]:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FreeSqlRejected(f"does not parse: {first}") from None
    return statements


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""


def _cte_names(tree: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _check_tree(tree: exp.Expr, allowed_tables: Collection[str] | None, dialect: str = DIALECT) -> None:
    """Only reads, only plain schema.table tables (the allowed ones, when given)."""
    ctes = _cte_names(tree)
    allowed = None if allowed_tables is None else {t.lower() for t in allowed_tables}
    for node in tree.walk():
        if isinstance(node, _forbidden_nodes()):
            what = node.key.upper() if not isinstance(node, exp.Command) else str(node.this).upper()
            raise FreeSqlRejected(f"must only read: {what} is not allowed")
        name = _function_name(node)
        if name in _FORBIDDEN_FUNCTIONS:
            raise FreeSqlRejected(f"must only read tables: function {name}() is not allowed")
        if isinstance(node, exp.Table):
            _check_table(node, ctes, allowed, dialect)


def _check_table(table: exp.Table, ctes: set[str], allowed: set[str] | None, dialect: str = DIALECT) -> None:
    if not isinstance(table.this, exp.Identifier):
        raise FreeSqlRejected(f"must only read tables: table function {table.this.sql(dialect)} is not allowed")
    if table.catalog:
        raise FreeSqlRejected(f"must name tables as schema.table: {table.sql(dialect)} names a database")
    if not table.db:
        if table.name.lower() in ctes:
            return
        raise FreeSqlRejected(f"must name tables as schema.table: {table.sql(dialect)} has no schema")
    name = f"{table.db}.{table.name}"
    if allowed is not None and name.lower() not in allowed:
        raise FreeSqlRejected(f"reads {name}, which is not one of the spec's datasets")


def _duckdb_statements(sql: str) -> None:
    import duckdb

    try:
        statements = _parser().cursor().extract_statements(sql)
    except duckdb.Error as exc:
        raise FreeSqlRejected(f"does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise FreeSqlRejected(f"must be exactly one statement, found {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise FreeSqlRejected(f"must be a SELECT, found {statements[0].type.name}")


@functools.cache
def _parser() -> duckdb.DuckDBPyConnection:
    """One in-memory connection, only ever used to parse: opening one per call cost ~20 ms each."""
    import duckdb

    return duckdb.connect()


# What PostgreSQL (ARE) or Java (Spark) lack or read differently from RE2 and Python: lookbehind and lookahead
# (RE2 has none), backreferences, possessive and atomic groups, named groups, \Z/\z/\A
# (PostgreSQL reads \Z, Java \Z and $ before a final newline), \b (a backspace in PostgreSQL: the plan spells it \y).
_UNPORTABLE = [
    (re.compile(r"\(\?<?[=!]"), "lookaround (?=, (?!, (?<=, (?<! is not supported on every engine"),
    (re.compile(r"\(\?>"), "atomic groups (?> are not supported on every engine"),
    (re.compile(r"\(\?P?<[A-Za-z]"), "named groups are not supported on every engine"),
    (re.compile(r"\\[1-9]"), "backreferences are not supported on every engine"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers are not supported on every engine"),
    (re.compile(r"\\[AZz]"), "\\A, \\Z and \\z mean different things on each engine: use ^ and $"),
]


def regex_error(regex: str, dialect: str = DIALECT) -> str | None:
    """Why `regex` cannot be used on `dialect`'s engine, else None. DuckDB: what RE2 says, on the one parsing
    connection. PostgreSQL and Spark: it compiles (Python's syntax, close to both) and uses none of the constructs
    they read differently. Remembered (sql_cache.py)."""
    return remembered("regex", [dialect, regex], lambda: _regex_error(regex, dialect))


def _regex_error(regex: str, dialect: str) -> str | None:
    if dialect == "duckdb":
        import duckdb

        try:
            _parser().cursor().execute("SELECT regexp_matches('', ?)", [regex]).fetchall()
        except duckdb.Error as exc:
            return str(exc).splitlines()[0]
        return None
    unescaped = re.sub(r"\\\\", "", regex)  # an escaped backslash starts nothing
    for pattern, message in _UNPORTABLE:
        if pattern.search(unescaped):
            return message
    try:
        re.compile(regex)
    except re.error as exc:
        return str(exc)
    return None


def require_single_select(sql: str, allowed_tables: Collection[str] | None = None, dialect: str = DIALECT) -> None:
    """One read-only query (see the module docstring) in `dialect`; `allowed_tables` (schema.table) when the spec is
    known."""
    verdict = _single_select_verdict(sql, None if allowed_tables is None else frozenset(allowed_tables), dialect)
    if verdict is not None:
        raise FreeSqlRejected(verdict)


def _single_select_verdict(sql: str, allowed_tables: frozenset[str] | None, dialect: str = DIALECT) -> str | None:
    """Why `sql` is refused, or None. Remembered (sql_cache.py): `slo check` asks for the same queries when it
    validates the spec, checks it against the database and runs it, each answer costs two parses, and the next call
    asks again."""
    allowed = None if allowed_tables is None else sorted(allowed_tables)
    return remembered("select", [dialect, allowed, sql], lambda: _single_select_reason(sql, allowed_tables, dialect))


def _single_select_reason(sql: str, allowed_tables: frozenset[str] | None, dialect: str) -> str | None:
    try:
        if dialect == "duckdb":
            _duckdb_statements(sql)  # as DuckDB itself will read it
        statements = _parse(sql, dialect)
        if len(statements) != 1:
            raise FreeSqlRejected(f"must be exactly one statement, found {len(statements)}")
        tree = statements[0]
        if not isinstance(tree, exp.Query):
            raise FreeSqlRejected(f"must be a SELECT, found {tree.key.upper()}")
        _check_tree(tree, allowed_tables, dialect)
    except FreeSqlRejected as exc:
        return str(exc)
    return None


def require_expression(expression: str, allowed_tables: Collection[str] | None = None) -> exp.Expr:
    """A measure's expression on its own: exactly one SQL expression (not a statement), without comments (which
    would cut off the window of the query it is placed in), only reading; its parse tree."""
    statements = _parse(expression)
    if len(statements) != 1:
        raise FreeSqlRejected(f"must be one expression, found {len(statements)} statements")
    tree = statements[0]
    if isinstance(tree, (exp.Query, *_forbidden_nodes())):
        raise FreeSqlRejected(f"must be one expression, not a query or statement ({tree.key.upper()})")
    if any(node.comments for node in tree.walk()):
        raise FreeSqlRejected("must be one expression: comments are not allowed")
    _check_tree(tree, allowed_tables)
    return tree


# What may stand at the top of a row filter (spec: where): a condition, not a value.
def _predicates() -> tuple[type[exp.Expr], ...]:
    return (exp.Predicate, exp.Connector, exp.Not, exp.Boolean, exp.Between, exp.In, exp.Is)


def require_predicate(text: str, dialect: str = DIALECT, allowed_tables: Collection[str] | None = None) -> exp.Expr:
    """A row filter (spec: where) in `dialect`: exactly one boolean expression judged per row - not a statement, no
    comments, no aggregate or window function, only reading (subqueries over the spec's datasets only); its tree,
    which is placed in the query as a tree (never pasted as text)."""
    statements = _parse(text, dialect)
    if len(statements) != 1:
        raise FreeSqlRejected(f"must be one boolean expression, found {len(statements)} statements")
    tree = statements[0]
    if isinstance(tree, (exp.Query, *_forbidden_nodes())):
        raise FreeSqlRejected(f"must be one boolean expression, not a query or statement ({tree.key.upper()})")
    if any(node.comments for node in tree.walk()):
        raise FreeSqlRejected("must be one boolean expression: comments are not allowed")
    inner = tree.unnest()
    if not isinstance(inner, _predicates()):
        raise FreeSqlRejected(f"must be a condition (a comparison, IN, IS, LIKE, AND/OR ...), not {inner.key.upper()}")
    outside = [n for n in tree.walk() if not any(isinstance(a, exp.Subquery) for a in _ancestors(n))]
    for node in outside:
        if isinstance(node, (exp.AggFunc, exp.Window)):
            raise FreeSqlRejected(f"judges each row: {node.key.upper()} (an aggregate or window) is not allowed")
    _check_tree(tree, allowed_tables, dialect)
    return tree


def _ancestors(node: exp.Expr) -> list[exp.Expr]:
    out, parent = [], node.parent
    while parent is not None:
        out.append(parent)
        parent = parent.parent
    return out


def _without_locations(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_locations(v) for k, v in node.items() if not k.startswith("query_location")}
    if isinstance(node, list):
        return [_without_locations(v) for v in node]
    return node


def _duckdb_tree(sql: str) -> dict[str, Any]:
    row = _parser().cursor().execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()
    parsed: dict[str, Any] = json.loads(row[0]) if row else {"error": True}
    if parsed.get("error") or len(parsed.get("statements", [])) != 1:
        raise FreeSqlRejected("must be one expression: DuckDB does not read the query it is placed in as one SELECT")
    node: dict[str, Any] = parsed["statements"][0]["node"]
    return node


def _refusal(check: Callable[[], object]) -> str | None:
    """What `check` refuses with (FreeSqlRejected's message), or None when it accepts."""
    try:
        check()
    except FreeSqlRejected as exc:
        return str(exc)
    return None


def measure_query_verdict(sql: str, expression: str, allowed_tables: Collection[str] | None = None) -> str | None:
    """Why a measure's `expression`, placed in `sql`, is refused (require_measure_query), or None. Remembered
    (sql_cache.py)."""
    allowed = None if allowed_tables is None else sorted(allowed_tables)
    return remembered(
        "measure",
        [allowed, expression, sql],
        lambda: _refusal(lambda: require_measure_query(sql, expression, allowed_tables)),
    )


def expression_verdict(expression: str, allowed_tables: Collection[str] | None = None) -> str | None:
    """Why a measure's expression on its own is refused (require_expression), or None. Remembered
    (sql_cache.py)."""
    allowed = None if allowed_tables is None else sorted(allowed_tables)
    return remembered(
        "expression", [allowed, expression], lambda: _refusal(lambda: require_expression(expression, allowed_tables))
    )


def predicate_verdict(text: str, dialect: str = DIALECT, allowed_tables: Collection[str] | None = None) -> str | None:
    """Why a row filter is refused (require_predicate), or None. Remembered (sql_cache.py)."""
    allowed = None if allowed_tables is None else sorted(allowed_tables)
    return remembered(
        "predicate",
        [dialect, allowed, text],
        lambda: _refusal(lambda: require_predicate(text, dialect, allowed_tables)),
    )


def require_measure_query(sql: str, expression: str, allowed_tables: Collection[str] | None = None) -> None:
    """`sql` is `SELECT (<expression>) FROM <table>...` as built by the engine: the expression is one expression over
    the allowed tables, and everything around it parses - in sqlglot and in DuckDB - exactly as the same query with
    `1` in its place (same FROM, same WHERE, nothing added)."""
    prefix = f"SELECT ({expression}) FROM "
    if not sql.startswith(prefix):
        raise ValueError("a measure query starts with SELECT (<expression>) FROM")
    skeleton = f"SELECT (1) FROM {sql[len(prefix) :]}"
    _duckdb_statements(sql)  # DuckDB's own word first: it names a misspelt keyword
    inner = require_expression(expression, allowed_tables)
    require_single_select(sql, allowed_tables)
    built, reference = _parse(sql)[0], _parse(skeleton)[0]
    projections = built.expressions if isinstance(built, exp.Select) else []
    if len(projections) != 1 or not isinstance(projections[0], exp.Paren) or projections[0].this != inner:
        raise FreeSqlRejected("must be one expression: it does not stay inside the query it is placed in")
    built_rest, reference_rest = built.copy(), reference.copy()
    built_rest.set("expressions", [])
    reference_rest.set("expressions", [])
    if built_rest != reference_rest:
        raise FreeSqlRejected("must be one expression: it changes the table or window of the query it is placed in")
    duck_built, duck_reference = _duckdb_tree(sql), _duckdb_tree(skeleton)
    if len(duck_built.get("select_list", [])) != 1:
        raise FreeSqlRejected("must be one expression: it does not stay inside the query it is placed in")
    duck_built.pop("select_list"), duck_reference.pop("select_list", None)
    if _without_locations(duck_built) != _without_locations(duck_reference):
        raise FreeSqlRejected("must be one expression: it changes the table or window of the query it is placed in")

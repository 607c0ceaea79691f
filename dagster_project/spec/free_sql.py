"""The one rule for SQL written in a spec (custom indicators, consumer queries): exactly one SELECT statement.

A read-only connection with external access off still accepts statements that change the session - a temporary
macro shadowing a built-in function, DETACH and ATTACH ':memory:' replacing a catalogue - and those would change
what every later check on the connection computes. One SELECT cannot. The engine also runs free SQL after every
other check, as a second line of defence.
"""

from __future__ import annotations

import functools

import duckdb


class FreeSqlRejected(ValueError):
    pass


@functools.cache
def _parser() -> duckdb.DuckDBPyConnection:
    """One in-memory connection, only ever used to parse: opening one per call cost ~20 ms each."""
    return duckdb.connect()


def require_single_select(sql: str) -> None:
    try:
        statements = _parser().cursor().extract_statements(sql)
    except duckdb.Error as exc:
        raise FreeSqlRejected(f"does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise FreeSqlRejected(f"must be exactly one statement, found {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise FreeSqlRejected(f"must be a SELECT, found {statements[0].type.name}")


def require_expression(expression: str) -> None:
    """A measure's expression is pasted into `SELECT (<expression>) FROM <table> WHERE <window>`: it must stay one
    expression - no statement separator, no comment that would cut off the window, parentheses balanced outside
    string literals - so it cannot widen the query it is placed in."""
    depth, quoted = 0, False
    for i, char in enumerate(expression):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == ";" or expression.startswith(("--", "/*"), i):
            raise FreeSqlRejected(f"must be one expression: {expression[i : i + 2]!r} is not allowed")
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise FreeSqlRejected("must be one expression: a ')' closes more than was opened")
    if quoted or depth:
        raise FreeSqlRejected("must be one expression: unbalanced quotes or parentheses")

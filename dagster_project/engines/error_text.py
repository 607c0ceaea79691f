"""Error texts that are kept (the results store) and exported (metrics, `slo check --json`, the report): the error's
class and what went wrong, never a data value.

An error raised while rows are read - a Conversion Error casting a personal column, an Invalid Input Error parsing
one - quotes the offending value. Errors raised before any row is read (Parser, Binder, Catalog) describe the query
written in the spec and are kept as they are, so a misspelt column is still named. In every other error, quoted text
('...' and "...") and numbers standing alone become `…`. Only the first line is kept (DuckDB adds the query and a
caret on the next lines; SQLAlchemy, under GX, adds the SQL and parameters).
"""

from __future__ import annotations

import re

from dagster_project.engines.time_limit import QueryTimedOut

REDACTED = "…"

# DuckDB's classes of errors raised before any data is read.
_ABOUT_THE_QUERY = frozenset({"Parser", "Binder", "Catalog", "Syntax"})

_CLASS = re.compile(r"\b([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*) Error:")
_QUOTED = re.compile(r"'(?:[^']|'')*(?:'|$)|\"(?:[^\"]|\"\")*(?:\"|$)")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\.?\d[\w.:+-]*")


def error_class(text: str) -> str | None:
    """DuckDB's class of the error in `text` ("Conversion" for "Conversion Error: ..."), if it names one."""
    found = _CLASS.search(text)
    return found.group(1) if found else None


def redact(text: str) -> str:
    """`text` without quoted values and numbers."""
    text = _QUOTED.sub(lambda m: m.group(0)[0] + REDACTED + m.group(0)[0], text)
    return _NUMBER.sub(REDACTED, text)


def safe_error(error: BaseException | str) -> str:
    """The one line to keep for an error of a check (see the module docstring)."""
    if isinstance(error, QueryTimedOut):
        return str(error)  # our own words: the limit, never a data value
    text = str(error).strip()
    if not text:
        return type(error).__name__ if isinstance(error, BaseException) else "error"
    first = text.splitlines()[0].strip()
    if error_class(first) in _ABOUT_THE_QUERY:
        return first
    return redact(first)

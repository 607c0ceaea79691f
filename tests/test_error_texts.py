"""Error texts kept in the results store and exported never carry data values (engines/error_text.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dagster_project.engines.error_text import safe_error
from dagster_project.warehouse.connection import connect
from tests.test_database_check import MINIMAL, make_database, slo, write_spec

SECRET = "alice.secret@example.com"

CASTS = {
    "cast_to_a_number": "SELECT avg(CAST(email AS DOUBLE)) FROM raw.customers",
    "parse_as_a_time": "SELECT avg(CASE WHEN strptime(email, '%Y') IS NULL THEN 0.0 ELSE 1.0 END) FROM raw.customers",
    "cast_to_a_date": "SELECT avg(CASE WHEN CAST(email AS DATE) IS NULL THEN 0.0 ELSE 1.0 END) FROM raw.customers",
}


@pytest.mark.parametrize("name", sorted(CASTS))
def test_an_email_in_a_casted_column_is_neither_stored_nor_printed(tmp_path: Path, name: str) -> None:
    database = make_database(tmp_path / "warehouse.duckdb")
    with connect(database, landing=database.with_name(database.name + ".landing")) as con:
        con.execute("CREATE TABLE raw.customers (customer_id BIGINT, email VARCHAR)")
        con.execute("INSERT INTO raw.customers VALUES (1, ?)", [SECRET])
    spec = write_spec(
        tmp_path / "spec",
        MINIMAL
        + f"""  - id: emails_numeric
    description: A careless custom check.
    dimension: validity
    dataset: raw.customers
    indicator: {{type: custom_sql, sql: "{CASTS[name]}"}}
    threshold: {{min: 0.5}}
    severity: warn
    objective: 0.99
    windows: [7d]
    protects: {{use_case: targeting}}
""",
    )
    store = tmp_path / "results.sqlite"
    result = slo("check", "--db", str(database), "--slos", str(spec), "--results", str(store), "--json")
    assert "Traceback" not in result.stderr, result.stderr
    (error,) = [r["error"] for r in json.loads(result.stdout)["results"] if r["slo"] == "emails_numeric"]
    assert error and "Error" in error  # the class is kept: "Conversion Error: ..." / "Invalid Input Error: ..."
    assert SECRET not in result.stdout + result.stderr
    with sqlite3.connect(store) as db:
        stored = [row[0] for row in db.execute("SELECT error FROM evaluations WHERE error IS NOT NULL")]
    assert stored and all(SECRET not in text for text in stored)
    assert SECRET not in store.read_bytes().decode("latin-1")


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        (
            "Conversion Error: Could not convert string 'bob@x.org' to INT32 when casting from source column email",
            "Conversion Error: Could not convert string '…' to INT32 when casting from source column email",
        ),
        (
            'Invalid Input Error: Could not parse string "bob@x.org" according to format specifier "%Y"',
            'Invalid Input Error: Could not parse string "…" according to format specifier "…"',
        ),
        (
            "Out of Range Error: Overflow in addition of INT32 (2147483647 + 1)!",
            "Out of Range Error: Overflow in addition of INT32 (… + …)!",
        ),
        ('Conversion Error: Malformed JSON. Input: "unterminated', 'Conversion Error: Malformed JSON. Input: "…"'),
        # Before any row is read: about the query, kept whole so a misspelt column is named.
        ('Binder Error: Referenced column "emial" not found in FROM clause!', None),
        ("Catalog Error: Table with name nothing does not exist!\nDid you mean ...", None),
    ],
)
def test_an_error_text_keeps_its_class_and_drops_quoted_values_and_numbers(raw: str, kept: str | None) -> None:
    assert safe_error(raw) == (kept if kept is not None else raw.splitlines()[0])

"""The time limit on a spec's queries: one watchdog thread for every guarded block, interrupting only the connection
whose deadline passed, and never a query that started after its block ended."""

from __future__ import annotations

import threading

import duckdb
import pytest

from dagster_project.engines.time_limit import QueryTimedOut, time_limit

RUNAWAY = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"


def test_a_query_past_its_limit_is_interrupted_and_the_next_one_runs() -> None:
    con = duckdb.connect()
    with pytest.raises(QueryTimedOut, match="timed out after 200ms"), time_limit(con, 0.2):
        con.execute(RUNAWAY).fetchall()
    with time_limit(con, 30):
        assert con.execute("SELECT 42").fetchall() == [(42,)]


def test_many_short_guarded_queries_are_never_interrupted() -> None:
    """Hundreds of blocks whose limits end just after them: an interrupt meant for one never reaches the next."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(100000)")
    for _ in range(300):
        with time_limit(con, 0.05):
            assert con.execute("SELECT sum(i) FROM t").fetchall() == [(4999950000,)]


def test_only_the_connection_past_its_limit_is_interrupted() -> None:
    """A runaway on one connection (its own thread) times out while another keeps running guarded queries."""
    slow, fast = duckdb.connect(), duckdb.connect()
    outcome: list[BaseException] = []

    def runaway() -> None:
        try:
            with time_limit(slow, 0.5):
                slow.execute(RUNAWAY).fetchall()
        except QueryTimedOut as exc:
            outcome.append(exc)

    thread = threading.Thread(target=runaway)
    thread.start()
    answers = 0
    while thread.is_alive():
        with time_limit(fast, 30):
            answers += fast.execute("SELECT 1").fetchall()[0][0]
    thread.join()
    assert len(outcome) == 1 and isinstance(outcome[0], QueryTimedOut)
    assert answers > 0


def test_an_interrupt_that_is_not_ours_is_not_called_a_timeout() -> None:
    con = duckdb.connect()
    timer = threading.Timer(0.2, con.interrupt)
    timer.start()
    with pytest.raises(duckdb.InterruptException), time_limit(con, 60):
        con.execute(RUNAWAY).fetchall()
    timer.join()


def test_a_connection_closed_inside_its_block_does_not_end_the_time_limits_that_follow() -> None:
    """Interrupting a closed connection raises; the watchdog survives it and still stops the next runaway."""
    closed = duckdb.connect()
    with time_limit(closed, 0.05):
        closed.close()
        threading.Event().wait(0.3)  # the deadline passes while the connection is already closed
    con = duckdb.connect()
    with pytest.raises(QueryTimedOut), time_limit(con, 0.2):
        con.execute(RUNAWAY).fetchall()

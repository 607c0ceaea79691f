"""The loader on what real exports contain: accepted when the data is right, refused with a clear reason when not."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.errors import SourceDataError
from dagster_project.sources import ORDERS
from dagster_project.warehouse.connection import connect
from dagster_project.warehouse.loading import load_source, require_contract_columns


def _load(folder: Path) -> list[tuple[object, ...]]:
    with connect(folder / "w.duckdb", landing=folder / "l.duckdb") as con:
        load_source(con, folder, ORDERS)
        return con.execute("SELECT * FROM raw.orders ORDER BY order_id").fetchall()


def test_bom_crlf_reordered_and_extra_columns_and_zoned_timestamps_load(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_bytes(
        "\ufeffchannel,order_ts,note,customer_id,order_id\r\n"
        'web,2026-11-27T06:00:00+02:00,"a, quoted note",7,1\r\n'
        "app,2026-11-27 06:00:00,,8,2\r\n"
        "store,2026-11-27T06:00:00Z,x,,3\r\n".encode()
    )
    assert _load(tmp_path) == [  # contract columns in contract order, then the others as they came
        (1, 7, datetime(2026, 11, 27, 4, 0), "web", "a, quoted note"),  # +02:00 converted to UTC
        (2, 8, datetime(2026, 11, 27, 6, 0), "app", None),  # no zone: UTC
        (3, None, datetime(2026, 11, 27, 6, 0), "store", "x"),
    ]


def test_a_drifted_header_lands_as_it_came_and_staging_refuses_it_by_name(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("order_id,customer_id,ordered_at,channel\n1,7,2026-11-27 06:00:00,web\n")
    with connect(tmp_path / "w.duckdb", landing=tmp_path / "l.duckdb") as con:
        result = load_source(con, tmp_path, ORDERS)
        assert (result.missing, result.extra) == (("order_ts",), ("ordered_at",))
        assert con.execute("SELECT * FROM raw.orders").fetchall() == [(1, 7, "web", "2026-11-27 06:00:00")]
        with pytest.raises(SourceDataError, match=r"orders\.csv: missing column\(s\) order_ts; found order_id"):
            require_contract_columns(con, tmp_path, ORDERS)


def test_parquet_with_zoned_timestamps_loads_as_utc_whatever_the_machine_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    table = pa.table(
        {
            "order_id": pa.array([1], pa.int64()),
            "customer_id": pa.array([7], pa.int32()),
            "order_ts": pa.array([datetime(2026, 11, 27, 6, 0)], pa.timestamp("s", tz="Europe/Berlin")),
            "channel": ["web"],
        }
    )
    pq.write_table(table, tmp_path / "orders.parquet")
    # pyarrow stores the instant: 06:00 naive taken as UTC, so the value is 06:00 UTC whatever the zone label says.
    try:
        assert _load(tmp_path) == [(1, 7, datetime(2026, 11, 27, 6, 0), "web")]
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("column", "arrow_type", "value"),
    [("order_id", pa.float64(), 1.5), ("order_ts", pa.string(), "2026-11-27"), ("channel", pa.int64(), 3)],
)
def test_parquet_column_of_the_wrong_type_is_refused(
    tmp_path: Path, column: str, arrow_type: pa.DataType, value: object
) -> None:
    columns: dict[str, pa.Array] = {
        "order_id": pa.array([1], pa.int64()),
        "customer_id": pa.array([7], pa.int64()),
        "order_ts": pa.array([datetime(2026, 11, 27, 6, 0)], pa.timestamp("s")),
        "channel": pa.array(["web"]),
    }
    columns[column] = pa.array([value], arrow_type)
    pq.write_table(pa.table(columns), tmp_path / "orders.parquet")
    with pytest.raises(SourceDataError, match=f"orders.parquet: column {column} has type"):
        _load(tmp_path)


def test_parquet_categoricals_and_all_null_columns_load(tmp_path: Path) -> None:
    table = pa.table(
        {
            "order_id": pa.array([1, 2], pa.int64()),
            "customer_id": pa.array([None, None], pa.null()),
            "order_ts": pa.array([datetime(2026, 11, 27, 6, 0)] * 2, pa.timestamp("ms")),
            "channel": pa.array(["web", "app"]).dictionary_encode(),
        }
    )
    pq.write_table(table, tmp_path / "orders.parquet")
    assert _load(tmp_path) == [
        (1, None, datetime(2026, 11, 27, 6, 0), "web"),
        (2, None, datetime(2026, 11, 27, 6, 0), "app"),
    ]


def test_a_failed_load_leaves_the_previous_raw_table(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_ts,channel\n1,7,2026-11-27 06:00:00,web\n")
    assert len(_load(tmp_path)) == 1
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_ts,channel\n1,7,soon,web\n2,7,later,web\n")
    with pytest.raises(SourceDataError, match="line 2, column order_ts: cannot read 'soon'"):
        _load(tmp_path)
    with connect(tmp_path / "w.duckdb", landing=tmp_path / "l.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.orders").fetchall() == [(1,)]


HEADER = "order_id,customer_id,order_ts,channel\n"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("0x1F,7,2026-11-27 06:00:00,web\n", "line 2, column order_id: cannot read '0x1F' as a whole number"),
        ("1_000,7,2026-11-27 06:00:00,web\n", "line 2, column order_id: cannot read '1_000' as a whole number"),
        ("1e3,7,2026-11-27 06:00:00,web\n", "line 2, column order_id: cannot read '1e3' as a whole number"),
        (
            "9223372036854775808,7,2026-11-27 06:00:00,web\n",
            "line 2, column order_id: '9223372036854775808' is out of range for a whole number",
        ),
        ("1,7,epoch,web\n", "line 2, column order_ts: cannot read 'epoch' as TIMESTAMP"),
        ("1,7,infinity,web\n", "line 2, column order_ts: cannot read 'infinity' as TIMESTAMP"),
        # The bad value is on line 4 of the file: a quoted field spans lines 2-3.
        ('1,7,2026-11-27 06:00:00,"two\nlines"\n2,x,2026-11-27 06:00:00,web\n', "line 4, column customer_id"),
        # File order across columns: line 2's order_ts comes before line 3's order_id.
        ("1,7,soon,web\nbad,7,2026-11-27 06:00:00,web\n", "line 2, column order_ts"),
        ('1,7,2026-11-27 06:00:00,"web\n', "line 2: "),
    ],
)
def test_values_duckdb_would_bend_are_refused_with_their_line(tmp_path: Path, rows: str, message: str) -> None:
    (tmp_path / "orders.csv").write_text(HEADER + rows)
    with pytest.raises(SourceDataError) as caught:
        _load(tmp_path)
    assert message in str(caught.value)
    assert "Original Line" not in str(caught.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("order_id,customer_id,order_ts,channel,\n", "header has an empty column name (column 5)"),
        ("order_id,customer_id,order_ts,channel,channel\n", "header names a column twice: channel"),
    ],
)
def test_a_malformed_header_is_refused(tmp_path: Path, header: str, message: str) -> None:
    (tmp_path / "orders.csv").write_text(header + "1,7,2026-11-27 06:00:00,web,x\n")
    with pytest.raises(SourceDataError, match=re.escape(message)):
        _load(tmp_path)


def test_prices_must_be_finite(tmp_path: Path) -> None:
    from dagster_project.sources import ORDER_ITEMS

    for value in ("nan", "inf", "-Infinity"):
        (tmp_path / "order_items.csv").write_text(
            f"order_id,line_number,product_id,quantity,unit_price\n1,1,5,1,{value}\n"
        )
        with (
            connect(tmp_path / "w.duckdb", landing=tmp_path / "l.duckdb") as con,
            pytest.raises(SourceDataError, match=f"column unit_price: cannot read '{value}' as DOUBLE"),
        ):
            load_source(con, tmp_path, ORDER_ITEMS)


@pytest.mark.parametrize("bad_line", [2, 3, 40])
def test_a_non_utf8_byte_is_reported_with_its_line_not_as_a_header_problem(tmp_path: Path, bad_line: int) -> None:
    rows = [f"{i},7,2026-11-27 06:00:00,web\n".encode() for i in range(1, 60)]
    rows[bad_line - 2] = f"{bad_line - 1},7,2026-11-27 06:00:00,".encode() + b"caf\xe9\n"  # Latin-1, not UTF-8
    (tmp_path / "orders.csv").write_bytes(HEADER.encode() + b"".join(rows))
    with pytest.raises(SourceDataError) as caught:
        _load(tmp_path)
    assert str(caught.value).endswith(
        f"orders.csv: line {bad_line}: is not UTF-8 text (byte 0xe9); save the file as UTF-8"
    )


def test_a_non_utf8_byte_across_a_read_chunk_boundary_keeps_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster_project.warehouse.loading as loading

    monkeypatch.setattr(loading, "_CHUNK", 7)  # many chunks, multi-byte characters split between them
    (tmp_path / "orders.csv").write_bytes(
        HEADER.encode() + "1,7,2026-11-27 06:00:00,wéb\n2,7,2026-11-27 06:00:00,wé".encode() + b"\xe9b\n"
    )
    with pytest.raises(SourceDataError, match="line 3: is not UTF-8 text"):
        _load(tmp_path)


@pytest.mark.parametrize("cut", ["3,7,2026-11-27 06:00:00,we", "3,7,2026-11-27 06:00", "3,1", "3"])
def test_a_file_cut_off_mid_line_is_refused_as_truncated(tmp_path: Path, cut: str) -> None:
    good = "1,7,2026-11-27 06:00:00,web\n2,7,2026-11-27 06:00:00,web\n"
    (tmp_path / "orders.csv").write_text(HEADER + good + cut)
    with pytest.raises(SourceDataError, match=r"line 4: the file ends without a line break .* truncated file"):
        _load(tmp_path)


def test_a_price_cut_mid_number_without_a_final_newline_is_not_loaded(tmp_path: Path) -> None:
    from dagster_project.sources import ORDER_ITEMS

    # The last price was 12.5; cut after "1" it would still be a valid number.
    (tmp_path / "order_items.csv").write_text("order_id,line_number,product_id,quantity,unit_price\n1,1,5,1,1")
    with (
        connect(tmp_path / "w.duckdb", landing=tmp_path / "l.duckdb") as con,
        pytest.raises(SourceDataError, match="line 2: the file ends without a line break"),
    ):
        load_source(con, tmp_path, ORDER_ITEMS)


def test_a_quote_left_open_in_the_header_is_refused_without_quoting_the_rows(tmp_path: Path) -> None:
    # Found by the fuzz test: the open quote swallowed every row into one "column name", and the message listed it.
    (tmp_path / "orders.csv").write_text('order_id,"customer_id,order_ts,channel\n1,secret@example.com,x,web\n')
    with pytest.raises(SourceDataError) as caught:
        _load(tmp_path)
    message = str(caught.value)
    assert message.endswith(
        "line 1: the header has a column name with a line break or control character (a quote left open?)"
    )
    assert "secret@example.com" not in message and "\n" not in message

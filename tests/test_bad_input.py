"""Bad source data: one clear line naming the file, exit code 3, no traceback, the published product untouched."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dagster_project.errors import EXIT_RUNTIME, EXIT_SLO_FAILED
from tests.cli_support import run_slo
from tests.conftest import make_sources

AS_OF = "2026-11-27T06:00:00Z"


def slo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_slo(*args, cwd=cwd, timeout=300)


def _replace_line(path: Path, line_no: int, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[line_no] = new
    path.write_text("\n".join(lines) + "\n")


def _header(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def _drift_two(d: Path) -> None:
    """orders' drift blocks its SLO checks; products' reaches staging: the file to fix is named either way."""
    for name, old, new in (("orders.csv", "order_ts", "ordered_at"), ("products.csv", "category", "kategorie")):
        _replace_line(d / name, 0, (d / name).read_text().splitlines()[0].replace(old, new))


def _dir_instead_of_file(d: Path) -> None:
    (d / "orders.csv").unlink()
    (d / "orders.csv").mkdir()


BREAKAGES: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing file": (lambda d: (d / "orders.csv").unlink(), "orders.csv: file not found"),
    "empty file": (lambda d: (d / "products.csv").write_text(""), "products.csv: file is empty"),
    "header only": (
        lambda d: (d / "customers.csv").write_text((d / "customers.csv").read_text().splitlines()[0] + "\n"),
        "customers.csv: has a header but no data rows",
    ),
    # No SLO watches customers' schema, so nothing blocks the build before staging reads the file: staging stops.
    # (A drifted file a blocking schema SLO watches stops the build there instead: test_a_drifted_source...)
    "missing column": (
        lambda d: _replace_line(
            d / "customers.csv", 0, (d / "customers.csv").read_text().splitlines()[0].replace("email", "e_mail")
        ),
        "customers.csv: missing column(s) email",
    ),
    "no contract column at all": (
        lambda d: _replace_line(d / "products.csv", 0, "a,b,c,d,e,f,g,h"[: 2 * len(_header(d / "products.csv")) - 1]),
        "products.csv: has none of the columns",
    ),
    "unparsable value": (
        lambda d: _replace_line(d / "order_items.csv", 5, "1,9,1001,lots,2.5"),
        "order_items.csv: line 6, column quantity: cannot read 'lots' as a whole number",
    ),
    "fraction in an integer column": (
        lambda d: _replace_line(d / "order_items.csv", 7, "2,9,1001,1.7,2.5"),
        "order_items.csv: line 8, column quantity: cannot read '1.7' as a whole number",
    ),
    "unparsable price": (
        lambda d: _replace_line(d / "order_items.csv", 2, "1,9,1001,1,cheap"),
        "order_items.csv: line 3, column unit_price: cannot read 'cheap' as DOUBLE",
    ),
    "unparsable timestamp": (
        lambda d: _replace_line(d / "orders.csv", 3, '3,1,"yesterday","web"'),
        "orders.csv: line 4, column order_ts: cannot read 'yesterday' as TIMESTAMP",
    ),
    "row with missing fields": (
        lambda d: _replace_line(d / "order_items.csv", 5, "1,9,1001"),
        "order_items.csv: line 6: expected 5 fields, found 3",
    ),
    "directory instead of file": (_dir_instead_of_file, "orders.csv: is a directory, not a file"),
    "binary garbage": (
        lambda d: (d / "orders.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 50),
        "orders.csv: line 1: is not UTF-8 text (byte 0x89)",
    ),
}


@pytest.fixture(scope="module")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("good")
    src = make_sources(tmp / "src", orders=1_500)
    db = tmp / "product.duckdb"
    result = slo(
        "run", "--data-dir", str(src), "--db", str(db), "--state-dir", str(tmp / "state"), "--as-of", AS_OF, cwd=tmp
    )
    assert result.returncode == 0, result.stderr
    return tmp, src, hashlib.sha256(db.read_bytes()).hexdigest()


def _build_from_broken(
    good_build: tuple[Path, Path, str], tmp_path: Path, damage: Callable[[Path], object]
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`slo run` over a damaged copy of the good build's sources, onto the good build's database."""
    tmp, src, _digest = good_build
    broken = tmp_path / "src"
    shutil.copytree(src, broken)
    damage(broken)
    db = tmp / "product.duckdb"
    result = slo(
        "run", "--data-dir", str(broken), "--db", str(db), "--state-dir", str(tmp / "state"), "--as-of", AS_OF, cwd=tmp
    )
    return result, broken


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_bad_source_file_fails_clearly_and_keeps_the_published_product(
    good_build: tuple[Path, Path, str], tmp_path: Path, breakage: str
) -> None:
    damage, expected = BREAKAGES[breakage]
    result, broken = _build_from_broken(good_build, tmp_path, damage)
    assert result.returncode == EXIT_RUNTIME
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    assert expected in error_lines[0]
    assert str(broken) in error_lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    tmp, _src, digest = good_build
    assert hashlib.sha256((tmp / "product.duckdb").read_bytes()).hexdigest() == digest


def test_two_drifted_files_are_stopped_by_the_slos_watching_them(
    good_build: tuple[Path, Path, str], tmp_path: Path
) -> None:
    # Both raw tables are watched by blocking SLOs (products' category completeness since the shipped spec covers
    # every column the numbers depend on): the build stops before staging, each SLO naming the missing column.
    result, _broken = _build_from_broken(good_build, tmp_path, _drift_two)
    assert result.returncode == EXIT_SLO_FAILED, result.stdout + result.stderr
    assert "NOT published: a blocking SLO failed" in result.stdout
    assert 'orders_fresh (raw.orders): Binder Error: Referenced column "order_ts" not found' in result.stdout
    assert 'products_category_present (raw.products): Binder Error: Referenced column "category" not found' in (
        result.stdout
    )
    assert "Traceback" not in result.stderr + result.stdout
    tmp, _src, digest = good_build
    assert hashlib.sha256((tmp / "product.duckdb").read_bytes()).hexdigest() == digest


def test_damaged_parquet_file_is_reported(tmp_path: Path) -> None:
    src = make_sources(tmp_path / "src", orders=300, file_format="parquet")
    data = (src / "orders.parquet").read_bytes()
    (src / "orders.parquet").write_bytes(data[: len(data) // 2])
    result = slo("run", "--data-dir", str(src), "--state-dir", str(tmp_path / "state"), "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == EXIT_RUNTIME
    assert "orders.parquet: cannot be read as parquet" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_data_directory_is_reported(tmp_path: Path) -> None:
    result = slo("run", "--data-dir", str(tmp_path / "nowhere"), "--state-dir", str(tmp_path / "state"), cwd=tmp_path)
    assert result.returncode == EXIT_RUNTIME
    assert "nowhere: data directory not found" in result.stderr


def test_a_drifted_source_a_blocking_schema_slo_watches_stops_the_build_with_the_slo(
    good_build: tuple[Path, Path, str], tmp_path: Path
) -> None:
    def rename_unit_price(broken: Path) -> None:
        _replace_line(broken / "order_items.csv", 0, "order_id,line_number,product_id,quantity,price")

    result, _broken = _build_from_broken(good_build, tmp_path, rename_unit_price)
    assert result.returncode == EXIT_SLO_FAILED, result.stderr
    assert "NOT published: a blocking SLO failed" in result.stdout
    assert re.search(r"order_items_schema +schema +raw\.order_items +0\.8000 +>= 1\.0000 +FAIL", result.stdout)
    assert "order_items_schema (raw.order_items): missing unit_price" in result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    tmp, _src, digest = good_build
    assert hashlib.sha256((tmp / "product.duckdb").read_bytes()).hexdigest() == digest

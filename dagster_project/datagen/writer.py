"""Streaming table writers: one Arrow record batch at a time, so memory stays flat at any size.

Files are written under a temporary name and renamed into place only when complete, so an interrupted run never
leaves a truncated source file that looks whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FileFormat = Literal["csv", "parquet"]


class TableWriter:
    def __init__(self, path: Path, schema: pa.Schema, file_format: FileFormat) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        self._tmp = path.with_name(path.name + ".partial")
        self._writer: pacsv.CSVWriter | pq.ParquetWriter
        if file_format == "csv":
            self._writer = pacsv.CSVWriter(
                str(self._tmp), schema, write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed")
            )
        else:
            self._writer = pq.ParquetWriter(str(self._tmp), schema, compression="zstd")

    def write(self, columns: dict[str, pa.Array]) -> None:
        batch = pa.record_batch([columns[f.name] for f in self.schema], schema=self.schema)
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._writer.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)

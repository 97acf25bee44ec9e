"""Exporting a whole result to CSV or JSON, streamed: never the whole result in memory.

The query is run again through `Connection.stream`, so the file holds every row,
not just those the console had loaded. Rows are written on a thread while the next
chunk is fetched; a cancelled export leaves no file behind.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tursotui.db import Connection
from tursotui.db.libsql import Value
from tursotui.display.json_text import json_safe
from tursotui.errors import TursotuiError

FORMATS = ("csv", "json")
CHUNK_ROWS = 5000


class ExportError(TursotuiError):
    """The export file cannot be written."""

    title = "Export"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """A finished export.

    Attributes:
        path: The file written.
        rows: Rows in it.
        format: `csv` or `json`.
        elapsed_ms: Time it took.
    """

    path: Path
    rows: int
    format: str
    elapsed_ms: float


def export_path(data_dir: Path, slug: str, fmt: str) -> Path:
    """The default file for an export: `<data dir>/exports/<slug>-<time>.<fmt>`."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", slug).strip(".") or "tenant"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return data_dir / "exports" / f"{safe}-{stamp}.{fmt}"


def _plain(value: Any) -> Any:
    """A value as the file holds it: blobs as base64 text, infinities as text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _has_blobs(rows: list[tuple[Value, ...]]) -> bool:
    return any(type(v) is bytes for row in rows for v in row)


def _needs_conversion(rows: list[tuple[Value, ...]]) -> bool:
    return any(type(v) is bytes or type(v) is float for row in rows for v in row)


class _CSVWriter:
    def __init__(self, file: TextIO, columns: tuple[str, ...]) -> None:
        self._writer = csv.writer(file, lineterminator="\n")
        self._writer.writerow(columns)

    def write(self, rows: list[tuple[Value, ...]]) -> None:
        # csv writes None as an empty field and inf as "inf" already; only blobs need a look.
        if _has_blobs(rows):
            rows = [tuple(_plain(v) for v in row) for row in rows]
        self._writer.writerows(rows)

    def finish(self) -> None:
        pass


class _JSONWriter:
    """An array of objects keyed by column name, one object per line."""

    def __init__(self, file: TextIO, columns: tuple[str, ...]) -> None:
        self._file = file
        self._columns = columns
        self._first = True
        file.write("[")

    def write(self, rows: list[tuple[Value, ...]]) -> None:
        convert = _needs_conversion(rows)
        out = io.StringIO()
        for row in rows:
            values = (_plain(v) for v in row) if convert else row
            out.write("\n" if self._first else ",\n")
            self._first = False
            record = dict(zip(self._columns, values, strict=False))
            out.write(json_safe(json.dumps(record, ensure_ascii=False)))
        self._file.write(out.getvalue())

    def finish(self) -> None:
        self._file.write("\n]\n" if not self._first else "]\n")


async def export_result(
    connection: Connection,
    sql: str,
    path: Path,
    fmt: str,
    *,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ExportResult:
    """Run `sql` again and write all its rows to `path`.

    Args:
        connection: The tenant's connection.
        sql: A statement that returns rows.
        path: The file to write (replaced if it exists, only once the export is complete).
        fmt: `csv` or `json`.
        progress: Called with the number of rows written so far, after each chunk.
        chunk_rows: Rows fetched at a time.

    Raises:
        ExportError: the file cannot be written.
        LibsqlError: the query failed.
        asyncio.CancelledError: cancelled; the partial file is removed.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (csv or json)")
    started = time.perf_counter()
    part = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file = part.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    rows = 0
    writer: _CSVWriter | _JSONWriter | None = None
    pending: asyncio.Future[None] | None = None
    done = False
    try:
        async with contextlib.aclosing(connection.stream(sql, chunk_size=chunk_rows)) as chunks:
            async for chunk in chunks:
                if writer is None:
                    columns = tuple(chunk.columns)
                    writer = (_CSVWriter if fmt == "csv" else _JSONWriter)(file, columns)
                values = [row.astuple() for row in chunk.rows]
                if pending is not None:
                    await pending
                # Write on a thread while the next chunk is fetched.
                pending = asyncio.ensure_future(asyncio.to_thread(writer.write, values))
                rows += len(values)
                if progress is not None:
                    progress(rows)
        if pending is not None:
            await pending
        if writer is None:
            writer = (_CSVWriter if fmt == "csv" else _JSONWriter)(file, ())
        writer.finish()
        file.close()
        os.replace(part, path)
        done = True
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if not done:
            if pending is not None and not pending.done():
                with contextlib.suppress(BaseException):
                    await asyncio.shield(pending)
            file.close()
            part.unlink(missing_ok=True)
    return ExportResult(path, rows, fmt, (time.perf_counter() - started) * 1000)


__all__ = [
    "FORMATS",
    "ExportError",
    "ExportResult",
    "export_path",
    "export_result",
    "json_safe",
]

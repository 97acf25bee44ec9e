"""Results with the statistics a server reports, on top of libsql-client's ResultSet."""

from __future__ import annotations

from collections.abc import Iterator

from tursotui.db.libsql import ResultSet, Row, Value


# libsql-client ships no types, so its ResultSet is Any to the checker.
class Result(ResultSet):  # type: ignore[misc]
    """A `ResultSet` that also carries what the server says about the statement.

    Attributes:
        rows_read: Rows the server read, where it reports it (Hrana), else None.
        rows_written: Rows the server wrote, where it reports it, else None.
        duration_ms: The server's own query time, where it reports it, else None.
    """

    __slots__ = ["duration_ms", "rows_read", "rows_written"]

    def __init__(
        self,
        columns: tuple[str, ...],
        rows: list[Row],
        rows_affected: int = 0,
        last_insert_rowid: int | None = None,
        *,
        rows_read: int | None = None,
        rows_written: int | None = None,
        duration_ms: float | None = None,
    ) -> None:
        super().__init__(columns, rows, rows_affected, last_insert_rowid)
        self.rows_read = rows_read
        self.rows_written = rows_written
        self.duration_ms = duration_ms


class _Row(Row):  # type: ignore[misc]
    """libsql-client's `Row`, iterated over its tuple directly.

    `Row` is a `Sequence`, whose `__iter__` calls `__getitem__` once per value until an
    IndexError: unpacking rows (`for a, b in rows`) was a tenth of a remote fleet row's CPU.
    """

    __slots__ = ()

    def __iter__(self) -> Iterator[Value]:
        return iter(self._values)


def make_rows(columns: tuple[str, ...], values: list[tuple[Value, ...]]) -> list[Row]:
    """Wrap value tuples as libsql-client `Row`s sharing one column index."""
    index = {name: i for i, name in enumerate(columns)}
    for i, name in reversed(list(enumerate(columns))):
        index[name] = i  # with duplicate names, the first column wins, as in sqlite3
    return [_Row(index, tuple_) for tuple_ in values]

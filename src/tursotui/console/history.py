"""Every statement run in the console, kept per tenant in the data directory.

One JSON-lines file per tenant (`<data dir>/history/<slug>.jsonl`), appended as
statements run, so history survives restarts and crashes. The file is trimmed to
the newest `MAX_ENTRIES` when it grows to twice that.

Next to it, `<slug>.draft.sql` keeps the console editor's text as it was left
(`Draft`), run or not, so closing the console or the app never loses typed SQL.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import NamedTuple

from tursotui.errors import TursotuiError

MAX_ENTRIES = 2000
"""How many statements a tenant's history keeps."""


class HistoryError(TursotuiError):
    """The history file cannot be read or written."""

    title = "History"


class HistoryEntry(NamedTuple):
    """One statement run (a NamedTuple: never changed once made, and a tenth of what a frozen
    dataclass costs to create for every `tursotui sql`).

    Attributes:
        sql: The statement.
        time: When it ran (epoch seconds).
        ok: False if it failed or was refused.
        summary: What came of it (`12 rows`, an error message...).
    """

    sql: str
    time: float
    ok: bool = True
    summary: str = ""


def _file_name(slug: str, suffix: str = ".jsonl") -> str:
    # Slugs are usually safe already; anything else is escaped so no slug can name a path.
    safe = re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"%{ord(m.group()):02x}", slug)
    return (safe if safe.strip(".") else "%2e" + safe) + suffix


class History:
    """The statement history of one tenant."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_tenant(cls, data_dir: Path, slug: str) -> History:
        """The history file of tenant `slug` under `data_dir`."""
        return cls(data_dir / "history" / _file_name(slug))

    def add(self, sql: str, *, ok: bool = True, summary: str = "") -> HistoryEntry:
        """Append a statement.

        Raises:
            HistoryError: the file cannot be written.
        """
        entry = HistoryEntry(sql.strip(), time.time(), ok, summary)
        line = json.dumps(entry._asdict(), ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line)
            if self.path.stat().st_size > 4096 and self._line_count() > 2 * MAX_ENTRIES:
                self._trim()
        except OSError as error:
            raise HistoryError(
                f"the SQL history {self.path} cannot be written ({error.strerror or error})"
            ) from None
        return entry

    def _line_count(self) -> int:
        with self.path.open("rb") as file:
            return sum(1 for _ in file)

    def _trim(self) -> None:
        keep = self._read()[-MAX_ENTRIES:]
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as file:
            for entry in keep:
                file.write(json.dumps(entry._asdict(), ensure_ascii=False) + "\n")
        os.replace(tmp, self.path)

    def _read(self) -> list[HistoryEntry]:
        if not self.path.exists():
            return []
        entries = []
        try:
            with self.path.open(encoding="utf-8", errors="replace") as file:
                for line in file:
                    try:
                        data = json.loads(line)
                        entries.append(
                            HistoryEntry(
                                str(data["sql"]),
                                float(data.get("time", 0)),
                                bool(data.get("ok", True)),
                                str(data.get("summary", "")),
                            )
                        )
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn line from a crash mid-append
        except OSError as error:
            raise HistoryError(
                f"the SQL history {self.path} cannot be read ({error.strerror or error})"
            ) from None
        return entries

    def entries(self) -> list[HistoryEntry]:
        """Each distinct statement once, newest first (its latest run).

        Raises:
            HistoryError: the file cannot be read.
        """
        seen: set[str] = set()
        newest_first = []
        for entry in reversed(self._read()):
            if entry.sql not in seen:
                seen.add(entry.sql)
                newest_first.append(entry)
        return newest_first

    def search(self, query: str) -> list[HistoryEntry]:
        """Entries holding every word of `query` (case-insensitive), newest first."""
        words = query.lower().split()
        return [e for e in self.entries() if all(w in e.sql.lower() for w in words)]


class Draft:
    """The console editor's text on one tenant, kept between consoles and sessions.

    Written whole (to a temporary file, then renamed over the old one), readable by
    the owner only: SQL typed by hand may hold values nobody else should read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_tenant(cls, data_dir: Path, slug: str) -> Draft:
        """The draft of tenant `slug` under `data_dir`, next to its history."""
        return cls(data_dir / "history" / _file_name(slug, ".draft.sql"))

    def read(self) -> str:
        """The kept text ("" when there is none).

        Raises:
            HistoryError: the file exists but cannot be read.
        """
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        except OSError as error:
            raise HistoryError(
                f"the console's kept text {self.path} cannot be read ({error.strerror or error})"
            ) from None

    def save(self, text: str) -> None:
        """Keep `text` (blank text removes the file).

        Raises:
            HistoryError: the file cannot be written; the previous text stays.
        """
        try:
            if not text.strip():
                self.path.unlink(missing_ok=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.unlink(missing_ok=True)  # a leftover keeps its mode; a new file gets 0600
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
        except OSError as error:
            raise HistoryError(
                f"the console's text cannot be kept in {self.path} ({error.strerror or error})"
            ) from None


__all__ = ["MAX_ENTRIES", "Draft", "History", "HistoryEntry", "HistoryError"]

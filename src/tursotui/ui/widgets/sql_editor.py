"""The console's editor: a SQL code editor that completes keywords, tables and columns.

Completion uses TextArea's own suggestion: the rest of the best match for the word
being typed shows dimmed after the cursor, `right` (at the end of the word) accepts it,
and `ctrl+n` offers the next match.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import TextArea

SQL_KEYWORDS = (
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "NULL", "IS", "IN", "LIKE", "GLOB",
    "BETWEEN", "EXISTS", "ORDER", "BY", "GROUP", "HAVING", "LIMIT", "OFFSET", "ASC", "DESC",
    "DISTINCT", "AS", "JOIN", "LEFT", "INNER", "CROSS", "OUTER", "ON", "USING", "UNION",
    "INTERSECT", "EXCEPT", "ALL", "WITH", "RECURSIVE", "CASE", "WHEN", "THEN", "ELSE", "END",
    "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "RETURNING", "REPLACE", "DEFAULT",
    "CREATE", "TABLE", "INDEX", "VIEW", "TRIGGER", "DROP", "ALTER", "ADD", "COLUMN", "RENAME",
    "PRIMARY", "KEY", "UNIQUE", "REFERENCES", "FOREIGN", "CHECK", "CONSTRAINT", "COLLATE",
    "EXPLAIN", "QUERY", "PLAN", "PRAGMA", "ANALYZE", "VACUUM", "COUNT", "SUM", "AVG", "MIN",
    "MAX", "COALESCE", "IFNULL", "LENGTH", "LOWER", "UPPER", "SUBSTR", "TRIM", "CAST",
    "INTEGER", "TEXT", "REAL", "BLOB", "NUMERIC", "DATETIME", "STRFTIME", "UNIXEPOCH",
    "JSON_EXTRACT", "GROUP_CONCAT", "TOTAL_CHANGES", "CHANGES", "TYPEOF", "ROWID",
)  # fmt: skip

MIN_PREFIX = 2
"""Characters typed before a completion is offered."""


def _word_chars(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class SqlEditor(TextArea):
    """A TextArea for SQL with completion from keywords and the tenant's schema."""

    BINDINGS = [
        Binding("ctrl+n", "next_completion", "Next completion", show=False),
    ]

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(
            text,
            language="sql",
            theme="monokai",
            soft_wrap=False,
            tab_behavior="indent",
            show_line_numbers=True,
            id=id,
        )
        self.cursor_blink = False  # deterministic screenshots; the cursor stays visible
        self._schema_words: tuple[str, ...] = ()
        self._skip = 0
        self._last_prefix = ""

    def set_schema_words(self, words: list[str]) -> None:
        """Table and column names of the tenant, offered before keywords."""
        self._schema_words = tuple(words)

    def current_prefix(self) -> str:
        """The word being typed, up to the cursor."""
        if not self.selection.is_empty:
            return ""
        row, column = self.cursor_location
        line = self.document.get_line(row)
        if column < len(line) and _word_chars(line[column]):
            return ""  # in the middle of a word: suggesting would mangle it
        start = column
        while start > 0 and _word_chars(line[start - 1]):
            start -= 1
        return line[start:column]

    def completions(self, prefix: str) -> list[str]:
        """Words starting with `prefix`: schema names first, then keywords (case kept)."""
        if len(prefix) < MIN_PREFIX:
            return []
        lowered = prefix.lower()
        found: list[str] = []
        for word in self._schema_words:
            if word.lower().startswith(lowered) and word.lower() != lowered and word not in found:
                found.append(word)
        upper = prefix[0].isupper()
        for keyword in SQL_KEYWORDS:
            if keyword.lower().startswith(lowered) and keyword.lower() != lowered:
                shown = keyword if upper else keyword.lower()
                if shown not in found:
                    found.append(shown)
        return found

    def update_suggestion(self) -> None:
        prefix = self.current_prefix()
        if prefix != self._last_prefix:
            self._skip = 0
            self._last_prefix = prefix
        matches = self.completions(prefix)
        if not matches:
            self.suggestion = ""
            self._skip = 0
            return
        word = matches[self._skip % len(matches)]
        self.suggestion = word[len(prefix) :]

    def action_next_completion(self) -> None:
        """Offer the next word that completes the one being typed."""
        self._skip += 1
        self.update_suggestion()


__all__ = ["SQL_KEYWORDS", "SqlEditor"]

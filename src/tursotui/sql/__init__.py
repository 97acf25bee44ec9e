"""SQL as the console and `tursotui sql` see it: classification, history, export, running.

Nothing here imports textual.
"""

from tursotui.sql.classify import (
    StatementKind,
    StatementSpan,
    classify,
    split_statements,
    statement_at,
)

__all__ = ["StatementKind", "StatementSpan", "classify", "split_statements", "statement_at"]

"""Undo a moderation write from the audit log: guarded like any write, itself audited.

An entry says what a write did: posts moved from one status to another (and the
`published_at` dates a move to draft cleared or a publish set), comments deleted (their
full rows), comments put back (by an earlier undo). Undoing it does the reverse, in one
batch per tenant (one transaction, one request on a remote tenant), and only where the
rows are still as the write left them:

- a post goes back only `WHERE status IS <what the write set>` (and its date where the
  write changed it); a post changed since is a conflict, left alone;
- a deleted comment is inserted again, every column as it was, only where no row has
  its id and its post (and author) still exist: otherwise the foreign key would fail,
  and nothing of that comment is written;
- a comment an earlier undo put back is deleted only while every column is still what
  was put back.

The undo is recorded like any write (`undo`, `undoes` = the entry's id), in the same
shape, so it can be undone in turn. An entry is undone at most once: a second undo is
refused. A tenant that is gone or does not answer leaves the entry undoable.

Nothing here imports textual.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.fanout import for_each
from tursotui.session.audit import AuditEntry, AuditError, AuditLog, decode_value, encode_row
from tursotui.session.registry import RegistryError
from tursotui.session.workspace import Workspace
from tursotui.tenant.moderation import ModerationError, id_chunks
from tursotui.words import plural

STATUS_ACTIONS = frozenset({"publish", "archive", "draft"})
UNDOABLE = STATUS_ACTIONS | {"delete-comment", "purge-author", "undo"}
"""The audit actions an undo knows how to reverse."""

READ_ONLY = "read-only mode: writes are refused, and an undo writes; nothing was undone"


class UndoError(ModerationError):
    """An undo that cannot be made: the entry is unknown, not undoable, or already undone."""

    title = "Undo"


@dataclass
class Effect:
    """What one audited write did to one tenant, in a form that can be reversed.

    Attributes:
        status_before: Post id → its status before the write (for the posts it moved).
        status_after: Post id → the status the write left.
        date_before: Post id → `published_at` before, for posts whose date the write changed.
        date_after: Post id → `published_at` the write left, for the same posts.
        deleted: Comment rows the write deleted (as the log keeps them).
        inserted: Comment rows the write inserted (an undo of a delete).
    """

    status_before: dict[str, Any] = field(default_factory=dict)
    status_after: dict[str, Any] = field(default_factory=dict)
    date_before: dict[str, Any] = field(default_factory=dict)
    date_after: dict[str, Any] = field(default_factory=dict)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    inserted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the write changed nothing that could be put back."""
        return not (self.status_after or self.date_after or self.deleted or self.inserted)


@dataclass
class UndoOutcome:
    """What undoing one entry did.

    Attributes:
        entry: The entry undone.
        reverted: Ids of the rows put back as they were (posts and comments).
        conflicts: Id → why it was left alone (changed since, its post is gone...).
        error: Why nothing was done (the tenant is gone or did not answer), or None.
        undo_id: The id of the audit entry recording the undo (None when nothing was sent).
        skipped: Why this entry of a group was not undone (undone already...), or None.
    """

    entry: AuditEntry
    reverted: list[str] = field(default_factory=list)
    conflicts: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    undo_id: str | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """Everything of the entry was put back (no error, no conflict)."""
        return self.error is None and not self.conflicts

    @property
    def summary(self) -> str:
        """One line: the tenant, what came back, what was left alone, or why it failed."""
        if self.error is not None:
            said = self.error.removeprefix(f"{self.entry.tenant}: ")
            return f"{self.entry.tenant}: not undone: {said}"
        if self.skipped is not None:
            return f"{self.entry.tenant}: skipped: {self.skipped}"
        said = f"{self.entry.tenant}: reverted {plural(len(self.reverted), 'row')}"
        if self.conflicts:
            said += f"; {plural(len(self.conflicts), 'conflict')} left alone: " + "; ".join(
                f"{key} {why}" for key, why in self.conflicts.items()
            )
        return said


# -- reading entries -------------------------------------------------------------------


def _map(value: Any, ids: Iterable[str]) -> dict[str, Any]:
    """Per-post values from one value for all, or from `{id: value}`."""
    if isinstance(value, dict):
        return {key: value[key] for key in ids if key in value}
    return {key: value for key in ids}


def effect_of(entry: AuditEntry) -> Effect:
    """What `entry` did, from its fields (see the module's docstring for the shapes).

    Raises:
        UndoError: the entry is not of a kind an undo can reverse, or a hand edit left it
            in a shape that cannot be read.
    """
    try:
        effect = _effect_of(entry)
    except (AttributeError, TypeError, KeyError, ValueError):
        raise UndoError(f"the {entry.action} entry cannot be read (edited by hand?)") from None
    if not all(isinstance(row, dict) for row in effect.deleted + effect.inserted):
        raise UndoError(f"the {entry.action} entry cannot be read (edited by hand?)")
    return effect


def _effect_of(entry: AuditEntry) -> Effect:
    before, after = entry.before, entry.after
    rows = entry.rows or {}
    effect = Effect(deleted=list(rows.get("comments") or []))
    if entry.action in STATUS_ACTIONS:
        posts = list(entry.row_ids)
        shown = before.get("status") if isinstance(before, dict) and "status" in before else before
        target = after.get("status") if isinstance(after, dict) else after
        effect.status_before = _map(shown, posts)
        effect.status_after = {post: target for post in posts if post in effect.status_before}
        _dates(effect, before, after, posts)
    elif entry.action == "purge-author":
        target = after.get("posts") if isinstance(after, dict) else None
        if target is not None and isinstance(before, dict):
            posts = [key for key in entry.row_ids if key in before and key != "published_at"]
            effect.status_before = {post: before[post] for post in posts}
            effect.status_after = {post: target for post in posts}
            _dates(effect, before, after, posts)
    elif entry.action == "undo":
        if isinstance(before, dict) and isinstance(after, dict):
            effect.status_before = dict(before.get("status") or {})
            effect.status_after = dict(after.get("status") or {})
            effect.date_before = dict(before.get("published_at") or {})
            effect.date_after = dict(after.get("published_at") or {})
            effect.inserted = list(after.get("comments") or [])
    elif entry.action != "delete-comment":
        raise UndoError(f"a {entry.action!r} entry cannot be undone")
    return effect


def _dates(effect: Effect, before: Any, after: Any, posts: list[str]) -> None:
    """The `published_at` dates a status write changed: cleared (to draft) or set (publish)."""
    cleared = before.get("published_at") if isinstance(before, dict) else None
    if isinstance(cleared, dict):
        for post in posts:
            if post in cleared:
                effect.date_before[post] = cleared[post]
                effect.date_after[post] = None
    dated = after.get("published_at") if isinstance(after, dict) else None
    if isinstance(dated, dict):
        for post in posts:
            if post in dated:
                effect.date_before.setdefault(post, None)
                effect.date_after[post] = dated[post]


# -- which entries can be undone -------------------------------------------------------


@dataclass
class History:
    """The audit log as an undo needs it: each write's last line, and which are undone."""

    entries: list[AuditEntry]
    """Each write's last line (its outcome), oldest first."""
    undone_by: dict[str, AuditEntry]
    """Entry id → the `ok` undo that undid it."""

    @classmethod
    def read(cls, audit: AuditLog) -> History:
        """Read the log (unreadable lines are skipped; `audit.problems()` names them)."""
        return cls.from_lines(audit.entries())

    @classmethod
    def from_lines(cls, lines: list[AuditEntry]) -> History:
        """The history of the log's lines (as `AuditLog.entries` returns them)."""
        latest: dict[str, AuditEntry] = {}
        for entry in lines:
            if entry.id:
                latest.pop(entry.id, None)  # keep the order of the outcome line
                latest[entry.id] = entry
        entries = list(latest.values())
        undone_by = {
            entry.undoes: entry
            for entry in entries
            if entry.action == "undo" and entry.undoes and entry.status == "ok"
        }
        return cls(entries, undone_by)

    def find(self, wanted: str) -> list[AuditEntry]:
        """The entries `wanted` names: an entry id, a group id, or a unique start of either.

        Raises:
            UndoError: nothing, or more than one write, matches.
        """
        wanted = wanted.strip()
        if not wanted:
            raise UndoError("no audit entry named")
        exact = [e for e in self.entries if e.id == wanted]
        if exact:
            return exact
        grouped = [e for e in self.entries if e.group == wanted]
        if grouped:
            return grouped
        starts = {e.id for e in self.entries if e.id.startswith(wanted)}
        groups = {e.group for e in self.entries if e.group and e.group.startswith(wanted)}
        if len(starts) + len(groups) > 1:
            raise UndoError(f"{wanted!r} names more than one audit entry; give more of the id")
        if starts:
            return [e for e in self.entries if e.id in starts]
        if groups:
            return [e for e in self.entries if e.group in groups]
        raise UndoError(f"no audit entry {wanted!r} in the log")

    def group_of(self, entry: AuditEntry) -> list[AuditEntry]:
        """Every entry of `entry`'s action (its group), or the entry alone."""
        if not entry.group:
            return [entry]
        return [e for e in self.entries if e.group == entry.group]

    def refusal(self, entry: AuditEntry) -> str | None:
        """Why `entry` cannot be undone, or None when it can."""
        if entry.action not in UNDOABLE:
            return f"a {entry.action} entry cannot be undone"
        if entry.status == "pending":
            return (
                "the write never reported back (still running, or the app stopped): "
                "its outcome is unknown"
            )
        if entry.status != "ok":
            return "the write failed: there is nothing to undo"
        undo = self.undone_by.get(entry.id)
        if undo is not None:
            return f"it was undone already (audit entry {undo.id})"
        if (
            entry.action == "delete-comment"
            and entry.row_ids
            and not (entry.rows or {}).get("comments")
        ):
            return "the log does not hold the deleted comments (written by an older version)"
        try:
            if effect_of(entry).empty:
                return "the write changed nothing"
        except UndoError as error:
            return str(error)
        return None

    def latest_action(
        self, *, operator: str | None = None, ids: Iterable[str] | None = None
    ) -> list[AuditEntry] | None:
        """The newest action (an entry, or all of its group) that can still be undone.

        Undo entries themselves are skipped: undoing again walks further back instead of
        redoing what was just undone.

        Args:
            operator: Only this operator's entries.
            ids: Only these entries (the writes of one session).
        """
        allowed = set(ids) if ids is not None else None
        for entry in reversed(self.entries):
            if entry.action == "undo" or entry.action not in UNDOABLE:
                continue
            if operator is not None and entry.operator != operator:
                continue
            if allowed is not None and entry.id not in allowed:
                continue
            group = [e for e in self.group_of(entry) if self.refusal(e) is None]
            if group:
                return group
        return None


def describe_plan(entries: list[AuditEntry]) -> str:
    """What undoing `entries` would revert, in words, for a confirmation."""
    lines = []
    for entry in entries:
        effect = effect_of(entry)
        parts = []
        moves: dict[tuple[Any, Any], int] = {}
        for post, status in effect.status_after.items():
            key = (status, effect.status_before.get(post))
            moves[key] = moves.get(key, 0) + 1
        for (now, back), count in moves.items():
            parts.append(f"{plural(count, 'post')} {now} → {back}")
        if effect.deleted:
            parts.append(f"{plural(len(effect.deleted), 'deleted comment')} put back")
        if effect.inserted:
            parts.append(f"{plural(len(effect.inserted), 'restored comment')} deleted again")
        what = ", ".join(parts) or "nothing"
        reason = f" (reason: {entry.reason})" if entry.reason else ""
        lines.append(f"{entry.tenant}: {entry.action} → {what}{reason}")
    return "\n".join(lines)


# -- undoing ---------------------------------------------------------------------------


def _comment_guard(row: dict[str, Any], args: list[Any]) -> str:
    """`col IS ? AND …` over every column of `row` (the row is still what was written)."""
    parts = []
    for column, value in row.items():
        parts.append(f'"{_ident(column)}" IS ?')
        args.append(decode_value(value))
    return " AND ".join(parts)


def _ident(name: str) -> str:
    return str(name).replace('"', '""')


async def undo_on(
    conn: Connection,
    audit: AuditLog,
    entry: AuditEntry,
    *,
    reason: str | None = None,
    group: str | None = None,
) -> UndoOutcome:
    """Undo one entry on its tenant's connection: one guarded batch, audited.

    Raises:
        ModerationError: the audit log cannot be written, or the batch failed (nothing
            was changed; the entry stays undoable).
    """
    effect = effect_of(entry)
    outcome = UndoOutcome(entry)
    posts = list(effect.status_after)
    restore = [dict(row) for row in effect.deleted]
    remove = [dict(row) for row in effect.inserted]
    statements: list[tuple[str, list[Any]]] = []

    # Reads first, in the same transaction: how each row is now, to say why one is left alone.
    reads: list[range] = []

    def ids_query(table: str, column: str, ids: list[str], extra: str = "") -> None:
        start = len(statements)
        for chunk in id_chunks(ids):
            marks = ", ".join("?" for _ in chunk)
            statements.append(
                (f"SELECT {column}{extra} FROM {table} WHERE {column} IN ({marks})", chunk)
            )
        reads.append(range(start, len(statements)))

    restore_ids = [str(row.get("id")) for row in restore]
    ids_query("posts", "id", posts, ", status, published_at")
    ids_query("comments", "id", restore_ids)
    ids_query("posts", "id", sorted({str(row.get("post_id")) for row in restore}))
    ids_query("users", "id", sorted({str(row.get("author_id")) for row in restore}))
    ids_query("comments", "id", [str(row.get("id")) for row in remove])
    first_write = len(statements)

    for post in posts:
        args: list[Any] = [effect.status_before.get(post)]
        sets = "status = ?"
        where = "id = ? AND status IS ?"
        if post in effect.date_after:
            sets += ", published_at = ?"
            args.append(effect.date_before.get(post))
        args += [post, effect.status_after[post]]
        if post in effect.date_after:
            where += " AND published_at IS ?"
            args.append(effect.date_after[post])
        statements.append((f"UPDATE posts SET {sets} WHERE {where} RETURNING id", args))
    for row in restore:
        columns = list(row)
        names = ", ".join(f'"{_ident(c)}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        args = [decode_value(row[c]) for c in columns]
        guard = "NOT EXISTS (SELECT 1 FROM comments WHERE id = ?)"
        args.append(decode_value(row.get("id")))
        if "post_id" in row:
            guard += " AND EXISTS (SELECT 1 FROM posts WHERE id = ?)"
            args.append(decode_value(row["post_id"]))
        if "author_id" in row:
            guard += " AND EXISTS (SELECT 1 FROM users WHERE id = ?)"
            args.append(decode_value(row["author_id"]))
        statements.append(
            (
                f"INSERT INTO comments ({names}) SELECT {marks} WHERE {guard} RETURNING id",
                args,
            )
        )
    for row in remove:
        args = []
        guard = _comment_guard(row, args)
        statements.append((f"DELETE FROM comments WHERE {guard} RETURNING id", args))

    row_ids = posts + restore_ids + [str(row.get("id")) for row in remove]
    try:
        async with audit.recording(
            "undo",
            entry.tenant,
            row_ids,
            before={"status": dict(effect.status_after), "published_at": {}},
            after={"status": dict(effect.status_before), "published_at": {}, "comments": []},
            detail=f"undoes {entry.action} {entry.id}",
            reason=reason,
            group=group,
            undoes=entry.id,
        ) as record:
            results = await conn.batch(statements)

            def read(number: int) -> list[Any]:
                return [row for i in reads[number] for row in results[i].rows]

            now = {str(r[0]): (r[1], r[2]) for r in read(0)}
            existing = {str(r[0]) for r in read(1)}
            live_posts = {str(r[0]) for r in read(2)}
            live_users = {str(r[0]) for r in read(3)}
            still_there = {str(r[0]) for r in read(4)}
            done = [{str(r[0]) for r in result.rows} for result in results[first_write:]]
            cursor = 0
            reverted_posts = []
            for post in posts:
                if post in done[cursor]:
                    reverted_posts.append(post)
                elif post not in now:
                    outcome.conflicts[post] = "post deleted since"
                else:
                    outcome.conflicts[post] = f"post changed since (now {now[post][0]})"
                cursor += 1
            restored = []
            for row in restore:
                key = str(row.get("id"))
                if key in done[cursor]:
                    restored.append(row)
                elif key in existing:
                    outcome.conflicts[key] = "a comment with this id exists: not overwritten"
                elif str(row.get("post_id")) not in live_posts:
                    outcome.conflicts[key] = (
                        "its post was deleted since (the foreign key would fail): not restored"
                    )
                elif str(row.get("author_id")) not in live_users:
                    outcome.conflicts[key] = (
                        "its author was deleted since (the foreign key would fail): not restored"
                    )
                else:
                    outcome.conflicts[key] = "not restored"
                cursor += 1
            removed = []
            for row in remove:
                key = str(row.get("id"))
                if key in done[cursor]:
                    removed.append(row)
                elif key in still_there:
                    outcome.conflicts[key] = "comment changed since"
                else:
                    outcome.conflicts[key] = "comment deleted since"
                cursor += 1
            outcome.reverted = (
                reverted_posts
                + [str(row.get("id")) for row in restored]
                + [str(row.get("id")) for row in removed]
            )
            record.row_ids = list(outcome.reverted)
            record.before = {
                "status": {p: effect.status_after[p] for p in reverted_posts},
                "published_at": {
                    p: effect.date_after[p] for p in reverted_posts if p in effect.date_after
                },
            }
            record.after = {
                "status": {p: effect.status_before.get(p) for p in reverted_posts},
                "published_at": {
                    p: effect.date_before.get(p) for p in reverted_posts if p in effect.date_after
                },
                "comments": [encode_row(_decoded(row)) for row in restored],
            }
            record.rows = {"comments": [encode_row(_decoded(row)) for row in removed]}
            if outcome.conflicts:
                record.detail = f"{record.detail}; left alone: " + "; ".join(
                    f"{key} {why}" for key, why in outcome.conflicts.items()
                )
            outcome.undo_id = record.id
    except AuditError as error:
        raise ModerationError(str(error)) from None
    except LibsqlError as error:
        raise ModerationError(describe(error)) from None  # names the tenant already
    return outcome


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {column: decode_value(value) for column, value in row.items()}


async def undo_entries(
    workspace: Workspace,
    entries: list[AuditEntry],
    *,
    reason: str | None = None,
) -> list[UndoOutcome]:
    """Undo these entries (one action: an entry, or a group across tenants).

    Each tenant gets one batch per entry, tenants in parallel; a tenant that is gone or
    does not answer is reported in its outcome (`error`) and its entry stays undoable.
    The undo entries of several share one new group id.

    Raises:
        UndoError: the session is read-only, or an entry cannot be undone (nothing is sent).
    """
    if workspace.settings.read_only:
        raise UndoError(READ_ONLY)
    # Read again, off the event loop (a log grows long): what is undone may have changed.
    history = await asyncio.to_thread(History.read, workspace.audit)
    current = {e.id: e for e in history.entries}
    chosen = [current.get(e.id, e) for e in entries]
    refused = {e.id: why for e in chosen if (why := history.refusal(e)) is not None}
    if len(refused) == len(chosen):
        first = chosen[0]
        raise UndoError(f"audit entry {first.id} cannot be undone: {refused[first.id]}")
    # Of a group, the entries still undoable are undone (those whose tenant failed the
    # last time, say); the others are reported as skipped.
    skipped = [UndoOutcome(e, skipped=refused[e.id]) for e in chosen if e.id in refused]
    chosen = [e for e in chosen if e.id not in refused]
    group = str(uuid.uuid4()) if len(chosen) > 1 else None
    tenants = {tenant.slug: tenant for tenant in await _tenants(workspace)}
    by_tenant: dict[str, list[AuditEntry]] = {}
    for entry in chosen:
        by_tenant.setdefault(entry.tenant, []).append(entry)

    async def one_tenant(slug: str) -> list[UndoOutcome]:
        outcomes = []
        tenant = tenants.get(slug)
        for entry in reversed(by_tenant[slug]):  # newest first, as they were done
            if tenant is None:
                outcomes.append(
                    UndoOutcome(entry, error=f"the tenant {slug} is not in the registry any more")
                )
                continue
            try:
                conn = await workspace.connection(tenant)
                outcomes.append(
                    await undo_on(conn, workspace.audit, entry, reason=reason, group=group)
                )
            except (ModerationError, LibsqlError, RegistryError) as error:
                outcomes.append(UndoOutcome(entry, error=describe(error)))
        return outcomes

    answers = await for_each(
        list(by_tenant), one_tenant, max(1, workspace.settings.fleet_concurrency)
    )
    return skipped + [outcome for answer in answers for outcome in answer]


async def _tenants(workspace: Workspace) -> list[Any]:
    try:
        return list(await workspace.registry.tenants())
    except RegistryError as error:
        raise UndoError(f"the registry cannot be read: {describe(error)}") from None


async def undo(
    workspace: Workspace, wanted: str, *, whole_group: bool = False, reason: str | None = None
) -> list[UndoOutcome]:
    """Undo the entry (or group) `wanted` names; with `whole_group`, every entry of its group.

    Raises:
        UndoError: unknown, refused (already undone, failed...), or a read-only session.
    """
    if workspace.settings.read_only:
        raise UndoError(READ_ONLY)
    history = await asyncio.to_thread(History.read, workspace.audit)
    entries = history.find(wanted)
    if whole_group and len(entries) == 1:
        entries = history.group_of(entries[0])
    return await undo_entries(workspace, entries, reason=reason)


__all__ = [
    "READ_ONLY",
    "UNDOABLE",
    "Effect",
    "History",
    "UndoError",
    "UndoOutcome",
    "describe_plan",
    "effect_of",
    "undo",
    "undo_entries",
    "undo_on",
]

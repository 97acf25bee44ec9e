"""One author across the fleet: where their email exists, what they wrote, and purges.

Opened from a post or a comment (`A`: the author by user id on that tenant, then their
email everywhere) or from the fleet by email. The top list has one row per tenant where
the email exists (any case), streaming in as tenants answer; the bottom one shows the
posts and comments, newest first, of the tenant under the cursor (more are read as the
cursor nears the end). Tenants are marked with space (`*` marks every one); `x` deletes
the author's comments, `a` archives their posts, `u` moves them back to draft, on the
marked tenants or else the current one. The confirmation lists the counts per tenant
and, above `TYPED_CONFIRM_ROWS` rows, asks for the email typed; the outcome (done,
conflict, failed: untouched or not) shows per tenant in the list.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from tursotui.db import LibsqlError
from tursotui.display.literal import literal
from tursotui.display.posts import READ_ONLY_HINT, status_text, when
from tursotui.fleet.authors import (
    FAILED,
    TYPED_CONFIRM_ROWS,
    PurgeOutcome,
    TenantAuthor,
    TenantPlan,
    author_on,
    find_everywhere,
    plan_everywhere,
    purge_everywhere,
)
from tursotui.session.registry import RegistryError
from tursotui.tenant.authors import (
    AuthorError,
    fetch_author_comments,
    fetch_author_posts,
)
from tursotui.tenant.moderation import ModerationError, PageCursor
from tursotui.ui import navigation
from tursotui.ui.feedback import StatusFeedback
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.typed_confirm import TypedConfirmScreen
from tursotui.ui.typeahead import hold_keys_for
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.text_line import TextLine
from tursotui.ui.write_keys import WriteKeys
from tursotui.words import plural

if TYPE_CHECKING:
    from tursotui.session.registry import Tenant
    from tursotui.session.workspace import Workspace

ACTIONS = {
    "comments": ("delete their comments", True, None),
    "archived": ("archive their posts", False, "archived"),
    "draft": ("move their posts back to draft", False, "draft"),
}
"""Each purge key's words, whether it deletes comments, and where it moves posts."""


class AuthorScreen(StatusFeedback, WriteKeys):
    """An author on every tenant where their email exists; purge keys."""

    CSS_PATH = "author.tcss"
    AUTO_FOCUS = "#author-tenants"
    FEEDBACK_REPAINT = "show_status"
    HELP_TITLE = "author"

    WRITE_ACTIONS = frozenset({"purge", "mark", "mark_all"})
    """Hidden and refused in a read-only session."""

    BINDINGS = [
        Binding("space", "mark", "Mark", tooltip="Mark the tenant for an action"),
        Binding("asterisk", "mark_all", "Mark all", tooltip="Mark every tenant (again: none)"),
        Binding(
            "x",
            "purge('comments')",
            "Delete comments",
            tooltip="Delete all their comments on the marked tenants, or this one (asks first)",
        ),
        Binding(
            "a",
            "purge('archived')",
            "Archive posts",
            tooltip="Archive all their posts on the marked tenants, or this one (asks first)",
        ),
        Binding(
            "u",
            "purge('draft')",
            "Posts to draft",
            tooltip="Move all their posts back to draft on the marked tenants, or this one",
        ),
        Binding("tab", "switch", "Posts/comments", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, email_or_id: str, tenant: Tenant | None = None) -> None:
        super().__init__()
        self.who = email_or_id.strip()
        """What the screen was opened with: an email, or a user id on `tenant`."""
        self.origin = tenant
        self.email: str | None = None
        """The email searched across the fleet (found from the user id when opened by one)."""
        self.answers: dict[str, TenantAuthor] = {}
        """By slug: tenants where the author is."""
        self.outcomes: dict[str, str] = {}
        """By slug: what the last purge did there, as the list shows it."""
        self.marked: set[str] = set()
        self.asked = self.answered = 0
        self.shown_slug: str | None = None
        self.next_posts: PageCursor | None = None
        self.next_comments: PageCursor | None = None
        self.items_token = 0
        self.item_posts: dict[str, Any] = {}
        """By row key of the lower list: the post it is or is on (`enter` opens it)."""

    @property
    def workspace(self) -> Workspace:
        return tursotui_app(self).workspace

    def compose(self) -> ComposeResult:
        yield TenantHeader("author", id="author-header")
        yield Static(id="author-title")
        yield Input(placeholder="the author's email, then enter", id="author-email")
        yield RowList(id="author-tenants")
        yield TextLine(id="author-status")
        yield RowList(id="author-items")
        yield KeysFooter()

    def on_mount(self) -> None:
        width = self.app.size.width or 80
        self.query_one("#author-tenants", RowList).set_columns(
            [
                (" ", 1),
                ("tenant", 14),
                ("name", 14),
                ("email", 22),
                ("first", 16),
                ("last", 16),
                ("posts d/p/a", 12),
                ("comments", 8),
                ("last action", max(16, width - 121)),
            ]
        )
        self.query_one("#author-items", RowList).set_columns(
            [("kind", 7), ("when", 16), ("status", 9), ("text", max(20, width - 44))]
        )
        email = self.query_one("#author-email", Input)
        if self.who:
            email.display = False
            self.reload()
        else:
            # Opened from the fleet to type an email: what is typed right after the key
            # that opened the screen goes into this input.
            email.focus()
            hold_keys_for(self.app, email)
            self.show_title()

    @on(Input.Submitted, "#author-email")
    def _on_email(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        self.who, self.email = text, None
        event.input.display = False
        self.query_one("#author-tenants", RowList).focus()
        self.reload()

    # --- reading ------------------------------------------------------------------------

    def action_reload(self) -> None:
        """Ask every tenant again."""
        self.reload()

    def reload(self) -> None:
        self.answers.clear()
        self.query_one("#author-tenants", RowList).clear()
        self.query_one("#author-items", RowList).clear()
        self.shown_slug = None
        self.find()

    @work(exclusive=True, group="author-find", exit_on_error=False, description="author search")
    async def find(self) -> None:
        """Learn the email (opened by user id), then ask every tenant; rows come as they answer."""
        workspace = self.workspace
        if self.email is None:
            if self.origin is not None and "@" not in self.who:
                first = await author_on(workspace, self.origin, self.who)
                if first.summary is None:
                    self.show_title(first.error or f"no user {self.who} on {self.origin.slug}")
                    return
                self.email = str(first.summary.author.email)
            else:
                self.email = self.who
        self.show_title()
        tenants = await workspace.registry.tenants()
        self.asked, self.answered = len(tenants), 0
        self.show_status()
        failures = []
        async for answer in find_everywhere(workspace, tenants, self.email):
            self.answered += 1
            if answer.error is not None:
                failures.append(answer.tenant.slug)
            elif answer.summary is not None:
                self.add_tenant(answer)
            self.show_status()
        if failures:
            self.notify(
                f"{plural(len(failures), 'tenant')} did not answer: {', '.join(failures[:10])}",
                severity="warning",
                markup=False,
            )

    def add_tenant(self, answer: TenantAuthor) -> None:
        table = self.query_one("#author-tenants", RowList)
        slug = answer.tenant.slug
        new = slug not in self.answers
        self.answers[slug] = answer
        cells = self.tenant_cells(answer)
        if new:
            table.add_row(*cells, key=slug)
        else:
            table.update_row(slug, cells)
        if self.shown_slug is None:
            self.show_items(slug)

    def tenant_cells(self, answer: TenantAuthor) -> list[Text]:
        summary = answer.summary
        assert summary is not None
        slug = answer.tenant.slug
        posts = summary.posts
        counts = f"{posts.get('draft', 0)}/{posts.get('published', 0)}/{posts.get('archived', 0)}"
        others = summary.post_count - sum(
            posts.get(s, 0) for s in ("draft", "published", "archived")
        )
        if others:
            counts += f" +{others}"
        outcome = self.outcomes.get(slug, "")
        return [
            Text("●" if slug in self.marked else " ", style="bold yellow"),
            literal(slug, 14),
            literal(summary.author.name, 14),
            literal(summary.author.email, 22),
            when(summary.first_activity),
            when(summary.last_activity),
            Text(counts),
            Text(str(summary.comments)),
            Text(outcome, style="red" if outcome.startswith(FAILED) else "green"),
        ]

    def show_title(self, problem: str | None = None) -> None:
        title = Text("Author ", style="bold")
        title.append_text(literal(self.email or self.who or "(type an email)", 80))
        if problem:
            title.append("  ")
            title.append_text(literal(problem, 120))
            title.stylize("red", len(title) - len(problem), len(title))
        self.query_one("#author-title", Static).update(title)

    def show_status(self) -> None:
        line = Text()
        if self.asked and self.answered < self.asked:
            line.append(f"asking {self.answered}/{self.asked} tenants… ", style="dim")
        if self.asked and self.answered == self.asked and not self.answers:
            line.append("no tenant has this author", style="bold yellow")
        else:
            line.append(f"on {plural(len(self.answers), 'tenant')}", style="dim")
        if self.marked:
            line.append(f" · {len(self.marked)} marked", style="bold yellow")
        if self.shown_slug:
            line.append(" · below: ")
            line.append_text(literal(self.shown_slug, 20))
        self.append_feedback(line)
        self.query_one("#author-status", TextLine).update(line)

    @on(RowList.RowHighlighted, "#author-tenants")
    def _on_tenant_highlighted(self, event: RowList.RowHighlighted) -> None:
        if event.key != self.shown_slug:
            self.show_items(event.key)

    def show_items(self, slug: str) -> None:
        """Show the tenant's newest posts and comments below."""
        self.shown_slug = slug
        self.items_token += 1
        self.query_one("#author-items", RowList).clear()
        self.item_posts.clear()
        self.next_posts = self.next_comments = None
        self.show_status()
        self.load_items(slug, self.items_token, first=True)

    @work(group="author-items", exit_on_error=False, description="author's posts and comments")
    async def load_items(self, slug: str, token: int, *, first: bool = False) -> None:
        answer = self.answers.get(slug)
        if answer is None or answer.summary is None:
            return
        author = answer.summary.author
        try:
            conn = await self.workspace.connection(answer.tenant)
            posts = (
                await fetch_author_posts(conn, author, after=self.next_posts)
                if first or self.next_posts is not None
                else None
            )
            comments = (
                await fetch_author_comments(conn, author, after=self.next_comments)
                if first or self.next_comments is not None
                else None
            )
        except (ModerationError, LibsqlError, RegistryError) as error:
            if token == self.items_token:
                self.notify(str(error), title=slug, severity="error", markup=False)
            return
        if token != self.items_token:
            return  # another tenant is shown now
        table = self.query_one("#author-items", RowList)
        rows: list[tuple[str, list[Text]]] = []
        if posts is not None:
            self.next_posts = posts.next
            rows += [
                (
                    f"p:{p.id}",
                    [Text("post"), when(p.published_at), status_text(p.status), literal(p.title)],
                )
                for p in posts.posts
            ]
        if comments is not None:
            self.next_comments = comments.next
            rows += [
                (
                    f"c:{c.id}",
                    [
                        Text("comment", style="cyan"),
                        when(c.created_at),
                        Text(""),
                        literal(c.content),
                    ],
                )
                for c in comments.comments
            ]
        if posts is not None:
            self.item_posts.update((f"p:{p.id}", p.id) for p in posts.posts)
        if comments is not None:
            self.item_posts.update((f"c:{c.id}", c.post_id) for c in comments.comments)
        table.add_rows(rows)
        table.more_available = self.next_posts is not None or self.next_comments is not None

    @on(RowList.RowHighlighted, "#author-items")
    def _on_item_highlighted(self, event: RowList.RowHighlighted) -> None:
        table = self.query_one("#author-items", RowList)
        if table.more_available and table.wants_rows() and self.shown_slug:
            table.more_available = False  # one read at a time
            self.load_items(self.shown_slug, self.items_token)

    @on(RowList.RowSelected, "#author-items")
    def _on_item_selected(self, event: RowList.RowSelected) -> None:
        post_id = self.item_posts.get(event.key)
        answer = self.answers.get(self.shown_slug or "")
        if post_id is not None and answer is not None:
            navigation.post(self.app, answer.tenant, str(post_id))

    def action_switch(self) -> None:
        """Move between the tenants and the posts and comments."""
        tenants = self.query_one("#author-tenants", RowList)
        items = self.query_one("#author-items", RowList)
        (items if tenants.has_focus else tenants).focus()

    # --- marks and purges ---------------------------------------------------------------

    def action_mark(self) -> None:
        """Mark or unmark the tenant under the cursor."""
        table = self.query_one("#author-tenants", RowList)
        slug = table.cursor_key
        if slug is None:
            return
        self.marked.symmetric_difference_update({slug})
        table.update_row(slug, self.tenant_cells(self.answers[slug]))
        table.move_cursor(row=min(table.cursor_row + 1, table.row_count - 1))
        self.show_status()

    def action_mark_all(self) -> None:
        """Mark every tenant; when all are marked, unmark them."""
        everything = set(self.answers)
        self.marked = set() if self.marked >= everything else everything
        table = self.query_one("#author-tenants", RowList)
        for slug, answer in self.answers.items():
            table.update_row(slug, self.tenant_cells(answer))
        self.show_status()

    def targets(self) -> list[Tenant]:
        table = self.query_one("#author-tenants", RowList)
        if self.marked:
            return [self.answers[k].tenant for k in table.ordered_keys if k in self.marked]
        slug = table.cursor_key
        return [self.answers[slug].tenant] if slug in self.answers else []

    def action_purge(self, what: str) -> None:
        """Purge on the marked tenants (or the current one), after a confirmation."""
        if self.workspace.settings.read_only:
            self.notify(READ_ONLY_HINT.format("purging an author"), severity="warning")
            return
        tenants = self.targets()
        if not tenants or self.email is None:
            self.notify("No tenant here to act on.", severity="warning")
            return
        # On the app, not this screen: going back while it runs must not cut the write short.
        self.app.run_worker(
            self.purge(what, tenants, self.email),
            group="moderate",
            exit_on_error=False,
            description="purging an author",
        )

    async def purge(self, what: str, tenants: list[Tenant], email: str) -> None:
        """Read the counts, confirm (the email typed above the threshold), purge, report."""
        words, comments, posts_to = ACTIONS[what]
        workspace = self.workspace
        plans: list[TenantPlan] = [
            plan
            async for plan in plan_everywhere(
                workspace, tenants, email, delete_comments=comments, posts_to=posts_to
            )
        ]
        order = {t.slug: i for i, t in enumerate(tenants)}
        plans.sort(key=lambda p: order[p.tenant.slug])
        todo = [(p.tenant, p.plan) for p in plans if p.plan is not None and not p.plan.empty]
        unread = [p for p in plans if p.error is not None]
        rows = sum(plan.rows for _, plan in todo)
        if not todo:
            self.notify(
                "Nothing to do: "
                + (
                    "; ".join(f"{p.tenant.slug}: {p.error}" for p in unread)
                    or f"nothing left to {words.split(' ')[0]}"
                ),
                severity="warning",
                markup=False,
            )
            return
        question = Text(f"{words.capitalize()} (")
        question.append_text(literal(email, 80))
        question.append(f") on {plural(len(todo), 'tenant')}:\n\n")
        for tenant, plan in todo:
            question.append_text(literal(tenant.slug, 24))
            if comments:
                question.append(f": {plural(plan.comments, 'comment')} to delete\n")
            else:
                question.append(f": {plural(len(plan.posts), 'post')} to move to {posts_to}\n")
        for failed in unread:
            question.append_text(literal(failed.tenant.slug, 24))
            question.append(": cannot be read, left alone\n", style="red")
        if rows > TYPED_CONFIRM_ROWS:
            confirm: Any = TypedConfirmScreen(question, email, title="Purge an author")
        else:
            confirm = ConfirmScreen(question, title="Purge an author", ask_reason=True)
        if not await self.app.push_screen_wait(confirm):
            return
        reason = getattr(confirm, "reason", None)  # the typed confirmation asks none
        outcomes: list[PurgeOutcome] = []
        try:
            async for outcome in purge_everywhere(workspace, todo, reason=reason):
                outcomes.append(outcome)
                self.record_outcome(outcome)
        except AuthorError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.report(words, outcomes)
        await self.refresh_tenants([o.tenant for o in outcomes])

    def record_outcome(self, outcome: PurgeOutcome) -> None:
        slug = outcome.tenant.slug
        if outcome.state == FAILED:
            where = {False: "untouched", True: "applied"}.get(bool(outcome.applied), "unknown")
            if outcome.applied is None:
                where = "unknown"
            self.outcomes[slug] = f"failed ({where})"
        elif outcome.result is not None:
            r = outcome.result
            text = f"{outcome.state}: -{len(r.deleted)} comments, {len(r.moved)} posts"
            if r.conflicts:
                text += f", {len(r.conflicts)} conflicts"
            self.outcomes[slug] = text
        if slug in self.answers and self.is_mounted:
            self.query_one("#author-tenants", RowList).update_row(
                slug, self.tenant_cells(self.answers[slug])
            )

    def report(self, words: str, outcomes: list[PurgeOutcome]) -> None:
        by_state: dict[str, list[str]] = {}
        for outcome in outcomes:
            by_state.setdefault(outcome.state, []).append(outcome.tenant.slug)
        parts = [
            f"{state} {plural(len(slugs), 'tenant')} ({', '.join(slugs)})"
            for state, slugs in sorted(by_state.items())
        ]
        message = f"{words.capitalize()}: " + "; ".join(parts)
        failed = [o for o in outcomes if o.state == FAILED]
        if failed:
            details = "\n".join(f"{o.tenant.slug}: {o.describe()}" for o in failed)
            self.notify(
                details, title="Purge failed on some tenants", severity="error", markup=False
            )
            self.say(message, style="bold red")
        else:
            self.say(message)

    async def refresh_tenants(self, tenants: list[Tenant]) -> None:
        """Read the purged tenants' summaries again; the list below too if it shows one."""
        if self.email is None:
            return
        answers = await asyncio.gather(
            *(author_on(self.workspace, tenant, self.email) for tenant in tenants)
        )
        if not self.is_mounted:
            return
        for answer in answers:
            if answer.summary is not None:
                self.add_tenant(answer)
        if self.shown_slug in {t.slug for t in tenants}:
            self.show_items(self.shown_slug or "")

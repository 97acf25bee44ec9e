"""Hostile tenant data through every screen that shows it.

Hypothesis builds text from the pieces attackers use — SGR and cursor-moving CSI, OSC
titles, OSC 8 hyperlinks and OSC 52 clipboard writes, one-byte C1 CSI/DCS, BEL, NUL,
backspace, CR, bidi overrides (Trojan source), zero-width characters, Rich/Textual
markup including `[@click=...]` actions — mixed with arbitrary Unicode. The text goes
into a tenant's name, post titles and bodies, an author's name and comments; a title
holding invalid UTF-8 (a CAST of a blob) and a 1 MB title and body ride along. Then
the real app shows the tenants screen, the posts list, a post with its comments, the
console's result grid, the fleet and the queue, and for each:

- each value's marker and the markup right after it are on screen as typed
  (`Q3[red]`): markup was shown, not applied;
- the screen text and the SVG screenshot hold no C0/C1 control, no DEL and no bidi
  control: every one was made visible by `literal()`;
- the terminal output (the screen rendered as a real terminal would receive it) has
  no escape sequence other than the app's own SGR colours: no OSC, DCS, cursor move,
  BEL, or one-byte C1 CSI from the data.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import tempfile
import uuid
from pathlib import Path

from adversarial_stats import count
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from support.screen import screen_text, terminal_bytes, until
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.ui.widgets.sortable_list import SortableList

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", 4))
"""Hypothesis examples; each builds a tenant and walks all six screens (~3 s)."""

PIECES = [
    "\x1b[31m", "\x1b[2J", "\x1b[H", "\x1b[1;1H", "\x1b]0;pwned\x07", "\x1b]8;;http://evil.example\x1b\\",
    "\x1b]52;c;ZXZpbA==\x07", "\x9b31m", "\x90q\x9c", "\x1bP1$r\x1b\\", "\x07", "\x00", "\r", "\n",
    "\t", "\b", "\x7f", "\x85", "\u202e", "\u2066", "\u200b", "\ufeff", "[bold]", "[/]",
    "[link=http://x]", "[@click=app.quit]", "[red]", "\\[", "[/red]", "🙂", "e\u0301", "字",
    "%s", "{0}", "<script>", "'; DROP TABLE posts; --",
]  # fmt: skip
PAYLOAD = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), min_size=1, max_size=8
).map("".join)
VALUES = st.lists(PAYLOAD, min_size=3, max_size=3)

FORBIDDEN_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")
"""What must never reach the screen raw (newline excepted: the text export has lines)."""

APP_SEQUENCES = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H")
"""What the app itself sends: SGR colours and the compositor's cursor positioning."""


def marker(i: int) -> str:
    return f"Q{i}[red]"


def assert_safe(app, where: str, expect: list[str]) -> None:
    text = screen_text(app)
    for m in expect:
        assert m in text, f"{where}: {m!r} not shown literally:\n{text}"
    assert not FORBIDDEN_CHARS.search(text), (where, FORBIDDEN_CHARS.search(text))
    raw = terminal_bytes(app)
    leftover = APP_SEQUENCES.sub("", raw)
    assert "\x1b" not in leftover, (where, leftover[leftover.index("\x1b") :][:40])
    assert not re.search("[\x07\x80-\x9f]", leftover), where
    svg = app.export_screenshot()
    assert not FORBIDDEN_CHARS.search(svg.replace("\n", " ")), where
    assert 'href="http://evil' not in svg  # no hyperlink was made from the data
    count("hostile_screens_checked")


async def _settle(app, pilot) -> None:
    for _ in range(3):
        await asyncio.wait_for(app.workers.wait_for_complete(), 20)
        await pilot.pause()


async def _build(data_dir: Path, values: list[str]) -> tuple[Workspace, str]:
    """A tenant whose name, posts, author and comments carry `values`; returns a post id."""
    from support.moderation_fixtures import make_tenant

    os.environ["TURSOTUI_DATA_DIR"] = str(data_dir)
    workspace = await Workspace.open(load_settings())
    path = data_dir / "tenants" / "acme.db"
    path.parent.mkdir(parents=True)
    await make_tenant(path)
    db = sqlite3.connect(path)
    author = str(uuid.uuid4())
    db.execute(
        "INSERT INTO users VALUES (?, 'a@x', ?, 1700000000)", (author, marker(9) + values[1])
    )
    first = None
    for i, value in enumerate(values):
        post = str(uuid.uuid4())
        first = first or post
        db.execute(
            "INSERT INTO posts VALUES (?, ?, ?, ?, NULL, 'draft')",
            (post, marker(i) + value, value, author),
        )
        db.execute(
            "INSERT INTO comments VALUES (?, ?, ?, ?, 1700000000)",
            (str(uuid.uuid4()), marker(5 + i) + value, first, author),
        )
    huge = "\x1b[2J" + "A" * 1_000_000
    db.execute(
        "INSERT INTO posts VALUES (?, ?, ?, ?, NULL, 'draft')",
        (str(uuid.uuid4()), marker(7) + huge, huge, author),
    )
    db.execute(
        "INSERT INTO posts VALUES (?, CAST(x'51385b7265645dfffeeda080' AS TEXT), 'x', ?, NULL, "
        "'draft')",
        (str(uuid.uuid4()), author),
    )  # "Q8[red]" then invalid UTF-8
    db.commit()
    db.close()
    await workspace.registry.add("acme", f"file:{path}", None, name=marker(4) + values[0])
    return workspace, first  # type: ignore[return-value]


async def _walk(workspace: Workspace, post_id: str) -> None:
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.console import ConsoleScreen
    from tursotui.ui.screens.fleet import FleetScreen
    from tursotui.ui.screens.post import PostScreen
    from tursotui.ui.screens.posts import PostsScreen
    from tursotui.ui.screens.queue import QueueScreen
    from tursotui.ui.widgets.sql_editor import SqlEditor

    titles = [marker(i) for i in (0, 1, 2, 7, 8)]
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=(160, 45)) as pilot:
        await _settle(app, pilot)
        await until(pilot, lambda: marker(4) in screen_text(app))
        assert_safe(app, "tenants", [marker(4)])
        tenant = await workspace.registry.get("acme")
        app.push_screen(PostsScreen(tenant, status=None))
        await _settle(app, pilot)
        assert_safe(app, "posts", titles)
        app.push_screen(PostScreen(tenant, post_id))
        await _settle(app, pilot)
        assert_safe(app, "post", [marker(0), marker(5), marker(6), marker(7)])
        app.push_screen(ConsoleScreen(tenant))
        await until(pilot, lambda: getattr(app.screen, "connection", None) is not None)
        console = app.screen
        editor = console.query_one(SqlEditor)
        editor.load_text("SELECT title, content FROM posts ORDER BY rowid")
        editor.focus()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: not console.busy and marker(8) in screen_text(app))
        assert_safe(app, "console", titles)
        app.push_screen(FleetScreen())
        await _settle(app, pilot)
        assert app.screen.query_one("#fleet-table", SortableList).row_count == 1
        assert_safe(app, "fleet", [])
        app.push_screen(QueueScreen())
        await _settle(app, pilot)
        assert_safe(app, "queue", [marker(0), marker(1), marker(2)])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example runs the whole app
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(VALUES)
def test_hostile_text_is_shown_literally_on_every_screen(values: list[str]) -> None:
    count("hostile_values", len(values) + 2)
    saved = os.environ.get("TURSOTUI_DATA_DIR")
    data_dir = Path(tempfile.mkdtemp(prefix="hostile-"))

    async def run() -> None:
        workspace, post_id = await _build(data_dir, values)
        try:
            await _walk(workspace, post_id)
        finally:
            await workspace.close()

    try:
        asyncio.run(run())
    finally:
        if saved is not None:
            os.environ["TURSOTUI_DATA_DIR"] = saved

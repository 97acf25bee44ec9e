"""The author screen: opened from a post or a comment and by email from the fleet, marks
across tenants, purges with counts per tenant and the email typed above the threshold.

Keys are sent in bursts (tests/test_typeahead.py's `burst`): what a fast typist sends.
"""

from __future__ import annotations

from pathlib import Path

from textual import events

from support.author_fixtures import Made, local_tenant
from support.keys import quiet
from support.moderation_fixtures import make_test_app, rows
from support.screen import screen_text, until
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.ui.screens.author import AuthorScreen
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.typed_confirm import TypedConfirmScreen

SIZE = (150, 40)
EMAIL = "bob@example.com"
CHARACTERS = {"at": "@", "full_stop": ".", "space": " ", "asterisk": "*"}


def burst(app, *keys: str) -> None:
    """Send `keys` to the app all at once, as a terminal would."""
    for key in keys:
        app.post_message(events.Key(key, CHARACTERS.get(key, key if len(key) == 1 else None)))


def typed(text: str) -> list[str]:
    names = {char: name for name, char in CHARACTERS.items()}
    return [names.get(char, char) for char in text]


async def fleet_of(
    tmp_path: Path, *, read_only: bool = False, **specs: dict
) -> tuple[Workspace, dict[str, tuple[Path, Made]]]:
    """A workspace with one tenant per spec: `{slug: {"email": ..., **author_rows args}}`."""
    workspace = await Workspace.open(load_settings())
    made = {}
    for slug, spec in specs.items():
        spec = dict(spec)
        email = spec.pop("email", EMAIL)
        path = tmp_path / f"{slug}.db"
        made[slug] = (path, await local_tenant(path, email, **spec))
        await workspace.registry.add(slug, f"file:{path}")
    if read_only:
        await workspace.close()
        workspace = await Workspace.open(load_settings(read_only=True))
    return workspace, made


def their_comments(path: Path, made: Made) -> int:
    return rows(path, "SELECT count(*) FROM comments WHERE author_id = ?", (made.author,))[0][0]


async def until_screen(app, pilot, kind) -> None:
    await until(pilot, lambda: isinstance(app.screen, kind), timeout=10)


async def author_rows_shown(app, pilot, count: int) -> AuthorScreen:
    screen = app.screen
    assert isinstance(screen, AuthorScreen)
    await until(pilot, lambda: len(screen.answers) == count and screen.answered == screen.asked)
    await quiet(app, pilot)
    return screen


async def test_A_on_a_post_opens_its_author_on_every_tenant(tmp_path: Path) -> None:
    from tursotui.ui.screens.posts import PostsScreen

    workspace, _ = await fleet_of(
        tmp_path,
        acme={"published": 2, "comments": 3},
        folk={"email": "BOB@Example.COM", "comments": 5, "archived": 1},
        umbrella={"email": "carol@example.com", "comments": 1},
    )
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="published"))
        await quiet(app, pilot)
        # The newest published post is the author's (the other user's is older).
        burst(app, "A")
        await until_screen(app, pilot, AuthorScreen)
        screen = await author_rows_shown(app, pilot, 2)
        assert set(screen.answers) == {"acme", "folk"}
        text = screen_text(app)
        assert "Author bob@example.com" in text
        assert "BOB@Example.COM" in text  # folk's email as folk stores it
        assert "0/2/0" in text and "0/0/1" in text
        assert "comment 2 <b>[red]x" in text  # acme's newest comment, literally
        assert "umbrella" not in text
    await workspace.close()


async def test_A_then_an_email_on_the_fleet_goes_into_the_input(tmp_path: Path) -> None:
    from tursotui.ui.screens.fleet import FleetScreen

    workspace, _ = await fleet_of(
        tmp_path, acme={"comments": 2}, folk={"email": "carol@example.com", "comments": 1}
    )
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(FleetScreen())
        await quiet(app, pilot)
        burst(app, "A", *typed("BOB@example.com"), "enter")
        await until_screen(app, pilot, AuthorScreen)
        screen = await author_rows_shown(app, pilot, 1)
        assert screen.email == "BOB@example.com"
        assert list(screen.answers) == ["acme"]
        assert "2" in screen_text(app)
    await workspace.close()


async def test_a_purge_above_the_threshold_needs_the_email_typed(tmp_path: Path) -> None:
    workspace, made = await fleet_of(
        tmp_path, acme={"comments": 15}, folk={"comments": 10, "published": 1}
    )
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(AuthorScreen(EMAIL))
        await author_rows_shown(app, pilot, 2)
        burst(app, "asterisk", "x")
        await until_screen(app, pilot, TypedConfirmScreen)
        await until(pilot, lambda: "acme: 15 comments to delete" in screen_text(app))
        assert "folk: 10 comments to delete" in screen_text(app)
        burst(app, *typed("bob@example.org"), "enter")  # not the email: nothing happens
        await until_screen(app, pilot, AuthorScreen)
        await quiet(app, pilot)
        assert their_comments(*made["acme"]) == 15
        burst(app, "x")
        await until_screen(app, pilot, TypedConfirmScreen)
        burst(app, *typed(EMAIL), "enter")
        await until_screen(app, pilot, AuthorScreen)
        screen = app.screen
        await until(pilot, lambda: len(screen.outcomes) == 2)
        await quiet(app, pilot)
        assert isinstance(screen, AuthorScreen)
        assert their_comments(*made["acme"]) == 0 and their_comments(*made["folk"]) == 0
        assert rows(made["acme"][0], "SELECT count(*) FROM comments") == [(2,)]
        assert screen.outcomes == {
            "acme": "done: -15 comments, 0 posts",
            "folk": "done: -10 comments, 0 posts",
        }
        assert "done: -15 comments" in screen_text(app)
    await workspace.close()


async def test_below_the_threshold_y_confirms_on_the_current_tenant_only(tmp_path: Path) -> None:
    workspace, made = await fleet_of(
        tmp_path, acme={"published": 2, "drafts": 1}, folk={"published": 3}
    )
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(AuthorScreen(EMAIL))
        screen = await author_rows_shown(app, pilot, 2)
        first = screen.query_one("#author-tenants").cursor_key
        burst(app, "a")
        await until_screen(app, pilot, ConfirmScreen)
        burst(app, "y")
        await until(pilot, lambda: first in screen.outcomes)
        await quiet(app, pilot)
    path, author = made[first]
    assert rows(
        path, "SELECT DISTINCT status FROM posts WHERE author_id = ?", (author.author,)
    ) == [("archived",)]
    other = "folk" if first == "acme" else "acme"
    path, author = made[other]
    assert ("archived",) not in rows(
        path, "SELECT DISTINCT status FROM posts WHERE author_id = ?", (author.author,)
    )
    await workspace.close()


async def test_a_read_only_session_refuses_to_purge(tmp_path: Path) -> None:
    workspace, made = await fleet_of(tmp_path, read_only=True, acme={"comments": 3})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(AuthorScreen(EMAIL))
        await author_rows_shown(app, pilot, 1)
        burst(app, "x", "y")
        await quiet(app, pilot)
        assert isinstance(app.screen, AuthorScreen)
        assert any("read-only session" in str(n.message) for n in app._notifications)
    assert their_comments(*made["acme"]) == 3
    await workspace.close()


async def test_A_on_a_comment_opens_the_comments_author_not_the_posts(tmp_path: Path) -> None:
    from tursotui.ui.screens.post import PostScreen

    workspace, made = await fleet_of(tmp_path, acme={"comments": 3, "other_comments": 2})
    path = made["acme"][0]
    ((post_id,),) = rows(path, "SELECT DISTINCT post_id FROM comments")
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(PostScreen(await workspace.registry.get("acme"), post_id))
        await quiet(app, pilot)
        burst(app, "A")  # the newest comment is Bob's, under the cursor
        await until_screen(app, pilot, AuthorScreen)
        screen = await author_rows_shown(app, pilot, 1)
        assert screen.email == EMAIL
        burst(app, "escape")
        await until_screen(app, pilot, PostScreen)
        app.screen.query_one("#post-content").focus()
        burst(app, "A")  # the content has focus: the post's author
        await until_screen(app, pilot, AuthorScreen)
        screen = await author_rows_shown(app, pilot, 1)
        assert screen.email == "other@example.com"
    await workspace.close()


async def test_a_remote_tenant_dying_mid_purge_shows_failed_untouched(
    tmp_path: Path, own_sqld
) -> None:
    from support.author_fixtures import DropAt, remote_tenant
    from support.moderation_fixtures import remote_rows

    proxy = DropAt(("127.0.0.1", own_sqld.port)).start()
    workspace, made = await fleet_of(tmp_path, acme={"comments": 3})
    remote = await remote_tenant(own_sqld.http_url, EMAIL, comments=4)
    await workspace.registry.add("remote", proxy.url)
    app = make_test_app(workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(AuthorScreen(EMAIL))
            screen = await author_rows_shown(app, pilot, 2)
            burst(app, "asterisk", "x")
            await until_screen(app, pilot, ConfirmScreen)
            await until(pilot, lambda: "remote: 4 comments to delete" in screen_text(app))
            proxy.drop_at = frozenset({proxy.requests + 1})  # the purge's one request dies
            burst(app, "y")
            await until(pilot, lambda: len(screen.outcomes) == 2)
            await quiet(app, pilot)
            assert screen.outcomes["acme"] == "done: -3 comments, 0 posts"
            assert screen.outcomes["remote"] == "failed (untouched)"
            assert "failed (untouched)" in screen_text(app)
    finally:
        await workspace.close()
        proxy.stop()
    assert their_comments(*made["acme"]) == 0
    assert await remote_rows(
        own_sqld.http_url, "SELECT count(*) FROM comments WHERE author_id = ?", (remote.author,)
    ) == [(4,)]


async def test_enter_on_a_comment_opens_the_post_it_is_on(tmp_path: Path) -> None:
    from tursotui.ui.screens.post import PostScreen

    workspace, made = await fleet_of(tmp_path, acme={"comments": 2})
    ((post_id,),) = rows(made["acme"][0], "SELECT DISTINCT post_id FROM comments")
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(AuthorScreen(EMAIL))
        await author_rows_shown(app, pilot, 1)
        burst(app, "tab", "enter")
        await until_screen(app, pilot, PostScreen)
        assert app.screen.post_id == post_id
    await workspace.close()


async def test_help_lists_the_author_keys(tmp_path: Path) -> None:
    workspace, _ = await fleet_of(tmp_path, acme={"comments": 1})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(AuthorScreen(EMAIL))
        await author_rows_shown(app, pilot, 1)
        burst(app, "question_mark")
        await until(pilot, lambda: "Delete all their comments" in screen_text(app))
        assert "Mark every tenant" in screen_text(app)
    await workspace.close()

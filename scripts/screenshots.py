"""Render every screen of tursotui from the demo fleet into `screenshots/*.svg`.

    python scripts/screenshots.py [--out screenshots] [--only NAME ...] [--posts 200]

Each screenshot is reached the way a user would: keys pressed from the tenants
screen (or a screen pushed directly where no key leads to it). Every shot is taken
at 80x24 and at 160x50. Adding a screen is one line in `SHOTS`. A screen that is
missing or fails is reported and skipped; the others are still written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = ((80, 24), (160, 50))


@dataclass(frozen=True)
class Shot:
    """One screenshot.

    Attributes:
        name: File name stem (`posts` → `posts-80x24.svg`).
        keys: Keys pressed from the tenants screen, in order (the first tenant, `acme`,
            is highlighted at start).
        push: `(module, class, *args)` of a screen to open directly instead, where `args`
            may hold the string `"@tenant"` for the highlighted tenant.
        settle: Extra seconds to wait before the picture (streams, animations).
        opens: The shot is of another screen than the tenants screen.
    """

    name: str
    keys: Sequence[str] = ()
    push: tuple = field(default=())
    settle: float = 0.0
    opens: bool = True


SHOTS: tuple[Shot, ...] = (
    Shot("tenants", opens=False),
    Shot("tenants-filter", keys=("slash", *"glo"), opens=False),
    Shot("help", keys=("question_mark",)),
    Shot("palette", keys=("ctrl+p", *"tenant"), settle=0.3),
    Shot("posts", keys=("enter",)),
    Shot("posts-published", keys=("enter", "2")),
    Shot("post", keys=("enter", "2", "enter")),
    Shot("posts-hostile", keys=("slash", *"mallory", "enter", "0")),
    Shot("post-hostile", keys=("slash", *"mallory", "enter", "0", "enter")),
    Shot("console", keys=("s",)),
    Shot("fleet", keys=("f",), settle=0.5),
    Shot("queue", push=("queue", "QueueScreen", "drafts")),
    Shot("author", keys=("enter", "A"), settle=0.5),
    Shot("audit", keys=("A",)),
    Shot("audit-entry", keys=("A", "enter")),
    Shot("new-tenant", keys=("n",)),
    Shot("new-tenant-summary", keys=("n", *"zeta", "ctrl+s")),
    Shot("destroy-tenant", keys=("D",)),
    # Only remote tenants can have their token rotated; the demo fleet is local, so the
    # confirmation is opened directly on its first tenant to show how it looks.
    Shot("rotate-token", push=("rotate_token", "RotateTokenScreen", "@tenant")),
    Shot("branch-diff", push=("branch_diff", "BranchDiffScreen", "acme", "acme-before")),
)
"""Every screen, in the order the README shows them."""


async def build_fleet(data_dir: Path, posts: int):
    """The demo fleet (built once, then reused: `build_demo` is idempotent)."""
    from tursotui.demo.build import build_demo
    from tursotui.session.settings import Settings

    settings = Settings(data_dir=data_dir, registry_url=None, operator="demo")
    await build_demo(settings, posts=posts, progress=lambda line: print(f"  demo: {line}"))
    await asyncio.to_thread(make_branch, data_dir)
    return settings


def make_branch(data_dir: Path) -> None:
    """`acme-before`, a branch of acme from a backup, and acme changed since, as an operator would.

    Through the command line (backup, branch, archive, comments delete), so the branch
    comparison screen shows what the commands really leave.
    """
    import os
    import sqlite3
    import subprocess

    if (data_dir / "tenants" / "acme-before.db").exists():
        return
    env = {**os.environ, "TURSOTUI_DATA_DIR": str(data_dir), "TURSOTUI_OPERATOR": "demo"}

    def run(*args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "tursotui", *args], env=env, check=True, capture_output=True
        )

    run("backup", "acme")
    run("tenants", "branch", "acme", "acme-before")
    db = sqlite3.connect(f"file:{data_dir / 'tenants' / 'acme.db'}?mode=ro", uri=True)
    try:
        posts = [
            r[0] for r in db.execute("SELECT id FROM posts WHERE status = 'published' LIMIT 4")
        ]
        comments = [r[0] for r in db.execute("SELECT id FROM comments LIMIT 3")]
    finally:
        db.close()
    run("archive", "acme", *posts, "--reason", "customer asked")
    run("comments", "delete", "acme", *comments, "--yes", "--reason", "spam")


async def settle(app, pilot, extra: float = 0.0) -> None:
    """Let workers finish and the screen repaint; stop cursors blinking for a still picture."""
    await pilot.pause()
    # A stream still running after 10 s: photograph what is there.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
    if extra:
        await pilot.pause(extra)
    for widget in app.screen.query("Input, TextArea"):
        if hasattr(widget, "cursor_blink"):
            widget.cursor_blink = False
    await pilot.pause()


async def take(shot: Shot, settings, size: tuple[int, int], out: Path) -> Path:
    """Run the app at `size`, reach the shot's screen, and save it as SVG."""
    from tursotui.ui.app import make_app

    app = make_app(settings)
    path = out / f"{shot.name}-{size[0]}x{size[1]}.svg"
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        if shot.push:
            module, class_name, *args = shot.push
            tenant = app.screen.highlighted().tenant
            args = [tenant if a == "@tenant" else a for a in args]
            if app.open_screen(module, class_name, *args) is None:
                raise RuntimeError(f"screen {module}.{class_name} is not available")
        for key in shot.keys:
            await pilot.press(key)
            await settle(app, pilot)
        if shot.opens and len(app.screen_stack) == 1:
            raise RuntimeError("no screen opened (is it available yet?)")
        await settle(app, pilot, shot.settle)
        path.write_text(app.export_screenshot(title=f"tursotui {shot.name}"), encoding="utf-8")
        app.exit()
    return path


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="just these shots")
    parser.add_argument("--posts", type=int, default=200, help="posts of the biggest tenant")
    parser.add_argument(
        "--data-dir",
        type=Path,
        # A neutral path: screens that show a local tenant's file show this one, not
        # wherever the repository happens to be checked out.
        default=Path(tempfile.gettempdir()) / "tursotui-demo",
        help="where the demo fleet is built (reused between runs)",
    )
    args = parser.parse_args(argv)
    known = {shot.name for shot in SHOTS}
    unknown = sorted(set(args.only or ()) - known)
    if unknown:
        parser.error(f"unknown shot {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    args.out.mkdir(parents=True, exist_ok=True)
    settings = await build_fleet(args.data_dir, args.posts)
    failed = 0
    for shot in SHOTS:
        if args.only and shot.name not in args.only:
            continue
        for size in SIZES:
            try:
                path = await take(shot, settings, size, args.out)
            except Exception as error:  # one broken screen must not stop the others
                failed += 1
                print(f"skipped {shot.name} {size[0]}x{size[1]}: {error}", file=sys.stderr)
            else:
                print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

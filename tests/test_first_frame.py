"""The first frame of the last start, painted by the next one before Textual loads.

`tursotui` runs on a real pseudo-terminal. Textual's first act on it is entering the
alternate screen and turning mouse reporting on (`ESC [?1000h`); a frame painted before
that came from the kept first frame. Each run ends with `q`, and the terminal's settings
(`stty -g`) before and after it must be the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from support.shell_fixtures import SECRET, build_fleet
from tursotui.session.first_frame import cache_file, stamp

TEXTUAL_STARTED = b"\x1b[?1000h"
"""Textual turns mouse reporting on as it takes the terminal: what comes before is ours."""
CSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """`tursotui` alone on a pseudo-terminal, between two `stty -g`: what it wrote, keys."""

    def __init__(self, size: tuple[int, int] = (120, 30)) -> None:
        self.output = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a terminal of `size`, then a shell running the app
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
            # Textual takes these over the terminal's size (something on the way sets 80x24).
            os.environ.update(COLUMNS=str(size[0]), LINES=str(size[1]))
            command = f"stty -g; {sys.executable} -m tursotui; echo exit=$?; stty -g"
            os.execvp("sh", ["sh", "-c", command])

    def wait_for(self, wanted: bytes, since: int = 0, timeout: float = 30.0) -> None:
        """Read what the app writes until `wanted` has been written after the first `since`
        bytes, colours and moves left out (or fail showing the end)."""
        deadline = time.monotonic() + timeout
        while wanted not in CSI.sub(b"", self.output[since:]):
            if time.monotonic() > deadline:
                raise AssertionError(f"never wrote {wanted!r}; the end: {self.output[-800:]!r}")
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    self.output += os.read(self.fd, 1 << 16)
                except OSError:  # the terminal closed: the shell exited
                    raise AssertionError(
                        f"exited before {wanted!r}: {self.output[-800:]!r}"
                    ) from None

    def keys(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def before_textual(self) -> bytes:
        """What was written before Textual took the terminal (all of it, if it has not)."""
        return self.output.partition(TEXTUAL_STARTED)[0]

    def quit(self) -> str:
        """Press `q`, wait for the shell to end: the exit status line; the terminal's settings
        must be as before."""
        self.keys("q")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    data = os.read(self.fd, 1 << 16)
                except OSError:
                    data = b""
                if not data:
                    break
                self.output += data
        else:
            shown = CSI.sub(b"", self.output)[-3000:].decode(errors="replace")
            raise AssertionError(f"still running after q: {shown}")
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        text = self.output.decode(errors="replace")
        settings = re.findall(r"[0-9a-f]+(?::[0-9a-f]+){30,}", text)
        assert len(settings) == 2 and settings[0] == settings[1], text[-800:]
        [status] = re.findall(r"exit=\d+", text)
        return status

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        with contextlib.suppress(OSError):
            os.close(self.fd)


def start(size: tuple[int, int] = (120, 30)) -> Terminal:
    return Terminal(size)


def unpainted_run(wanted: bytes = b"Globex", size: tuple[int, int] = (120, 30)) -> None:
    """A start whose first frame was not kept: it paints nothing before the app, lists the
    fleet, keeps its first frame, quits."""
    kept = cache_file()
    before = kept.read_bytes() if kept.exists() else None
    terminal = Terminal(size)
    try:
        terminal.wait_for(wanted)
        assert wanted not in terminal.before_textual()
        deadline = time.monotonic() + 30
        while not kept.exists() or kept.read_bytes() == before:
            assert time.monotonic() < deadline, "no first frame was kept"
            time.sleep(0.02)
        assert terminal.quit() == "exit=0"
    finally:
        terminal.kill()


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)


async def test_a_second_start_paints_the_list_at_once_and_the_keys_typed_on_it_land() -> None:
    await build_fleet(slugs=("acme", "globex", "initech"), broken=False)
    unpainted_run()
    kept = cache_file().read_bytes()
    assert SECRET.encode() not in kept  # the registry's tokens are never on a screen

    terminal = start()
    try:
        terminal.wait_for(b"Initech")
        typed_early = TEXTUAL_STARTED not in terminal.output
        terminal.keys("/glob")  # on the painted frame: the app is not up yet
        assert typed_early
        painted = terminal.before_textual()
        assert b"Acme" in painted and b"Globex" in painted and b"Initech" in painted
        terminal.wait_for(b"1/3 tenants")  # the filter got every key, in order
        since = len(terminal.output)
        terminal.keys("\x1b")  # out of the filter, so that `q` quits
        terminal.wait_for(b" 3 tenants", since)
        assert terminal.quit() == "exit=0"
    finally:
        terminal.kill()


async def test_a_registry_written_since_is_not_painted_and_the_next_start_paints_it() -> None:
    fleet = await build_fleet(slugs=("acme", "globex"), broken=False)
    unpainted_run()
    registry = fleet.settings.data_dir / "registry.db"
    with sqlite3.connect(registry) as db:  # the app renames a tenant meanwhile
        db.execute("UPDATE organizations SET name = 'Globex Renamed' WHERE slug = 'globex'")
    db.close()

    unpainted_run(b"Globex Renamed")  # the old list is not shown
    terminal = start()
    try:
        terminal.wait_for(b"Globex Renamed")
        assert b"Globex Renamed" in terminal.before_textual()
        assert terminal.quit() == "exit=0"
    finally:
        terminal.kill()


async def test_a_terminal_of_another_size_is_not_painted() -> None:
    await build_fleet(slugs=("acme", "globex"), broken=False)
    unpainted_run()
    unpainted_run(size=(120, 40))


async def test_a_start_that_fails_after_the_paint_leaves_the_screen_and_says_why() -> None:
    """A registry damaged without a trace in its size or times: the frame is painted, the
    registry fails to open, and the one-line error is on the screen the user returns to."""
    fleet = await build_fleet(slugs=("acme", "globex"), broken=False)
    unpainted_run()
    registry = fleet.settings.data_dir / "registry.db"
    facts = registry.stat()
    registry.write_bytes(b"\0" * facts.st_size)
    os.utime(registry, ns=(facts.st_atime_ns, facts.st_mtime_ns))

    terminal = start()
    try:
        terminal.wait_for(b"exit=1")
        painted = terminal.before_textual()
        assert b"Globex" in painted and TEXTUAL_STARTED not in terminal.output
        left = terminal.output.rindex(b"\x1b[?1049l")
        assert b"error: " in terminal.output[left:]  # after leaving the alternate screen
        assert terminal.quit() == "exit=1"
    finally:
        terminal.kill()


def test_the_stamp_counts_a_secret_setting_as_set_or_not_and_the_rest_by_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    registry = tmp_path / "registry.db"
    first = stamp([registry])
    monkeypatch.setenv("TURSOTUI_GROUP_AUTH_TOKEN", "one-token")
    with_token = stamp([registry])
    monkeypatch.setenv("TURSOTUI_GROUP_AUTH_TOKEN", "another-token")
    assert stamp([registry]) == with_token != first
    monkeypatch.setenv("tursotui_read_only", "1")  # the settings read names in any case
    assert stamp([registry]) != with_token
    registry.write_bytes(b"")  # empty is what absent is: nothing to read
    monkeypatch.delenv("tursotui_read_only")
    assert stamp([registry]) == with_token
    registry.write_bytes(b"SQLite format 3\0")
    assert stamp([registry]) != with_token

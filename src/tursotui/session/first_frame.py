"""The last start's first frame, painted again by the next start before Textual loads.

Loading Textual takes most of a start (a bare Textual app needs ~390 ms to its first frame
on a small server), while what the tenants screen shows first is made of a few files: the
settings' files and the registry's. So the TUI keeps its first frame, with a stamp of what
it was made of; a start that finds the same stamp writes that frame to the terminal at
once, in the alternate screen, with echo off so that keys typed meanwhile wait, unseen,
for the app. The app then takes the terminal over without clearing it (see
`ui.first_frame`) and draws the same frame again, answering those keys in order.

Only a local registry is stamped: a remote one changes without a trace here. Nothing
secret is kept: the frame is what the screen showed (a token never is), and the stamp is a
checksum in which a secret setting counts only as set or unset.
"""

from __future__ import annotations

import contextlib
import os
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tursotui import __version__

if TYPE_CHECKING:
    from tursotui.session.settings import Settings

MAGIC = b"tursotui first frame 1\n"

ALT_SCREEN = "\x1b[?1049h"
"""Textual enters the alternate screen with this; entering it again would clear it."""
_ENTER = (ALT_SCREEN + "\x1b[?25l").encode()  # and hide the cursor, as the app does
_LEAVE = b"\x1b[?25h\x1b[?1049l"

_NAMES_PREFIXES = ("TURSOTUI_", "TURSO_", "TEXTUAL_")
_NAMES = frozenset(
    {
        "HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "TERM",
        "COLORTERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "COLUMNS",
        "LINES",
    }
)
"""The environment a first frame depends on: the settings' variables (and where the
settings files are), the colours and the terminal."""
_SECRET_WORDS = ("TOKEN", "KEY", "SECRET", "PASSWORD")


def cache_file() -> Path:
    """Where the last first frame is kept: the XDG cache directory (it can be deleted)."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "tursotui" / "first-frame"


class Stamp(NamedTuple):
    """What a first frame was made of, but the terminal's size: files and a checksum."""

    paths: tuple[str, ...]
    value: str


def stamp(paths: Iterable[str | os.PathLike[str]]) -> Stamp:
    """The stamp of `paths` (files, present or not) and the environment, as they are now.

    Taken before the files are read: a write after that changes the stamp, so a frame
    kept with it can only be older than what the files hold, never newer.
    """
    names = tuple(os.fspath(path) for path in paths)
    crc = zlib.crc32(f"{__version__}\0{os.getcwd()}".encode(errors="surrogateescape"))
    for name, value in sorted(os.environ.items()):
        upper = name.upper()  # as the settings read them
        if upper in _NAMES or upper.startswith(_NAMES_PREFIXES):
            if any(word in upper for word in _SECRET_WORDS):
                value = "set"
            crc = zlib.crc32(f"\0{name}={value}".encode(errors="surrogateescape"), crc)
    for name in names:
        try:
            found = os.stat(name)
        except OSError:
            found = None
        if found is None or found.st_size == 0:
            # The same to what is read from it. SQLite creates an empty -wal file when it
            # opens a database in WAL mode and deletes it when the last connection closes:
            # only frames written into it change what the registry holds.
            facts = "nothing"
        else:
            facts = f"{found.st_dev} {found.st_ino} {found.st_size} {found.st_mtime_ns}"
        crc = zlib.crc32(f"\0{name}\0{facts}".encode(errors="surrogateescape"), crc)
    return Stamp(names, f"{crc:08x}")


def keep(frame: str, made_of: Stamp, size: tuple[int, int], cache: Path | None = None) -> None:
    """Keep `frame` (what a terminal of `size` showed) for the next start to paint.

    A cache: when it cannot be written, the next start is only as slow as without it.
    """
    if any("\n" in path or "\0" in path for path in made_of.paths):
        return  # the header could not be read back
    path = cache or cache_file()
    header = f"{made_of.value} {size[0]} {size[1]}\n" + "\0".join(made_of.paths) + "\n"
    data = MAGIC + header.encode(errors="surrogateescape") + frame.encode()
    part = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(descriptor, data)
        finally:
            os.close(descriptor)
        os.replace(part, path)  # whole or not at all, for a start reading it meanwhile
    except OSError:
        part.unlink(missing_ok=True)


class Painted:
    """A frame painted before the app started: the terminal state to give back.

    Attributes:
        taken: Set once the app has taken the terminal over (it then leaves the
            alternate screen itself).
        attributes: The terminal's attributes before the paint (None if unreadable).
    """

    def __init__(self, keys: int, screen: int) -> None:
        self.taken = False
        self._keys = keys
        self._screen = screen
        self.attributes = _quiet(keys)
        self._closed = False

    def close(self) -> None:
        """Give the terminal back as it was before the paint (once; safe to repeat)."""
        if self._closed:
            return
        self._closed = True
        if not self.taken:
            with contextlib.suppress(OSError):  # a terminal gone: nothing to give back
                _write_all(self._screen, _LEAVE)
        if self.attributes is not None:
            import termios

            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._keys, termios.TCSADRAIN, self.attributes)


def paint(cache: Path | None = None) -> Painted | None:
    """Paint the kept first frame if it is still what this start would show first.

    None (and nothing written) unless stdin, stdout and stderr are a terminal of the
    size it was kept for and its stamp is unchanged.
    """
    if sys.platform == "win32":
        return None  # no termios; Textual's Windows driver is another story
    streams = (sys.__stdin__, sys.__stdout__, sys.__stderr__)
    if any(stream is None or not stream.isatty() for stream in streams):
        return None
    try:
        data = (cache or cache_file()).read_bytes()
        if not data.startswith(MAGIC):
            return None
        header, paths, frame = data[len(MAGIC) :].split(b"\n", 2)
        value, columns, lines = header.decode().split(" ")
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (OSError, ValueError):
        return None
    if (size.columns, size.lines) != (int(columns), int(lines)):
        return None
    names = paths.decode(errors="surrogateescape").split("\0") if paths else []
    if stamp(names).value != value:
        return None
    # Textual reads keys from stdin and writes the screen to stderr.
    screen = sys.__stderr__.fileno()  # type: ignore[union-attr]
    painted = Painted(sys.__stdin__.fileno(), screen)  # type: ignore[union-attr]
    try:
        _write_all(screen, _ENTER + frame)
    except OSError:
        painted.close()
        return None
    return painted


def _quiet(descriptor: int) -> list | None:
    """Turn echo and line editing off (keys wait unseen for the app); the attributes before.

    Signals stay on: ctrl+c before the app is up interrupts the start as it would have.
    """
    import termios

    try:
        before = termios.tcgetattr(descriptor)
        quiet = termios.tcgetattr(descriptor)
        quiet[3] &= ~(termios.ECHO | termios.ICANON)
        termios.tcsetattr(descriptor, termios.TCSANOW, quiet)
    except termios.error:
        return None
    return before


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def settings_stamp(settings: Settings) -> Stamp | None:
    """The stamp of what the tenants screen first shows with `settings`: their files and
    the registry's, when it is a local file (None when it is not, or its URL is bad)."""
    from tursotui.db.urls import InvalidURL, parse_url
    from tursotui.session.settings import DOTENV_FILES, config_file

    try:
        registry = parse_url(settings.registry_location)
    except InvalidURL:
        return None
    if registry.is_remote:
        return None
    files = [config_file(), *(Path.cwd() / name for name in DOTENV_FILES)]
    # A write in WAL mode changes the -wal file only, until a checkpoint.
    return stamp([*files, registry.target, registry.target + "-wal"])

"""What every command shares: settings from flags, the workspace, one-line errors, output formats.

A command's handler is an `async def (args) -> int` wrapped with `@command`:
the errors a user can act on (a bad setting, an unusable registry, a tenant that
does not answer, a migrations folder that cannot be read, an audit log that
cannot be written...) become ONE line on stderr and exit status 1, never a
traceback, and never a token. Usage errors exit 2 (argparse does that).
"""

from __future__ import annotations

import base64
import functools
import math
import sys
import unicodedata
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.errors import TursotuiError
from tursotui.secret import Secret
from tursotui.session.settings import Settings, load_settings

if TYPE_CHECKING:
    import argparse  # by the parser's users: `tursotui` alone (the TUI) never loads it

    from tursotui.session.workspace import Workspace  # by the commands that open one

# A coroutine, not any awaitable: `asyncio.run` takes the handler's result directly. It is
# given the parsed command line (the TUI's: None when there was nothing to parse).
HandlerT = TypeVar("HandlerT", bound=Callable[..., Coroutine[Any, Any, int]])

OK = 0
FAILED = 1

_secrets: set[str] = set()

# -- secrets ------------------------------------------------------------------------


def remember_secret(value: str | Secret | None) -> None:
    """Note a token so that no message this process prints can contain it."""
    text = value.get_secret_value() if isinstance(value, Secret) else value
    if text and len(text) >= 4:
        _secrets.add(text)


def scrub(text: str) -> str:
    """`text` with every known token replaced by •••."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "•••")
    return text


# -- errors ---------------------------------------------------------------------------


def is_user_error(error: BaseException) -> bool:
    """True for errors a user can act on: the layers' own error types, not bugs.

    Every layer's error type derives from `TursotuiError` (the connection layer's
    DatabaseError is one too). A bare LibsqlError can still come from inside
    libsql-client before the connection layer names the database; its message is
    for people as well. Anything else is a bug and keeps its traceback.
    """
    return isinstance(error, TursotuiError | LibsqlError)


def error_line(error: BaseException) -> str:
    """The one line a user reads for `error` (tokens scrubbed, no newlines)."""
    text = describe(error)
    text = " ".join(text.split())  # one line, whatever the cause's message held
    return scrub(text)


def fail(message: str, *, stream: TextIO | None = None) -> int:
    """Print `error: <message>` on stderr and return exit status 1."""
    sys.stdout.flush()  # what was printed before the failure comes before it
    print(f"error: {scrub(' '.join(message.split()))}", file=stream or sys.stderr)
    return FAILED


def note(message: str) -> None:
    """A message for people (progress, summaries of writes): stderr, so stdout stays for data."""
    sys.stdout.flush()  # keep the order of data and messages when both go to one terminal
    print(scrub(message), file=sys.stderr)


def command(handler: HandlerT) -> HandlerT:
    """Wrap a command handler: user errors become one line on stderr and exit status 1."""

    @functools.wraps(handler)
    async def run(args: argparse.Namespace | None, *rest: Any) -> int:
        try:
            return await handler(args, *rest)
        except OSError as error:  # a file we were told to read or write
            where = f" {error.filename}" if error.filename else ""
            return fail(f"{error.strerror or error}{where}")
        except Exception as error:
            if is_user_error(error):
                return fail(error_line(error))
            raise

    return cast("HandlerT", run)


# -- settings and workspace -----------------------------------------------------------


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags that override settings, accepted after the command name too.

    The defaults are SUPPRESS so that a subcommand never overwrites a value given
    before it (`tursotui --read-only sql ...`).
    """
    import argparse

    parser.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="refuse every write (TURSOTUI_READ_ONLY)",
    )


def settings_from_args(args: argparse.Namespace | None, **extra: Any) -> Settings:
    """The settings in force: flags over environment over `.env` over TOML over defaults.

    Raises:
        SettingsError: a bad setting, naming where it came from.

    `args` None: no flag given (`tursotui` alone, read without a parser).
    """
    overrides: dict[str, Any] = {"read_only": True if getattr(args, "read_only", None) else None}
    overrides.update(extra)
    settings = load_settings(**overrides)
    remember_secret(settings.registry_auth_token)
    remember_secret(settings.platform_api_token)
    remember_secret(settings.group_auth_token)
    return settings


@asynccontextmanager
async def open_workspace(
    args: argparse.Namespace | None = None, *, settings: Settings | None = None
) -> AsyncIterator[Workspace]:
    """The workspace of this command, closed afterwards.

    Raises:
        SettingsError: a bad setting.
        RegistryError: the registry cannot be opened or has no usable table.
    """
    from tursotui.session.registry import RegistryError
    from tursotui.session.workspace import Workspace

    if settings is None:
        settings = settings_from_args(args)
    workspace = await Workspace.open(settings)
    # Tokens a command printed or the Platform API minted are kept out of messages too.
    workspace.on_secret = remember_secret
    try:
        try:
            tenants = await workspace.registry.tenants()
            for tenant in tenants:
                remember_secret(tenant.token)
            workspace.registry.prime(tenants)  # the command's own first read: no second one
        except RegistryError:
            pass  # the command itself will say what is wrong with the registry
        yield workspace
    finally:
        await workspace.close()


# -- output ---------------------------------------------------------------------------

FORMATS = ("table", "csv", "json")


def json_value(value: Any) -> Any:
    """A database value as JSON can hold it: blobs as base64 text, NaN/inf as text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def printable(value: Any, max_len: int | None = None) -> str:
    """A value as a terminal may show it: control characters and escapes made visible.

    Database content is untrusted; an ANSI or OSC sequence printed raw would drive
    the user's terminal. Each control character becomes its escape (`\\x1b`, `\\n`).
    """
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<blob {len(bytes(value))} bytes>"
    text = str(value)
    if max_len is not None and len(text) > max_len:
        text = text[: max(max_len - 1, 0)] + "…"
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" or (category == "Cf" and ch not in "\u200d"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def write_json(records: Any, out: TextIO | None = None) -> None:
    """Print `records` as indented JSON (values converted with `json_value`)."""
    out = out or sys.stdout

    def convert(item: Any) -> Any:
        if isinstance(item, dict):
            return {str(k): convert(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [convert(v) for v in item]
        return json_value(item)

    def blob(item: Any) -> Any:
        if isinstance(item, bytes | bytearray | memoryview):
            return json_value(item)
        raise TypeError(f"{type(item).__name__} is not JSON")

    # Here, not at the top: only JSON output needs them, and the TUI (which loads this
    # module for its settings) no JSON at all before its first frame.
    import json

    from tursotui.display.json_text import json_safe

    try:
        # Encoded as it is, blobs on the way: walking every value first cost as much as the
        # encoding (`tenants --json`, 10,000 tenants: 0.4 s). Only a NaN or an infinity,
        # which JSON cannot hold, needs the walk.
        text = json.dumps(records, ensure_ascii=False, indent=2, allow_nan=False, default=blob)
    except ValueError:
        text = json.dumps(convert(records), ensure_ascii=False, indent=2)
    # Escaped like the table's cells: raw DEL or C1 bytes would drive the terminal.
    out.write(json_safe(text) + "\n")


def write_csv(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO | None = None
) -> None:
    """Print a header and the rows as CSV; NULL is an empty field, blobs are base64."""
    import csv  # here, not at the top: only CSV output needs it

    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else json_value(v) for v in row])


def write_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    out: TextIO | None = None,
    *,
    max_width: int = 60,
) -> None:
    """Print an aligned text table; cells are `printable` and cut at `max_width`."""
    cells = [[printable(v, max_width) for v in row] for row in rows]
    header = [printable(c, max_width) for c in columns]
    widths = [len(h) for h in header]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _width(cell))
    out = out or sys.stdout

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=False))

    out.write(line(header).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write(line(row).rstrip() + "\n")


def write_rows(
    fmt: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None
) -> None:
    """Print a result as `table`, `csv` or `json` (an array of objects keyed by column)."""
    if fmt == "json":
        write_json([dict(zip(columns, row, strict=False)) for row in rows], out)
    elif fmt == "csv":
        write_csv(columns, rows, out)
    else:
        write_table(columns, rows, out)


def _width(text: str) -> int:
    """Terminal cells `text` takes (wide East Asian characters and emoji count two)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )

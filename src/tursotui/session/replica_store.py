"""Embedded replicas: a local copy of a remote tenant, synced from its primary (IO only).

The engine is `libsql` 0.1.8 (pinned): it syncs a local SQLite file over the replication
protocol that sqld serves on its HTTP port, with the tenant's JWT, frames applied in
transactions (a sync that dies half way leaves the last committed state). Newer `libsql`
releases speak a protocol only Turso Cloud serves, so they cannot be tested here.

Layout under `<data dir>/replicas/`:

- `<slug>.db`: a symlink to the current generation's `replica.db` (what readers open);
- `.<slug>/<generation>/replica.db` (and the sidecar files libsql keeps next to it), with
  `meta.json` (when it was last synced, and a fingerprint of the source).

A first sync, or a rebuild, fills a new generation directory and then swaps the symlink
in one `rename`, so a replica is never half replaced: killed before the swap, the old
generation is still the one pointed to. A replica whose files cannot be read, or whose
source changed (another URL or another stored token), is rebuilt. Writes never go through
a replica: libsql would forward them to the primary behind the guards' back, so the
replica connection here is only ever asked to sync.

Everything here blocks; callers run it on a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tursotui.db.urls import InvalidURL, parse_url
from tursotui.errors import TursotuiError

ENGINE = "libsql 0.1.8"
"""The sync engine, as the README and `replica list` name it."""

DB_NAME = "replica.db"
META_NAME = "meta.json"
KEEP_GENERATIONS = 2
"""The current generation and the one before it (a reader may still have it open)."""
SYNC_TIMEOUT_S = 120.0
"""How long one sync may run (a first sync copies the whole database)."""

CHILD = """
import sys
import libsql
token = sys.stdin.read()
try:
    connection = libsql.connect(sys.argv[1], sync_url=sys.argv[2], auth_token=token)
    connection.sync()
    connection.close()
except Exception as error:
    print(str(error).replace(token, "<token>") if token else error, file=sys.stderr)
    sys.exit(1)
"""
"""What the sync child runs: libsql, the replica's path and the primary's URL; the token
arrives on stdin."""
"""The current generation and the one before it (a reader may still have it open)."""


class ReplicaError(TursotuiError):
    """A replica could not be made, synced or read; the message says why."""

    def __init__(self, message: str, title: str = "Replica") -> None:
        super().__init__(message, title)


@dataclass(frozen=True)
class ReplicaInfo:
    """What is known of one replica on disk.

    Attributes:
        slug: The tenant.
        path: The replica's database file (the current generation's, symlinks resolved).
        size: Bytes on disk, sidecar files included.
        synced_at: Epoch seconds of the last successful sync.
        fingerprint: Of the source (URL and stored token, hashed): never the token.
        generation: Directory name of the generation; changes when the replica is rebuilt.
        rebuilt: The last sync made a new generation (first sync, repair or new source).
    """

    slug: str
    path: Path
    size: int
    synced_at: float | None
    fingerprint: str
    generation: str
    rebuilt: bool = False

    @property
    def age(self) -> float | None:
        """Seconds since the last sync."""
        return None if self.synced_at is None else max(0.0, time.time() - self.synced_at)


def fingerprint(url: str, stored_token: str | None) -> str:
    """A short hash of where a replica comes from, so a changed URL or token is noticed.

    The token goes in only through its own hash, and the result is cut short: nothing
    stored next to a replica lets the token be read back.
    """
    token_hash = hashlib.sha256((stored_token or "").encode()).hexdigest()
    return hashlib.sha256(f"{url}\0{token_hash}".encode()).hexdigest()[:16]


def sync_url(url: str) -> str:
    """The HTTP base URL libsql syncs from, for any remote URL a registry holds."""
    try:
        parsed = parse_url(url)
    except InvalidURL as error:
        raise ReplicaError(str(error)) from None
    if not parsed.is_remote:
        raise ReplicaError(f"{url} is a local file: only remote tenants have replicas")
    target = parsed.target
    if target.startswith("wss://"):
        return "https://" + target[len("wss://") :]
    if target.startswith("ws://"):
        return "http://" + target[len("ws://") :]
    return target


_SLUG_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ReplicaStore:
    """The replicas of one data directory.

    Args:
        data_dir: The session's data directory.
        timeout: Seconds one sync may take before it is stopped.
    """

    def __init__(self, data_dir: Path, timeout: float = SYNC_TIMEOUT_S) -> None:
        self.root = data_dir / "replicas"
        self.timeout = timeout
        self._children: set[subprocess.Popen[bytes]] = set()
        self._closed = False

    def stop(self) -> None:
        """Kill every sync still running (the session is closing: nobody waits for them, and
        a primary that never answers would hold the exit up to the deadline). A killed sync
        leaves its replica as the last committed sync left it; later syncs are refused."""
        self._closed = True
        for child in list(self._children):
            with contextlib.suppress(OSError):
                child.kill()

    # -- where things are -----------------------------------------------------------

    def _check_slug(self, slug: str) -> None:
        # The slug names files: nothing that could climb out of the replicas directory.
        if not _SLUG_OK.match(slug) or ".." in slug:
            raise ReplicaError(f"tenant {slug!r}: its slug cannot name a replica file")

    def link(self, slug: str) -> Path:
        """`<data dir>/replicas/<slug>.db`, the symlink readers open."""
        self._check_slug(slug)
        return self.root / f"{slug}.db"

    def home(self, slug: str) -> Path:
        """The directory holding the slug's generations."""
        self._check_slug(slug)
        return self.root / f".{slug}"

    def current(self, slug: str) -> Path | None:
        """The current generation's database file, or None when the slug has no replica."""
        link = self.link(slug)
        try:
            target = os.readlink(link)
        except OSError:
            return None
        path = (link.parent / target).resolve()
        return path if path.is_file() else None

    def has(self, slug: str) -> bool:
        return self.current(slug) is not None

    def slugs(self) -> list[str]:
        """Every slug with a replica, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name[: -len(".db")] for p in self.root.glob("*.db") if p.is_symlink())

    def matches(self, slug: str, url: str, stored_token: str | None) -> bool:
        """`slug` has a replica made from this URL and stored token (no network asked)."""
        path = self.current(slug)
        if path is None:
            return False
        return _read_meta(path.parent).get("fingerprint") == fingerprint(url, stored_token)

    def info(self, slug: str) -> ReplicaInfo | None:
        """What is on disk for `slug`, or None without a replica."""
        path = self.current(slug)
        if path is None:
            return None
        meta = _read_meta(path.parent)
        size = sum(
            f.stat().st_size for f in path.parent.iterdir() if f.is_file() and f.name != META_NAME
        )
        synced = meta.get("synced_at")
        return ReplicaInfo(
            slug=slug,
            path=path,
            size=size,
            synced_at=float(synced) if isinstance(synced, int | float) else None,
            fingerprint=str(meta.get("fingerprint", "")),
            generation=path.parent.name,
            rebuilt=False,
        )

    # -- changing things ------------------------------------------------------------

    def drop(self, slug: str) -> bool:
        """Delete `slug`'s replica; False when it had none."""
        link = self.link(slug)
        with self._locked(slug):
            had = link.is_symlink()
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
            shutil.rmtree(self.home(slug), ignore_errors=True)
        return had

    def sync(self, slug: str, url: str, token: str | None, stored_token: str | None) -> ReplicaInfo:
        """Create or bring up to date `slug`'s replica from its primary.

        Args:
            url: The tenant's URL (its primary).
            token: The token to send (never stored).
            stored_token: The token as the registry stores it, for the source fingerprint.

        Raises:
            ReplicaError: the primary did not answer or refused, or the disk is full; any
                replica there was before is kept as it was.
        """
        source = sync_url(url)
        wanted = fingerprint(url, stored_token)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        with self._locked(slug):
            path = self.current(slug)
            if path is not None:
                self._prune(self.home(slug), keep=path.parent)
                meta = _read_meta(path.parent)
                if meta.get("fingerprint") == wanted and _readable(path):
                    self._pull(slug, path, source, token)
                    _write_meta(path.parent, wanted)
                    info = self.info(slug)
                    assert info is not None
                    return info
            return self._rebuild(slug, source, token, wanted)

    def _rebuild(self, slug: str, source: str, token: str | None, wanted: str) -> ReplicaInfo:
        home = self.home(slug)
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        generation = home / f"g{time.time_ns()}"
        generation.mkdir(mode=0o700)
        try:
            path = generation / DB_NAME
            self._pull(slug, path, source, token)
            if not _readable(path):
                raise ReplicaError(f"tenant {slug}: the new replica could not be read back")
            _write_meta(generation, wanted)
            _swap_link(self.link(slug), generation / DB_NAME)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        self._prune(home, keep=generation)
        info = self.info(slug)
        assert info is not None
        return ReplicaInfo(**{**info.__dict__, "rebuilt": True})

    def _pull(self, slug: str, path: Path, source: str, token: str | None) -> None:
        """One libsql sync of `path` from `source`, in a child process; files owner-only.

        A child, not a thread: libsql's sync holds the interpreter's lock for as long as it
        runs (the whole TUI would freeze with it), and it waits forever on a primary that
        accepts the connection but never answers. A child can be killed at the deadline,
        and a kill leaves the replica as its last committed sync left it.
        """
        if self._closed:
            raise ReplicaError(f"tenant {slug}: not synced: the session is closing")
        try:
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(path), source],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={**os.environ, "RUST_LOG": "off"},
                start_new_session=True,  # a ctrl+c of the TUI is not the child's to take
            )
        except OSError as error:
            raise ReplicaError(_os_reason(slug, error)) from None
        self._children.add(child)
        try:
            # The token goes on stdin: a command line is visible to every user (ps).
            _, err = child.communicate((token or "").encode(), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise ReplicaError(
                f"tenant {slug}: sync failed: the primary did not answer within "
                f"{self.timeout:g} s; the old replica is kept"
            ) from None
        finally:
            self._children.discard(child)
            for file in path.parent.iterdir():
                with contextlib.suppress(OSError):
                    os.chmod(file, 0o600)
        if self._closed and child.returncode != 0:
            raise ReplicaError(f"tenant {slug}: sync stopped: the session is closing")
        if child.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            message = lines[-1] if lines else ""
            if _no_room(path.parent):
                raise ReplicaError(
                    f"tenant {slug}: no room left on the disk for its replica; the old one is kept"
                )
            raise ReplicaError(_sync_reason(slug, message, token))

    def _prune(self, home: Path, keep: Path) -> None:
        """Remove every generation but `keep` (the current one) and the one just before it
        (a reader may still have it open); a killed rebuild's leftover goes too."""
        if not home.is_dir():
            return
        generations = sorted(
            (p for p in home.iterdir() if p.is_dir() and p.name.startswith("g")),
            key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else 0,
        )
        older = [p for p in generations if p != keep and _order(p) < _order(keep)]
        kept = {keep, *older[-(KEEP_GENERATIONS - 1) :]} if KEEP_GENERATIONS > 1 else {keep}
        for generation in generations:
            if generation not in kept:
                shutil.rmtree(generation, ignore_errors=True)

    @contextlib.contextmanager
    def _locked(self, slug: str) -> Iterator[None]:
        """One sync of a slug at a time, across processes (the TUI and `replica sync`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / f".{slug}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _order(generation: Path) -> int:
    digits = generation.name[1:]
    return int(digits) if digits.isdigit() else 0


def _readable(path: Path) -> bool:
    """The file is an intact SQLite database (a truncated or overwritten one is not)."""
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = db.execute("PRAGMA quick_check(1)").fetchone()
        return bool(row) and row[0] == "ok"
    except sqlite3.Error:
        return False
    finally:
        db.close()


def _read_meta(directory: Path) -> dict[str, object]:
    try:
        data = json.loads((directory / META_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_meta(directory: Path, fingerprint_: str) -> None:
    """The metadata, replaced in one rename."""
    temp = directory / f".{META_NAME}.tmp"
    payload = json.dumps({"synced_at": time.time(), "fingerprint": fingerprint_, "engine": ENGINE})
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, directory / META_NAME)


def _swap_link(link: Path, target: Path) -> None:
    """Point `link` at `target` in one rename: readers see the old file or the new one."""
    temp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    os.symlink(os.path.relpath(target, link.parent), temp)
    os.replace(temp, link)
    dir_fd = os.open(link.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


NO_ROOM_BYTES = 16 * 2**20
"""Less free space than this after a failed sync: the disk is called full."""


def _no_room(directory: Path) -> bool:
    try:
        return shutil.disk_usage(directory).free < NO_ROOM_BYTES
    except OSError:
        return False


def _os_reason(slug: str, error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"tenant {slug}: no room left on the disk for its replica; the old one is kept"
    return f"tenant {slug}: replica file error: {error.strerror or error}"


def _sync_reason(slug: str, message: str, token: str | None) -> str:
    """A one-line reason for a failed sync, with nothing of the token in it."""
    if token:
        message = message.replace(token, "<token>")
    lowered = message.lower()
    if "disk" in lowered and ("full" in lowered or "space" in lowered):
        return f"tenant {slug}: no room left on the disk for its replica; the old one is kept"
    if "inject" in lowered:
        # libsql failed writing frames into the file (a full disk, a file size limit...).
        return (
            f"tenant {slug}: could not write its replica (is the disk full?): "
            f"{message.splitlines()[0]}; the old one is kept"
        )
    if "handshake" in lowered:
        # libsql retries a refused token until its handshake times out, and says only that.
        return (
            f"tenant {slug}: sync failed: the primary did not accept the replica "
            "(down, or the token refused)"
        )
    if "connect" in lowered:
        return f"tenant {slug}: sync failed: the primary cannot be reached"
    return f"tenant {slug}: sync failed: {message.splitlines()[0] if message else 'unknown error'}"


__all__ = ["ENGINE", "ReplicaError", "ReplicaInfo", "ReplicaStore", "fingerprint", "sync_url"]

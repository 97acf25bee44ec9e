"""The audit log records every write before it is reported, and blocks writes it cannot record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tursotui.session.audit import AuditEntry, AuditError, AuditLog


async def test_a_write_is_logged_pending_then_ok(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", "ada")
    async with log.recording("publish", "acme", ["p1"], before="draft", after="published") as e:
        e.row_ids = ["p1"]
    entries = log.entries()
    assert [(x.status, x.action, x.tenant, x.row_ids) for x in entries] == [
        ("pending", "publish", "acme", ["p1"]),
        ("ok", "publish", "acme", ["p1"]),
    ]
    assert entries[0].id == entries[1].id
    assert entries[1].operator == "ada"
    assert (entries[1].before, entries[1].after) == ("draft", "published")


async def test_a_failed_write_is_logged_as_failed(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", "ada")
    with pytest.raises(RuntimeError):
        async with log.recording("archive", "acme", ["p1"]):
            raise RuntimeError("database is locked")
    last = log.entries()[-1]
    assert (last.status, last.detail) == ("failed", "database is locked")


async def test_an_unwritable_log_blocks_the_write(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    log = AuditLog(folder / "audit.jsonl", "ada")
    ran = []
    if os.geteuid() == 0:
        # root ignores permission bits; a directory in the file's place fails for everyone.
        (folder / "audit.jsonl").mkdir()
    else:
        folder.chmod(0o500)
    with pytest.raises(AuditError, match="cannot be written"):
        async with log.recording("publish", "acme", ["p1"]):
            ran.append(True)
    assert ran == []


def test_an_entry_survives_kill_9_right_after_it_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    script = (
        "import asyncio, os, signal, sys\n"
        "from pathlib import Path\n"
        "from tursotui.session.audit import AuditLog\n"
        "async def main():\n"
        f"    log = AuditLog(Path({str(path)!r}), 'ada')\n"
        "    async with log.recording('delete-comment', 'acme', ['c1']):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n"
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert process.returncode == -signal.SIGKILL
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(x["status"], x["action"], x["row_ids"]) for x in lines] == [
        ("pending", "delete-comment", ["c1"])
    ]


def test_unreadable_lines_do_not_hide_the_others(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, "ada")
    log.record(AuditEntry("sql", "acme"))
    with path.open("a") as file:
        file.write("{not json\n")
    log.record(AuditEntry("sql", "beta"))
    assert [e.tenant for e in log.entries()] == ["acme", "beta"]

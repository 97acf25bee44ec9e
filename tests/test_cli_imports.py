"""The command line starts like a shell tool: no command loads Textual or an unused transport.

Each command runs for real, in a fresh interpreter (a module imported by an earlier test
would hide an import), on a registry of local `file:` tenants; what it imported is read
from `sys.modules` when it is done.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tursotui.cli import COMMAND_MODULES, commands_needed

SRC = Path(__file__).resolve().parent.parent / "src"

NEVER_FOR_LOCAL_TENANTS = ("textual", "aiohttp", "httpx", "libsql_client.hrana", "pydantic")
"""What a command on `file:` tenants must not import: the UI, the remote transports, and
the Platform API's models (pydantic: as much import time as all of Textual)."""

RUN_AND_REPORT = """
import json, sys
from tursotui.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit_:
    status = exit_.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def run_command(*argv: str, cwd: Path) -> tuple[int, set[str], str]:
    """`tursotui argv...` in a fresh interpreter: (exit status, modules imported, stdout)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["status"], set(report["modules"]), done.stdout


def loaded(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """A registry with one local tenant holding a table, registered through the CLI."""
    tenant = tmp_path / "acme.db"
    with sqlite3.connect(tenant) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute("INSERT INTO notes VALUES ('kept')")
    db.close()
    status, _, _ = run_command("tenants", "add", "acme", "--url", f"file:{tenant}", cwd=tmp_path)
    assert status == 0
    return tenant


@pytest.mark.parametrize(
    "argv",
    [
        ("tenants", "--json"),
        ("sql", "acme", "SELECT body FROM notes"),
        ("sql", "--format", "json", "acme", "SELECT body FROM notes"),
        ("audit",),
        ("migrate", "acme", "--dry-run"),
        ("backup", "acme"),
        ("--help",),
    ],
    ids=lambda argv: " ".join(argv),
)
def test_no_command_imports_textual_or_an_unused_transport(
    registry: Path, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    status, modules, out = run_command(*argv, cwd=tmp_path)
    assert status == 0, out
    if argv[0] == "sql":
        assert "kept" in out  # it ran, and read the tenant
    assert loaded(modules, "tursotui.cli")  # the report saw the command's own imports
    imported = [package for package in NEVER_FOR_LOCAL_TENANTS if loaded(modules, package)]
    assert imported == [], f"`tursotui {' '.join(argv)}` imported {imported}"


def test_a_command_imports_only_its_own_module(registry: Path, tmp_path: Path) -> None:
    status, modules, _ = run_command("sql", "acme", "SELECT 1", cwd=tmp_path)
    assert status == 0
    others = [f"tursotui.cli.{name}" for name in COMMAND_MODULES if name != "sql"]
    assert [name for name in others if name in modules] == []


def test_the_check_would_see_textual(tmp_path: Path) -> None:
    """Guards the tests above: the same report does list Textual when it is imported."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    done = subprocess.run(
        [sys.executable, "-c", "import textual.app; " + RUN_AND_REPORT, "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert loaded(set(json.loads(done.stderr.strip().splitlines()[-1])["modules"]), "textual")


@pytest.mark.parametrize(
    ("argv", "needed"),
    [
        ([], ()),
        (["--read-only"], ()),
        (["sql", "acme", "SELECT 1"], ("sql",)),
        (["--read-only", "tenants", "--json"], ("tenants",)),
        (["--help"], COMMAND_MODULES),
        (["nonsense"], COMMAND_MODULES),
        (["sql", "--help"], ("sql",)),
        (["comments", "delete", "acme", "c1"], ("content",)),
        (["publish", "acme", "p1"], ("moderate",)),
    ],
)
def test_the_parser_registers_what_the_command_line_needs(
    argv: list[str], needed: tuple[str, ...]
) -> None:
    assert commands_needed(argv) == needed


TUI_FIRST_SCREEN = """
import asyncio, json, sys
from tursotui.cli.common import settings_from_args
from tursotui.cli import build_parser
from tursotui.session.workspace import Workspace
from tursotui.ui.app import make_app
from tursotui.ui.screens import tenants as screen

# What was imported when the frame listing the rows went out: the probes start right after it.
first_frame = {}
ask = screen.TenantsScreen._ask_tenants
def record(self, generation):
    first_frame.setdefault("modules", sorted(sys.modules))
    ask(self, generation)
screen.TenantsScreen._ask_tenants = record

async def main():
    settings = settings_from_args(build_parser(()).parse_args([]))
    workspace = await Workspace.open(settings)
    app = make_app(settings, workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            await pilot.pause(0.02)
            if "acme" in str(app.screen.query_one("#tenants").render_line(1).text):
                break
        shown = str(app.screen.query_one("#tenants").render_line(1).text)
    await workspace.close()
    return shown

shown = asyncio.run(main())
report = {"shown": shown, "modules": sorted(sys.modules), "first_frame": first_frame["modules"]}
print(json.dumps(report), file=sys.stderr)
"""

NOT_FOR_THE_FIRST_FRAME = (
    "tursotui.console",
    "tursotui.fleet",
    "tursotui.provision",
    "tursotui.tenant.backup",
    "tursotui.tenant.migrations",
    "tursotui.platform.api",
    "tursotui.platform.models",
    "pygments",
)
"""What the frame listing the tenants does without: the SQL console, the fleet, provisioning,
backups, the migrations folder, the Platform API, highlighting (loaded when used, or once the
probes start)."""


def test_the_tui_on_local_tenants_loads_no_remote_transport_nor_pydantic(
    registry: Path, tmp_path: Path
) -> None:
    """The first screen of a fleet of `file:` tenants needs neither HTTP nor WebSocket code."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", TUI_FIRST_SCREEN],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert "acme" in report["shown"]  # the tenants screen listed the registry
    modules = set(report["modules"])
    assert loaded(modules, "textual")
    remote = [p for p in ("aiohttp", "httpx", "libsql_client.hrana") if loaded(modules, p)]
    assert remote == []
    # Nor the Platform API's models, nor a validation library for the settings.
    assert [p for p in ("pydantic", "pydantic_settings") if loaded(modules, p)] == []
    first_frame = set(report["first_frame"])
    assert loaded(first_frame, "tursotui.ui.screens.tenants")  # the record is of that frame
    assert [p for p in NOT_FOR_THE_FIRST_FRAME if loaded(first_frame, p)] == []


def test_every_command_word_names_the_module_that_registers_it() -> None:
    """`COMMANDS` is what each module really registers, so a command loads only its module."""
    from tursotui.cli import COMMANDS, build_parser

    registered = {}
    for module in COMMAND_MODULES:
        parser = build_parser([module])
        [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        registered |= {word: module for word in commands.choices}
    assert registered == COMMANDS

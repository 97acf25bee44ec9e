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

NEVER_FOR_LOCAL_TENANTS = (
    "textual",
    "aiohttp",
    "httpx",
    "libsql_client.hrana",
    "pydantic",
    "tursotui.session.replicas",
)
"""What a command on `file:` tenants must not import: the UI, the remote transports, the
Platform API's models (pydantic: as much import time as all of Textual), and the replicas
of remote tenants."""

RUN_AND_REPORT = """
import json, sys
from tursotui.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit_:
    status = exit_.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def run_script(script: str, *argv: str, cwd: Path) -> tuple[dict, subprocess.CompletedProcess]:
    """`script` in a fresh interpreter on the sources: (the JSON report it printed last on
    stderr, the finished process)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    assert done.stderr.strip(), done
    return json.loads(done.stderr.strip().splitlines()[-1]), done


def run_command(*argv: str, cwd: Path) -> tuple[int, set[str], str]:
    """`tursotui argv...` in a fresh interpreter: (exit status, modules imported, stdout)."""
    report, done = run_script(RUN_AND_REPORT, *argv, cwd=cwd)
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
        assert "tursotui.session.audit" not in modules  # a read writes no audit entry
    assert loaded(modules, "tursotui.cli")  # the report saw the command's own imports
    imported = [package for package in NEVER_FOR_LOCAL_TENANTS if loaded(modules, package)]
    assert imported == [], f"`tursotui {' '.join(argv)}` imported {imported}"
    # Nor `uuid` (and the `platform` module it loads): only adding a registry row needs one.
    assert "uuid" not in modules


def test_a_command_imports_only_its_own_module(registry: Path, tmp_path: Path) -> None:
    status, modules, _ = run_command("sql", "acme", "SELECT 1", cwd=tmp_path)
    assert status == 0
    others = [f"tursotui.cli.{name}" for name in COMMAND_MODULES if name != "sql"]
    assert [name for name in others if name in modules] == []


def test_the_check_would_see_textual(tmp_path: Path) -> None:
    """Guards the tests above: the same report does list Textual when it is imported."""
    report, _ = run_script("import textual.app; " + RUN_AND_REPORT, "--help", cwd=tmp_path)
    assert loaded(set(report["modules"]), "textual")


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
        (["-h", "sql"], COMMAND_MODULES),  # the top-level help, listing every command
        (["--read-only", "--help"], COMMAND_MODULES),
        (["comments", "delete", "acme", "c1"], ("content",)),
        (["publish", "acme", "p1"], ("moderate",)),
    ],
)
def test_the_parser_registers_what_the_command_line_needs(
    argv: list[str], needed: tuple[str, ...]
) -> None:
    assert commands_needed(argv) == needed


TUI_FIRST_SCREEN = """
import asyncio, sys  # json only for the report: the first frame must do without it
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
    first_frame.setdefault("css", sorted(str(where[0]) for where in self.app.stylesheet.source))
    first_frame.setdefault("reparsed", reparsed[0])
    first_frame.setdefault("widgets", [w.id or type(w).__name__ for w in self.query("*")])
    ask(self, generation)
screen.TenantsScreen._ask_tenants = record

# Every whole-stylesheet re-parse before that frame (each costs as much as the first parse).
from textual.css.stylesheet import Stylesheet
reparsed = [0]
reparse = Stylesheet.reparse
def counted(self):
    reparsed[0] += 1
    reparse(self)
Stylesheet.reparse = counted

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
import json
report = {
    "shown": shown,
    "modules": sorted(sys.modules),
    "first_frame": first_frame["modules"],
    "css": first_frame["css"],
    "reparsed": first_frame["reparsed"],
    "widgets": first_frame["widgets"],
}
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
    "tursotui.session.replicas",
    "tursotui.session.replica_store",
    "tursotui.session.audit",
    "tursotui.session.tokens",
    "pygments",
    "tursotui.tenant.health",
    "tursotui.db.peek",
    "json",
)
"""What the frame listing the tenants does without: the SQL console, the fleet, provisioning,
backups, the migrations folder, the Platform API, replicas of remote tenants, the audit log
and the token sources (made with the first write and the first tenant opened), highlighting
(loaded when used, or once the probes start), the health probes with their pool and the
JSON they read (loaded once the list is shown)."""


def test_the_tui_on_local_tenants_loads_no_remote_transport_nor_pydantic(
    registry: Path, tmp_path: Path
) -> None:
    """The first screen of a fleet of `file:` tenants needs neither HTTP nor WebSocket code."""
    report, _ = run_script(TUI_FIRST_SCREEN, cwd=tmp_path)
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
    # Its styles: the app's file and the widgets' own, parsed once; no other screen's file.
    assert [path for path in report["css"] if path.endswith(".tcss")] == [
        str(SRC / "tursotui" / "ui" / "app.tcss")
    ]
    assert report["reparsed"] == 0
    # Nor the hidden filter box's styles: it is mounted once that frame is out.
    assert not any(str(path).endswith("_input.py") for path in report["css"])
    # Its widgets: neither the filter box nor the hint of an empty registry (each comes
    # when needed), so Textual styles and lays out no widget that frame does not show.
    assert report["widgets"] == ["TenantHeader", "tenants", "detail", "KeysFooter"]


TUI_WITHOUT_ARGUMENTS = """
import json, sys
import tursotui.cli.tui as tui

async def run_app(settings, *painted, **keep):  # what the TUI is given, and what was loaded
    report = {"read_only": settings.read_only, "modules": sorted(sys.modules)}
    print(json.dumps(report), file=sys.stderr)
    return 0

tui.run_app = run_app
from tursotui.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [(), ("--read-only",)])
def test_the_tui_alone_is_started_without_a_parser(
    registry: Path, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """`tursotui` alone has nothing to parse: it starts the TUI without argparse (and its
    translations); with an option it is parsed as before."""
    report, done = run_script(TUI_WITHOUT_ARGUMENTS, *argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert report["read_only"] is bool(argv)
    assert ("argparse" in report["modules"]) is bool(argv)  # the check would see it
    assert "textual" not in report["modules"]  # the app is not built before the settings


def test_help_and_an_unknown_word_load_no_command_module(tmp_path: Path) -> None:
    """`--help` lists the commands without importing them, nor asyncio nor the session."""
    for argv in (("--help",), ("-h", "sql"), ("nonsense",)):
        status, modules, out = run_command(*argv, cwd=tmp_path)
        assert status == (2 if argv == ("nonsense",) else 0)
        if status == 0:
            assert "run SQL on one tenant" in out  # the help was printed, commands listed
        ours = sorted(m for m in modules if m.startswith("tursotui.") and m != "tursotui.cli")
        assert ours == [], f"`tursotui {' '.join(argv)}` imported {ours}"
        assert "asyncio" not in modules


@pytest.mark.parametrize("argv", [["--help"], ["nonsense"], ["--read-only", "sql-typo"]])
def test_the_summary_parser_says_what_the_full_parser_says(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The help and usage errors that need no command module are the full parser's, word
    for word (each command's help line is kept in `COMMAND_HELP`)."""
    from tursotui.cli import build_parser, summary_parser

    said = []
    for parser in (build_parser(), summary_parser()):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(argv)
        out, err = capsys.readouterr()
        said.append((exit_.value.code, out, err))
    assert said[0] == said[1]
    assert said[0][1] or said[0][2]  # something was said


def test_command_help_is_what_each_module_registers() -> None:
    """`COMMAND_HELP` (what `--help` lists without importing the modules) is each command's
    own help line, in the order the full parser lists them."""
    from tursotui.cli import COMMAND_HELP, build_parser

    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    registered = {action.dest: action.help for action in commands._choices_actions}
    assert list(registered.items()) == list(COMMAND_HELP.items())


def test_tenants_loads_no_provisioning_saga(registry: Path, tmp_path: Path) -> None:
    """`tenants --json` registers `tenants create` and `destroy` without loading them (the
    creation saga loads the migrations folder), nor the branching saga when no branch was
    made (it loads the backups)."""
    status, modules, out = run_command("tenants", "--json", cwd=tmp_path)
    assert status == 0 and "acme" in out
    sagas = (
        "tursotui.provision.create",
        "tursotui.provision.maintain",
        "tursotui.provision.branch",
    )
    loaded_sagas = [m for m in sagas if m in modules]
    assert loaded_sagas == []


def test_every_command_word_names_the_module_that_registers_it() -> None:
    """`COMMANDS` is what each module really registers, so a command loads only its module."""
    from tursotui.cli import COMMANDS, build_parser

    registered = {}
    for module in COMMAND_MODULES:
        parser = build_parser([module])
        [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        registered |= {word: module for word in commands.choices}
    assert registered == COMMANDS


@pytest.mark.parametrize(
    "argv",
    [
        ("tenants", "--json"),
        ("audit", "--json"),
        ("sql", "--format", "json", "acme", "SELECT body FROM notes"),
    ],
    ids=lambda argv: " ".join(argv),
)
def test_json_output_loads_no_exporter(
    registry: Path, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """Printing JSON needs the escaping of what a terminal could act on, not the exporter
    of the SQL console with its CSV writer."""
    status, modules, out = run_command(*argv, cwd=tmp_path)
    assert status == 0, out
    printed = json.loads(out)
    if argv[0] == "sql":
        assert "kept" in out
    assert isinstance(printed, list | dict)
    assert [m for m in ("tursotui.console.export", "csv") if m in modules] == []

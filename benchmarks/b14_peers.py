"""tursotui beside the tools a user would pick instead, on the same 1M-post tenant, in tmux.

Each tool runs in a tmux pane of 160x50 whose screen is polled every ~10 ms:

- `B14.<tool>.ready_ms`: from launch to the screen showing the tool ready for a query
  (tursotui: its tenants screen listing the tenant; the others: their prompt or editor);
- `B14.<tool>.page_ms`: from the key that runs a 50-row page query (newest published
  posts) to its rows on the screen;
- `B14.<tool>.all_ms`: the same for `SELECT * FROM posts` (first rows shown), given up
  after `ALL_TIMEOUT_S` (a tool that reads every row before showing one);
- `B14.<tool>.rss_mb`: the peak resident memory of the tool's processes after both.

The queries select a marker computed by SQL (`'b14' || '-page'`), so the screen shows it
only once rows are there, not while the query is typed. Every tool is launched afresh for
each query (medians of `ROUNDS`), the tools alternating; the sqlite3 shell is the floor.

The peers are installed by the benchmark itself, each into its own virtualenv under
`.cache/bench/peers/` from PyPI (`PEERS`); the sqlite3 shell from Debian (`apt-get`) if it
is missing. A tool that cannot be installed is skipped with a message. This benchmark
installs software and runs for minutes: it runs only when asked for by name
(`python -m benchmarks B14`); `--quick` (CI) only says so. `B14_POSTS=5000` runs it on
the small tenant, `B14_TOOLS=tursotui,sqlite3` on some of the tools, `B14_ROUNDS` sets rounds.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Figure

ID = "B14"
ON_REQUEST_ONLY = True
"""Not part of `python -m benchmarks` without IDs (see __main__)."""

REPO = Path(__file__).resolve().parents[1]
PEERS_DIR = REPO / ".cache" / "bench" / "peers"
ROUNDS = 5
SIZE = (160, 50)
POLL_S = 0.01
READY_TIMEOUT_S = 60.0
ALL_TIMEOUT_S = 60.0
SOCKET = "tursotui-b14"
PAGE_SQL = (
    "SELECT 'b14' || '-page' AS marker, id, title, published_at FROM posts "
    "WHERE status = 'published' ORDER BY published_at DESC LIMIT 50"
)
ALL_SQL = "SELECT 'b14' || '-all' AS marker, * FROM posts"
PEERS = {"harlequin": "harlequin==2.17.0", "litecli": "litecli==1.17.0"}


@dataclass
class Tool:
    """How to start one tool and run a query in it."""

    name: str
    argv: list[str]
    ready: str
    """Text on the screen once the tool takes a query."""
    to_editor: list[tuple[list[str], str]] = field(default_factory=list)
    """Keys from ready to a place to type SQL, each with the text to wait for after it."""
    run_keys: list[str] = field(default_factory=lambda: ["Enter"])
    terminator: str = ";"
    env: dict[str, str] = field(default_factory=dict)
    fresh: Callable[[], None] | None = None
    """Called before each launch: what a previous run kept must not change the next."""


def _tmux(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check
    )
    return done.stdout


def _screen() -> str:
    return _tmux("capture-pane", "-p", "-t", "peer", check=False)


def _wait(text: str, timeout: float) -> float | None:
    """perf_counter() when `text` is on the screen, or None after `timeout` seconds."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if text in _screen():
            return time.perf_counter()
        time.sleep(POLL_S)
    return None


_pane = [0]
"""The process id of the tool in the current pane."""


def _peak_rss_mb() -> float:
    """The largest peak RSS among the pane's process and its descendants (0: it has exited)."""
    pids, peak = [str(_pane[0])], 0
    while pids:
        pid = pids.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
        pids.extend(children)
    return peak / 1024


def _session(tool: Tool) -> float:
    """Start `tool` in a fresh pane; ms from launch to ready."""
    _tmux("kill-server", check=False)
    if tool.fresh is not None:
        tool.fresh()
    env = [f"{k}={v}" for k, v in tool.env.items()]
    command = " ".join(["exec", "env", *map(_quote, env), *map(_quote, tool.argv)])
    for attempt in range(5):  # the server just killed may still be on its way out
        start = time.perf_counter()
        started = subprocess.run(
            [
                *("tmux", "-L", SOCKET, "new-session", "-d", "-s", "peer", "-P", "-F"),
                *("#{pane_pid}", "-x", str(SIZE[0]), "-y", str(SIZE[1]), command),
            ],
            capture_output=True,
            text=True,
        )
        if started.returncode == 0:
            _pane[0] = int(started.stdout.strip())
            break
        if attempt == 4:
            raise RuntimeError(f"tmux could not start {tool.name}: {started.stderr.strip()}")
        time.sleep(0.2)
    ready = _wait(tool.ready, READY_TIMEOUT_S)
    if ready is None:
        raise RuntimeError(f"{tool.name} never showed {tool.ready!r}:\n{_screen()}")
    return (ready - start) * 1000


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _query_ms(tool: Tool, sql: str, marker: str, timeout: float) -> tuple[float | None, float]:
    """(ms from the run key to `marker` on screen or None, peak RSS MB), in a fresh session."""
    _session(tool)
    for keys, wait_for in tool.to_editor:
        _tmux("send-keys", "-t", "peer", *keys)
        if _wait(wait_for, READY_TIMEOUT_S) is None:
            raise RuntimeError(f"{tool.name}: no {wait_for!r} after {keys}:\n{_screen()}")
    _tmux("send-keys", "-t", "peer", "-l", sql)
    if tool.terminator:  # as a key: a `;` at the end of an argument ends a tmux command
        _tmux("send-keys", "-t", "peer", "-H", *(f"{ord(c):02x}" for c in tool.terminator))
    # The clock starts once the typed text is on screen (its end: the line may wrap).
    if _wait(sql[-12:], READY_TIMEOUT_S) is None:
        raise RuntimeError(f"{tool.name}: the query typed never showed:\n{_screen()}")
    time.sleep(0.1)
    start = time.perf_counter()
    _tmux("send-keys", "-t", "peer", *tool.run_keys)
    shown = _wait(marker, timeout)
    rss = _peak_rss_mb()
    if shown is None and os.environ.get("B14_DEBUG"):
        print(_screen(), file=sys.stderr)
    _tmux("kill-server", check=False)
    return (None if shown is None else (shown - start) * 1000), rss


def _venv_tool(name: str, requirement: str, note: Callable[[str], None]) -> list[str] | None:
    """The command running the tool from its own virtualenv, installed on first use; None:
    skipped.

    The script is run by the virtualenv's interpreter rather than through its `#!` line: that
    line holds the path the virtualenv was made at, and `.cache` is reached by other paths
    too (a worktree links it), so a virtualenv made through one of them breaks the others.
    """
    venv = PEERS_DIR / name
    executable = venv / "bin" / name
    command = [str(venv / "bin" / "python3"), str(executable)]
    if executable.exists():
        return command
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", requirement],
            check=True,
            timeout=900,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError) as error:
        shutil.rmtree(venv, ignore_errors=True)
        note(f"{name}: skipped, could not be installed ({error})")
        return None
    return command if executable.exists() else None


def _sqlite_shell(note: Callable[[str], None]) -> str | None:
    found = shutil.which("sqlite3")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "sqlite3"], capture_output=True)
        found = shutil.which("sqlite3")
    if found is None:
        note("sqlite3 shell: skipped, not installed and apt-get could not install it")
    return found


async def _registry(data_dir: Path, tenant: Path) -> None:
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    workspace = await Workspace.open(load_settings(data_dir=data_dir))
    try:
        await workspace.registry.add("bench", f"file:{tenant}", None, name="Bench")
    finally:
        await workspace.close()


async def run(quick: bool) -> list[Figure]:
    if quick:
        print("# B14 installs peer tools and runs for minutes: skipped at --quick", flush=True)
        return []
    if shutil.which("tmux") is None:
        print("# B14 needs tmux: skipped", flush=True)
        return []
    from benchmarks.b1_page_query import bench_tenant

    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        print(f"# {text}", flush=True)

    small = os.environ.get("B14_POSTS") == "5000"
    tenant = await bench_tenant(small)
    tools: list[Tool] = []
    with tempfile.TemporaryDirectory() as data:
        template, data_dir = Path(data) / "template", Path(data) / "session"
        await _registry(template, tenant)

        def fresh_data_dir() -> None:
            # The console keeps its editor's text per tenant: every launch starts without.
            shutil.rmtree(data_dir, ignore_errors=True)
            shutil.copytree(template, data_dir)

        tursotui_env = {
            "TURSOTUI_DATA_DIR": str(data_dir),
            "XDG_CONFIG_HOME": str(data_dir / "config"),
            "PYTHONPATH": str(REPO / "src"),
            "TERM": "xterm-256color",
        }
        tools.append(
            Tool(
                "tursotui",
                [sys.executable, "-m", "tursotui", "--read-only"],
                "bench",
                to_editor=[(["s"], "▶ users")],  # the console, its schema read: connected
                run_keys=["C-r"],
                terminator="",
                env=tursotui_env,
                fresh=fresh_data_dir,
            )
        )
        harlequin = _venv_tool("harlequin", PEERS["harlequin"], note)
        if harlequin is not None:
            tools.append(
                Tool(
                    "harlequin",
                    [*harlequin, "-a", "sqlite", "--read-only", str(tenant)],
                    "main db",  # its catalog shows the database once it is connected
                    run_keys=["C-j"],
                    terminator="",
                    env={"TERM": "xterm-256color"},
                )
            )
        litecli = _venv_tool("litecli", PEERS["litecli"], note)
        if litecli is not None:
            tools.append(
                Tool("litecli", [*litecli, str(tenant)], ".db>", env={"TERM": "xterm-256color"})
            )
        shell = _sqlite_shell(note)
        if shell is not None:
            tools.append(Tool("sqlite3", [shell, "-readonly", str(tenant)], "sqlite>"))
        only = os.environ.get("B14_TOOLS")
        if only:
            tools = [t for t in tools if t.name in only.split(",")]
        found: dict[str, dict[str, list[float]]] = {
            t.name: {"ready": [], "page": [], "all": [], "rss": []} for t in tools
        }
        gave_up: dict[str, int] = {t.name: 0 for t in tools}
        try:
            for _ in range(int(os.environ.get("B14_ROUNDS", ROUNDS))):
                for tool in tools:
                    figures = found[tool.name]
                    try:
                        figures["ready"].append(_session(tool))
                        page, rss_page = _query_ms(tool, PAGE_SQL, "b14-page", READY_TIMEOUT_S)
                        if page is not None:
                            figures["page"].append(page)
                        everything, rss_all = _query_ms(tool, ALL_SQL, "b14-all", ALL_TIMEOUT_S)
                        if everything is None:
                            gave_up[tool.name] += 1
                        else:
                            figures["all"].append(everything)
                        figures["rss"].append(max(rss_page, rss_all))
                    except RuntimeError as error:
                        note(f"{tool.name}: {str(error).splitlines()[0]}")
        finally:
            _tmux("kill-server", check=False)

    floor = found.get("sqlite3", {}).get("page") or []
    floor_ms = statistics.median(floor) if floor else None
    result = []
    for name, figures in found.items():
        for what, unit, label in (
            ("ready", "ms", "launch to ready"),
            ("page", "ms", "50-row page query to its rows"),
            ("all", "ms", "SELECT * FROM posts to its first rows"),
            ("rss", "MB", "peak RSS"),
        ):
            values = figures[what]
            if not values:
                if what == "all" and gave_up[name]:
                    label += f": no rows within {ALL_TIMEOUT_S:.0f} s"
                    result.append(
                        Figure(
                            f"B14.{name}.{what}_ms", ALL_TIMEOUT_S * 1000, "ms", None, None, label
                        )
                    )
                continue
            base = floor_ms if what == "page" and name != "sqlite3" else None
            result.append(
                Figure(
                    f"B14.{name}.{what}_{unit.lower()}",
                    statistics.median(values),
                    unit,
                    base,
                    None,
                    f"{label}, median of {len(values)}",
                )
            )
    return result

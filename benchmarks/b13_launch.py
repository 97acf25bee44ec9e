"""From launch to the first interactive frame (the TUI) or to the output (each CLI command).

Every start is a new process on a pseudo-terminal (160x50, `TERM=xterm-256color`), timed
from before the fork to the moment the terminal shows what proves it ready:

- `B13.tui_ms`: `python -m tursotui` on the demo fleet, to the first frame listing its
  tenants. Bar 200 ms. Baseline: `B13.textual_floor_ms`, a bare Textual app (one `Static`)
  to its first frame, in the same rounds: the least a Textual app can take here. That
  frame is the one the last start kept, painted before Textual loads (see
  `session/first_frame.py`); `B13.tui_cold_ms` is the same start with nothing kept (the
  first start, or the first after the registry changed): the app's own first frame.
- `B13.tui_keys_ms`: the same start with `/umbrella` typed as it is launched, to the
  frame in which the app has filtered the list to that tenant: when the keys typed on the
  painted frame are answered.
- `B13.<command>_ms` for `sql` (one query on a demo tenant), `tenants --json` (every
  tenant's health), `audit`, `--help`: to the command's exit, output written. Baseline:
  `B13.python_floor_ms`, `python -c "print('ready')"`.

Rounds alternate the tools (a busy spell hits them alike); figures are medians, and the
CPU time each process used (user + system, read when it is reaped) is given alongside,
which a loaded machine inflates less than the wall time. The package's bytecode is
compiled first, as an install leaves it. The demo fleet is built once into
`.cache/bench/b13-demo/` (`tursotui demo --no-tui`). `--quick`: one round.
"""

from __future__ import annotations

import compileall
import contextlib
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from benchmarks.common import Figure

ID = "B13"

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench"
ROUNDS = 7
SIZE = (160, 50)
BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("bare-ready")

Bare().run()
"""


def _environment(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TERM="xterm-256color",
        COLUMNS=str(SIZE[0]),
        LINES=str(SIZE[1]),
        TURSOTUI_DATA_DIR=str(data_dir),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")])),
    )
    # Settings of the caller's own must not change what is measured.
    for name in ("TURSOTUI_CONFIG_FILE", "TURSO_DATABASE_URL", "TURSO_AUTH_TOKEN"):
        env.pop(name, None)
    env["XDG_CONFIG_HOME"] = str(data_dir / "config")
    env["XDG_CACHE_HOME"] = str(data_dir / "cache")  # the first frame kept (see tui_cold)
    return env


def launch(
    argv: list[str],
    ready: bytes | None,
    env: dict[str, str],
    keys: bytes = b"",
    kept: Path | None = None,
    timeout: float = 60.0,
):
    """(ms to `ready` on the terminal, or to exit when None; CPU ms the process used).
    `keys` are typed as soon as the process is started; with `kept`, the process is let
    live until it has kept its first frame there."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of the benchmark's size, then the tool
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        os.execvpe(argv[0], argv, env)
    if keys:
        os.write(fd, keys)
    seen = b""
    elapsed: float | None = None
    try:
        while time.perf_counter() - start < timeout:
            readable, _, _ = select.select([fd], [], [], 0.5)
            if not readable:
                continue
            try:
                data = os.read(fd, 1 << 16)
            except OSError:  # the child closed the terminal: it exited
                data = b""
            if not data:
                if ready is None:
                    elapsed = time.perf_counter() - start
                break
            seen += data
            if ready is not None and ready in seen:
                elapsed = time.perf_counter() - start
                break
    finally:
        if ready is not None:
            if kept is not None and elapsed is not None:
                _wait_kept(kept)
            _kill(pid)
        _, status, usage = os.wait4(pid, 0)
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"{' '.join(argv[1:])}: never showed {ready!r}: {seen[-500:]!r}")
    if ready is None and os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed: {seen[-500:]!r}")
    return elapsed * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def _wait_kept(kept: Path) -> None:
    deadline = time.monotonic() + 30
    while not kept.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("tursotui kept no first frame")
        time.sleep(0.01)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _demo_fleet() -> Path:
    """The demo fleet, built once by `tursotui demo --no-tui`."""
    data_dir = CACHE / "b13-demo"
    if not (data_dir / "registry.db").exists():
        env = _environment(data_dir)
        subprocess.run(
            [sys.executable, "-m", "tursotui", "demo", "--no-tui"],
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return data_dir


def run(quick: bool) -> list[Figure]:
    import tursotui

    # As an install leaves it: a first start that compiles the sources measures the compiler.
    compileall.compile_dir(Path(tursotui.__file__).parent, quiet=1)
    data_dir = _demo_fleet()
    env = _environment(data_dir)
    python = sys.executable
    kept = data_dir / "cache" / "tursotui" / "first-frame"
    tui = [python, "-m", "tursotui"]
    cases: dict[str, tuple[list[str], bytes | None]] = {
        "python_floor": ([python, "-c", "print('ready')"], None),
        "textual_floor": ([python, "-c", BARE_APP], b"bare-ready"),
        "tui_cold": (tui, b"umbrella"),
        "tui": (tui, b"umbrella"),
        "tui_keys": (tui, b"1/7 tenants"),
        "sql": ([python, "-m", "tursotui", "sql", "acme", "SELECT 'b13' || '-ready'"], None),
        "tenants": ([python, "-m", "tursotui", "tenants", "--json"], None),
        "audit": ([python, "-m", "tursotui", "audit"], None),
        "help": ([python, "-m", "tursotui", "--help"], None),
    }
    rounds = 1 if quick else ROUNDS
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}

    def start(name: str) -> tuple[float, float]:
        argv, ready = cases[name]
        if name == "tui_cold":
            kept.unlink(missing_ok=True)
            return launch(argv, ready, env, kept=kept)  # for the starts after it
        return launch(argv, ready, env, b"/umbrella" if name == "tui_keys" else b"")

    for name in cases:  # a first start warms the OS's file cache
        start(name)
    for _ in range(rounds):
        for name in cases:
            ms, cpu_ms = start(name)
            wall[name].append(ms)
            cpu[name].append(cpu_ms)
    median = {name: statistics.median(values) for name, values in wall.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    load = os.getloadavg()[0]

    def note(name: str, floor: str, what: str) -> str:
        return (
            f"{what}; {median[name] / median[floor]:.2f}x the floor; CPU {median_cpu[name]:.0f} "
            f"ms vs {median_cpu[floor]:.0f}; {len(wall[name])} rounds, "
            f"{min(wall[name]):.0f}–{max(wall[name]):.0f} ms, load {load:.1f}"
        )

    figures = [
        Figure(
            "B13.python_floor_ms",
            median["python_floor"],
            "ms",
            None,
            None,
            "python -c print: the floor of a command",
        ),
        Figure(
            "B13.textual_floor_ms",
            median["textual_floor"],
            "ms",
            None,
            None,
            "bare Textual app to its first frame: the floor of a TUI",
        ),
        Figure(
            "B13.tui_ms",
            median["tui"],
            "ms",
            median["textual_floor"],
            "<= 200",
            note("tui", "textual_floor", "tursotui to the first frame listing the demo fleet"),
        ),
        Figure(
            "B13.tui_cold_ms",
            median["tui_cold"],
            "ms",
            median["textual_floor"],
            None,
            note("tui_cold", "textual_floor", "the same, no first frame kept: the app's own"),
        ),
        Figure(
            "B13.tui_keys_ms",
            median["tui_keys"],
            "ms",
            median["textual_floor"],
            None,
            note("tui_keys", "textual_floor", "`/umbrella` typed at launch, to its answer"),
        ),
    ]
    for name, what in (
        ("sql", "`tursotui sql acme <query>` to exit"),
        ("tenants", "`tursotui tenants --json` (every tenant probed) to exit"),
        ("audit", "`tursotui audit` to exit"),
        ("help", "`tursotui --help` to exit"),
    ):
        figures.append(
            Figure(
                f"B13.{name}_ms",
                median[name],
                "ms",
                median["python_floor"],
                None,
                note(name, "python_floor", what),
            )
        )
    return figures

"""The real app in a real terminal multiplexer (issue 7): tmux at 80x24.

`tursotui` runs in tmux with TERM=xterm, screen-256color and linux, and with NO_COLOR=1,
on a small demo fleet. Keys are sent as a person would type them: open the first tenant
(enter), publish the first draft (p), back (escape), quit (q). The pane's text is
checked at each step, and the tenant databases afterwards: exactly one draft became
published. Needs the `tmux` binary (Debian/Ubuntu package `tmux`); skipped, saying so,
only when it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from adversarial_stats import count
from fault_fixtures import cli

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)

VARIANTS = {
    "xterm": {"TERM": "xterm"},
    "screen-256color": {"TERM": "screen-256color"},
    "linux": {"TERM": "linux"},
    "no-color": {"TERM": "xterm-256color", "NO_COLOR": "1"},
}


PASSED_ON = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "TURSOTUI_DATA_DIR",
             "TURSOTUI_CONFIG_FILE", "TURSOTUI_OPERATOR", "PATH")  # fmt: skip
"""The environment the app gets in tmux (`env -i`: nothing else of the test's leaks in)."""


PASSED_ON = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "TURSOTUI_DATA_DIR",
             "TURSOTUI_CONFIG_FILE", "TURSOTUI_OPERATOR", "PATH")  # fmt: skip
"""The environment the app gets in tmux (`env -i`: nothing else of the test's leaks in)."""


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check
        )

    def pane(self) -> str:
        done = self.run("capture-pane", "-p", "-t", "app", check=False)
        return done.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "app", *keys)

    def wait_for(self, text: str | re.Pattern[str], timeout: float = 20.0) -> str:
        """Until `text` is on the pane; a `re.Pattern` is searched for instead."""
        deadline = time.monotonic() + timeout
        while True:
            pane = self.pane()
            if text.search(pane) if isinstance(text, re.Pattern) else text in pane:
                return pane
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the pane shows:\n{pane}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.run("has-session", "-t", "app", check=False).returncode == 0


def statuses(data: Path) -> dict[str, int]:
    totals: dict[str, int] = {}
    for path in sorted((data / "tenants").glob("*.db")):
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            for status, n in db.execute("SELECT status, count(*) FROM posts GROUP BY status"):
                totals[status] = totals.get(status, 0) + n
            db.close()
        except sqlite3.Error:
            continue  # the demo's broken tenant
    return totals


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_moderation_flow_in_tmux(variant: str, tmp_path: Path) -> None:
    ran = cli("demo", "--tenants", "2", "--posts", "20", "--no-tui")
    assert ran.code == 0, ran.err
    data = Path(os.environ["TURSOTUI_DATA_DIR"])
    before = statuses(data)
    assert before.get("draft", 0) > 0
    env = {k: os.environ[k] for k in PASSED_ON}
    env.update(VARIANTS[variant])
    exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
    status_file = tmp_path / "exit-status"
    command = (
        f"env -i {exports} {_quote(sys.executable)} -m tursotui; "
        f"echo $? > {_quote(str(status_file))}"
    )
    tmux = Tmux(f"tursotui-test-{os.getpid()}-{variant}")
    try:
        tmux.run("new-session", "-d", "-s", "app", "-x", "80", "-y", "24", command)
        pane = tmux.wait_for("tenants")
        tmux.wait_for("current")  # health answered: the rows are filled in
        tmux.keys("Enter")
        tmux.wait_for("drafts")
        # The posts are listed (as a person would wait to see them), not only the filter bar.
        tmux.wait_for(re.compile(r" [1-9]\d* (of \d+ )?posts? shown"))
        tmux.keys("p")
        pane = tmux.wait_for("Published 1 post on")  # in the status line
        assert "Traceback" not in pane
        tmux.keys("Escape")
        tmux.wait_for("slug")
        tmux.keys("q")
        deadline = time.monotonic() + 15
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not tmux.alive(), tmux.pane()
    finally:
        tmux.run("kill-server", check=False)
    assert status_file.read_text().strip() == "0"
    after = statuses(data)
    assert after["draft"] == before["draft"] - 1
    assert after.get("published", 0) == before.get("published", 0) + 1
    count("terminal_flows")


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


GRID_ROW = re.compile(r"▕ *(\d+) +(\d+)\b")
"""A row of the console grid for the test's query (`i`, `twice`), right of the schema panel."""


def _grid_rows(pane: str) -> list[int]:
    return [int(i) for i, _ in GRID_ROW.findall(pane)]


def _settled_pane(tmux: Tmux) -> str:
    """The pane once it stops changing (the keys sent have all been handled)."""
    previous = tmux.pane()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.5)
        pane = tmux.pane()
        if pane == previous:
            return pane
        previous = pane
    raise AssertionError(f"the pane never settled:\n{previous}")


def test_keys_sent_in_one_burst_act_as_typed_one_by_one(tmp_path: Path) -> None:
    """`tmux send-keys` with whole strings: `t` and a name, `s` and SQL, F3 and 20 PageDown."""
    ran = cli("demo", "--tenants", "2", "--posts", "20", "--no-tui")
    assert ran.code == 0, ran.err
    env = {k: os.environ[k] for k in PASSED_ON}
    env["TERM"] = "xterm-256color"
    if "PYTHONPATH" in os.environ:  # the code under test, when it is not the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
    tmux = Tmux(f"tursotui-test-{os.getpid()}-burst")
    try:
        tmux.run(
            "new-session", "-d", "-s", "app", "-x", "80", "-y", "24",
            f"env -i {exports} {_quote(sys.executable)} -m tursotui",
        )  # fmt: skip
        tmux.wait_for("current")
        tmux.keys("Enter")
        tmux.wait_for(re.compile(r"posts │ .*\(acme\)"))
        # `t`, a name and Enter in one go: that tenant's posts (not the fleet, not a lost name).
        tmux.keys("tmal", "Enter")
        pane = tmux.wait_for(re.compile(r"posts │ .*\(mallory\)"))
        assert "fleet" not in pane.splitlines()[0]
        tmux.keys("Escape")
        tmux.wait_for("slug")
        sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<5000) "
        sql += "SELECT i, i*2 AS twice FROM n"
        tmux.keys("s", sql)  # the SQL typed right after `s` lands in the editor
        tmux.wait_for("connected")
        tmux.keys("C-r")
        tmux.wait_for("showing the first")
        tmux.keys("F3", *["PageDown"] * 20)
        burst = _grid_rows(_settled_pane(tmux))
        page = len(burst)
        assert page >= 3, tmux.pane()
        assert burst[-1] == 20 * page + 1  # the cursor, on the last line, went 20 pages down

        tmux.keys("F2", "C-r")  # the same query again: the grid starts at the top
        tmux.wait_for(re.compile(r"▕ *1 +2\b"))
        tmux.keys("F3")
        for _ in range(20):
            tmux.keys("PageDown")
            time.sleep(0.15)
        one_by_one = _grid_rows(_settled_pane(tmux))
        assert burst == one_by_one
        assert "Traceback" not in tmux.pane()
    finally:
        tmux.run("kill-server", check=False)
    count("terminal_flows")

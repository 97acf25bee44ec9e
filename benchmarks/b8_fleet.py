"""Fleet overview: 200 local tenants, and 20 sqld tenants behind a proxy adding 100 ms per request.

- `B8.local_200_ms`: `fleet.overview` over 200 local tenant files (migrated, seeded),
  until every row is filled (bar <= 2000 ms).
- `B8.remote_20_ms`: the same over 20 tenants on a real sqld behind the tests'
  `FaultProxyProcess` (in a process of its own) delaying every HTTP request by 100 ms
  (bar <= 800 ms); the baseline is
  the sequential loop operators script (one tenant after the other), measured in the
  same run (bar >= 2 s). All 20 registry rows point at the one sqld database through
  the proxy: each tenant has its own connection and its own requests, which is what the
  latency measures; one sqld process stands in for twenty.
- `B8.rss_50_mb` / `B8.rss_200_mb`: RSS of a fresh process that opened the workspace
  and ran the overview over 50 and over 200 local tenants, read when every row has
  arrived (the workspace then holds one cached connection per tenant).

- `B8.key_during_overview_ms`: the fleet screen (`f` from the tenants screen, once their
  health is in) on the local fleet, headless at 160x50: `down` sent every ~100 ms while the
  overview's rows and then the usage columns stream in, each timed from the key to the
  frame showing the cursor on the next row (see B4's `_Frames`); median, and the slowest
  in the note (bar: one frame, <= 16 ms median, no key over 50 ms). Baseline: the same
  keys once every row and every usage figure is in, same run.

`--quick` uses 10 local and 4 remote tenants and a 20 ms delay.

`--tenants N` (the issue's 10,000): the overview of N local tenants (B5's cached fleet of
30-post tenants), `B8.local_N_ms`, against the parallel raw floor of B5 measured in the
same run (bar: within 2x), and `B8.key_during_overview_ms` on that fleet; `B8.rss_N_mb`
after it (bar <= 250 MB: connections are not kept, so it stays flat however many
tenants); and `B8.remote_M_ms` for M = min(N, 1000)
sqld tenants behind the proxy at +100 ms per request, asked `REMOTE_CONCURRENCY` at a
time (bar <= 5000 ms). Its baseline is the floor: the same M requests (the same body)
sent by a bare asyncio client on as many kept-alive connections, through the same proxy,
in the same run; the note splits the CPU spent between tursotui's process, the proxy's
and sqld's. The proxy (`FaultProxyProcess`) runs in a process of its own, as a network
would: the wall time is tursotui's, not a proxy thread competing for its interpreter lock.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Figure, seeded_tenant, seeded_tenant_file

ID = "B8"
REPO = Path(__file__).resolve().parents[1]
POSTS_PER_TENANT = 200


def _settings(data_dir: Path, **extra: object):
    from tursotui.session.settings import Settings

    return Settings(data_dir=data_dir, registry_url=None, **extra)


async def _template(path: Path) -> None:
    """One migrated, seeded tenant file, copied for each local tenant (copying is not timed)."""
    await seeded_tenant_file(path, POSTS_PER_TENANT, seed=8)


async def _registry(data_dir: Path, rows: list[tuple[str, str]]) -> None:
    """Create the local registry and insert the tenants' rows in one go."""
    from tursotui.session.registry import Registry

    registry = await Registry.open(_settings(data_dir))
    try:
        await registry.connection.batch(
            [
                (
                    "INSERT INTO organizations (id, name, slug, db_url, db_token, created_at) "
                    "VALUES (?, ?, ?, ?, '', ?)",
                    [str(uuid.uuid4()), slug, slug, url, int(time.time())],
                )
                for slug, url in rows
            ]
        )
    finally:
        await registry.close()


async def build_local_fleet(data_dir: Path, count: int) -> None:
    """`count` local tenants (copies of one seeded template) in a fresh registry."""
    folder = data_dir / "tenants"
    folder.mkdir(parents=True, exist_ok=True)
    template = data_dir / "template.db"
    await _template(template)
    rows = []
    for i in range(count):
        target = folder / f"t{i:04d}.db"
        shutil.copyfile(template, target)
        rows.append((f"t{i:04d}", f"file:{target}"))
    await _registry(data_dir, rows)


async def time_overview(
    data_dir: Path, *, sequential: bool = False, rss: list[float] | None = None, **settings: object
) -> tuple[float, int]:
    """Milliseconds until every row of the overview arrived (workspace already open), and rows.

    With `rss`, appends the process's RSS in MB once every row arrived (connections still open).
    """
    from tursotui.fleet import overview as fleet
    from tursotui.session.workspace import Workspace

    workspace = await Workspace.open(_settings(data_dir, **settings))
    try:
        tenants = await workspace.registry.tenants()
        start = time.perf_counter()
        if sequential:
            rows = await fleet.overview_sequential(workspace, tenants)
        else:
            rows = [row async for row in fleet.overview(workspace, tenants)]
        elapsed = (time.perf_counter() - start) * 1000
        if rss is not None:
            import psutil

            rss.append(psutil.Process().memory_info().rss / 2**20)
    finally:
        await workspace.close()
    bad = [r.error for r in rows if not r.reachable or r.error]
    if bad:
        raise RuntimeError(f"B8: {len(bad)} tenants failed, e.g. {bad[0]}")
    return elapsed, len(rows)


def child(data_dir: str) -> None:
    """Run in a fresh process: one overview, then print its RSS (MB) as JSON.

    RSS is read with psutil while the workspace still holds every tenant's connection
    (ru_maxrss would carry the parent's peak over the exec).
    """
    measured: list[float] = []
    elapsed, rows = asyncio.run(time_overview(Path(data_dir), rss=measured))
    print(json.dumps({"rss_mb": measured[0], "ms": elapsed, "rows": rows}))


def _rss(data_dir: Path) -> float:
    code = f"from benchmarks.b8_fleet import child; child({str(data_dir)!r})"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"B8 child failed: {done.stderr[-1000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["rss_mb"])


KEY_EVERY_S = 0.1
"""How often a key is sent while the fleet loads (a user reading and moving)."""
KEYS_AFTER = 8
"""Keys sent once every row and usage figure is in: the baseline."""


def _send(app, name: str, character: str | None = None) -> float:
    """Send a key as a terminal does; the `perf_counter()` it was sent at.

    (Pilot.press waits for the app to go idle, which it does not while thousands of
    tenants answer.)
    """
    from textual import events

    event = events.Key(name, character)
    event.set_sender(app)
    start = time.perf_counter()
    app._driver.send_message(event)
    return start


async def _until(condition, timeout: float, what: str, every: float = 0.005) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"B8: timed out waiting for {what}")
        await asyncio.sleep(every)


async def keys_run(data_dir: Path, count: int) -> tuple[list[tuple[str, float]], list[float]]:
    """Key-to-frame ms of `down` sent while the fleet screen loads (with the phase each was
    sent in: `rows` while the overview streams in, `usage` while the usage columns do), and
    of the same keys once everything is in."""
    from benchmarks.b4_posts import _Frames
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.fleet import FleetScreen

    app = make_app(_settings(data_dir))
    during: list[tuple[str, float]] = []
    after: list[float] = []
    async with app.run_test(size=(160, 50)):
        tenants = app.screen
        # The tenants screen's own health probes done first: only the fleet's work is timed.
        await _until(lambda: getattr(tenants, "answered", 0) >= count, 600, "the tenants' health")
        await asyncio.sleep(0.2)
        _send(app, "f", "f")
        await _until(lambda: isinstance(app.screen, FleetScreen), 30, "the fleet screen")
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        table = screen.table
        await _until(lambda: table.row_count >= count, 60, "the fleet's rows")
        frames = _Frames(app)

        def done() -> bool:
            return not screen.asking and len(screen.usage) >= count

        async def key() -> float:
            row = table.cursor_row
            name = "up" if row >= table.row_count - 1 else "down"
            target = row - 1 if name == "up" else row + 1
            shown = frames.expect(lambda: table.cursor_row == target)
            start = _send(app, name)
            return (await asyncio.wait_for(shown, 30) - start) * 1000

        while not done():
            sent = time.perf_counter()
            phase = "rows" if screen.asking else "usage"
            during.append((phase, await key()))
            await asyncio.sleep(max(0.0, KEY_EVERY_S - (time.perf_counter() - sent)))
        await asyncio.sleep(0.3)  # the last answers painted
        for _ in range(KEYS_AFTER):
            after.append(await key())
            await asyncio.sleep(KEY_EVERY_S)
        app.exit()
    return during, after


async def key_figure(data_dir: Path, count: int) -> Figure:
    """`B8.key_during_overview_ms` on the fleet in `data_dir` (`count` tenants)."""
    during, after = await keys_run(data_dir, count)
    times = [ms for _phase, ms in during] or after

    def phase(name: str) -> str:
        each = [ms for p, ms in during if p == name]
        if not each:
            return f"{name}: none"
        median, slowest = statistics.median(each), max(each)
        return f"{name}: {len(each)} keys, median {median:.1f}, slowest {slowest:.1f}"

    return Figure(
        f"{ID}.key_during_overview_ms",
        round(statistics.median(times), 1),
        "ms",
        round(statistics.median(after), 1),
        "<= 16 median, <= 50 each",
        f"`down` every {KEY_EVERY_S * 1000:.0f} ms while {count} tenants' rows and usage "
        f"stream in, key to frame: slowest {max(times):.1f} ms ({phase('rows')}; "
        f"{phase('usage')}); baseline: the same keys once everything is in (slowest "
        f"{max(after):.1f} ms); load average {os.getloadavg()[0]:.1f}",
    )


@dataclass
class RemoteRun:
    """One remote measurement: the wall time, and where the CPU went while it ran."""

    ms: float
    floor_ms: float | None = None
    cpu_client_s: float = 0.0
    cpu_proxy_s: float = 0.0
    cpu_sqld_s: float = 0.0

    @property
    def split(self) -> str:
        return (
            f"CPU: tursotui {self.cpu_client_s:.1f} s, proxy {self.cpu_proxy_s:.1f} s, "
            f"sqld {self.cpu_sqld_s:.1f} s"
        )


def _cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    import psutil

    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.Error, ValueError):
        return 0.0
    return times.user + times.system


async def raw_floor_ms(url: str, body: bytes, count: int, concurrency: int) -> float:
    """`count` POSTs of `body` to `url`/v2/pipeline by a bare asyncio client, `concurrency`
    kept-alive connections at once: what the network and the server alone cost."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    head = (
        f"POST /v2/pipeline HTTP/1.1\r\nhost: {parts.netloc}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode()
    left = count

    async def worker() -> None:
        nonlocal left
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while left > 0:
                left -= 1
                writer.write(head + body)
                answer = await reader.readuntil(b"\r\n\r\n")
                if not answer.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"B8 floor: {answer[:40]!r}")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in answer.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return (time.perf_counter() - start) * 1000


def _batch_body() -> bytes:
    """The body of the fleet's one request per remote tenant, as tursotui sends it."""
    from tursotui.db import hrana
    from tursotui.fleet.overview import ACTIVITY_SQL
    from tursotui.tenant.health import COUNTS_SQL, NEWEST_MIGRATION_SQL
    from tursotui.tenant.indexes import SCHEMA_SQL

    stmts = [
        hrana.encode_stmt(sql, where="floor", read_only=False)
        for sql in (COUNTS_SQL, NEWEST_MIGRATION_SQL, ACTIVITY_SQL, SCHEMA_SQL)
    ]
    requests = [{"type": "batch", "batch": hrana.batch_steps(stmts)}, {"type": "close"}]
    body = {"baton": None, "requests": requests}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def _remote(
    count: int,
    delay_ms: float,
    *,
    sequential: bool,
    concurrency: int | None = None,
    floor: bool = False,
) -> RemoteRun:
    """The overview of `count` tenants on a fresh sqld behind a proxy delaying each request.

    Each measurement gets its own sqld: requests sent without a stream leave a stream open
    on sqld until it expires, and a second run on the same server would queue behind them.
    With `floor`, the same requests are first sent by `raw_floor_ms` at the same concurrency.
    """
    sys.path.insert(0, str(REPO / "tests"))
    from support.faults import FaultProxyProcess
    from support.servers import start_sqld

    # Twenty tenants share one database here; sqld's adaptive throttling would answer
    # 429 to the burst of streams on it, which twenty separate databases never see.
    os.environ["SQLD_DISABLE_INTELLIGENT_THROTTLING"] = "true"
    try:
        server = start_sqld()
    finally:
        os.environ.pop("SQLD_DISABLE_INTELLIGENT_THROTTLING", None)
    # The proxy runs in a process of its own, as a network adds its latency: a thread of
    # this process would spend its CPU (and its interpreter lock) on every request.
    proxy = FaultProxyProcess(("127.0.0.1", server.port)).start()
    try:
        await seeded_tenant(server.http_url, None, POSTS_PER_TENANT, seed=8)
        with tempfile.TemporaryDirectory(prefix="b8-remote-") as tmp:
            data_dir = Path(tmp)
            await _registry(data_dir, [(f"r{i:02d}", proxy.url) for i in range(count)])
            proxy.delay(delay_ms)
            floor_ms = None
            if floor:
                floor_ms = await raw_floor_ms(proxy.url, _batch_body(), count, concurrency or count)
            extra = {"fleet_concurrency": concurrency} if concurrency else {}
            cpu = (time.process_time(), _cpu_s(proxy.pid), _cpu_s(server.process.pid))
            elapsed, _ = await time_overview(data_dir, sequential=sequential, **extra)
            run = RemoteRun(
                elapsed,
                floor_ms,
                time.process_time() - cpu[0],
                _cpu_s(proxy.pid) - cpu[1],
                _cpu_s(server.process.pid) - cpu[2],
            )
    finally:
        proxy.stop()
        server.stop()
    return run


REMOTE_CONCURRENCY = 32
"""Remote tenants asked at once in the large run (`fleet_concurrency`): 1,000 tenants at
100 ms a request need at least 20 in flight to answer within 5 s."""


async def run_large(count: int) -> list[Figure]:
    """The `--tenants N` figures: N local tenants against the raw floor, RSS, remote fleet."""
    from benchmarks.b5_tenants import _fleet, raw_floor_ms, tenant_files

    data_dir = await _fleet(count)
    files = tenant_files(data_dir)
    raw_floor_ms(files)  # warm the file cache once
    floor = raw_floor_ms(files)
    local_ms, rows = await time_overview(data_dir)
    floor = min(floor, raw_floor_ms(files))
    keys = await key_figure(data_dir, count)
    figures = [
        Figure(
            f"{ID}.local_{count}_ms",
            round(local_ms, 1),
            "ms",
            round(floor, 1),
            f"<= {2 * floor:.0f} (2x floor)",
            f"overview of {rows} local tenants; baseline: raw sqlite3 floor, a thread per core",
        ),
        Figure(
            f"{ID}.rss_{count}_mb",
            round(_rss(data_dir), 1),
            "MB",
            None,
            "<= 250",
            f"RSS after the overview of {count} local tenants",
        ),
        keys,
    ]
    figures.append(await remote_large(min(count, 1000)))
    return figures


async def remote_large(count: int, concurrency: int = REMOTE_CONCURRENCY) -> Figure:
    """`B8.remote_N_ms`: N sqld tenants behind the proxy at +100 ms, against the raw floor."""
    run = await _remote(count, 100.0, sequential=False, concurrency=concurrency, floor=True)
    return Figure(
        f"{ID}.remote_{count}_ms",
        round(run.ms, 1),
        "ms",
        round(run.floor_ms or 0.0, 1),
        "<= 5000",
        f"{count} sqld tenants, +100 ms per request, {concurrency} at a time; baseline: "
        f"the same requests by a bare asyncio client, same concurrency; {run.split}; "
        f"load average {os.getloadavg()[0]:.1f}",
    )


async def run(quick: bool, tenants: int | None = None) -> list[Figure]:
    """Measure B8."""
    if tenants:
        return await run_large(tenants)
    local_n, remote_n, delay = (10, 4, 20.0) if quick else (200, 20, 100.0)
    figures = []
    with tempfile.TemporaryDirectory(prefix="b8-local-") as tmp:
        data_dir = Path(tmp)
        await build_local_fleet(data_dir, local_n)
        await time_overview(data_dir)  # warm the file cache once, as a real host's would be
        local_ms, rows = await time_overview(data_dir)
        figures.append(
            Figure(
                f"{ID}.local_{local_n}_ms",
                local_ms,
                "ms",
                None,
                "<= 2000",
                f"overview of {rows} local tenants, every row filled",
            )
        )
        figures.append(await key_figure(data_dir, local_n))
    remote_ms = (await _remote(remote_n, delay, sequential=False)).ms
    sequential_ms = (await _remote(remote_n, delay, sequential=True)).ms
    figures.append(
        Figure(
            f"{ID}.remote_{remote_n}_ms",
            remote_ms,
            "ms",
            sequential_ms,
            "<= 800",
            f"{remote_n} sqld tenants, +{delay:g} ms per request; baseline: sequential loop",
        )
    )
    for n in (10, 20) if quick else (50, 200):
        with tempfile.TemporaryDirectory(prefix="b8-rss-") as tmp:
            data_dir = Path(tmp)
            await build_local_fleet(data_dir, n)
            figures.append(
                Figure(
                    f"{ID}.rss_{n}_mb",
                    _rss(data_dir),
                    "MB",
                    None,
                    None,
                    f"RSS after the overview of {n} local tenants",
                )
            )
    return figures

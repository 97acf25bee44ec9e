"""Tenants screen on 500 tenants (`--tenants N`: N): interactive at once, every health soon.

- `B5.tenants_interactive_ms`: from building the app to the tenants screen listing every
  registry row and answering a key (`/` focuses the filter), headless at 160x50
  (bar <= 1000 ms). Baseline: reading the registry alone (what any screen waits for), same run.
- `B5.health_all_ms`: from building the app until every row shows its health (latency,
  post counts per status, schema version). Baseline: the parallel raw floor, same run:
  raw `sqlite3` opening every tenant file read-only and running the probe's two queries
  (the post counts and the newest migration) on as many threads as cores. The file is
  opened `immutable=1`, the fastest read sqlite3 has: `mode=ro` alone would create
  `-wal`/`-shm` files beside every tenant (which the probe does not). Bar: within 2x of it.
- `B5.probe_all_ms`: `health.probe_all` over every tenant in-process (no UI, no start-up),
  against the same floor (bar: within 2x of it).
- `B5.key_during_health_ms`: keys sent every ~100 ms while the answers stream in (`down`,
  `/`, `7` filtering the list, `escape` clearing it, in turn), each timed from the key to
  the frame showing its effect (see B4's `_Frames`); median, and the slowest in the note.
  Bar: one frame (<= 16 ms) median, no key over 50 ms. Baseline: the same keys on the same
  screen once every health is in, same run.
- `B5.tenants_json_ms` / `B5.tenants_json_rss_mb`: `tursotui tenants --json` in a fresh
  process, wall time and peak RSS (bar <= 250 MB); baseline: the same raw floor.

Local tenant files (migrated, 30 posts each) are copies of one template, cached under
`.cache/bench/b5-<n>/`. `--quick` uses 20 tenants; `--tenants 10000` the fleet of the issue.

For 500 tenants or fewer, the same two screen figures again for as many remote tenants
(registry rows on one sqld with JWT auth, migrated, 30 posts), by where their tokens come from:

- `B5.command_*`: each row stores its token "encrypted" and `TURSOTUI_TOKEN_COMMAND`
  (`sleep 0.02; rev`: 20 ms per call) decrypts it, once per tenant;
- `B5.minted_*`: no row stores a token; each is minted through the Platform API test
  server (`tests/support/platform_server.py`, in a thread of its own), once per database.

Their baseline is the same remote fleet with the tokens stored as they are, same run.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
import uuid
from pathlib import Path

from benchmarks.common import Figure, seeded_tenant, seeded_tenant_file

ID = "B5"
REPO = Path(__file__).resolve().parents[1]
POSTS_PER_TENANT = 30


def _settings(data_dir: Path, **values: object):
    from tursotui.session.settings import Settings

    return Settings(data_dir=data_dir, registry_url=None, **values)


async def _build(data_dir: Path, tenants: int) -> None:
    """The cached fleet: one template tenant copied `tenants` times, and the registry rows."""
    from tursotui.session.registry import Registry

    building = data_dir.with_name(data_dir.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    (building / "tenants").mkdir(parents=True)
    template = building / "template.db"
    await seeded_tenant_file(template, POSTS_PER_TENANT, seed=5)
    rows = []
    for index in range(tenants):
        slug = f"tenant-{index:04d}"
        shutil.copyfile(template, building / "tenants" / f"{slug}.db")
        # The real path: `.cache` is a symlink in a worktree, and a URL through it would
        # point at nothing once that worktree is gone.
        url = f"file:{data_dir.resolve() / 'tenants' / f'{slug}.db'}"
        rows.append(
            (
                "INSERT INTO organizations (id, name, slug, db_url, db_token, created_at) "
                "VALUES (?, ?, ?, ?, '', ?)",
                [str(uuid.uuid4()), f"Tenant {index}", slug, url, 1_700_000_000 + index],
            )
        )
    registry = await Registry.open(_settings(building))
    try:
        await registry.connection.batch(rows)
    finally:
        await registry.close()
    template.unlink()
    shutil.rmtree(data_dir, ignore_errors=True)
    building.rename(data_dir)


async def _fleet(tenants: int) -> Path:
    data_dir = REPO / ".cache" / "bench" / f"b5-{tenants}"
    if not (data_dir / "registry.db").exists() or not _first_tenant_exists(data_dir):
        await _build(data_dir, tenants)
    return data_dir


def _first_tenant_exists(data_dir: Path) -> bool:
    """Whether the cached registry's first row points at a file (it was built elsewhere)."""
    import sqlite3

    db = sqlite3.connect(f"file:{data_dir / 'registry.db'}?mode=ro&immutable=1", uri=True)
    try:
        row = db.execute("SELECT db_url FROM organizations LIMIT 1").fetchone()
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return row is not None and Path(str(row[0]).removeprefix("file:")).exists()


async def _screen_run(
    data_dir: Path, tenants: int, *, health: bool = True, **values: object
) -> tuple[float, float]:
    """(interactive ms, all health shown ms) for one start of the app (`values`: settings).

    `health=False`: only the interactive figure (the app quits once `/` is answered).
    """
    from textual import events
    from textual.widgets import Input

    from tursotui.ui.app import make_app

    start = time.perf_counter()
    app = make_app(_settings(data_dir, **values))
    interactive = health_all = float("nan")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        while screen.table.row_count < tenants:
            if screen.registry_error is not None:  # say why, rather than wait for ever
                raise RuntimeError(f"the registry could not be read: {screen.registry_error}")
            await asyncio.sleep(0.001)
        # As a terminal would send it: Pilot.press also waits for the app to go idle,
        # which it does not while 500 probes are streaming in.
        key = events.Key("slash", "/")
        key.set_sender(app)
        app._driver.send_message(key)
        # (The box is mounted by `/` if the rows' frame has not mounted it yet.)
        while not (isinstance(app.focused, Input) and app.focused.id == "filter"):
            await asyncio.sleep(0.001)
        interactive = (time.perf_counter() - start) * 1000
        if not health:
            app.exit()
            return interactive, health_all
        # The screen's own count of answers: checking 10,000 rows every 2 ms here would
        # take a share of the CPU the probes run on.
        while screen.answered < tenants:
            await asyncio.sleep(0.002)
        await pilot.pause()  # the last answers painted
        health_all = (time.perf_counter() - start) * 1000
        unhealthy = [r.tenant.slug for r in screen.rows if not r.health.reachable]
        if unhealthy:
            raise RuntimeError(f"B5: tenants did not answer: {unhealthy[:5]}")
        app.exit()
    return interactive, health_all


KEY_EVERY_S = 0.1
"""How often a key is sent while the answers stream in (a user reading and moving)."""
KEYS_AFTER = 8
"""Keys sent once every health is in: the baseline."""


async def _keys_run(data_dir: Path, tenants: int) -> tuple[list[float], list[float]]:
    """Key-to-frame ms of keys sent while every health streams in, and of keys after it."""
    from textual import events

    from benchmarks.b4_posts import _Frames
    from tursotui.ui.app import make_app

    app = make_app(_settings(data_dir))
    during: list[float] = []
    after: list[float] = []
    async with app.run_test(size=(160, 50)):
        screen = app.screen
        while screen.table.row_count < tenants:
            await asyncio.sleep(0.001)
        frames = _Frames(app)
        box = screen.filter_box()
        table = screen.table

        def cycle(step: int) -> tuple[str, str | None, object]:
            """The key of this step and the condition a frame showing its effect meets."""
            kind = step % 4
            if kind == 0:
                row = table.cursor_row
                return "down", None, lambda: table.cursor_row == row + 1
            if kind == 1:
                return "slash", "/", lambda: box.has_focus and box.display
            if kind == 2:  # `7`: the tenants with a 7 in their slug or name (not in the path)
                return "7", "7", lambda: screen.filter_text == "7" and table.row_count < tenants
            return "escape", None, lambda: not box.display and table.row_count == tenants

        async def key(step: int) -> float:
            name, character, condition = cycle(step)
            shown = frames.expect(condition)  # type: ignore[arg-type]
            # As a terminal sends it (Pilot.press waits for the app to be idle, which it is
            # not while thousands of answers arrive).
            event = events.Key(name, character)
            event.set_sender(app)
            start = time.perf_counter()
            app._driver.send_message(event)
            return (await asyncio.wait_for(shown, 30) - start) * 1000

        step = 0
        # The first key once the answers have begun (the list is shown before the probes
        # start), then every KEY_EVERY_S until the last answer is in.
        while screen.answered == 0:
            await asyncio.sleep(0.002)
        while screen.answered < tenants:
            sent = time.perf_counter()
            during.append(await key(step))
            step += 1
            await asyncio.sleep(max(0.0, KEY_EVERY_S - (time.perf_counter() - sent)))
        while step % 4:  # back to the whole list, the filter closed
            await key(step)
            step += 1
        await asyncio.sleep(0.3)  # the last answers painted
        for _ in range(KEYS_AFTER):
            after.append(await key(step))
            step += 1
            await asyncio.sleep(KEY_EVERY_S)
        app.exit()
    return during, after


def _by_key(times: list[float]) -> str:
    """Each key's median (`down`, `/`, `7`, `escape`: the keys are sent in turn)."""
    medians = [
        f"{name} {statistics.median(times[i::4]):.1f}"
        for i, name in enumerate(("down", "`/`", "`7`", "escape"))
        if times[i::4]
    ]
    return ", ".join(medians)


async def _registry_ms(data_dir: Path) -> float:
    """Reading the registry's rows alone (what any tenants screen waits for), in ms."""
    from tursotui.session.workspace import Workspace

    start = time.perf_counter()
    workspace = await Workspace.open(_settings(data_dir))
    try:
        await workspace.registry.tenants()
        return (time.perf_counter() - start) * 1000
    finally:
        await workspace.close()


FLOOR_SQL = (
    "SELECT status, count(*) FROM posts GROUP BY status",
    'SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1',
)


def raw_floor_ms(paths: list[Path]) -> float:
    """Raw sqlite3 reading every file read-only with the probe's two queries, a thread per core."""
    import os
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    def read(path: Path) -> None:
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            for sql in FLOOR_SQL:
                db.execute(sql).fetchall()
        finally:
            db.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(read, paths))
    return (time.perf_counter() - start) * 1000


def tenant_files(data_dir: Path) -> list[Path]:
    """The fleet's tenant files."""
    return sorted((data_dir / "tenants").glob("*.db"))


def tenants_json(data_dir: Path) -> tuple[float, float, int]:
    """`tursotui tenants --json` in a fresh process: (wall ms, peak RSS MB, tenants answered)."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    import psutil

    env = {**os.environ, "TURSOTUI_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO / "src")}
    env.pop("TURSOTUI_REGISTRY_URL", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Into files, not pipes: 10,000 records fill a pipe and the child would wait on it.
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "tursotui", "tenants", "--json"], env=env, stdout=out, stderr=err
        )
        watched = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.Error:
                break
            time.sleep(0.02)
        elapsed = (time.perf_counter() - start) * 1000
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"B5: tenants --json failed: {err.read().decode()[-500:]}")
        answered = sum(1 for record in json.load(out) if record["reachable"])
    return elapsed, peak / 2**20, answered


async def _probe_all_ms(data_dir: Path) -> float:
    """`probe_all` over every tenant, the workspace already open, until the last answer."""
    from tursotui.session.workspace import Workspace
    from tursotui.tenant.health import probe_all

    workspace = await Workspace.open(_settings(data_dir))
    try:
        tenants = await workspace.registry.tenants()
        start = time.perf_counter()
        answers = [h async for h in probe_all(workspace, tenants)]
        elapsed = (time.perf_counter() - start) * 1000
    finally:
        await workspace.close()
    failed = [h.error for h in answers if not h.reachable or h.error]
    if failed:
        raise RuntimeError(f"B5: {len(failed)} tenants failed, e.g. {failed[0]}")
    return elapsed


async def run(quick: bool, tenants: int | None = None) -> list[Figure]:
    count = tenants or (20 if quick else 500)
    repeat = 1 if quick or count > 1000 else 3
    data_dir = await _fleet(count)
    files = tenant_files(data_dir)
    raw_floor_ms(files)  # warm the file cache once, as a real host's would be
    floors = [raw_floor_ms(files)]
    runs = [await _screen_run(data_dir, count) for _ in range(repeat)]
    probes = [await _probe_all_ms(data_dir) for _ in range(repeat)]
    # A fleet too large to wait for every health three times is still started three times:
    # one start is at the mercy of what else the machine does in that second.
    starts = [r[0] for r in runs]
    extra = 3 - repeat if count > 1000 else 0
    starts += [(await _screen_run(data_dir, count, health=False))[0] for _ in range(extra)]
    during, after = await _keys_run(data_dir, count)
    floors.append(raw_floor_ms(files))
    registry_ms = statistics.median([await _registry_ms(data_dir) for _ in range(3)])
    json_ms, json_rss, answered = tenants_json(data_dir)
    if answered != count:
        raise RuntimeError(f"B5: tenants --json: {answered} of {count} tenants answered")
    floor = statistics.median(floors)
    interactive = statistics.median(starts)
    health_all = statistics.median(r[1] for r in runs)
    figures = [
        Figure(
            "B5.tenants_interactive_ms",
            round(interactive, 1),
            "ms",
            baseline=round(registry_ms, 1),
            bar="<= 1000",
            note=f"{count} registry rows listed and `/` answered (median of {len(starts)}: "
            f"{min(starts):.0f}–{max(starts):.0f} ms); baseline: the registry read alone "
            "(median of 3)",
        ),
        Figure(
            "B5.health_all_ms",
            round(health_all, 1),
            "ms",
            baseline=round(floor, 1),
            bar=f"<= {2 * floor:.0f} (2x floor)",
            note=f"every one of {count} tenants' health shown (median of {repeat}); "
            "baseline: raw sqlite3 floor, a thread per core",
        ),
        Figure(
            "B5.key_during_health_ms",
            round(statistics.median(during or after), 1),
            "ms",
            baseline=round(statistics.median(after), 1),
            bar="<= 16 median, <= 50 each",
            note=f"{len(during)} keys (down, /, 7, escape) every {KEY_EVERY_S * 1000:.0f} ms "
            f"while {count} tenants' health streamed in, key to frame: slowest "
            f"{max(during or after):.1f} ms, by key {_by_key(during or after)}; baseline: the "
            f"same keys once every health is in (slowest {max(after):.1f} ms, by key "
            f"{_by_key(after)})",
        ),
        Figure(
            "B5.probe_all_ms",
            round(statistics.median(probes), 1),
            "ms",
            baseline=round(floor, 1),
            bar=f"<= {2 * floor:.0f} (2x floor)",
            note=f"`probe_all` over {count} tenants in-process (median of {repeat})",
        ),
        Figure(
            "B5.tenants_json_ms",
            round(json_ms, 1),
            "ms",
            baseline=round(floor, 1),
            bar=f"<= {2 * floor:.0f} (2x floor)",
            note=f"`tursotui tenants --json`, {count} tenants, fresh process",
        ),
        Figure(
            "B5.tenants_json_rss_mb",
            round(json_rss, 1),
            "MB",
            bar="<= 250",
            note=f"peak RSS of `tenants --json` over {count} tenants",
        ),
    ]
    if count <= 500:
        figures += await _token_figures(count, repeat)
    return figures


# -- remote tenants, tokens from a command or minted -------------------------------------------

COMMAND = "sleep 0.02; rev"
"""A token command taking 20 ms per call; the stored values are the tokens reversed."""


async def _remote_fleet(directory: Path, tenants: int, url: str, stored: str) -> Path:
    """A registry of `tenants` rows on `url`, each storing `stored` (may be empty)."""
    from tursotui.session.registry import Registry

    data_dir = directory / f"remote-{uuid.uuid4().hex[:8]}"
    registry = await Registry.open(_settings(data_dir))
    try:
        await registry.connection.batch(
            [
                (
                    "INSERT INTO organizations (id, name, slug, db_url, db_token, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [str(uuid.uuid4()), f"Tenant {i}", f"tenant-{i:04d}", url, stored, i],
                )
                for i in range(tenants)
            ]
        )
    finally:
        await registry.close()
    return data_dir


async def _token_figures(tenants: int, repeat: int) -> list[Figure]:
    import os
    import sys
    import tempfile

    tests = REPO / "tests"
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    from support.jwt_kit import JWTKeys
    from support.platform_server import FakeDatabase, platform_in_thread
    from support.servers import start_sqld
    from tursotui.session.registry import Registry, Tenant

    keys = JWTKeys()
    token = keys.token("rw", expires_in=None)
    server = start_sqld(keys.public_key)
    workdir = Path(tempfile.mkdtemp(prefix="b5-tokens-"))
    real_tenants = Registry.tenants
    try:
        await seeded_tenant(server.http_url, token, POSTS_PER_TENANT, seed=5)

        async def median_runs(data_dir: Path, **values: object) -> tuple[float, float]:
            runs = [await _screen_run(data_dir, tenants, **values) for _ in range(repeat)]
            return (
                statistics.median(r[0] for r in runs),
                statistics.median(r[1] for r in runs),
            )

        stored = await median_runs(await _remote_fleet(workdir, tenants, server.http_url, token))
        command = await median_runs(
            await _remote_fleet(workdir, tenants, server.http_url, token[::-1]),
            token_command=COMMAND,
        )

        class OneSqld:
            """Every database of the test API is the one sqld; tokens signed by its key."""

            async def create(self, name: str, hostname: str) -> None: ...
            async def delete(self, name: str) -> None: ...
            async def rotate(self, name: str) -> None: ...
            async def close(self) -> None: ...

            async def mint(self, name: str, read_only: bool) -> str:
                return keys.token("ro" if read_only else "rw", expires_in=None)

            def url_for(self, hostname: str) -> str:
                return server.http_url

        with platform_in_thread(OneSqld()) as platform:  # type: ignore[arg-type]
            for i in range(tenants):
                name = f"tenant-{i:04d}"
                platform.databases[name] = FakeDatabase(
                    name, str(uuid.uuid4()), f"{name}-{platform.org}.turso.io", "default"
                )

            # The rows are on 127.0.0.1 (no `<db>-<org>.turso.io` host to read the database
            # name from): the database name is the slug, as a registry's database-name
            # column would give it.
            async def named(self: Registry) -> list[Tenant]:
                return [
                    Tenant(t.slug, t.name, t.url, t.token, t.id, t.created_at, t.problem, t.slug)
                    for t in await real_tenants(self)
                ]

            Registry.tenants = named  # type: ignore[method-assign]
            minted = await median_runs(
                await _remote_fleet(workdir, tenants, server.http_url, ""),
                turso_org=platform.org,
                platform_api_token=platform.token,
                platform_url=platform.url,
            )
            Registry.tenants = real_tenants  # type: ignore[method-assign]
            mints = platform.calls("createDatabaseToken")
        if mints != tenants * repeat:  # once per database in each run (a session each)
            raise RuntimeError(f"B5: {mints} tokens minted for {tenants} tenants ({repeat} runs)")
    finally:
        Registry.tenants = real_tenants  # type: ignore[method-assign]
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    figures = []
    load = os.getloadavg()[0]  # the machine's other work, which these wall times depend on
    for kind, (interactive, health_all), what in (
        ("command", command, "a 20 ms token command per tenant"),
        ("minted", minted, "tokens minted through the Platform API"),
    ):
        figures += [
            Figure(
                f"B5.{kind}_interactive_ms",
                round(interactive, 1),
                "ms",
                baseline=round(stored[0], 1),
                bar="<= 1000",
                note=f"{tenants} remote tenants, {what}; `/` answered (median of {repeat})",
            ),
            Figure(
                f"B5.{kind}_health_all_ms",
                round(health_all, 1),
                "ms",
                baseline=round(stored[1], 1),
                note=f"every tenant's health shown; baseline: tokens stored (median of {repeat}); "
                f"load average {load:.1f}",
            ),
        ]
    return figures

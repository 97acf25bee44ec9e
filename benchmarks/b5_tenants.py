"""Tenants screen on a 500-tenant registry: interactive at once, every tenant's health within bars.

- `B5.tenants_interactive_ms`: from building the app to the tenants screen listing every
  registry row and answering a key (`/` focuses the filter), headless at 160x50
  (bar <= 1000 ms). Baseline: a screen that asks every tenant before it paints (registry
  read + the sequential probe loop), same run.
- `B5.health_all_ms`: from building the app until every row shows its health (latency,
  post counts per status, schema version), probed `fleet_concurrency` at a time
  (bar <= 3000 ms). Baseline: the sequential loop probing one tenant after another
  with a fresh workspace, same run.

500 local tenant files (migrated, 30 posts each) are copies of one template, cached
under `.cache/bench/b5-<n>/`. `--quick` uses 20 tenants.

The same two figures again for 500 remote tenants (registry rows on one sqld with JWT
auth, migrated, 30 posts), by where their tokens come from:

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

from benchmarks.common import Figure, seeded_tenant_file

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
        url = f"file:{data_dir / 'tenants' / f'{slug}.db'}"
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
    if not (data_dir / "registry.db").exists():
        await _build(data_dir, tenants)
    return data_dir


async def _screen_run(data_dir: Path, tenants: int, **values: object) -> tuple[float, float]:
    """(interactive ms, all health shown ms) for one start of the app (`values`: settings)."""
    from textual import events
    from textual.widgets import Input

    from tursotui.ui.app import make_app

    start = time.perf_counter()
    app = make_app(_settings(data_dir, **values))
    interactive = health_all = float("nan")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        while screen.table.row_count < tenants:
            await asyncio.sleep(0.001)
        # As a terminal would send it: Pilot.press also waits for the app to go idle,
        # which it does not while 500 probes are streaming in.
        key = events.Key("slash", "/")
        key.set_sender(app)
        app._driver.send_message(key)
        while not screen.query_one("#filter", Input).has_focus:
            await asyncio.sleep(0.001)
        interactive = (time.perf_counter() - start) * 1000
        while not all(row.health is not None for row in screen.rows):
            await asyncio.sleep(0.002)
        await pilot.pause()  # the last answers painted
        health_all = (time.perf_counter() - start) * 1000
        unhealthy = [r.tenant.slug for r in screen.rows if not r.health.reachable]
        if unhealthy:
            raise RuntimeError(f"B5: tenants did not answer: {unhealthy[:5]}")
        app.exit()
    return interactive, health_all


async def _sequential(data_dir: Path) -> tuple[float, float]:
    """(registry read ms, sequential probes ms): the loop probing one tenant after another."""
    from tursotui.session.workspace import Workspace
    from tursotui.tenant.health import probe

    start = time.perf_counter()
    workspace = await Workspace.open(_settings(data_dir))
    try:
        tenants = await workspace.registry.tenants()
        registry_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        for tenant in tenants:
            health = await probe(workspace, tenant)
            if not health.reachable:
                raise RuntimeError(f"B5: {tenant.slug} did not answer: {health.error}")
        return registry_ms, (time.perf_counter() - start) * 1000
    finally:
        await workspace.close()


async def run(quick: bool) -> list[Figure]:
    tenants = 20 if quick else 500
    repeat = 1 if quick else 3
    data_dir = await _fleet(tenants)
    runs = [await _screen_run(data_dir, tenants) for _ in range(repeat)]
    registry_ms, sequential_ms = await _sequential(data_dir)
    interactive = statistics.median(r[0] for r in runs)
    health_all = statistics.median(r[1] for r in runs)
    return _local_figures(tenants, repeat, interactive, health_all, registry_ms, sequential_ms) + (
        await _token_figures(tenants, repeat)
    )


def _local_figures(
    tenants: int,
    repeat: int,
    interactive: float,
    health_all: float,
    registry_ms: float,
    sequential_ms: float,
) -> list[Figure]:
    return [
        Figure(
            "B5.tenants_interactive_ms",
            round(interactive, 1),
            "ms",
            baseline=round(registry_ms + sequential_ms, 1),
            bar="<= 1000",
            note=f"{tenants} registry rows listed and `/` answered (median of {repeat})",
        ),
        Figure(
            "B5.health_all_ms",
            round(health_all, 1),
            "ms",
            baseline=round(sequential_ms, 1),
            bar="<= 3000",
            note=f"every tenant's health shown, concurrent probes (median of {repeat})",
        ),
    ]


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
    import sys
    import tempfile

    tests = REPO / "tests"
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    from support.jwt_kit import JWTKeys
    from support.platform_server import FakeDatabase, platform_in_thread
    from support.servers import start_sqld
    from tursotui.db import connect
    from tursotui.demo.build import seed_tenant
    from tursotui.session.registry import Registry
    from tursotui.tenant.migrations import load_folder, migrate

    keys = JWTKeys()
    token = keys.token("rw", expires_in=None)
    server = start_sqld(keys.public_key)
    workdir = Path(tempfile.mkdtemp(prefix="b5-tokens-"))
    real_tenants = Registry.tenants
    try:
        conn = await connect(server.http_url, token, name="template")
        try:
            await migrate(conn, load_folder(None))
            await seed_tenant(conn, posts=POSTS_PER_TENANT, seed=5)
        finally:
            await conn.close()

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
            async def named(self: Registry) -> list:
                import dataclasses

                return [dataclasses.replace(t, db_name=t.slug) for t in await real_tenants(self)]

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
                note=f"every tenant's health shown; baseline: tokens stored (median of {repeat})",
            ),
        ]
    return figures

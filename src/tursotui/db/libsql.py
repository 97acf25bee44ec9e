"""libsql-client's vocabulary (`LibsqlError`, `Statement`, `ResultSet`...) without its transports.

The package's `__init__` imports its HTTP and WebSocket clients, and with them aiohttp (about
100 ms of a start-up), although only `ws://` tenants use them. The classes tursotui shares
with it live in two small modules, `libsql_client.client` and `libsql_client.result`, that
import nothing heavy: they are loaded here with the package's `__init__` put off until a
name only it defines is asked for. There is one package and one `LibsqlError` class
whichever is imported first, so `except LibsqlError` holds everywhere.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING

_PACKAGE = "libsql_client"


def _load_parts() -> tuple[ModuleType, ModuleType]:
    """`libsql_client.client` and `.result`, the package's `__init__` put off until needed."""
    if _PACKAGE not in sys.modules:
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            raise ImportError(f"{_PACKAGE} is not installed")
        loader = spec.loader
        # The package module, not yet run: it has the package's search path, so its
        # submodules import as usual, and it runs its own `__init__` (the transports,
        # aiohttp) the first time a name it does not have yet is asked of it
        # (`libsql_client.create_client`, `from libsql_client import ...`).
        package = importlib.util.module_from_spec(spec)

        def finish_import(name: str) -> object:
            del package.__dict__["__getattr__"]
            loader.exec_module(package)
            return getattr(package, name)

        package.__dict__["__getattr__"] = finish_import
        sys.modules[_PACKAGE] = package
    client = importlib.import_module(f"{_PACKAGE}.client")
    result = importlib.import_module(f"{_PACKAGE}.result")
    return client, result


if TYPE_CHECKING:
    # The checker reads the package as before (it ships no types: every name is Any).
    from libsql_client import (
        Client,
        InArgs,
        InStatement,
        InValue,
        LibsqlError,
        ResultSet,
        Row,
        Statement,
        Transaction,
        Value,
    )
else:
    _client, _result = _load_parts()
    Client = _client.Client
    InArgs = _client.InArgs
    InStatement = _client.InStatement
    InValue = _client.InValue
    LibsqlError = _client.LibsqlError
    Statement = _client.Statement
    Transaction = _client.Transaction
    ResultSet = _result.ResultSet
    Row = _result.Row
    Value = _result.Value

__all__ = [
    "Client",
    "InArgs",
    "InStatement",
    "InValue",
    "LibsqlError",
    "ResultSet",
    "Row",
    "Statement",
    "Transaction",
    "Value",
]

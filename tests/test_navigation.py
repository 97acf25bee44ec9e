"""Screens open one another through `tursotui.ui.navigation`: every name in it must resolve."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from textual.screen import Screen

from tursotui.provision.usage import TenantUsage
from tursotui.session.registry import Tenant
from tursotui.ui import navigation

OPENERS = [
    (name, fn)
    for name, fn in inspect.getmembers(navigation, inspect.isfunction)
    if fn.__module__ == navigation.__name__ and not name.startswith("_") and name != "open_by_name"
]


def test_every_screen_named_loads_the_class_it_names() -> None:
    assert len(navigation.SCREENS) >= 9
    for class_name, module in navigation.SCREENS.items():
        screen_class = getattr(importlib.import_module(f"tursotui.ui.screens.{module}"), class_name)
        assert issubclass(screen_class, Screen), class_name


@pytest.mark.parametrize(("name", "opener"), OPENERS, ids=[name for name, _ in OPENERS])
def test_every_opener_reaches_a_screen_that_takes_its_arguments(
    name: str, opener: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str, tuple[Any, ...]]] = []

    def record(app: object, module: str, class_name: str, *args: Any) -> None:
        asked.append((module, class_name, args))

    monkeypatch.setattr(navigation, "open_by_name", record)
    tenant = Tenant(slug="acme", name="Acme", url="file:acme.db")
    parameters = list(inspect.signature(opener).parameters)[1:]  # after the app
    values = {
        "tenant": tenant,
        "post_id": "p1",
        "mode": "comments",
        "email": "a@example.com",
        "branch": "acme-b",
        "usage": TenantUsage("acme"),
    }
    opener(object(), *(values[p] for p in parameters))
    [(module, class_name, args)] = asked
    assert navigation.SCREENS[class_name] == module
    screen_class = getattr(importlib.import_module(f"tursotui.ui.screens.{module}"), class_name)
    inspect.signature(screen_class).bind(*args)  # raises TypeError if the screen takes others


def test_every_screen_named_has_an_opener() -> None:
    opened: set[str] = set()
    for _, opener in OPENERS:
        source = inspect.getsource(opener)
        opened.update(name for name in navigation.SCREENS if f'"{name}"' in source)
    assert opened == set(navigation.SCREENS)

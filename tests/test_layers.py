"""The package's layers, written down and checked.

From the bottom up (a module may import its own layer and the layers below it, never above):

0. leaves: `tursotui.sqltext` (SQL text: tokenizer, splitter, classifier) and
   `tursotui.errors` (the error root); they import nothing from tursotui.
1. `tursotui.db`: one connection interface for every libSQL URL.
   `tursotui.fanout`, the one helper that asks many tenants at once, is a leaf too: one
   tenant's code (health, backups, undo) and the fleet's both use it.
2. the domain, in the order session (settings, registry, tokens, workspace, audit,
   replicas) < one tenant (moderation, health, indexes, migrations, backup, undo, authors)
   < the fleet (overview, migrate, search, queue, authors, actions); beside them the Turso
   Platform API and the demo fleet.
3. the console's SQL (`tursotui.console`) and provisioning (`tursotui.provision`), which
   know nothing of each other.
4. the front ends: `tursotui.cli` and `tursotui.ui`.

And no import cycles anywhere: a cycle makes import order matter and hides which module
owns what. Imports inside functions count (they still tie the modules together); imports
under `if TYPE_CHECKING:` do not take part in cycles (they never run), but still must
respect the layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tursotui"

LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "tursotui",
        "tursotui.sqltext",
        "tursotui.errors",
        "tursotui.secret",
        "tursotui.words",
        "tursotui.display",
        "tursotui.fanout",
        "tursotui.heap",
    ),
    ("tursotui.db",),
    (
        "tursotui.session",
        "tursotui.tenant",
        "tursotui.fleet",
        "tursotui.platform",
        "tursotui.demo",
    ),
    ("tursotui.console", "tursotui.provision"),
    ("tursotui.cli", "tursotui.ui", "tursotui.__main__"),
)
"""Each layer's top-level modules and packages, bottom first."""

INDEPENDENT: tuple[tuple[str, ...], ...] = (("tursotui.console", "tursotui.provision"),)

DOMAIN_ORDER: tuple[str, ...] = ("tursotui.session", "tursotui.tenant", "tursotui.fleet")
"""Within the domain, bottom first: a session holds no tenant logic, one tenant knows nothing
of the fleet. So the packages themselves make no cycle either (module cycles are checked
below; this keeps the groups apart)."""
"""Groups whose members never import one another."""


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to a module of the package."""

    source: str
    target: str
    line: int
    type_only: bool


def _modules(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (`tursotui.db` for `db/__init__.py`)."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, modules: Mapping[str, Path]) -> list[Import]:
    """What the module `name` imports from the package, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[Import] = []

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def add(dotted: str, node: ast.stmt, type_only: bool) -> None:
        target = resolve(dotted)
        if target is not None and target != name:
            found.append(Import(name, target, node.lineno, type_only))

    def walk(node: ast.AST, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    visit(statement, True)
                for statement in child.orelse:
                    visit(statement, type_only)
            else:
                visit(child, type_only)

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, type_only)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, up `level - 1` packages
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                # `from pkg import sub` imports the submodule when there is one
                submodule = f"{module}.{alias.name}"
                add(submodule if submodule in modules else module, node, type_only)
        walk(node, type_only)

    walk(tree, False)
    return found


def import_graph(package: Path = PACKAGE, *, type_only: bool = False) -> dict[str, set[str]]:
    """Module → the package's modules it imports (with `type_only`, also TYPE_CHECKING ones)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for found in _imports(name, path, modules):
            if type_only or not found.type_only:
                graph[name].add(found.target)
    return graph


def all_imports(package: Path = PACKAGE) -> list[Import]:
    modules = _modules(package)
    return [found for name, path in modules.items() for found in _imports(name, path, modules)]


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(start: str) -> None:
        # Iterative, so a deep import chain cannot hit the recursion limit.
        work: list[tuple[str, list[str]]] = [(start, sorted(graph.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(found)


def layer_of(module: str) -> int | None:
    """The layer of `module`: the layer of the longest listed name it is, or is inside."""
    best: tuple[int, int] | None = None  # (length of the match, layer)
    for number, members in enumerate(LAYERS):
        for member in members:
            inside = module == member or module.startswith(member + ".")
            if inside and (best is None or len(member) > best[0]):
                best = (len(member), number)
    return None if best is None else best[1]


def test_every_module_has_a_layer() -> None:
    """A new top-level module must be given its place in the layers above."""
    unplaced = sorted(name for name in _modules(PACKAGE) if layer_of(name) is None)
    assert unplaced == [], f"modules in no layer (add them to LAYERS): {unplaced}"


def test_no_module_imports_a_layer_above_it() -> None:
    upward = [
        f"{found.source}:{found.line} imports {found.target} "
        f"(layer {layer_of(found.target)} above {layer_of(found.source)})"
        for found in all_imports()
        if (layer_of(found.target) or 0) > (layer_of(found.source) or 0)
    ]
    assert upward == [], "imports against the layers:\n" + "\n".join(upward)


def test_the_leaves_import_nothing_from_tursotui() -> None:
    leaves = [
        f"{found.source}:{found.line} imports {found.target}"
        for found in all_imports()
        if found.source in ("tursotui.sqltext", "tursotui.errors")
    ]
    assert leaves == []


def test_independent_groups_do_not_import_each_other() -> None:
    def inside(module: str, member: str) -> bool:
        return module == member or module.startswith(member + ".")

    crossing = [
        f"{found.source}:{found.line} imports {found.target}"
        for group in INDEPENDENT
        for found in all_imports()
        for a in group
        for b in group
        if a != b and inside(found.source, a) and inside(found.target, b)
    ]
    assert crossing == []


def test_the_domain_packages_import_only_those_below_them() -> None:
    def package(module: str) -> int | None:
        for index, name in enumerate(DOMAIN_ORDER):
            if module == name or module.startswith(name + "."):
                return index
        return None

    upward = [
        f"{found.source}:{found.line} imports {found.target}"
        for found in all_imports()
        if (source := package(found.source)) is not None
        and (target := package(found.target)) is not None
        and target > source
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], f"import cycles: {found}"


def test_the_checks_see_the_imports() -> None:
    """Guards the checks above against passing because they read nothing."""
    graph = import_graph()
    assert len(graph) > 50
    assert "tursotui.db.errors" in graph["tursotui.db.http"]
    assert "tursotui.errors" in graph["tursotui.session.settings"]
    # a lazy import inside a function counts
    assert "tursotui.ui.screens.fleet_migration" in graph["tursotui.ui.screens.fleet"]
    # relative imports resolve as absolute ones do
    assert layer_of("tursotui.ui.screens.fleet") == len(LAYERS) - 1
    assert layer_of("tursotui.db.http") == 1


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"a"}}, [["a"]]),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c", "a"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(graph) == expected


def test_the_cycle_finder_reads_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import X\n"
        "from . import a\n"
    )
    (package / "c.py").write_text("import pkg.b\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
    assert "pkg.c" in import_graph(package, type_only=True)["pkg.b"]


def _textual_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_ui_package_imports_textual() -> None:
    """The IO and domain layers know nothing of the UI (only `tursotui.ui` and `tui` start it)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "ui" or relative == Path("cli/tui.py"):
            continue
        if any(name == "textual" or name.startswith("textual.") for name in _textual_imports(path)):
            offenders.append(str(relative))
    assert offenders == [], f"modules outside tursotui.ui import textual: {offenders}"


def test_the_check_sees_the_ui_package() -> None:
    """Guards the test above against passing because it read nothing."""
    assert any(
        "textual" in name
        for path in (PACKAGE / "ui").rglob("*.py")
        for name in _textual_imports(path)
    )

"""The IO layers know nothing of the UI (STYLE.md: IO knows nothing of the UI)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tursotui"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_ui_package_imports_textual() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "ui" or relative == Path("cli/tui.py"):
            continue
        if any(name == "textual" or name.startswith("textual.") for name in _imports(path)):
            offenders.append(str(relative))
    assert offenders == [], f"modules outside tursotui.ui import textual: {offenders}"


def test_the_check_sees_the_ui_package() -> None:
    """Guards the test above against passing because it read nothing."""
    assert any(
        "textual" in name for path in (PACKAGE / "ui").rglob("*.py") for name in _imports(path)
    )

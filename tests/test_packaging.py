"""The wheel ships what the app loads at run time: styles and the built-in migrations,
and the `py.typed` marker that lets type checkers read the package's own hints."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "tursotui"


def test_the_wheel_holds_every_tcss_and_migration_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("tursotui-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    needed = {
        "tursotui/" + path.relative_to(PACKAGE).as_posix()
        for pattern in ("**/*.tcss", "migrations_builtin/**/*")
        for path in PACKAGE.glob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert any(name.endswith(".tcss") for name in needed)
    assert needed - shipped == set()
    assert "tursotui/py.typed" in shipped

"""Figures for docs/reliability.md: how many inputs and faults the adversarial suite tried.

Tests call `count(name, n)`; at the end of the session `tests/adversarial/conftest.py`
writes the totals to `.cache/adversarial/figures.json` (git-ignored), which
`python tests/adversarial/figures.py` prints as the table of the document.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

FIGURES = Path(__file__).resolve().parents[2] / ".cache" / "adversarial" / "figures.json"

_counts: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    """Add `n` to the figure `name` (inputs tried, faults injected, losses found...)."""
    _counts[name] += n


def save() -> None:
    """Merge this session's figures into the JSON file (a partial run updates its own keys)."""
    if not _counts:
        return
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    try:
        figures = json.loads(FIGURES.read_text())
    except (OSError, ValueError):
        figures = {}
    figures.update(_counts)
    FIGURES.write_text(json.dumps(dict(sorted(figures.items())), indent=2) + "\n")

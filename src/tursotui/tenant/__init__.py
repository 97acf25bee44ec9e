"""One tenant database: moderation, health, indexes, migrations and backups."""

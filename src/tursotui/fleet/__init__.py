"""Every tenant at once: overview, search, moderation queue, fleet migrations, fan-out."""

"""tursotui: a keyboard-driven console for database-per-tenant fleets on Turso/libSQL."""

__version__ = "0.1.0"

"""The demo fleet: a local registry and tenants with realistic and hostile data."""

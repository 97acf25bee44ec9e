"""tursotui's benchmarks: `python -m benchmarks [ID ...] [--json] [--quick]`."""

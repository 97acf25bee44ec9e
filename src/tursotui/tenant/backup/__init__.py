"""Backups of tenant databases into plain SQLite files, with a manifest that can be verified.

A local tenant is copied with SQLite's online backup API in one step, which
holds a read lock for the copy, so the file is one consistent snapshot even
while the app writes. A remote tenant is copied table by table through its
connection inside one interactive (read) transaction, so every table comes
from the same snapshot where the server keeps the transaction's stream.

Every backup directory holds `manifest.json`: per tenant the file name, the
time, the schema version, the row count of every table and the SHA-256 of the
file. `verify()` opens each file and compares it with the manifest.
"""

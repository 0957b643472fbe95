"""Database settings for a bulk load: an index off, a bigger cache, rarer checkpoints.

A batch of customers has events spread over two years, so each batch lands all over the
event index on (type, time); at ten million rows, keeping it up to date row by row cost
more than building it once. Indexes that batches only append to (contact, order, campaign)
stay: rebuilding those cost more than it saved (measured at 13 million events). The
definition is read from the database and replayed verbatim: same index, same name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from django.db import connection, models

_SQLITE = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
    "AND sql IS NOT NULL"  # constraint indexes have no SQL, and stay
)
_POSTGRESQL = (
    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid "
    "WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary"
)


def _secondary_indexes(model: type[models.Model]) -> list[tuple[str, str]]:
    query = _SQLITE if connection.vendor == "sqlite" else _POSTGRESQL
    with connection.cursor() as cursor:
        cursor.execute(query, [model._meta.db_table])
        return [(str(name), str(sql)) for name, sql in cursor.fetchall()]


@contextlib.contextmanager
def indexes_dropped(
    model: type[models.Model], fields: Sequence[str], *, enabled: bool
) -> Iterator[None]:
    """Drop ``model``'s Meta index on ``fields`` for the block; ``finally`` builds it again,
    after an error or Ctrl-C too (only a killed process leaves it missing)."""
    if not enabled or connection.vendor not in {"sqlite", "postgresql"}:
        yield
        return
    names = {index.name for index in model._meta.indexes if list(index.fields) == list(fields)}
    indexes = [(name, sql) for name, sql in _secondary_indexes(model) if name in names]
    with connection.cursor() as cursor:
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, sql in indexes:
                cursor.execute(sql)


@contextlib.contextmanager
def sqlite_bulk_settings() -> Iterator[None]:
    """On SQLite, a 256 MB page cache and a WAL checkpoint every 40 MB instead of 4 MB while
    loading (10-25% faster at 100,000 contacts); the connection's settings come back after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -262144")
        cursor.execute("PRAGMA wal_autocheckpoint = 10000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {cache_size}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {checkpoint}")

"""The physical order of a PostgreSQL table's columns, chosen for the queries that scan it.

PostgreSQL reads a row's columns one after another up to the last one a query needs (it
"deforms" the tuple), a few nanoseconds a column. A segment count filters every contact, and
the columns segments filter on most (engagement, purchase flag, status, audience, place,
interests) had come last, behind names, email, phone and consent text: reaching
``last_opened_at``, the 32nd column, cost 110 ms of a 270 ms single-threaded scan of a
million contacts, and the nested and/or/not segment of ``bench/segments.py`` ran 28-35 %
faster with them in front (341 against 247 ms single-threaded, 387 against 252 ms parallel).

``ALTER TABLE`` cannot move a column, so ``rebuild_with_columns_first`` rebuilds the table
once, in one transaction, from the catalog: the same columns (types, collations, defaults,
``NOT NULL``, identity, generated expressions), the rows, its constraints and indexes under
their own names, and every foreign key of other tables that points at it, re-validated. It
locks the table and its referrers meanwhile: a migration's work, seconds per million rows.
SQLite is left alone: it finds a column through the record's header of sizes, cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    definition: str  # what follows the name in CREATE TABLE
    generated: bool  # a stored generated column: not copied, computed again
    identity: bool  # its sequence must go on from where the old one stood


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_names(cursor: Any, table: str) -> list[str]:
    """The table's live columns in their physical order."""
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def rebuild_with_columns_first(cursor: Any, table: str, first: Sequence[str]) -> bool:
    """Rebuild ``table`` with the columns ``first`` (those it has) leading, in that order,
    and the others after them as they were. False, and nothing done, when they lead already.
    Run it inside a transaction: a failure part-way leaves the table as it was. Deferred
    constraints are checked at once from here to the end of that transaction."""
    columns = _columns(cursor, table)
    by_name = {column.name: column for column in columns}
    leading = [by_name[name] for name in first if name in by_name]
    order = leading + [column for column in columns if column not in leading]
    if order == columns:
        return False
    constraints = _own_constraints(cursor, table)
    indexes = _own_indexes(cursor, table)
    referrers = _referring_keys(cursor, table)
    identity = _identity_next_values(cursor, table, columns)
    old = f"{table}__before_reorder"
    # Deferred checks of rows written earlier in this transaction must run now: a table with
    # pending trigger events cannot be altered.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(old)}")
    body = ", ".join(f"{quote(column.name)} {column.definition}" for column in order)
    cursor.execute(f"CREATE TABLE {quote(table)} ({body})")
    copied = ", ".join(quote(column.name) for column in order if not column.generated)
    cursor.execute(
        f"INSERT INTO {quote(table)} ({copied}) OVERRIDING SYSTEM VALUE "  # noqa: S608 - catalog names
        f"SELECT {copied} FROM {quote(old)}"
    )
    for referrer, name, _ in referrers:
        cursor.execute(f"ALTER TABLE {referrer} DROP CONSTRAINT {quote(name)}")
    cursor.execute(f"DROP TABLE {quote(old)}")  # fails, undoing everything, if a view uses it
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    for definition in indexes:
        cursor.execute(definition)
    for referrer, name, definition in referrers:
        cursor.execute(f"ALTER TABLE {referrer} ADD CONSTRAINT {quote(name)} {definition}")
    for name, next_value in identity.items():
        cursor.execute(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(name)} RESTART WITH {next_value:d}"
        )
        _rename_identity_sequence(cursor, table, name)
    cursor.execute(f"ANALYZE {quote(table)}")
    return True


def not_rebuildable(cursor: Any, table: str) -> str:
    """Why the table should be left as it is (what the rebuild would not carry over: grants,
    triggers, row security, storage settings, inheritance, a view reading it), or "" when
    nothing stands in the way."""
    cursor.execute(
        "SELECT c.relacl IS NOT NULL, c.relrowsecurity, "
        "EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), "
        "c.reloptions IS NOT NULL, c.relkind <> 'r' OR EXISTS (SELECT 1 FROM pg_inherits i "
        "WHERE c.oid IN (i.inhrelid, i.inhparent)), "
        "EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
        "WHERE d.refobjid = c.oid AND d.classid = 'pg_rewrite'::regclass) "
        "FROM pg_class c WHERE c.oid = %s::regclass",
        [table],
    )
    found = cursor.fetchone()
    reasons = (
        "it has grants of its own",
        "it has row security",
        "it has triggers",
        "it has storage settings",
        "it is partitioned or inherited",
        "a view reads it",
    )
    return ", ".join(reason for reason, present in zip(reasons, found, strict=True) if present)


def _columns(cursor: Any, table: str) -> list[_Column]:
    cursor.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, "
        "a.attgenerated, pg_get_expr(d.adbin, d.adrelid), "
        "CASE WHEN a.attcollation <> t.typcollation THEN c.collname END "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "LEFT JOIN pg_collation c ON c.oid = a.attcollation "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [table],
    )
    columns = []
    for name, kind, not_null, identity, generated, expression, collation in cursor.fetchall():
        parts = [kind]
        if collation:
            parts.append(f"COLLATE {quote(collation)}")
        if identity:
            parts.append(f"GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY")
        elif generated == "s":
            parts.append(f"GENERATED ALWAYS AS ({expression}) STORED")
        elif expression is not None:
            parts.append(f"DEFAULT {expression}")
        if not_null:
            parts.append("NOT NULL")
        columns.append(_Column(name, " ".join(parts), generated == "s", bool(identity)))
    return columns


def _own_constraints(cursor: Any, table: str) -> list[tuple[str, str]]:
    """Primary key and unique first: other constraints (a foreign key to itself) need them.
    NOT NULL is a column property here, whichever way the server version stores it."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c', 'f', 'x') "
        "ORDER BY contype NOT IN ('p', 'u'), conname",
        [table],
    )
    return [(name, definition) for name, definition in cursor.fetchall()]


def _own_indexes(cursor: Any, table: str) -> list[str]:
    """CREATE INDEX statements of the indexes that no constraint owns (those come back with
    their constraint), read before the rename so that they name the table as it will be."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) "
        "ORDER BY i.indexrelid",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _referring_keys(cursor: Any, table: str) -> list[tuple[str, str, str]]:
    """(table, name, definition) of other tables' foreign keys to this one."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE confrelid = %s::regclass AND conrelid <> confrelid AND contype = 'f' "
        "ORDER BY conrelid::regclass::text, conname",
        [table],
    )
    return [(referrer, name, definition) for referrer, name, definition in cursor.fetchall()]


def _identity_next_values(cursor: Any, table: str, columns: list[_Column]) -> dict[str, int]:
    """Where each identity column's sequence stands, so that new rows never reuse an id."""
    values = {}
    for column in columns:
        if not column.identity:
            continue
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [quote(table), column.name])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - catalog
        last, called = cursor.fetchone()
        values[column.name] = int(last) + 1 if called else int(last)
    return values


def _rename_identity_sequence(cursor: Any, table: str, column: str) -> None:
    """The new sequence took a suffixed name while the old one still existed; give it back
    the usual one."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [quote(table), column])
    sequence = cursor.fetchone()[0]
    usual = f"{table}_{column}_seq"
    if sequence.rpartition(".")[2].strip('"') != usual:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {quote(usual)}")

"""Set-based writes for imports and demo data: one ``executemany`` per batch.

Building model instances costs more than the insert itself at import speeds, so these
helpers write rows as tuples, converting each value with the field's own
``get_db_prep_save``, so JSON, dates and decimals reach either database as the ORM would
send them. All SQL is parameterised; table and column names come from model metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models


def _preparers(model: type[models.Model], names: Sequence[str]) -> list[Callable[[Any], Any]]:
    preparers: list[Callable[[Any], Any]] = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        if isinstance(field, models.JSONField | models.DateTimeField | models.DateField
                      | models.DecimalField):
            preparers.append(lambda value, f=field: f.get_db_prep_save(value, connection))
        else:
            preparers.append(lambda value: value)
    return preparers


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return connection.ops.quote_name(field.column)


def insert_rows(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]],
    *, ignore_conflicts: bool = False,
) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(_column(model, n) for n in names)
    marks = ", ".join(["%s"] * len(names))
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict}"  # noqa: S608 - metadata
    preparers = _preparers(model, names)
    params = [[prep(v) for prep, v in zip(preparers, row, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def update_rows(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Update ``names`` of each row; the last item of each row is its primary key."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{_column(model, n)} = %s" for n in names)
    pk = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
    sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608 - metadata
    preparers = [*_preparers(model, names), lambda value: value]
    params = [[prep(v) for prep, v in zip(preparers, row, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)

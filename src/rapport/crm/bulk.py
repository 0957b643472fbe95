"""Set-based writes for imports and demo data: one ``executemany`` per batch.

Building model instances costs more than the insert itself at import speeds, so these
helpers write rows as tuples, converting each value with the field's own
``get_db_prep_save``, so JSON, dates and decimals reach either database as the ORM would
send them. All SQL is parameterised; table and column names come from model metadata.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models


def _preparers(model: type[models.Model], names: Sequence[str]) -> list[Callable[[Any], Any]]:
    """One converter per column, calling the backend's adapter directly.

    ``Field.get_db_prep_save`` goes through several layers per value; at 25,000 rows a
    second that alone cost more than the insert. Datetimes repeat (every row of a batch is
    stamped with the same ``now``), so the last conversion is reused.
    """
    ops = connection.ops
    preparers: list[Callable[[Any], Any]] = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        if isinstance(field, models.JSONField):
            preparers.append(
                _json_preparer(functools.partial(ops.adapt_json_value, encoder=field.encoder))
            )
        elif isinstance(field, models.DateTimeField):
            preparers.append(_memo_last(ops.adapt_datetimefield_value))
        elif isinstance(field, models.DateField):
            preparers.append(ops.adapt_datefield_value)
        elif isinstance(field, models.DecimalField):
            digits, places = field.max_digits, field.decimal_places
            preparers.append(
                functools.partial(
                    ops.adapt_decimalfield_value, max_digits=digits, decimal_places=places
                )
            )
        else:
            preparers.append(_same)
    return preparers


def _json_preparer(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """JSON values repeat (interests, tags, an empty ``{}``): encode each distinct one once."""
    cache: dict[Any, Any] = {}

    def prepare(value: Any) -> Any:
        if isinstance(value, list) and len(cache) < 10_000:
            key: Any = tuple(value)
        elif isinstance(value, dict) and not value:
            key = "{}"
        else:
            return convert(value)
        try:
            return cache[key]
        except (KeyError, TypeError):  # TypeError: a list holding unhashable items
            prepared = convert(value)
            with contextlib.suppress(TypeError):
                cache[key] = prepared
            return prepared

    return prepare


def _same(value: Any) -> Any:
    return value


def _memo_last(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    last: list[Any] = [object(), None]

    def prepare(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return prepare


def _params(
    preparers: list[Callable[[Any], Any]], rows: Sequence[Sequence[Any]]
) -> list[list[Any]]:
    """Rows with each value converted; only the columns that need converting are visited."""
    converting = [(i, prep) for i, prep in enumerate(preparers) if prep is not _same]
    params = []
    for row in rows:
        if len(row) != len(preparers):
            raise ValueError(f"a row has {len(row)} values for {len(preparers)} columns")
        values = list(row)
        for index, prep in converting:
            values[index] = prep(values[index])
        params.append(values)
    return params


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return connection.ops.quote_name(field.column or name)


def insert_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(_column(model, n) for n in names)
    marks = ", ".join(["%s"] * len(names))
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict}"  # noqa: S608 - metadata
    with connection.cursor() as cursor:
        cursor.executemany(sql, _params(_preparers(model, names), rows))


def update_rows(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Update ``names`` of each row; the last item of each row is its primary key."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{_column(model, n)} = %s" for n in names)
    pk = connection.ops.quote_name(model._meta.pk.column or "id")
    sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608 - metadata
    with connection.cursor() as cursor:
        cursor.executemany(sql, _params([*_preparers(model, names), _same], rows))

"""JSON-array lookups that Django lacks on SQLite: ``interests__rapport_has="x"``.

The item is always a bound parameter; on PostgreSQL ``@>`` can use a GIN index.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import JSONField, Lookup
from django.db.models.sql.compiler import SQLCompiler


@JSONField.register_lookup
class ArrayHas(Lookup[Any]):
    """The JSON array holds this string."""

    lookup_name = "rapport_has"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} @> %s::jsonb", (*lhs_params, json.dumps([self.rhs]))
        return (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)",  # noqa: S608 - lhs is a column
            (*lhs_params, self.rhs),
        )


@JSONField.register_lookup
class ArrayNotEmpty(Lookup[Any]):
    """``interests__rapport_nonempty=True``: the JSON array has at least one item."""

    lookup_name = "rapport_nonempty"
    prepare_rhs = False

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        length = "jsonb_array_length" if connection.vendor == "postgresql" else "json_array_length"
        comparison = ">" if self.rhs else "="
        return f"COALESCE({length}({lhs}), 0) {comparison} 0", tuple(lhs_params)

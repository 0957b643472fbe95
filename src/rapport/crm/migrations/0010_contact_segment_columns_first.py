"""Rebuild the contacts table on PostgreSQL with the columns segments filter on in front.

Why and how: ``rapport.crm.column_order``. The order is written here, not imported, so that
this migration keeps meaning what it meant when later ones change the model. A database
whose contacts table carries grants, triggers or views of its own is left as it is, with a
note: the rebuild would not carry them over, and the order only costs speed.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from rapport.crm.column_order import not_rebuildable, rebuild_with_columns_first

# Fixed-width columns first (cheap to step over), then the short text and JSON that segment
# rules read; names, email, phone and consent text after them.
SEGMENT_COLUMNS_FIRST = (
    "id",
    "created_at",
    "last_opened_at",
    "last_clicked_at",
    "birthday",
    "birth_month_day",
    "has_ordered",
    "tracking",
    "status",
    "audience",
    "country",
    "locale",
    "timezone",
    "interests",
    "tags",
    "region",
    "city",
    "custom",
)


def forward(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        reason = not_rebuildable(cursor, "crm_contact")
        if reason:
            print(f"\n  crm_contact keeps its column order: {reason}.")
            return
        rebuild_with_columns_first(cursor, "crm_contact", SEGMENT_COLUMNS_FIRST)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_contact_tracking"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]

"""GIN indexes on interests and tags, on PostgreSQL only (SQLite has no such index): segment
conditions like "interested in photography" become an index look-up instead of a scan."""

from django.db import migrations

COLUMNS = ("interests", "tags")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS crm_contact_{column}_gin "
            f"ON crm_contact USING gin ({column} jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS crm_contact_{column}_gin")


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_contact_birth_month_day")]
    operations = [migrations.RunPython(create, drop)]

"""Search by any part of an address, reference, provider id or code (orders.search).

PostgreSQL: the pg_trgm extension (CREATE EXTENSION IF NOT EXISTS: a trusted extension since
PostgreSQL 13, so a database owner without superuser may create it) and one trigram GIN index
per searched column, the code's on the expression orders.search matches. Other databases: no-op
(SQLite searches with INSTR over the rows, orders.search says why that is acceptable there).
"""

from django.db import migrations

INDEXES = {
    "order_address_trgm": "receive_address",
    "order_reference_trgm": "reference",
    "order_provider_ref_trgm": "provider_ref",
    "order_code_trgm": "(REPLACE((code)::varchar, '-', ''))",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON orders_order USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_delivery")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

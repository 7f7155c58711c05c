"""Loading many generated rows fast, for the bench data (balances.benchdata).

COPY on PostgreSQL, with the table's plain indexes dropped for the load and built again after;
bulk_create in batches elsewhere (the SQLite smoke test). Rows are dicts by attname, ids included.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import DatabaseError, connection, models, transaction

logger = logging.getLogger("energydash.bench")


def load(model: type[models.Model], rows: Iterator[dict]) -> None:
    """COPY on PostgreSQL; bulk_create in batches elsewhere. Missing fields get their default."""
    fields = list(model._meta.concrete_fields)
    defaults = {f.attname: _default(f) for f in fields}
    if connection.vendor != "postgresql":
        batch: list[models.Model] = []
        for row in rows:
            batch.append(model(**{**defaults, **_python(model, row)}))
            if len(batch) >= 2000:
                model.objects.bulk_create(batch)
                batch.clear()
        model.objects.bulk_create(batch)
        return
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, _without_indexes(cursor, model._meta.db_table):
        cursor.execute("SET LOCAL synchronous_commit TO off")
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            lines: list[str] = []
            for row in rows:
                lines.append("\t".join([_text(row.get(name, defaults[name])) for name in names]))
                if len(lines) >= 5000:
                    lines.append("")
                    copy.write("\n".join(lines))
                    lines.clear()
            if lines:
                lines.append("")
                copy.write("\n".join(lines))


def _text(value: Any) -> str:
    """One value in COPY's text format (our values never hold tabs, newlines or backslashes)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@contextmanager
def _without_indexes(cursor: Any, table: str) -> Iterator[None]:
    """Drop the table's plain indexes for the load and build them again after: one sort per
    index instead of a million insertions into each. Primary keys and unique constraints stay."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.tablename = %s AND i.schemaname = current_schema() AND NOT EXISTS ("
        " SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    saved = cursor.fetchall()
    for name, _ in saved:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    # The generated rows only point at rows made just before: skip a foreign-key check per row
    # where the role may (superuser, as on the bench database); otherwise check them all now,
    # as indexes cannot be built while deferred checks are pending.
    replica = _try(cursor, "SET LOCAL session_replication_role TO replica")
    yield
    if replica:
        cursor.execute("SET LOCAL session_replication_role TO origin")
    else:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    started = time.monotonic()
    cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
    for _, definition in saved:
        cursor.execute(definition)
    logger.info(
        "seed_bench_data: %d indexes of %s in %.1f s", len(saved), table, time.monotonic() - started
    )


def _try(cursor: Any, sql: str) -> bool:
    try:
        with transaction.atomic():
            cursor.execute(sql)
    except DatabaseError:
        return False
    return True


def _default(field: models.Field) -> Any:
    if field.has_default() and not callable(field.default):
        return field.default
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    return field.get_default()


def _python(model: type[models.Model], row: dict) -> dict:
    """A row for the model's constructor: JSON given as text (COPY's form) is decoded."""
    decoded = {
        f.attname: json.loads(row[f.attname])
        for f in model._meta.concrete_fields
        if isinstance(f, models.JSONField) and isinstance(row.get(f.attname), str)
    }
    return {**row, **decoded} if decoded else row


def reset_sequences(*loaded: type[models.Model]) -> None:
    """After loading explicit ids: each table's id sequence continues after its largest id."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in loaded:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))",
                [table],
            )

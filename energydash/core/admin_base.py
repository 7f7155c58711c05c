"""Admin building blocks shared by the apps' admin modules (no registrations here)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property


class ReadOnly(admin.ModelAdmin):
    """A record kept for reading: nobody adds, changes or deletes it from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- changelists of tables that grow with orders ------------------------------------------

COUNT_CAP = 10_000


def estimated_rows(model: Any, using: str) -> int | None:
    """PostgreSQL's estimate of a table's rows (pg_class.reltuples, kept by ANALYZE and
    autovacuum); None elsewhere or before the table was ever analysed."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [model._meta.db_table]
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class CappedCountPaginator(Paginator):
    """The changelist's count without counting the whole table.

    Exact up to COUNT_CAP (`SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1)`: at most cap + 1
    index entries read). Above it: the whole table's estimate on PostgreSQL when nothing is
    filtered (``estimated``), otherwise cap + 1 (``capped``: shown as "more than 10,000").
    """

    estimated = False
    capped = False

    @property
    def cap_label(self) -> str:
        return f"{COUNT_CAP:,}"

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        counted = queryset.order_by()[: COUNT_CAP + 1].count()
        if counted <= COUNT_CAP:
            return counted
        if not queryset.query.where:
            estimate = estimated_rows(queryset.model, queryset.db)
            if estimate is not None and estimate > counted:
                self.estimated = True
                return estimate
        self.capped = True
        return counted


class GrowingTable(admin.ModelAdmin):
    """A changelist that costs the same at a million rows as at ten thousand: no full COUNT(*)
    (CappedCountPaginator, no "N total" count), no date_hierarchy, and list filters with fixed
    choices only (a field's choices, or a small related table), never a DISTINCT over the table.
    Pages are OFFSET pages: the first ones are cheap, deep ones cost their offset."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would COUNT(*) every filter choice
    date_hierarchy = None
    list_per_page = 50


class PrefixFilter(admin.SimpleListFilter):
    """Filter a text field by one of a fixed set of values or prefixes (`lookup`), listed
    without a query (no DISTINCT over the table)."""

    field = ""
    lookup = "startswith"
    prefixes: tuple[tuple[str, str], ...] = ()

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return self.prefixes

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if value and value in dict(self.prefixes):
            return queryset.filter(**{f"{self.field}__{self.lookup}": value})
        return queryset

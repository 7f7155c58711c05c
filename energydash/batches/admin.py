from __future__ import annotations

from django.contrib import admin

from energydash.batches.models import Batch, BatchLine
from energydash.core.admin_base import GrowingTable, ReadOnly


class LineInline(admin.TabularInline):
    model = BatchLine
    extra = 0
    fields = (
        "number",
        "address",
        "energy",
        "status",
        "plan_account",
        "plan_price_sun",
        "order",
        "error",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Batch)
class BatchAdmin(GrowingTable, ReadOnly):
    list_display = ("created", "via", "status", "planned_total_sun")
    list_filter = ("status",)
    inlines = [LineInline]

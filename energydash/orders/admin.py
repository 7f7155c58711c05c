"""Routes and their attempts, read-only (what best-price routing did, request by request)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from energydash.core.admin_base import ReadOnly
from energydash.orders.models import Route, RouteAttempt


class AttemptInline(admin.TabularInline):
    model = RouteAttempt
    extra = 0
    fields = ("number", "account", "price_sun", "outcome", "order", "message")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Route)
class RouteAdmin(ReadOnly):
    list_display = ("created", "via", "receive_address", "energy", "status", "order")
    list_filter = ("status",)
    search_fields = ("receive_address", "via")
    inlines = [AttemptInline]

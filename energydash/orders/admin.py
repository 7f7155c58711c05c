"""Routes and their attempts, and orders, read-only: what best-price routing did request by
request, and the orders for support work. Both tables grow with orders: GrowingTable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from energydash.core.admin_base import GrowingTable, ReadOnly
from energydash.orders.models import Order, Route, RouteAttempt
from energydash.orders.search import MIN_SEARCH, search_q


class AttemptInline(admin.TabularInline):
    model = RouteAttempt
    extra = 0
    fields = ("number", "account", "price_sun", "outcome", "order", "message")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Route)
class RouteAdmin(GrowingTable, ReadOnly):
    list_display = ("created", "via", "receive_address", "energy", "status", "order")
    list_select_related = ("order", "order__account")
    list_filter = ("status",)
    search_fields = ("receive_address", "via")
    inlines = [AttemptInline]


@admin.register(Order)
class OrderAdmin(GrowingTable, ReadOnly):
    """Orders for support work: read-only, searched like the console's list (any part of the
    address, code, reference or provider id, orders.search: trigram indexes on PostgreSQL)."""

    list_display = (
        "created",
        "short_code",
        "account",
        "kind",
        "status",
        "receive_address",
        "energy",
        "cost_sun",
        "provider_ref",
    )
    list_filter = ("status", "kind", "account")  # choices and the small accounts table
    list_select_related = ("account",)
    search_fields = ("receive_address",)  # the search itself is search_q, below
    search_help_text = (
        f"Any part (at least {MIN_SEARCH} characters) of an address, order code, "
        "provider order id or reference."
    )
    readonly_fields = [f.name for f in Order._meta.fields]

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> tuple[Any, bool]:
        text = search_term.strip()
        if not text:
            return queryset, False
        if len(text) < MIN_SEARCH:
            return queryset.none(), False
        return queryset.filter(search_q(text)), False

"""Django admin for the sandbox: balances, prices and fault knobs are set here."""

from __future__ import annotations

from django.contrib import admin

from energydash.sandbox.models import SandboxAccount, SandboxAddress, SandboxCallback, SandboxOrder


@admin.register(SandboxAccount)
class SandboxAccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "provider",
        "balance_sun",
        "error_rate",
        "timeout_rate",
        "lose_response_rate",
        "delegation_delay_seconds",
        "orders_unavailable",
    )
    list_filter = ("provider",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "provider",
                    "name",
                    "api_key",
                    "api_secret",
                    "whitelist_ips",
                    "deposit_address",
                    "balance_sun",
                )
            },
        ),
        (
            "Prices and limits",
            {
                "fields": (
                    "price_sun",
                    "day_prices_sun",
                    "activation_fee_sun",
                    "min_energy",
                    "max_energy",
                )
            },
        ),
        (
            "Faults and lifecycle",
            {
                "fields": (
                    "orders_unavailable",
                    "latency_ms",
                    "error_rate",
                    "timeout_rate",
                    "lose_response_rate",
                    "hang_seconds",
                    "delegation_delay_seconds",
                )
            },
        ),
    )


@admin.register(SandboxAddress)
class SandboxAddressAdmin(admin.ModelAdmin):
    list_display = ("address", "activated", "activated_at", "note")
    list_filter = ("activated",)
    search_fields = ("address",)


class CallbackInline(admin.StackedInline):
    model = SandboxCallback
    extra = 0
    readonly_fields = ("url", "attempts", "last_status", "last_error", "delivered_at")


@admin.register(SandboxOrder)
class SandboxOrderAdmin(admin.ModelAdmin):
    list_display = (
        "ref",
        "provider",
        "account",
        "kind",
        "receive_address",
        "energy",
        "cost_sun",
        "client_ref",
        "created_at",
    )
    list_filter = ("provider", "kind")
    search_fields = ("ref", "client_ref", "receive_address")
    readonly_fields = (
        "account",
        "provider",
        "kind",
        "ref",
        "client_ref",
        "cost_sun",
        "activation_sun",
        "created_at",
    )
    inlines = [CallbackInline]


@admin.register(SandboxCallback)
class SandboxCallbackAdmin(admin.ModelAdmin):
    list_display = ("order", "url", "attempts", "last_status", "next_attempt_at", "delivered_at")
    list_filter = ("last_status",)

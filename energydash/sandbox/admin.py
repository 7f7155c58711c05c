"""Django admin for the sandbox: balances, prices and fault knobs are set here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from energydash.core.forms import write_only_field
from energydash.lib.crypto import mask
from energydash.sandbox.models import (
    ChainAccount,
    ChainConsumer,
    ChainDelegation,
    ChainNetwork,
    ChainTransfer,
    SandboxAccount,
    SandboxAddress,
    SandboxCallback,
    SandboxOrder,
)


class SandboxAccountForm(forms.ModelForm):
    """Key and secret are write-only, as for real accounts: typed into empty password inputs,
    shown afterwards only masked; blank keeps the stored value."""

    new_api_key = write_only_field(
        "API key", "itrx API-KEY, TronZap token, Netts key. Leave blank to keep the current key."
    )
    new_api_secret = write_only_field(
        "API secret", "Leave blank to keep the current secret. Not used by Netts."
    )

    class Meta:
        model = SandboxAccount
        # Every field but the write-only credentials (and their lookup digest).
        fields = [
            f.name
            for f in SandboxAccount._meta.fields
            if f.editable and f.name not in ("id", "api_key", "api_secret", "created")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("new_api_key") and not (self.instance.pk and self.instance.api_key):
            self.add_error("new_api_key", "An API key is required.")
        key = data.get("new_api_key")
        provider = data.get("provider") or self.instance.provider
        if key and provider:
            other = SandboxAccount.for_key(provider, key)
            if other is not None and other.pk != self.instance.pk:
                self.add_error("new_api_key", "Another sandbox account of this provider uses it.")
        return data

    def save(self, commit: bool = True) -> SandboxAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("new_api_key"):
            account.api_key = self.cleaned_data["new_api_key"]
        if self.cleaned_data.get("new_api_secret"):
            account.api_secret = self.cleaned_data["new_api_secret"]
        if commit:
            account.save()
        return account


@admin.register(SandboxAccount)
class SandboxAccountAdmin(admin.ModelAdmin):
    form = SandboxAccountForm
    readonly_fields = ("masked_key", "masked_secret")
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
                    "masked_key",
                    "new_api_key",
                    "masked_secret",
                    "new_api_secret",
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
                    "charge_without_order_rate",
                    "charge_without_order_once",
                    "hang_seconds",
                    "error_after_create_rate",
                    "delegation_delay_seconds",
                    "slow_delegation_rate",
                    "slow_delegation_seconds",
                    "duplicate_callback_rate",
                    "out_of_order_callback_rate",
                )
            },
        ),
        (
            "Money faults (see the sandbox README, 'Money knobs')",
            {
                "fields": (
                    "partial_refund_rate",
                    "partial_refund_percent",
                    "failed_after_accept_rate",
                    "failed_refund_percent",
                    "transient_status_rate",
                    "late_refund_rate",
                    "late_refund_seconds",
                    "unactivated_recipient_rate",
                    "balance_precision_sun",
                )
            },
        ),
        (
            "Simulated chain (what lands on chain for each energy order)",
            {
                "fields": (
                    "delegator_address",
                    "chain_never_delegates",
                    "chain_delegated_percent",
                    "chain_late_seconds",
                    "chain_undelegate_after_seconds",
                    "chain_other_party_percent",
                )
            },
        ),
    )

    @admin.display(description="stored API key")
    def masked_key(self, obj: SandboxAccount) -> str:
        return mask(obj.api_key.reveal()) if obj.api_key else "not set"

    @admin.display(description="stored API secret")
    def masked_secret(self, obj: SandboxAccount) -> str:
        return mask(obj.secret) or "not set"

    @method_decorator(sensitive_post_parameters("new_api_key", "new_api_secret"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().changeform_view(request, *args, **kwargs)


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
        "refund_sun",
        "fate",
        "client_ref",
        "created_at",
    )
    list_filter = ("provider", "kind", "fate")
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
        "refund_sun",
        "fate",
        "refund_due_at",
        "refund_due_sun",
    )
    inlines = [CallbackInline]
    actions = ["refund_orders"]

    @admin.action(description="Refund the selected orders (the provider reports them refunded)")
    def refund_orders(self, request: HttpRequest, queryset: Any) -> None:
        refunded = sum(order.refund() for order in queryset)
        self.message_user(request, f"Refunded {refunded} order(s).")


@admin.register(SandboxCallback)
class SandboxCallbackAdmin(admin.ModelAdmin):
    list_display = ("order", "url", "attempts", "last_status", "next_attempt_at", "delivered_at")
    list_filter = ("last_status",)


@admin.register(ChainNetwork)
class ChainNetworkAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "total_energy_limit",
        "total_energy_weight",
        "rate_limit_qps",
        "rate_limit_status",
    )


@admin.register(ChainAccount)
class ChainAccountAdmin(admin.ModelAdmin):
    list_display = ("address", "balance_sun", "holds_usdt", "created_at")
    search_fields = ("address",)


@admin.register(ChainDelegation)
class ChainDelegationAdmin(admin.ModelAdmin):
    list_display = (
        "receiver",
        "delegator",
        "staked_sun",
        "lands_at",
        "expires_at",
        "undelegated_at",
        "by_other_party",
        "order",
    )
    list_filter = ("by_other_party", "resource")
    search_fields = ("receiver", "delegator", "txid", "order__ref")
    raw_id_fields = ("order",)


@admin.register(ChainConsumer)
class ChainConsumerAdmin(admin.ModelAdmin):
    list_display = ("address", "transfers_per_hour", "burst", "energy_per_transfer", "enabled")
    search_fields = ("address",)


@admin.register(ChainTransfer)
class ChainTransferAdmin(admin.ModelAdmin):
    list_display = ("sender", "energy", "energy_from_stake", "burned_sun", "at")
    search_fields = ("sender", "txid")
    list_filter = ("at",)

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from energydash.core.forms import write_only_field
from energydash.core.models import AuditEvent
from energydash.core.second_factor import SudoAdminMixin
from energydash.lib.money_fields import TrxField
from energydash.providers.audit import TRACKED_FIELDS, record_account_change, snapshot
from energydash.providers.credentials import UNREADABLE
from energydash.providers.models import MAX_LEDGER_TOLERANCE_SUN, ProviderAccount


class ProviderAccountForm(forms.ModelForm):
    """Secrets are write-only: typed into empty password inputs; blank keeps the stored value."""

    new_api_key = write_only_field("API key", "Leave blank to keep the current key.")
    new_api_secret = write_only_field(
        "API secret", "Leave blank to keep the current secret. Not used by Netts."
    )
    clear_api_secret = forms.BooleanField(label="Remove the stored API secret", required=False)
    # Money is typed and shown in TRX here; the model keeps integer sun.
    low_balance_threshold_sun = TrxField(
        label="Low-balance threshold (TRX)",
        help_text="Alert (and flag on every page) when the balance is below this.",
    )
    max_order_sun = TrxField(
        label="Maximum cost per order (TRX)",
        required=False,
        min_sun=1,
        help_text="Orders quoted above this are refused before the provider is called.",
    )
    daily_budget_sun = TrxField(
        label="Daily budget (TRX)",
        required=False,
        min_sun=1,
        help_text="Refuse an order that would take today's spend on this account above this.",
    )
    large_order_sun = TrxField(
        label="Warn on orders above (TRX)",
        required=False,
        min_sun=1,
        help_text="The new-order page asks for a second look above this (not a limit).",
    )
    approval_above_sun = TrxField(
        label="Approval above (TRX)",
        required=False,
        help_text="Orders quoted above this are saved as awaiting approval and sent only once "
        "another operator or admin approves them. Blank: never.",
    )
    ledger_tolerance_sun = TrxField(
        label="Ledger rounding tolerance (TRX)",
        required=False,
        max_sun=MAX_LEDGER_TOLERANCE_SUN,
        help_text="A ledger row off by no more than this is explained by the provider rounding "
        "its balance. Blank: the precision the provider publishes (itrx 0, TronZap and Netts "
        "0.01 TRX). At most 1 TRX.",
    )

    class Meta:
        model = ProviderAccount
        fields = TRACKED_FIELDS  # everything but the write-only secrets

    def clean_alert_emails(self) -> str:
        """Each recipient must be an e-mail address, as add_provider_account requires: the list
        goes into a To: header. Stored one per line, in the order given."""
        raw = self.cleaned_data.get("alert_emails") or ""
        addresses = [a.strip() for a in raw.replace(",", "\n").splitlines() if a.strip()]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                "Not an e-mail address: %(bad)s. Give one address per line (or comma-separated).",
                params={"bad": ", ".join(bad)},
                code="invalid_alert_email",
            )
        return "\n".join(addresses)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_key = bool(data.get("new_api_key")) or bool(self.instance.pk and self.instance.api_key)
        if not has_key:
            self.add_error("new_api_key", "An API key is required.")
        provider = data.get("provider")
        secret_after = bool(data.get("new_api_secret")) or (
            bool(self.instance.pk and self.instance.api_secret) and not data.get("clear_api_secret")
        )
        if provider in ("itrx", "tronzap") and not secret_after:
            self.add_error(
                "new_api_secret", "This provider signs requests: an API secret is required."
            )
        self._require_unreadable_again(data)
        if provider == "netts" and not data.get("egress_ip"):
            self.add_error(
                "egress_ip", "Netts checks X-Real-IP against its whitelist: enter the IP."
            )
        return data

    def _require_unreadable_again(self, data: dict[str, Any]) -> None:
        """A stored value that cannot be decrypted cannot be kept: it must be typed again (or,
        for the secret, removed), so saving this form always leaves a usable account."""
        if not self.instance.pk:
            return
        if self.instance.api_key and not self.instance.api_key.readable:
            if not data.get("new_api_key"):
                self.add_error("new_api_key", f"The stored key: {UNREADABLE}.")
        secret = self.instance.api_secret
        if secret and not secret.readable:
            if not data.get("new_api_secret") and not data.get("clear_api_secret"):
                self.add_error("new_api_secret", f"The stored secret: {UNREADABLE}.")

    def save(self, commit: bool = True) -> ProviderAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("new_api_key"):
            account.api_key = self.cleaned_data["new_api_key"]
        if self.cleaned_data.get("clear_api_secret"):
            account.api_secret = ""
        if self.cleaned_data.get("new_api_secret"):
            account.api_secret = self.cleaned_data["new_api_secret"]
        if commit:
            account.save()
        return account


@admin.register(ProviderAccount)
class ProviderAccountAdmin(SudoAdminMixin, admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = (
        "name",
        "provider",
        "masked_key",
        "credentials_status",
        "enabled",
        "effective_base_url",
        "updated",
    )
    list_filter = ("provider", "enabled")
    search_fields = ("name",)
    readonly_fields = ("code", "masked_key", "masked_secret", "created", "updated")
    fieldsets = (
        (None, {"fields": ("name", "provider", "enabled", "code")}),
        (
            "Credentials (write-only)",
            {
                "fields": (
                    "masked_key",
                    "new_api_key",
                    "masked_secret",
                    "new_api_secret",
                    "clear_api_secret",
                    "base_url",
                    "egress_ip",
                )
            },
        ),
        (
            "Limits and alerts",
            {
                "fields": (
                    "low_balance_threshold_sun",
                    "alert_emails",
                    "max_order_sun",
                    "daily_budget_sun",
                    "large_order_sun",
                    "approval_above_sun",
                    "ledger_tolerance_sun",
                    "priority",
                )
            },
        ),
        ("Network", {"fields": ("timeout_seconds", "connect_timeout_seconds")}),
        ("History", {"fields": ("created", "updated")}),
    )

    @admin.display(description="stored API key")
    def masked_key(self, obj: ProviderAccount) -> str:
        return obj.masked_key or "not set"

    @admin.display(description="stored API secret")
    def masked_secret(self, obj: ProviderAccount) -> str:
        return obj.masked_secret or "not set"

    @admin.display(description="credentials")
    def credentials_status(self, obj: ProviderAccount) -> str:
        return obj.credentials_problem or "readable"

    @admin.display(description="endpoint")
    def effective_base_url(self, obj: ProviderAccount) -> str:
        return obj.effective_base_url

    @method_decorator(sensitive_post_parameters("new_api_key", "new_api_secret"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().changeform_view(request, *args, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: ProviderAccount, form: Any, change: bool
    ) -> None:
        before = None
        if change:
            before = snapshot(ProviderAccount.objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        record_account_change(obj, before, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: ProviderAccount) -> None:
        AuditEvent.record("provider_account.deleted", obj, actor=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for account in queryset:
            AuditEvent.record("provider_account.deleted", account, actor=request.user)
        super().delete_queryset(request, queryset)

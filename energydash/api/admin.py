"""Tokens (issued here by the admin role, shown once) and webhook deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from energydash.api import webhook_admin, webhook_signing
from energydash.api.models import ApiToken, Scope, WebhookAttempt, WebhookDelivery
from energydash.core.admin_base import GrowingTable, PrefixFilter, ReadOnly
from energydash.core.models import AuditEvent
from energydash.core.second_factor import SudoAdminMixin
from energydash.lib.money_fields import TrxField
from energydash.orders.models import FINAL, Status


def token_details(token: ApiToken) -> dict[str, Any]:
    """What the audit log keeps about a token: never the token or the signing secret."""
    return {
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "webhook_url": token.webhook_url,
        "scopes": token.scopes,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "allowed_ips": token.allowed_ips,
        "daily_cap_sun": token.daily_cap_sun,
    }


class ScopesField(forms.MultipleChoiceField):
    """The scopes as check boxes; stored comma-separated."""

    widget = forms.CheckboxSelectMultiple

    def prepare_value(self, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value

    def clean(self, value: Any) -> str:
        chosen = super().clean(value)
        return ",".join(s for s in Scope.values if s in chosen)


class ApiTokenForm(forms.ModelForm):
    scopes = ScopesField(
        choices=Scope.choices,
        initial=Scope.values,
        help_text="What the token may do; a request outside them gets 403 insufficient_scope.",
    )
    daily_cap_sun = TrxField(
        label="Daily spending cap (TRX)",
        required=False,
        min_sun=1,
        help_text="Orders placed with this token today may spend at most this (checked before "
        "anything is sent, like an account's daily budget). Blank: no cap.",
    )

    class Meta:
        model = ApiToken
        fields = ("name", "role", "webhook_url", "scopes", "expires_at", "allowed_ips")


@admin.register(ApiToken)
class ApiTokenAdmin(SudoAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "role",
        "prefix",
        "created",
        "last_used_at",
        "last_used_from",
        "expires_at",
        "revoked_at",
        "webhook_url",
    )
    list_filter = ("role",)
    search_fields = ("name", "prefix")
    actions = ["revoke", "rotate_webhook_secret", "reenable_webhook", "send_test_event"]
    change_form_template = "admin/api/apitoken/change_form.html"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        narrowing = ["scopes", "expires_at", "allowed_ips", "daily_cap_sun"]
        if obj is None:
            return ["name", "role", "webhook_url", *narrowing]
        return [
            "name",
            "role",
            "prefix",
            "webhook_url",
            *narrowing,
            "created",
            "created_by",
            "last_used_at",
            "last_used_from",
            "revoked_at",
            "webhook_disabled_at",
            "previous_secret_until",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [
            "name",
            "role",
            "prefix",
            "created",
            "created_by",
            "last_used_at",
            "last_used_from",
            "revoked_at",
            "webhook_disabled_at",
            "previous_secret_until",
        ]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = ApiTokenForm
        return super().get_form(request, obj, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: orders and deliveries keep naming the token

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change:
            obj._issued = obj.assign_new_secrets()  # type: ignore[attr-defined]
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        AuditEvent.record(
            "api_token.changed" if change else "api_token.created",
            obj,
            actor=request.user,
            details=token_details(obj),
        )

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: Any = None
    ) -> HttpResponse:
        token, signing = obj._issued  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "obj": obj,
            "token": token,
            "signing_secret": signing,
            "title": f"API token {obj.name} created",
        }
        response = TemplateResponse(request, "api/token_issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            AuditEvent.record(
                "api_token.revoked", token, actor=request.user, details=token_details(token)
            )
            count += 1
        messages.success(request, f"{count} token(s) revoked.")

    @admin.action(description="Rotate the webhook signing secret (old one kept for the overlap)")
    def rotate_webhook_secret(
        self, request: HttpRequest, queryset: QuerySet[ApiToken]
    ) -> HttpResponse | None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        if len(tokens) != 1:
            messages.error(request, "Rotate one active token at a time (its secret is shown once).")
            return None
        token = tokens[0]
        secret = webhook_signing.rotate(token)
        AuditEvent.record(
            "api_token.webhook_secret_rotated",
            token,
            actor=request.user,
            details={**token_details(token), "overlap_until": str(token.previous_secret_until)},
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "obj": token,
            "signing_secret": secret,
            "title": f"New webhook signing secret for {token.name}",
        }
        response = TemplateResponse(request, "api/secret_rotated.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Re-enable the webhook endpoint (held deliveries are sent)")
    def reenable_webhook(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(webhook_disabled_at__isnull=False):
            held = webhook_admin.reenable(token)
            AuditEvent.record(
                "api_token.webhook_reenabled", token, actor=request.user, details={"held": held}
            )
            messages.success(request, f"{token.name}: re-enabled, {held} held delivery(ies) due.")

    @admin.action(description="Send a test event to the webhook")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            self._send_test(request, token)

    def _send_test(self, request: HttpRequest, token: ApiToken) -> None:
        result = webhook_admin.send_test_event(token)
        if result.startswith("ok"):
            messages.success(request, f"{token.name}: test event delivered, {result}.")
        else:
            messages.error(request, f"{token.name}: test event not delivered: {result}.")

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/send-test-event/",
                self.admin_site.admin_view(require_POST(self.send_test_view)),
                name="api_apitoken_send_test_event",
            )
        ]
        return own + super().get_urls()

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(ApiToken, pk=pk)
        if self.has_change_permission(request, token):
            self._send_test(request, token)
        return HttpResponseRedirect(reverse("admin:api_apitoken_change", args=[pk]))


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = ("created", "http_status", "error", "elapsed_ms")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WebhookEvent(PrefixFilter):
    title = "event"
    parameter_name = "event"
    field = "event"
    lookup = "exact"
    prefixes = tuple(
        (event, event)
        for event in (
            *(f"order.{status}" for status in (*sorted(FINAL), Status.NEEDS_REVIEW)),
            "order.delivery_verified",
            "order.delivery_failed",
            "ready.ready",
            "ready.not_ready",
        )
    )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(GrowingTable, ReadOnly):
    list_display = (
        "created",
        "token",
        "event",
        "order",
        "state",
        "attempts",
        "last_status",
        "last_error",
    )
    list_filter = (WebhookEvent, "token")  # fixed events; tokens are a small table
    list_select_related = ("token", "order", "order__account")
    readonly_fields = (
        "token",
        "order",
        "ready_check",
        "event",
        "url",
        "payload",
        "created",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "gave_up_at",
        "last_status",
        "last_error",
    )
    inlines = [WebhookAttemptInline]
    actions = ["resend"]

    def get_actions(
        self, request: HttpRequest, action_location: Any = ActionLocation.CHANGE_LIST
    ) -> dict[str, Any]:
        # Read-only records, but an admin of API tokens may send one again.
        actions = super().get_actions(request, action_location=action_location)
        if not request.user.has_perm("api.change_apitoken"):
            actions.pop("resend", None)
        return actions

    @admin.action(description="Resend the selected deliveries (a fresh series of retries)")
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        from django_q.tasks import async_task

        count = 0
        for delivery in queryset.select_related("token"):
            webhook_admin.resend(delivery)
            AuditEvent.record(
                "webhook.resent",
                delivery.token,
                actor=request.user,
                details={"delivery": delivery.pk, "event": delivery.event},
            )
            if not delivery.token.webhook_disabled_at:
                async_task("energydash.api.tasks.deliver_webhook", delivery.pk, group="webhooks")
            count += 1
        messages.success(request, f"{count} delivery(ies) queued to be sent again.")

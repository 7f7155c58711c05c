"""Tokens (issued here by the admin role, shown once) and webhook deliveries."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from energydash.api.models import ApiToken, WebhookAttempt, WebhookDelivery
from energydash.core.admin_base import GrowingTable, PrefixFilter, ReadOnly
from energydash.core.models import AuditEvent
from energydash.orders.models import FINAL, Status


def token_details(token: ApiToken) -> dict[str, Any]:
    """What the audit log keeps about a token: never the token or the signing secret."""
    return {
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "webhook_url": token.webhook_url,
    }


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "role",
        "prefix",
        "created",
        "last_used_at",
        "revoked_at",
        "webhook_url",
    )
    list_filter = ("role",)
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["name", "role", "webhook_url"]
        return [
            "name",
            "role",
            "prefix",
            "webhook_url",
            "created",
            "created_by",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["name", "role", "prefix", "created", "created_by", "last_used_at", "revoked_at"]

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

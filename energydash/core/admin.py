from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from energydash.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created", "who", "action", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_repr", "object_code", "actor__username", "actor_label")
    date_hierarchy = "created"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who did what to which object. Details never hold secret values, only what changed."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For actions without a logged-in user: "command:add_provider_account", "task:poll_orders".
    actor_label = models.CharField(max_length=150, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_code = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.who} {self.action} {self.object_repr}"

    @property
    def who(self) -> str:
        if self.actor_id:
            return self.actor.get_username() if self.actor else f"user #{self.actor_id}"
        return self.actor_label or "system"

    @classmethod
    def record(
        cls,
        action: str,
        obj: Any = None,
        *,
        actor: Any = None,
        actor_label: str = "",
        details: dict | None = None,
    ) -> AuditEvent:
        user = actor if getattr(actor, "is_authenticated", False) else None
        return cls.objects.create(
            actor=user,
            actor_label=actor_label,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_code=str(getattr(obj, "code", "") or getattr(obj, "pk", "") or ""),
            object_repr=str(obj)[:200] if obj is not None else "",
            details=details or {},
        )


class UserPreferences(models.Model):
    """What one user chose for the console: for now, the language its pages speak.

    An empty language means "as the browser asks" (its Accept-Language header).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    language = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        verbose_name = "user preferences"
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"preferences of user #{self.user_id}"

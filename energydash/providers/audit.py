"""Audit rows for credential changes: which fields changed, never their values."""

from __future__ import annotations

from typing import Any

from energydash.core.models import AuditEvent
from energydash.providers.models import ProviderAccount

SECRET_FIELDS = ("api_key", "api_secret")
TRACKED_FIELDS = (
    "name",
    "provider",
    "base_url",
    "egress_ip",
    "enabled",
    "low_balance_threshold_sun",
    "alert_emails",
    "max_order_sun",
    "daily_budget_sun",
    "large_order_sun",
    "approval_above_sun",
    "ledger_tolerance_sun",
    "priority",
    "timeout_seconds",
    "connect_timeout_seconds",
)


def snapshot(account: ProviderAccount) -> dict[str, Any]:
    """Plain values of the tracked fields, plus a fingerprint-free 'is set' for each secret."""
    state = {name: getattr(account, name) for name in TRACKED_FIELDS}
    for name in SECRET_FIELDS:
        state[name] = getattr(account, name)
    return state


def describe_change(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for name in TRACKED_FIELDS:
        old = before.get(name) if before else None
        new = after.get(name)
        if before is None or old != new:
            changed[name] = {"from": _plain(old), "to": _plain(new)} if before else _plain(new)
    secrets = []
    for name in SECRET_FIELDS:
        old = before.get(name) if before else None
        new = after.get(name)
        if (before is None and new) or (before is not None and old != new):
            secrets.append(name)
    details: dict[str, Any] = {"fields": changed}
    if secrets:
        details["secrets_changed"] = secrets  # names only
    return details


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def record_account_change(
    account: ProviderAccount,
    before: dict[str, Any] | None,
    *,
    actor: Any = None,
    actor_label: str = "",
) -> AuditEvent | None:
    details = describe_change(before, snapshot(account))
    if before is not None and not details["fields"] and not details.get("secrets_changed"):
        return None
    action = "provider_account.created" if before is None else "provider_account.changed"
    return AuditEvent.record(action, account, actor=actor, actor_label=actor_label, details=details)

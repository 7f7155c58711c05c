"""State changes of an order: conditional, recorded as events, safe under concurrent workers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from energydash.orders import hooks
from energydash.orders.models import FINAL, Order, OrderEvent
from energydash.orders.signals import send_settled
from energydash.providers.base import Exchange


def record_exchanges(
    order: Order, exchanges: list[Exchange], *, actor: Any = None, label: str = ""
) -> None:
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=order,
            kind="exchange",
            actor=_user(actor),
            actor_label=label,
            method=ex.method[:8],
            url=clean_text(ex.url)[:500],
            http_status=ex.status_code,
            request_body=clean_text(ex.request_body),
            response_body=clean_text(ex.response_body),
            elapsed_ms=ex.elapsed_ms,
            message=clean_text(ex.error),
        )
        for ex in exchanges
    )


def note(order: Order, message: str, *, actor: Any = None, label: str = "") -> None:
    OrderEvent.objects.create(
        order=order,
        kind="note",
        message=clean_text(message),
        actor=_user(actor),
        actor_label=label,
    )


def clean_text(text: str) -> str:
    """Text from a provider, safe for every database: PostgreSQL refuses NUL characters in
    text columns, and a refused write after a provider charged would strand the order."""
    return (text or "").replace("\x00", "\\u0000")


def transition(
    order: Order,
    to_status: str,
    *,
    message: str = "",
    actor: Any = None,
    label: str = "",
    expected: str | None = None,
    **fields: Any,
) -> bool:
    """Move order from its current status (or `expected`) to `to_status`, updating `fields`.

    The UPDATE is conditional on the status we read, so when a callback and a poller race, only
    one applies its change; the loser returns False and changes nothing. Field-only updates
    (same status) are recorded as a note when a message is given.
    """
    from_status = expected or order.status
    now = timezone.now()
    values: dict[str, Any] = {"status": to_status, "updated": now}
    values.update({k: clean_text(v) if isinstance(v, str) else v for k, v in fields.items()})
    if to_status in FINAL and from_status not in FINAL:
        values.setdefault("finished_at", now)
    if to_status in FINAL:
        values.setdefault("next_poll_at", None)
    with transaction.atomic():
        changed = Order.objects.filter(pk=order.pk, status=from_status).update(**values)
        if not changed:
            return False
        # The rollups (owned by balances, wired through orders.hooks) follow in the same
        # transaction, under a per-(account, day) lock: see balances/rollups.py.
        hooks.order_changed(order, from_status, to_status, fields.keys())
        if to_status != from_status or message:
            OrderEvent.objects.create(
                order=order,
                kind="state" if to_status != from_status else "note",
                from_status=from_status,
                to_status=to_status,
                message=clean_text(message),
                actor=_user(actor),
                actor_label=label,
            )
    for name, value in values.items():
        setattr(order, name, value)
    if to_status != from_status and (to_status in FINAL or to_status == "needs_review"):
        # Subscribers (API webhooks) hear of a settled order once the change is committed.
        transaction.on_commit(lambda: send_settled(order, to_status))
    return True


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None

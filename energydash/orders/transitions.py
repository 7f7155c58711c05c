"""State changes of an order: conditional, recorded as events, safe under concurrent workers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from energydash.orders import hooks
from energydash.orders.models import FINAL, Delivery, Order, OrderEvent, Status
from energydash.orders.signals import send_settled
from energydash.providers.base import Exchange


def record_exchanges(
    order: Order, exchanges: list[Exchange], *, actor: Any = None, label: str = ""
) -> None:
    for ex in exchanges:
        write_event(
            order,
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


def note(order: Order, message: str, *, actor: Any = None, label: str = "") -> None:
    write_event(
        order, kind="note", message=clean_text(message), actor=_user(actor), actor_label=label
    )


# What makes two events "the same" (elapsed_ms and the times may differ).
_SAME = ("kind", "from_status", "to_status", "message", "actor", "actor_label")
_SAME_EXCHANGE = (*_SAME, "method", "url", "http_status", "request_body", "response_body")


def write_event(order: Order, **values: Any) -> None:
    """Add an event to the order's timeline, or count it on the latest one when it says the same.

    A poller repeating one failure every few seconds (a mistyped provider id: 96 identical rows
    in 10 minutes, issue 19) makes one row "×96, last at ...". Exchanges are compared with the
    latest exchange and other events with the latest other event, because each look writes an
    exchange and a note. The fold is one conditional UPDATE: it applies only while no newer
    event of that group exists, so a different event written meanwhile starts a new row, and
    racing identical events each add one to the count (F() + 1), none is lost.
    """
    now = timezone.now()
    exchange = values.get("kind") == "exchange"
    group = Q(kind="exchange") if exchange else ~Q(kind="exchange")
    events = OrderEvent.objects.filter(group, order_id=order.pk)
    latest = events.order_by("-id").first()
    if latest is not None and all(
        _value(latest, name) == _value(values, name)
        for name in (_SAME_EXCHANGE if exchange else _SAME)
    ):
        newer = events.filter(id__gt=OuterRef("pk"))
        folded = (
            OrderEvent.objects.filter(pk=latest.pk)
            .filter(~Exists(newer))
            .update(count=F("count") + 1, last_seen=now)
        )
        if folded:
            return
    OrderEvent.objects.create(order=order, created=now, **values)


def _value(event: OrderEvent | dict[str, Any], name: str) -> Any:
    """A field of a stored event or of the values of a new one (the actor by its id)."""
    if isinstance(event, dict):
        value = event.get(name, _DEFAULTS[name])
        return getattr(value, "pk", None) if name == "actor" else value
    return event.actor_id if name == "actor" else getattr(event, name)


_DEFAULTS: dict[str, Any] = {
    "kind": "",
    "from_status": "",
    "to_status": "",
    "message": "",
    "actor": None,
    "actor_label": "",
    "method": "",
    "url": "",
    "http_status": None,
    "request_body": "",
    "response_body": "",
}


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
    guard: dict[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """Move order from its current status (or `expected`) to `to_status`, updating `fields`.

    The UPDATE is conditional on the status we read, so when a callback and a poller race, only
    one applies its change; the loser returns False and changes nothing. Field-only updates
    (same status) are recorded as a note when a message is given. `guard`: more conditions
    of the UPDATE (e.g. the refund a late refund replaces), so it applies once.
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
        rows = Order.objects.filter(pk=order.pk, status=from_status, **(guard or {}))
        changed = rows.update(**values)
        if not changed:
            return False
        if to_status == Status.COMPLETED and from_status != to_status:
            # Done: a delivery look already under way (early looks) is due now.
            Order.objects.filter(pk=order.pk, delivery_status=Delivery.PENDING).update(
                delivery_next_check_at=now
            )
        # The rollups (owned by balances, wired through orders.hooks) follow in the same
        # transaction, under a per-(account, day) lock: see balances/rollups.py.
        hooks.order_changed(order, from_status, to_status, fields.keys())
        if to_status != from_status or message:
            write_event(
                order,
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

"""django-q2 entry points for webhooks."""

from __future__ import annotations

from energydash.api import webhooks


def deliver_webhook(delivery_id: int) -> str:
    delivery = webhooks.deliver(delivery_id)
    if delivery is None:
        return f"webhook {delivery_id}: not due"
    return f"webhook {delivery_id}: {delivery.state} ({delivery.last_error or 'ok'})"


def deliver_due_webhooks() -> str:
    return f"{webhooks.deliver_due()} webhook(s) tried"

from __future__ import annotations

from energydash.core.schedules import every_minutes

POLL_ORDERS = "orders: poll open orders"
VERIFY_DELIVERIES = "orders: verify deliveries on chain"


def ensure_schedules() -> list[str]:
    """Create or update the orders schedules; safe to run any number of times."""
    return [
        every_minutes(POLL_ORDERS, "energydash.orders.tasks.poll_orders", 1),
        every_minutes(VERIFY_DELIVERIES, "energydash.orders.tasks.verify_deliveries", 1),
    ]

from __future__ import annotations

from django_q.models import Schedule

POLL_ORDERS = "orders: poll open orders"


def ensure_schedules() -> list[str]:
    """Create or update the orders schedules; safe to run any number of times."""
    Schedule.objects.update_or_create(
        name=POLL_ORDERS,
        defaults={
            "func": "energydash.orders.tasks.poll_orders",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return [POLL_ORDERS]

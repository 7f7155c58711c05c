from __future__ import annotations

from energydash.core.schedules import every_minutes
from energydash.orders import prices

POLL_ORDERS = "orders: poll open orders"
LATE_REFUNDS = "orders: late refund check"
# Each order carries its own next check (late_refunds.py); the pass only needs to come often
# enough for the shortest gap.
LATE_REFUNDS_EVERY_MINUTES = 5
VERIFY_DELIVERIES = "orders: verify deliveries on chain"
EXPIRE_APPROVALS = "orders: expire approval requests"
REWEIGH_REVIEWS = "orders: weigh orders in review again"
WATCH_RULES = "orders: watch rules"
PRICE_BOARD = "orders: providers page prices"


def ensure_schedules() -> list[str]:
    """Create or update the orders schedules; safe to run any number of times."""
    return [
        every_minutes(POLL_ORDERS, "energydash.orders.tasks.poll_orders", 1),
        every_minutes(
            LATE_REFUNDS, "energydash.orders.tasks.check_late_refunds", LATE_REFUNDS_EVERY_MINUTES
        ),
        every_minutes(VERIFY_DELIVERIES, "energydash.orders.tasks.verify_deliveries", 1),
        every_minutes(EXPIRE_APPROVALS, "energydash.orders.tasks.expire_approvals", 5),
        every_minutes(REWEIGH_REVIEWS, "energydash.orders.tasks.reweigh_reviews", 2),
        every_minutes(WATCH_RULES, "energydash.orders.tasks.check_watch_rules", 1),
        every_minutes(
            PRICE_BOARD, "energydash.orders.tasks.refresh_price_board", prices.board_minutes()
        ),
    ]

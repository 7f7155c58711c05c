"""Signals other apps subscribe to, so order code does not import them.

order_settled is sent after the commit that moved an order to a final status or to
needs_review, or that saved it awaiting_approval (kwargs: order, status). Receivers run
outside the state change's transaction and must not raise; a failing receiver is logged, never
undoes the change.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger("energydash.orders")

order_settled = Signal()


def send_settled(order: object, status: str) -> None:
    for receiver, result in order_settled.send_robust(
        sender=type(order), order=order, status=status
    ):
        if isinstance(result, Exception):
            logger.error("order_settled receiver %r failed: %r", receiver, result)


# Sent after the commit that gave an order a delivery verdict worth telling (kwargs: order,
# status): "verified", or one of "short", "missing", "reclaimed_early" (orders/delivery.py).
# The API's webhooks and the money layer's alerts listen; same rules as order_settled.
delivery_checked = Signal()


def send_delivery_checked(order: object, status: str) -> None:
    for receiver, result in delivery_checked.send_robust(
        sender=type(order), order=order, status=status
    ):
        if isinstance(result, Exception):
            logger.error("delivery_checked receiver %r failed: %r", receiver, result)

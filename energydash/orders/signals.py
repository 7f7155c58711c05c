"""Signals other apps subscribe to, so order code does not import them.

order_settled is sent after the commit that moved an order to a final status or to
needs_review, or that saved it awaiting_approval (kwargs: order, status). Receivers run
outside the state change's transaction and must not raise; a failing receiver is logged, never
undoes the change.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

from energydash.core import metrics

logger = logging.getLogger("energydash.orders")


def _account_of(order: object) -> tuple[str, str]:
    try:
        account = order.account  # type: ignore[attr-defined]
        return account.provider, account.name
    except Exception:  # a metric label is never worth failing the signal for
        return "", ""


def _count(counter: object, order: object, *, outcome: str) -> None:
    provider, account = _account_of(order)
    labels = {"provider": provider, "outcome": outcome}
    if counter is metrics.ORDERS_SETTLED:
        labels |= {"account": account, "kind": str(getattr(order, "kind", ""))}
    metrics.count(counter, **labels)  # type: ignore[arg-type]


order_settled = Signal()


def send_settled(order: object, status: str) -> None:
    _count(metrics.ORDERS_SETTLED, order, outcome=status)
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
    _count(metrics.CHAIN_VERIFICATIONS, order, outcome=status)
    done, checked = getattr(order, "finished_at", None), getattr(order, "delivery_checked_at", None)
    if done and checked and checked >= done:
        provider = _account_of(order)[0]
        metrics.observe(
            metrics.CHAIN_VERIFICATION_SECONDS, (checked - done).total_seconds(), provider=provider
        )
    for receiver, result in delivery_checked.send_robust(
        sender=type(order), order=order, status=status
    ):
        if isinstance(result, Exception):
            logger.error("delivery_checked receiver %r failed: %r", receiver, result)


# Sent after a ready check ended, ready or not_ready (kwargs: check). The API's webhooks listen.
ready_finished = Signal()


def send_ready_finished(check: object) -> None:
    for receiver, result in ready_finished.send_robust(sender=type(check), check=check):
        if isinstance(result, Exception):
            logger.error("ready_finished receiver %r failed: %r", receiver, result)

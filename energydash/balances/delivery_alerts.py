"""One alert per order whose energy the chain shows short, missing or reclaimed early.

Orders announce a failed delivery with orders.signals.delivery_checked after the commit; this
money-layer receiver e-mails the account's alert recipients (alerts.recipients_for), and the
unique (order, kind) constraint on Alert makes a second announcement of the same order a no-op,
however many workers hear it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from energydash.balances.alerts import recipients_for
from energydash.balances.models import Alert, AlertKind
from energydash.lib.emails import send_email
from energydash.orders.models import DELIVERY_FAILED, Order

logger = logging.getLogger("energydash.balances")


def on_delivery_checked(sender: Any, order: Order, status: str, **kwargs: Any) -> None:
    if status in DELIVERY_FAILED:
        alert_delivery_failed(order)


def order_url(order: Order) -> str:
    path = reverse("orders:detail", args=[order.code])
    return f"{settings.ENERGYDASH_PUBLIC_URL}{path}" if settings.ENERGYDASH_PUBLIC_URL else path


def alert_delivery_failed(order: Order) -> Alert | None:
    """Record (and e-mail) the order's delivery alert once; None when it already exists."""
    order = Order.objects.select_related("account").get(pk=order.pk)
    account = order.account
    evidence = order.delivery_evidence or {}
    words = str(evidence.get("words") or order.get_delivery_status_display())
    to = recipients_for(account)
    alert = Alert(
        account=account,
        order=order,
        kind=AlertKind.DELIVERY_FAILED,
        created=timezone.now(),
        threshold_sun=0,
        problem=words[:300],
        recipients=to,
        subject=f"{order.get_delivery_status_display()}: order {order.short_code} "
        f"on {account.name}"[:200],
    )
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError:
        return None  # this order's alert exists: one per order
    if not to:
        alert.delivery_error = "no recipients: set the account's alert e-mails or admin e-mails"
    else:
        context = {
            "order": order,
            "account": account,
            "status": order.get_delivery_status_display(),
            "words": words,
            "evidence": evidence,
            "order_url": order_url(order),
        }
        try:
            alert.subject = send_email("alert-delivery-failed", context, to).subject[:200]
        except Exception as exc:  # keep the alert, say why it was not sent
            logger.exception("delivery alert e-mail for order %s failed", order.code)
            alert.delivery_error = f"{type(exc).__name__}: {exc}"[:300]
    alert.save(update_fields=["subject", "delivery_error"])
    return alert

"""The alert for an order charged above its quote or its account's limits (orders/cost_check.py
flags the order once, with a conditional UPDATE, and hands it here through orders.hooks).

The Alert row and the e-mail follow the commit of the flag, so a rolled-back flag alerts nobody
and a committed one alerts once. Recipients are the low-balance alerts'.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from energydash.balances.alerts import recipients_for
from energydash.balances.models import Alert, AlertKind
from energydash.lib.emails import send_email
from energydash.lib.tron import format_trx
from energydash.orders.models import Order

logger = logging.getLogger("energydash.balances")


def order_url(order: Order) -> str:
    path = reverse("orders:detail", args=[order.code])
    return f"{settings.ENERGYDASH_PUBLIC_URL}{path}" if settings.ENERGYDASH_PUBLIC_URL else path


def cost_overrun(order: Order, words: str) -> None:
    transaction.on_commit(lambda: send_cost_overrun(order, words))


def send_cost_overrun(order: Order, words: str) -> Alert:
    account = order.account
    to = recipients_for(account)
    label = AlertKind.COST_OVERRUN.label
    alert = Alert(
        account=account,
        kind=AlertKind.COST_OVERRUN,
        threshold_sun=order.quoted_cost_sun or 0,
        problem=words[:300],
        recipients=to,
    )
    if not to:
        alert.subject = f"{account.name}: {label.lower()} (not e-mailed)"
        alert.delivery_error = "no recipients: set the account's alert e-mails or admin e-mails"
    else:
        context = {
            "account": account,
            "order": order,
            "words": words,
            "cost": format_trx(order.cost_sun),
            "quoted": format_trx(order.quoted_cost_sun),
            "url": order_url(order),
        }
        try:
            alert.subject = send_email("alert-cost-overrun", context, to).subject[:200]
        except Exception as exc:  # any mailer failure: keep the alert, say why it was not sent
            logger.exception("cost overrun e-mail for order %s failed", order.code)
            alert.subject = f"{account.name}: {label.lower()} (not delivered)"
            alert.delivery_error = f"{type(exc).__name__}: {exc}"[:300]
    alert.save()
    return alert

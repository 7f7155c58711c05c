"""Signed webhooks to the operator's systems when an order placed with a token settles.

Signature: hex HMAC-SHA256, keyed with the token's webhook secret, over
"<X-Energydash-Timestamp>.<raw body>", sent as `X-Energydash-Signature: v1=<hex>`.
Deliveries are POSTed once now and retried with backoff by a django-q2 schedule; every try is
recorded. Redirects are never followed (a 3xx counts as a failed try).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from energydash.api.models import ApiToken, WebhookAttempt, WebhookDelivery
from energydash.core import metrics, outbound
from energydash.orders.models import Order
from energydash.orders.signals import delivery_checked, order_settled

logger = logging.getLogger("energydash.api")

# Wait before try n+1 (seconds): 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h...
BACKOFF = (30, 120, 600, 1800, 3600, 10800, 21600)
CLAIM_SECONDS = 60  # a try in flight holds the delivery this long, so two workers never both send


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def token_for(order: Order) -> ApiToken | None:
    if not order.placed_via.startswith("api:"):
        return None
    return ApiToken.objects.filter(name=order.placed_via.removeprefix("api:")).first()


@receiver(order_settled, dispatch_uid="energydash.api.webhooks")
def on_order_settled(sender: Any, order: Order, status: str, **kwargs: Any) -> None:
    delivery = enqueue(order, status)
    if delivery is not None:
        from django_q.tasks import async_task

        async_task("energydash.api.tasks.deliver_webhook", delivery.pk, group="webhooks")


@receiver(delivery_checked, dispatch_uid="energydash.api.webhooks.delivery")
def on_delivery_checked(sender: Any, order: Order, status: str, **kwargs: Any) -> None:
    """order.delivery_verified, or order.delivery_failed (short, missing, reclaimed_early):
    each at most once per order (a verified order reclaimed early sends both)."""
    event = "order.delivery_verified" if status == "verified" else "order.delivery_failed"
    delivery = enqueue(order, status, event=event)
    if delivery is not None:
        from django_q.tasks import async_task

        async_task("energydash.api.tasks.deliver_webhook", delivery.pk, group="webhooks")


def enqueue(order: Order, status: str, *, event: str = "") -> WebhookDelivery | None:
    """Record the delivery (once per order and event) if the order's token has a webhook."""
    token = token_for(order)
    if token is None or not token.webhook_url or not token.active:
        return None
    from energydash.api.serializers import detail_json

    order = Order.objects.select_related("account").get(pk=order.pk)
    event = event or f"order.{status}"
    body = {"event": event, "order": detail_json(order)}
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(
                token=token,
                order=order,
                event=event,
                url=token.webhook_url,
                payload=json.dumps(body, separators=(",", ":"), sort_keys=True),
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None  # already recorded for this order and status


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        delivered_at__isnull=True,
        gave_up_at__isnull=True,
        next_attempt_at__lte=now,
    ).update(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("token").get(pk=delivery_id)


def deliver(
    delivery_id: int, *, client: httpx.Client | None = None, now: datetime | None = None
) -> WebhookDelivery | None:
    """One try of one due delivery. Returns it, or None when it is not due (or done)."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    body = delivery.payload.encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "energydash-webhooks/1",
        "X-Energydash-Event": delivery.event,
        "X-Energydash-Delivery": str(delivery.pk),
        "X-Energydash-Timestamp": stamp,
        "X-Energydash-Signature": sign(delivery.token.signing_secret(), stamp, body),
    }
    own = client is None
    client = client or outbound.guarded_client(settings.ENERGYDASH_WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    status, error = None, ""
    try:
        # Checked before every try, after DNS resolution (the guarded client checks again at
        # connect time): a URL whose name now resolves inside is refused, not sent.
        parts = urlsplit(delivery.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise outbound.Refused(delivery.url)
        outbound.check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        response = client.post(delivery.url, content=body, headers=headers, follow_redirects=False)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (
                " (redirects are not followed)" if 300 <= status < 400 else ""
            )
    except (httpx.HTTPError, outbound.Refused, ValueError, OSError) as exc:
        # Never the socket-level detail: it would tell open ports from closed ones.
        error = outbound.refusal_reason(exc)
    finally:
        if own:
            client.close()
    _record(delivery, now, status, error, int((time.monotonic() - started) * 1000))
    return delivery


def _record(
    delivery: WebhookDelivery, now: datetime, status: int | None, error: str, elapsed_ms: int
) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery, http_status=status, error=error[:300], elapsed_ms=elapsed_ms
    )
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error[:300]
    outcome = "delivered" if not error else "failed"
    if not error:
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts >= settings.ENERGYDASH_WEBHOOK_MAX_ATTEMPTS:
        delivery.gave_up_at = timezone.now()
        delivery.next_attempt_at = None
        outcome = "gave_up"
        logger.warning(
            "webhook %s gave up after %d tries: %s", delivery.pk, delivery.attempts, error
        )
    else:
        wait = BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
        delivery.next_attempt_at = now + timedelta(seconds=wait)
    delivery.save(
        update_fields=[
            "attempts",
            "last_status",
            "last_error",
            "delivered_at",
            "gave_up_at",
            "next_attempt_at",
        ]
    )
    metrics.count(metrics.WEBHOOK_DELIVERIES, outcome=outcome)


def deliver_due(*, client: httpx.Client | None = None, now: datetime | None = None) -> int:
    """Try every delivery that is due (the retry schedule). Returns how many were tried."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        delivered_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:100]
    return sum(1 for pk in list(due) if deliver(pk, client=client, now=now) is not None)

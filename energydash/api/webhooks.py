"""Signed webhooks to the operator's systems when an order placed with a token settles.

Signatures: Standard Webhooks headers and the legacy energydash ones (api/webhook_signing.py).
Deliveries are POSTed once now and retried with exponential backoff plus jitter by a django-q2
schedule for at least 72 hours (BACKOFF); every try is recorded. Redirects are never followed (a
3xx counts as a failed try). A delivery that fails every retry is given up, and its endpoint is
disabled (nothing more is sent to it, new deliveries are held) with an alert, until an admin
re-enables it.
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from energydash.api import webhook_admin, webhook_signing
from energydash.api.models import ApiToken, WebhookAttempt, WebhookDelivery
from energydash.core import metrics, outbound
from energydash.orders.models import Order, ReadyCheck
from energydash.orders.signals import delivery_checked, order_settled, ready_finished

logger = logging.getLogger("energydash.api")

# Wait before try n+1 (seconds): 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 24 h, 24 h,
# 12 h: 82.7 hours from the first try to the twelfth, each wait stretched by up to JITTER more
# (never less), so endpoints that failed together do not all come back at once.
BACKOFF = (30, 120, 600, 1800, 3600, 10800, 21600, 43200, 86400, 86400, 43200)
JITTER = 0.2
CLAIM_SECONDS = 60  # a try in flight holds the delivery this long, so two workers never both send
_random = random.SystemRandom()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return webhook_signing.legacy_signature(secret, timestamp, body)


def backoff_seconds(attempts: int) -> float:
    """The wait after the `attempts`-th failed try, jitter included."""
    base = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
    return base * (1 + _random.uniform(0, JITTER))


def message_id(delivery: WebhookDelivery) -> str:
    """The Standard Webhooks message id: one per delivery, the same on every retry and resend."""
    return f"msg_{delivery.pk}"


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


@receiver(ready_finished, dispatch_uid="energydash.api.webhooks.ready")
def on_ready_finished(sender: Any, check: ReadyCheck, **kwargs: Any) -> None:
    """ready.ready or ready.not_ready, once per check, to the webhook of the token that asked."""
    delivery = enqueue_ready(check)
    if delivery is not None:
        from django_q.tasks import async_task

        async_task("energydash.api.tasks.deliver_webhook", delivery.pk, group="webhooks")


def enqueue_ready(check: ReadyCheck) -> WebhookDelivery | None:
    token = ApiToken.objects.filter(pk=check.token_id).first() if check.token_id else None
    if token is None or not token.webhook_url or not token.active or not check.finished:
        return None
    from energydash.api.serializers import ready_json

    check = ReadyCheck.objects.select_related("route__order", "activation_route__order").get(
        pk=check.pk
    )
    event = f"ready.{check.state}"
    body = {"event": event, "ready": ready_json(check)}
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(
                token=token,
                ready_check=check,
                event=event,
                url=token.webhook_url,
                payload=json.dumps(
                    body, separators=(",", ":"), sort_keys=True, cls=DjangoJSONEncoder
                ),
                next_attempt_at=None if token.webhook_disabled_at else timezone.now(),
            )
    except IntegrityError:
        return None  # already recorded for this check


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
                # A disabled endpoint's deliveries are held (recorded, not due) until re-enabled.
                next_attempt_at=None if token.webhook_disabled_at else timezone.now(),
            )
    except IntegrityError:
        return None  # already recorded for this order and status


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        delivered_at__isnull=True,
        gave_up_at__isnull=True,
        next_attempt_at__lte=now,
        token__webhook_disabled_at__isnull=True,
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
    headers = webhook_signing.headers(
        delivery.token,
        msg_id=message_id(delivery),
        event=delivery.event,
        delivery=str(delivery.pk),
        body=body,
        timestamp=int(time.time()),
    )
    started = time.monotonic()
    status, error = post(delivery.url, body, headers, client=client)
    _record(delivery, now, status, error, int((time.monotonic() - started) * 1000))
    return delivery


def post(
    url: str, body: bytes, headers: dict[str, str], *, client: httpx.Client | None = None
) -> tuple[int | None, str]:
    """POST once, redirects not followed; (HTTP status or None, error in words or "")."""
    own = client is None
    client = client or outbound.guarded_client(settings.ENERGYDASH_WEBHOOK_TIMEOUT_SECONDS)
    status, error = None, ""
    try:
        # Checked before every try, after DNS resolution (the guarded client checks again at
        # connect time): a URL whose name now resolves inside is refused, not sent.
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise outbound.Refused(url)
        outbound.check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        response = client.post(url, content=body, headers=headers, follow_redirects=False)
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
    return status, error


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
        delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
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
    if outcome == "gave_up":
        webhook_admin.disable_endpoint(delivery, error)


def deliver_due(*, client: httpx.Client | None = None, now: datetime | None = None) -> int:
    """Try every delivery that is due (the retry schedule). Returns how many were tried."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        delivered_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:100]
    return sum(1 for pk in list(due) if deliver(pk, client=client, now=now) is not None)

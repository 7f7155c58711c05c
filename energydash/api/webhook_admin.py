"""What admins do to webhook endpoints and deliveries: disable (automatic, after every retry
failed, with an alert), re-enable, resend a delivery, send a test event."""

from __future__ import annotations

import json
import time
import uuid

import httpx
from django.utils import timezone

from energydash.api.models import ApiToken, WebhookDelivery
from energydash.balances.models import Alert, AlertKind


def disable_endpoint(delivery: WebhookDelivery, error: str) -> bool:
    """A delivery was given up: disable its token's endpoint (once) and raise an alert.

    The conditional UPDATE decides who disables, so a burst of give-ups raises one alert. The
    token's other pending deliveries are held (not due) until an admin re-enables it.
    """
    now = timezone.now()
    claimed = ApiToken.objects.filter(
        pk=delivery.token_id, webhook_disabled_at__isnull=True
    ).update(webhook_disabled_at=now)
    if not claimed:
        return False
    WebhookDelivery.objects.filter(
        token_id=delivery.token_id, delivered_at__isnull=True, gave_up_at__isnull=True
    ).update(next_attempt_at=None)
    token = ApiToken.objects.get(pk=delivery.token_id)
    Alert.objects.create(
        account=None,
        kind=AlertKind.WEBHOOK_DISABLED,
        created=now,
        threshold_sun=0,
        problem=f"{delivery.event} to {delivery.url[:120]} failed every retry: {error}"[:300],
        subject=f"Webhook endpoint of API token {token.name} disabled after failing retries"[:200],
        delivery_error="not e-mailed: sent to the alert channels and shown in the inbox",
    )
    return True


def reenable(token: ApiToken) -> int:
    """Re-enable a disabled endpoint; its held deliveries become due now. Returns how many."""
    ApiToken.objects.filter(pk=token.pk).update(webhook_disabled_at=None)
    return WebhookDelivery.objects.filter(
        token=token,
        delivered_at__isnull=True,
        gave_up_at__isnull=True,
        next_attempt_at__isnull=True,
    ).update(next_attempt_at=timezone.now())


def resend(delivery: WebhookDelivery) -> None:
    """Send a delivery again from the start (delivered or given up alike): due now, a fresh
    series of retries. Same webhook-id, so a receiver that already has it can tell."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        delivered_at=None,
        gave_up_at=None,
        attempts=0,
        next_attempt_at=timezone.now(),
    )


def send_test_event(token: ApiToken, *, client: httpx.Client | None = None) -> str:
    """POST a signed `webhook.test` event to the token's endpoint now (recorded nowhere but the
    answer). "ok", or what went wrong."""
    from energydash.api import webhook_signing, webhooks

    if not token.webhook_url:
        return "this token has no webhook URL"
    body = json.dumps(
        {
            "event": "webhook.test",
            "data": {"token": token.name, "sent_at": timezone.now().isoformat()},
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    headers = webhook_signing.headers(
        token,
        msg_id=f"msg_test_{uuid.uuid4().hex[:16]}",
        event="webhook.test",
        delivery="test",
        body=body,
        timestamp=int(time.time()),
    )
    status, error = webhooks.post(token.webhook_url, body, headers, client=client)
    return error or f"ok (HTTP {status})"

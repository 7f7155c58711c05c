"""Webhook signatures: the Standard Webhooks scheme, the legacy energydash headers beside it,
and secret rotation with an overlap window (README "Webhooks").

Standard Webhooks (https://www.standardwebhooks.com/): `webhook-id` (the message id, the same on
every retry of one delivery), `webhook-timestamp` (Unix seconds of this try) and
`webhook-signature`: "v1,<base64 HMAC-SHA256>" over "<id>.<timestamp>.<body>", keyed with the
secret's base64-decoded bytes (after "whsec_"). Signed with the `standardwebhooks` library
itself, so any standardwebhooks verifier (Python, Node, Go, ...) accepts it.

Legacy (deprecated, sent until the release after 2027-06-30): `X-Energydash-Timestamp`,
`X-Energydash-Signature: v1=<hex HMAC-SHA256 keyed with the whole secret string over
"<timestamp>.<body>">`, `X-Energydash-Event`, `X-Energydash-Delivery`.

Rotation: the new secret signs at once; the replaced one keeps signing beside it until the
overlap ends, so `webhook-signature` carries two signatures (space-separated, as the standard
allows) and `X-Energydash-Signature` two comma-separated values. A receiver that has either
secret verifies; it swaps secrets at its own pace within the window.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from energydash.api.models import ApiToken, new_signing_secret


def legacy_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return Webhook(secret).sign(msg_id, when, body.decode())


def headers(
    token: ApiToken, *, msg_id: str, event: str, delivery: str, body: bytes, timestamp: int
) -> dict[str, str]:
    secrets = [s for s in (token.signing_secret(), token.previous_signing_secret()) if s]
    stamp = str(timestamp)
    return {
        "Content-Type": "application/json",
        "User-Agent": "energydash-webhooks/2",
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": " ".join(
            standard_signature(s, msg_id, timestamp, body) for s in secrets
        ),
        "X-Energydash-Event": event,
        "X-Energydash-Delivery": delivery,
        "X-Energydash-Timestamp": stamp,
        "X-Energydash-Signature": ",".join(legacy_signature(s, stamp, body) for s in secrets),
    }


def rotate(token: ApiToken, *, overlap: timedelta | None = None) -> str:
    """Give the token a new signing secret; the current one keeps signing during the overlap.
    Returns the new secret in clear, once. A rotation during an overlap ends the older one."""
    overlap = overlap or timedelta(hours=settings.ENERGYDASH_WEBHOOK_SECRET_OVERLAP_HOURS)
    new = new_signing_secret()
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        locked.previous_webhook_secret = locked.signing_secret()
        locked.previous_secret_until = timezone.now() + overlap
        locked.webhook_secret = new
        locked.save(
            update_fields=["previous_webhook_secret", "previous_secret_until", "webhook_secret"]
        )
    token.refresh_from_db()
    return new

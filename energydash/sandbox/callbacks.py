"""itrx callback signing and its retry schedule (providers.md 2.12)."""

from __future__ import annotations

from datetime import datetime, timedelta

from energydash.sandbox.itrx_auth import canonical_json, sign
from energydash.sandbox.itrx_orders import callback_payload
from energydash.sandbox.models import SandboxOrder

# After the first attempt fails: wait 15s, 15s, 30s, 180s, 600s, 1200s, 1800s, then drop.
RETRY_DELAYS_SECONDS = (15, 15, 30, 180, 600, 1200, 1800)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS_SECONDS)
DELIVERY_TIMEOUT_SECONDS = 5.0


def signed_request(order: SandboxOrder, now: datetime) -> tuple[bytes, dict[str, str]]:
    """Body (sorted compact JSON) and headers, signed with the secret of the placing account."""
    body = canonical_json(callback_payload(order))
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "TIMESTAMP": timestamp,
        "SIGNATURE": sign(order.account.api_secret, timestamp, body),
    }
    return body.encode(), headers


def next_attempt_after(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries, or None to drop the callback."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=RETRY_DELAYS_SECONDS[attempts - 1])

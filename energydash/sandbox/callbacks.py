"""itrx callback signing and its retry schedule (providers.md 2.12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings

from energydash.sandbox.itrx_auth import canonical_json, sign
from energydash.sandbox.itrx_orders import callback_payload
from energydash.sandbox.models import SandboxOrder

# After the first attempt fails: wait 15s, 15s, 30s, 180s, 600s, 1200s, 1800s, then drop.
RETRY_DELAYS_SECONDS = (15, 15, 30, 180, 600, 1200, 1800)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS_SECONDS)
DELIVERY_TIMEOUT_SECONDS = 5.0
DEFAULT_PORTS = {"http": 80, "https": 443}


def refusal(url: str) -> str:
    """Why the sandbox will not call `url` back ("" when it will).

    The sandbox's itrx calls back only this console's own callback endpoint under
    ENERGYDASH_PUBLIC_URL, never a URL a caller chose: anyone holding a sandbox key could
    otherwise make the worker POST to any host in the operator's network (SSRF).
    """
    public = settings.ENERGYDASH_PUBLIC_URL
    if not public:
        return "refused: ENERGYDASH_PUBLIC_URL is not set, so the sandbox calls nobody back"
    own = urlsplit(public)
    try:
        wanted = urlsplit(url)
        port, own_port = wanted.port, own.port
    except ValueError:
        return "refused: not a valid URL"
    same_origin = (
        wanted.scheme == own.scheme
        and (wanted.hostname or "") == (own.hostname or "")
        and (port or DEFAULT_PORTS.get(wanted.scheme))
        == (own_port or DEFAULT_PORTS.get(own.scheme))
        and not wanted.username
        and not wanted.password
    )
    prefix = own.path.rstrip("/") + "/callbacks/"
    if not same_origin or not wanted.path.startswith(prefix) or ".." in wanted.path:
        return f"refused: the sandbox calls back only {public.rstrip('/')}/callbacks/..."
    return ""


def signed_request(
    order: SandboxOrder, now: datetime, *, stale: bool = False
) -> tuple[bytes, dict[str, str]]:
    """Body (sorted compact JSON) and headers, signed with the secret of the placing account.

    stale: the "delegating" (status 30) callback of an earlier moment, as a late, out-of-order
    delivery would carry it.
    """
    payload = callback_payload(order)
    if stale:
        payload.update(status=30, txid="", active_hash="")
    body = canonical_json(payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "TIMESTAMP": timestamp,
        "SIGNATURE": sign(order.account.secret, timestamp, body),
    }
    return body.encode(), headers


def next_attempt_after(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries, or None to drop the callback."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=RETRY_DELAYS_SECONDS[attempts - 1])

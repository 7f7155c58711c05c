"""itrx request authentication: API-KEY header; POSTs also TIMESTAMP + SIGNATURE."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.http import HttpRequest, HttpResponse

from energydash.providers.credentials import ITRX
from energydash.sandbox.http import json_response, parse_json
from energydash.sandbox.models import SandboxAccount

# Undocumented at itrx; the callback verification sample treats 100 s as expired, so do we.
TIMESTAMP_TOLERANCE_SECONDS = 100


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def sign(secret: str, timestamp: str, body: str | bytes) -> str:
    message = timestamp.encode() + b"&" + (body.encode() if isinstance(body, str) else body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def account_for(request: HttpRequest) -> SandboxAccount | None:
    return SandboxAccount.for_key(ITRX, request.headers.get("API-KEY", "").strip())


def detail(message: str, status: int) -> HttpResponse:
    return json_response({"detail": message}, status=status)


def forbidden(message: str = "Incorrect authentication credentials.") -> HttpResponse:
    return detail(message, 403)


def verify_signed_body(
    request: HttpRequest, account: SandboxAccount
) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    """(body, None) when TIMESTAMP/SIGNATURE match the raw body, else (None, error response).

    The signature is checked over the raw bytes as received, and those bytes must also be the
    sorted compact JSON of themselves: the real server may recompute over its own serialisation
    or over the raw body (the docs do not say), so only a body that satisfies both is accepted.
    """
    timestamp = request.headers.get("TIMESTAMP", "").strip()
    if not (timestamp.isdigit() and len(timestamp) == 10):
        return None, forbidden("TIMESTAMP header missing or not 10-digit Unix seconds.")
    if abs(time.time() - int(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        return None, forbidden("Request expired: TIMESTAMP too far from server time.")
    given = request.headers.get("SIGNATURE", "").strip().lower()
    if not hmac.compare_digest(sign(account.secret, timestamp, request.body), given):
        return None, forbidden("Signature verification failed.")
    try:
        data = parse_json(request.body)
    except ValueError:
        return None, detail("JSON parse error.", 400)
    if not isinstance(data, dict):
        return None, detail("Invalid data. Expected a dictionary.", 400)
    if canonical_json(data).encode() != request.body:
        return None, forbidden(
            "Signature verification failed: sign and send the body as sorted compact JSON."
        )
    return data, None

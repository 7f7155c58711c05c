"""A provider failure in the words the dashboard shows next to an account."""

from __future__ import annotations

from energydash.providers.base import REJECTED, ProviderError
from energydash.providers.credentials import UNREADABLE

AUTH_FAILED = "authentication failed"
NOT_WHITELISTED = "IP not whitelisted"
UNAVAILABLE = "provider unavailable"
CREDENTIALS_UNREADABLE = UNREADABLE  # "credentials cannot be decrypted — re-enter them"
INTERNAL = "refresh failed (internal error; see the server log)"


def describe_error(error: ProviderError) -> str:
    message = error.message or ""
    lowered = message.lower()
    if "whitelist" in lowered or "white list" in lowered:
        return NOT_WHITELISTED
    if error.outcome != REJECTED:
        return UNAVAILABLE
    if error.http_status in (401, 403) or AUTH_FAILED in lowered:
        return AUTH_FAILED
    return message or str(error)

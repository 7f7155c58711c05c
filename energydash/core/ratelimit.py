"""A per-user counter in Django's cache: shared by every web process when the cache is Redis."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def allow(bucket: str, who: str | int, limit: int) -> bool:
    """Count one call of `who` in `bucket` for the current minute; False once over `limit`.

    A fixed one-minute window: cache.add() creates the counter (expiring with the window),
    cache.incr() is atomic on Redis, so concurrent processes never both take the last slot.
    """
    window = int(time.time() // WINDOW_SECONDS)
    key = f"ratelimit:{bucket}:{who}:{window}"
    if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
    return count <= limit


def quote_refusal(user: object) -> str:
    """ "" when `user` may fetch live quotes now, else the message to show instead of prices.

    Each fetch calls every enabled provider, so it is limited per user
    (ENERGYDASH_QUOTE_RATE_PER_MINUTE), across all web processes when the cache is Redis.
    """
    limit = settings.ENERGYDASH_QUOTE_RATE_PER_MINUTE
    if allow("quotes", getattr(user, "pk", None) or "anonymous", limit):
        return ""
    return (
        f"Too many price requests: at most {limit} a minute per user. "
        "Wait a moment, then compare prices again."
    )

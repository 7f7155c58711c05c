"""Per-caller counters in Django's cache: shared by every web process when the cache is Redis.

When the cache cannot be reached (Redis down, a network fault), a limiter counts in this process
instead and logs a warning at most once a minute. That fails *open* across processes (each one
allows up to the limit) but never removes the limit. Open, not closed: these limits shield the
providers and this console from floods; they guard no money. Budgets, idempotency and exactly-once
live in the database. Refusing every order and quote while Redis is down would turn a cache
outage into a full outage of the money path, which is worse than a looser limit for its length.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

WINDOW_SECONDS = 60
logger = logging.getLogger("energydash.ratelimit")

_local_lock = threading.Lock()
_local_counts: dict[str, int] = {}
_last_warning = [0.0]


def reset_local_counts() -> None:
    with _local_lock:
        _local_counts.clear()
        _last_warning[0] = 0.0


def _count_locally(key: str, window: int, error: Exception) -> int:
    now = time.monotonic()
    with _local_lock:
        if now - _last_warning[0] >= WINDOW_SECONDS:
            _last_warning[0] = now
            logger.warning(
                "rate limits: the cache is unreachable (%s); counting in this process until "
                "it is back",
                type(error).__name__,
            )
        # Keep only the current window's counters: the dict stays as small as one minute's callers.
        stale = [k for k in _local_counts if not k.endswith(f":{window}")]
        for k in stale:
            del _local_counts[k]
        _local_counts[key] = _local_counts.get(key, 0) + 1
        return _local_counts[key]


def count(bucket: str, who: str | int, window: int | None = None) -> int:
    """Count one call of `who` in `bucket` for the current minute; returns the calls so far.

    A fixed one-minute window: cache.add() creates the counter (expiring with the window),
    cache.incr() is atomic on Redis, so concurrent processes never both take the last slot.
    """
    window = int(time.time() // WINDOW_SECONDS) if window is None else window
    key = f"ratelimit:{bucket}:{who}:{window}"
    try:
        if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
            return 1
    except Exception as error:  # the cache is down: never a 500 from a limiter
        return _count_locally(key, window, error)


def allow(bucket: str, who: str | int, limit: int) -> bool:
    """Count one call; False once `who` is over `limit` in this minute."""
    return count(bucket, who) <= limit


def seconds_to_next_window() -> int:
    return WINDOW_SECONDS - int(time.time() % WINDOW_SECONDS)


def quote_refusal(user: object) -> str:
    """ "" when `user` may fetch live quotes now, else the message to show instead of prices.

    Each fetch calls every enabled provider, so it is limited per user
    (ENERGYDASH_QUOTE_RATE_PER_MINUTE), across all web processes when the cache is Redis.
    """
    limit = settings.ENERGYDASH_QUOTE_RATE_PER_MINUTE
    if allow("quotes", getattr(user, "pk", None) or "anonymous", limit):
        return ""
    return gettext(
        "Too many price requests: at most %(limit)s a minute per user. "
        "Wait a moment, then compare prices again."
    ) % {"limit": limit}

"""A short-lived, process-wide memory of the slow-changing parts of a quote (issue 23).

A quote at itrx reads the price and the account's index data (for the minimum and maximum
order); at TronZap it reads the services list (for the same limits) before the price. Limits
change rarely, so routing every order through every account asked for them each time: two calls
per account per quote. Here the limits part is kept for ENERGYDASH_PROVIDER_LIMITS_SECONDS per
account (by provider, base URL and a digest of the key: never the key itself), and a quote asks
only for the price. Prices are never kept here.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

_lock = threading.Lock()
_kept: dict[tuple[str, str, str, str], tuple[float, Any]] = {}


def key(provider: str, base_url: str, api_key: str, what: str) -> tuple[str, str, str, str]:
    digest = hashlib.sha256(api_key.encode()).hexdigest()[:24]
    return (provider, base_url.rstrip("/"), digest, what)


def kept(cache_key: tuple[str, str, str, str], load: Callable[[], Any]) -> Any:
    """The value kept for cache_key while fresh, else load() (outside the lock) and keep it."""
    seconds = float(getattr(settings, "ENERGYDASH_PROVIDER_LIMITS_SECONDS", 300))
    now = time.monotonic()
    with _lock:
        found = _kept.get(cache_key)
    if found is not None and now - found[0] < seconds:
        return found[1]
    value = load()  # an error is raised as is and nothing is kept
    with _lock:
        _kept[cache_key] = (time.monotonic(), value)
    return value


def forget(cache_key: tuple[str, str, str, str] | None = None) -> None:
    """Drop one kept value (a refusal citing limits), or every one (tests)."""
    with _lock:
        if cache_key is None:
            _kept.clear()
        else:
            _kept.pop(cache_key, None)

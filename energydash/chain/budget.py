"""The chain reader's request budget: at most QPS node requests per second, across every process.

Counted in Django's cache (Redis when REDIS_URL is set, so web and worker processes share it;
locmem otherwise, which one process shares with itself) under a key per whole second of the clock:
a fixed one-second window. Over budget, a caller waits for the next window, but only so long:
then the read answers "unavailable" instead of queueing behind every other reader.

Counted conservatively: a node counts a request in the second it arrives, a little after we let it
go, so a request let go in the last EDGE_SECONDS of a second is counted in that second and in the
next, and goes only if both have room. A node counting by arrival thus never sees more than QPS in
one second as long as a request takes less than EDGE_SECONDS to reach it.

With a margin: only qps - margin requests go a second (ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT,
20%, at least 1 request left). A busy node counts a request when its handler runs, which can be a
second or more after it arrived; the margin is room under its limit for such a late batch.

Shares (ShareOf): a caller that must not crowd out the others (reconciliation's chain evidence,
asked at every poll of every uncertain order) draws on a smaller budget of its own *and* on the
whole one, so the delivery check always finds the rest of the whole.

If the cache fails (Redis down), each process falls back to counting for itself and logs a
warning: the node may then see QPS per process, which its own 429s and our backoff absorb. A chain
read never fails with a 500 because the budget could not be counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import caches

logger = logging.getLogger("energydash.chain")

KEY_PREFIX = "chain-budget"
KEY_TTL_SECONDS = 5  # a window's counter outlives its second a little, then goes
EDGE_SECONDS = 0.3


class LocalWindow:
    """The per-process fallback: the same fixed window, counted under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = -1
        self._count = 0

    def incr(self, window: int) -> int:
        with self._lock:
            if window != self._window:
                self._window, self._count = window, 0
            self._count += 1
            return self._count


_local_lock = threading.Lock()
_local_windows: dict[str, LocalWindow] = {}


def local_window(key_prefix: str) -> LocalWindow:
    """One fallback counter per budget key in this process, shared by its readers."""
    with _local_lock:
        return _local_windows.setdefault(key_prefix, LocalWindow())


class RequestBudget:
    def __init__(
        self,
        qps: int,
        *,
        cache: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 2.0,
        key_prefix: str = KEY_PREFIX,
        margin: int = 0,
    ) -> None:
        if qps < 1:
            raise ValueError("the request budget needs at least 1 request per second")
        self.qps = qps
        self.limit = max(1, qps - max(0, margin))  # what goes a second
        self._cache = cache
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self.key_prefix = key_prefix
        self._local = local_window(key_prefix)
        self._degraded = False

    @property
    def cache(self) -> Any:
        return caches["default"] if self._cache is None else self._cache

    def acquire(self) -> bool:
        """Take one request from the budget, waiting for a later window if need be.

        False when the budget stays used up for longer than max_wait: send nothing then.
        """
        waited = 0.0
        while True:
            now = self._clock()
            window = int(now)
            fits = self._count(window) <= self.limit
            if int(now + EDGE_SECONDS) != window:  # it may arrive in the next second
                fits = self._count(window + 1) <= self.limit and fits
            if fits:
                return True
            pause = max(window + 1 - now, 0.001)
            if waited + pause > self.max_wait:
                return False
            self._sleep(pause)
            waited += pause

    def _count(self, window: int) -> int:
        key = f"{self.key_prefix}:{window}"
        try:
            count = self._shared_incr(key)
        except Exception as exc:  # any cache failure: a witness must not fail its caller
            if not self._degraded:
                self._degraded = True
                logger.warning(
                    "chain request budget: the shared cache failed (%s); counting per process",
                    type(exc).__name__,
                )
            return self._local.incr(window)
        if self._degraded:
            self._degraded = False
            logger.warning("chain request budget: the shared cache works again")
        return count

    def _shared_incr(self, key: str) -> int:
        cache = self.cache
        for _ in range(3):
            cache.add(key, 0, timeout=KEY_TTL_SECONDS)
            try:
                return int(cache.incr(key))
            except ValueError:
                continue  # expired between add and incr: add it again
        raise RuntimeError("the budget counter keeps vanishing")


class ShareOf:
    """A share of a whole budget: a request goes when it fits both the share and the whole."""

    def __init__(self, share: RequestBudget, whole: RequestBudget) -> None:
        self.share = share
        self.whole = whole

    @property
    def qps(self) -> int:
        return self.share.qps

    def acquire(self) -> bool:
        return self.share.acquire() and self.whole.acquire()

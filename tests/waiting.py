"""Waiting on conditions instead of sleeping: the one way tests here deal with concurrency.

A test that checks state another thread or process writes (a live server committing an order, a
worker settling a queue) polls for the condition and fails only after a generous deadline, so a
loaded machine makes it slower, never red.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

DEADLINE_SECONDS = 30.0


class ConditionTimeout(AssertionError):
    """The condition did not become true before the deadline."""


def wait_until[T](
    predicate: Callable[[], T],
    *,
    timeout: float = DEADLINE_SECONDS,
    interval: float = 0.02,
    message: str = "",
) -> T:
    """Call predicate until it returns something truthy and return that; fail after timeout.

    The deadline is on the monotonic clock and only bounds a failure: a passing test returns as
    soon as the condition holds, however busy the machine is.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", "condition")
            raise ConditionTimeout(f"{what} still false after {timeout:g} s")
        time.sleep(interval)


class SettlingTransport(httpx.HTTPTransport):
    """Real HTTP, except that a timed-out POST is reported only once `settled()` holds.

    Tests of a lost answer use a client timeout shorter than the server's hold; on a loaded
    machine that timeout could fire before the server has even created the order, which is a
    different case (the request never arrived). Waiting for the server's side of the story
    before raising keeps each test on the case it is about.
    """

    def __init__(self, settled: Callable[[], object], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settled = settled

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except httpx.TimeoutException:
            if request.method == "POST":
                wait_until(self.settled, message="the server acted on the timed-out request")
            raise

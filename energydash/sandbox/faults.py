"""Fault injection, per sandbox account, with a random source tests can replace."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from django.http import HttpResponse

from energydash.sandbox.models import SandboxAccount

RandomSource = Callable[[], float]
_source: RandomSource = random.random


def set_random_source(source: RandomSource | None) -> None:
    """Replace the source of [0, 1) floats (None restores random.random)."""
    global _source
    _source = source or random.random


def roll(rate: float) -> bool:
    return rate > 0 and _source() < rate


def gateway_timeout() -> HttpResponse:
    return HttpResponse(
        "<html><head><title>504 Gateway Time-out</title></head><body><center>"
        "<h1>504 Gateway Time-out</h1></center></body></html>",
        status=504,
        content_type="text/html",
    )


def before_handling(
    account: SandboxAccount, server_error: Callable[[], HttpResponse]
) -> HttpResponse | None:
    """Latency, then maybe a 5xx or a hang; None means: handle the request normally."""
    if account.latency_ms:
        time.sleep(account.latency_ms / 1000)
    if roll(account.error_rate):
        return server_error()
    if roll(account.timeout_rate):
        time.sleep(account.hang_seconds)
        return gateway_timeout()
    return None


def hold_if_lost(account: SandboxAccount) -> None:
    """After an order was created and charged (and committed): maybe hold the response so the
    client times out and cannot know the outcome."""
    if roll(account.lose_response_rate):
        time.sleep(account.hang_seconds)


def charges_without_order(account: SandboxAccount) -> bool:
    """Whether this placing request takes the money and creates no order (one-shot or share).

    The one-shot switch is claimed with a conditional UPDATE, so exactly one request fires it.
    """
    if account.charge_without_order_once:
        claimed = SandboxAccount.objects.filter(
            pk=account.pk, charge_without_order_once=True
        ).update(charge_without_order_once=False)
        account.charge_without_order_once = False
        if claimed:
            return True
    return roll(account.charge_without_order_rate)


def gateway_error_after_create(account: SandboxAccount) -> HttpResponse | None:
    """After an order was created and charged (and committed): maybe answer 502 instead of the
    provider's answer, which is then lost to the client."""
    if roll(account.error_after_create_rate):
        return HttpResponse(
            "<html><head><title>502 Bad Gateway</title></head><body><center>"
            "<h1>502 Bad Gateway</h1></center></body></html>",
            status=502,
            content_type="text/html",
        )
    return None

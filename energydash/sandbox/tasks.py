"""django-q2 tasks of the sandbox: plain functions, safe to run twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from django.utils import timezone

from energydash.sandbox import faults, money
from energydash.sandbox.callbacks import (
    DELIVERY_TIMEOUT_SECONDS,
    next_attempt_after,
    refusal,
    signed_request,
)
from energydash.sandbox.models import SandboxCallback

CLAIM_LEASE = timedelta(minutes=2)  # a crashed delivery is retried after this


def simulate_transfers(now: datetime | None = None) -> str:
    """Send the simulated USDT transfers due (chain_consumption.py ChainConsumer rows)."""
    from energydash.sandbox.chain_consumption import run_consumers

    sent = run_consumers(now or timezone.now())
    burned = sum(1 for transfer in sent if transfer.burned_sun)
    return f"{len(sent)} transfer(s) sent, {burned} burned TRX"


def deliver_due_callbacks(now: datetime | None = None, client: httpx.Client | None = None) -> int:
    """POST every itrx callback that is due; returns how many delivery attempts were made.
    First it credits every planned refund that is due (money.py), so balances move on time even
    when nobody asks the sandbox anything."""
    now = now or timezone.now()
    money.settle_due_refunds(now=now)
    own_client = client is None
    http = client or httpx.Client(timeout=DELIVERY_TIMEOUT_SECONDS)
    made = 0
    try:
        due = SandboxCallback.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
        for callback in due.select_related("order__account").order_by("next_attempt_at")[:200]:
            if _claim(callback, now):
                _attempt(callback, now, http)
                made += 1
    finally:
        if own_client:
            http.close()
    return made


def _claim(callback: SandboxCallback, now: datetime) -> bool:
    """Conditional UPDATE: of two workers seeing the same row, only one sends it."""
    claimed = SandboxCallback.objects.filter(
        pk=callback.pk, attempts=callback.attempts, delivered_at__isnull=True
    ).update(attempts=callback.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
    callback.attempts += 1
    return claimed == 1


def _attempt(callback: SandboxCallback, now: datetime, http: httpx.Client) -> None:
    refused = refusal(callback.url)  # checked again at send time: the setting may have changed
    if refused:
        callback.last_status, callback.last_error, callback.next_attempt_at = None, refused, None
        callback.save(update_fields=["last_status", "last_error", "next_attempt_at"])
        return
    # A refund due by now (an itrx 41) is on the balance before the callback says so.
    if money.settle_due_refunds(callback.order.account, now):
        callback.order.refresh_from_db(fields=["refund_sun"])
    body, headers = signed_request(callback.order, now)
    status, error = None, ""
    try:
        status = http.post(callback.url, content=body, headers=headers).status_code
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    callback.last_status, callback.last_error = status, error
    if status == 200:
        callback.delivered_at, callback.next_attempt_at = now, None
    else:
        callback.next_attempt_at = next_attempt_after(callback.attempts, now)
    callback.save(update_fields=["last_status", "last_error", "delivered_at", "next_attempt_at"])
    if status == 200:
        _extra_deliveries(callback, body, headers, now, http)


def _extra_deliveries(
    callback: SandboxCallback,
    body: bytes,
    headers: dict[str, str],
    now: datetime,
    http: httpx.Client,
) -> None:
    """Fault knobs: send a delivered callback again, and/or a stale one after it. The receiver
    must take both calmly: the order is already final."""
    account = callback.order.account
    extra: list[tuple[bytes, dict[str, str]]] = []
    if faults.roll(account.duplicate_callback_rate):
        extra.append((body, headers))
    if faults.roll(account.out_of_order_callback_rate):
        extra.append(signed_request(callback.order, now, stale=True))
    for content, extra_headers in extra:
        try:
            http.post(callback.url, content=content, headers=extra_headers)
        except httpx.HTTPError:
            pass  # a repeat that fails is simply not repeated

"""Writing balances: snapshots from provider responses and refreshes, and the per-account state.

Compaction rule (why the table does not grow by one row per poll): a snapshot equal to the
previous one is a confirmation, not news. The first row of a run of equal balances (the change
point) is never moved. The run keeps at most one row per heartbeat interval after it: while the
newest row repeats the row before it and that row is less than a heartbeat older than the new
reading, the newest row slides forward to the new reading's time; otherwise a new row is
inserted. A balance that never changes thus costs one row per heartbeat, and the step chart is
exact, because every change point keeps its own time and the newest row says "still so at".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from energydash.balances import ledger_days
from energydash.balances.balance_rollups import refresh_hours
from energydash.balances.errors import CREDENTIALS_UNREADABLE, describe_error
from energydash.balances.models import (
    MANUAL,
    ORDER,
    REFRESH,
    AccountBalanceState,
    BalanceSnapshot,
)
from energydash.lib.crypto import DecryptionError
from energydash.providers.base import ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.balances")
SOURCES = (REFRESH, ORDER, MANUAL)


def heartbeat() -> timedelta:
    return timedelta(minutes=settings.ENERGYDASH_BALANCE_HEARTBEAT_MINUTES)


def state_for(account: ProviderAccount, *, lock: bool = False) -> AccountBalanceState:
    """The account's state row, created on first use; locked for update inside a transaction."""
    rows = AccountBalanceState.objects.all()
    state, _ = (rows.select_for_update() if lock else rows).get_or_create(account=account)
    return state


def record_balance(
    account: ProviderAccount,
    balance_sun: int,
    *,
    source: str,
    taken_at: datetime | None = None,
    asked_at: datetime | None = None,
) -> BalanceSnapshot | None:
    """Record a balance a provider reported; returns the row written or moved forward.

    Returns None (and writes nothing) for a reading that is not an integer sun amount, and for
    a stale order answer: `asked_at` is when the request that carried it left, and when another
    reading was recorded since, this answer may show an older state than that one (eight
    concurrent itrx orders answer in any order). Such a balance stays on its order only; in the
    history it would open a false discrepancy and top-up (balances.intervals, "Stale readings").
    A "refresh" or "manual" reading also clears the account's refresh error.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown balance source {source!r}")
    if isinstance(balance_sun, bool) or not isinstance(balance_sun, int):
        logger.warning("ignored a non-integer balance for account %s", account.pk)
        return None
    taken_at = taken_at or timezone.now()
    with transaction.atomic():
        state = state_for(account, lock=True)  # serialises writers of one account's history
        if source == ORDER and asked_at is not None and _recorded_since(account, asked_at):
            logger.info("kept a stale order balance of account %s off the history", account.pk)
            return None
        snapshot, moved_from = _write_snapshot(account, balance_sun, source, taken_at)
        # The hourly balance rollups follow in this transaction, under this lock (one writer).
        refresh_hours(account.pk, [taken_at] if moved_from is None else [taken_at, moved_from])
        ledger_days.touch(account.pk, taken_at if moved_from is None else min(taken_at, moved_from))
        fields = []
        if state.as_of is None or taken_at >= state.as_of:
            state.balance_sun, state.as_of, state.source = balance_sun, taken_at, source
            fields += ["balance_sun", "as_of", "source"]
        if source in (REFRESH, MANUAL):
            state.last_attempt_at = max(taken_at, state.last_attempt_at or taken_at)
            state.last_error, state.last_error_detail, state.error_since = "", "", None
            state.failing_alert_armed = True
            fields += [
                "last_attempt_at",
                "last_error",
                "last_error_detail",
                "error_since",
                "failing_alert_armed",
            ]
        if fields:
            state.save(update_fields=fields)
    return snapshot


def _recorded_since(account: ProviderAccount, moment: datetime) -> bool:
    return BalanceSnapshot.objects.filter(account=account, taken_at__gt=moment).exists()


def _write_snapshot(
    account: ProviderAccount, balance_sun: int, source: str, taken_at: datetime
) -> tuple[BalanceSnapshot, datetime | None]:
    """The row written, and where it was before when the compaction slid it forward."""
    history = BalanceSnapshot.objects.filter(account=account)
    last_two = list(history.order_by("-taken_at", "-id")[:2])
    in_order = not last_two or last_two[0].taken_at <= taken_at  # a late reading is inserted
    if in_order and last_two and last_two[0].balance_sun == balance_sun:
        newest = last_two[0]
        previous = last_two[1] if len(last_two) > 1 else None
        sliding = (
            previous is not None
            and previous.balance_sun == balance_sun
            and taken_at - previous.taken_at < heartbeat()
        )
        if sliding:
            moved_from = newest.taken_at
            newest.taken_at, newest.source = taken_at, source
            newest.save(update_fields=["taken_at", "source"])
            return newest, moved_from
    created = BalanceSnapshot.objects.create(
        account=account, balance_sun=balance_sun, source=source, taken_at=taken_at
    )
    return created, None


def record_refresh_error(account: ProviderAccount, error: ProviderError) -> AccountBalanceState:
    """Keep the failure in words on the account; the balance and history stay untouched."""
    return record_refresh_failure(account, describe_error(error), str(error))


def record_refresh_failure(
    account: ProviderAccount, words: str, detail: str
) -> AccountBalanceState:
    now = timezone.now()
    with transaction.atomic():
        state = state_for(account, lock=True)
        state.last_attempt_at = now
        state.last_error = words[:300]
        state.last_error_detail = detail
        state.error_since = state.error_since or now
        state.save(
            update_fields=["last_attempt_at", "last_error", "last_error_detail", "error_since"]
        )
    return state


def refresh_account(
    account: ProviderAccount, *, source: str = REFRESH, client: httpx.Client | None = None
) -> BalanceSnapshot | None:
    """Ask the provider for the balance and record it; on failure record the error, no balance."""
    try:
        with adapter_for(account.credentials(), client=client) as adapter:
            balance = adapter.balance()
    except ProviderError as exc:
        record_refresh_error(account, exc)
        logger.warning("balance refresh of %s failed: %s", account.name, exc)
        return None
    except DecryptionError as exc:
        record_refresh_failure(account, CREDENTIALS_UNREADABLE, str(exc))
        logger.error("balance refresh of %s: credentials cannot be decrypted", account.name)
        return None
    snapshot = record_balance(account, balance.balance_sun, source=source)
    if balance.deposit_address:
        record_deposit_address(account, balance.deposit_address)
    return snapshot


def record_deposit_address(account: ProviderAccount, address: str) -> None:
    """Keep the deposit address the provider named (top-up help on the providers page); one
    UPDATE, and only when it changed."""
    state_for(account)  # normally written by record_balance just before
    AccountBalanceState.objects.filter(account=account).exclude(deposit_address=address).update(
        deposit_address=address
    )

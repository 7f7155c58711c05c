"""Money faults applied: an order's fate chosen when it is placed, planned refunds landing on the
balance when due, and balances rounded the way a provider prints them.

Sandbox orders move by the clock, not by events, so a planned refund is written when the order is
placed (refund_due_at, refund_due_sun) and credited by the first request of that account at or
after its moment (settle_due_refunds, a conditional UPDATE per order: two requests never both
credit), by the callback worker, or by the soak before it reads the sandbox's truth.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from energydash.providers.credentials import ITRX, TRONZAP
from energydash.sandbox import faults
from energydash.sandbox.models import SandboxAccount, SandboxOrder
from energydash.sandbox.money_models import FAILED_FATES, Fate

FATE_KINDS = (SandboxOrder.Kind.ENERGY, SandboxOrder.Kind.COLLECT)


def choose_fate(account: SandboxAccount, kind: str) -> Fate:
    """How an order placed now will end, by the account's knobs (each roll only when its knob is
    on, so a test's random source sees only the rolls it asked for)."""
    if kind not in FATE_KINDS:
        return Fate.NORMAL
    if account.provider == ITRX:
        if faults.roll(account.partial_refund_rate):
            return Fate.REFUNDED_PART
        if faults.roll(account.failed_after_accept_rate):
            # itrx has two failed ends; which one is a coin toss.
            return Fate.CLOSED if faults.roll(0.5) else Fate.ABORTED
    elif account.provider == TRONZAP:
        if faults.roll(account.failed_after_accept_rate):
            return Fate.FAILED
        if faults.roll(account.late_refund_rate):
            return Fate.REFUNDED_LATE
    return Fate.NORMAL


def plan(order: SandboxOrder, fate: Fate) -> None:
    """Write the fate onto a new order (inside its placing transaction): the refund it will get
    and when, and no delegation on chain for an order that fails."""
    if fate == Fate.NORMAL:
        return
    account = order.account
    ends = order.delegated_at()
    refund: int | None = None
    if fate == Fate.REFUNDED_PART:
        refund = order.cost_sun * account.partial_refund_percent // 100
    elif fate in FAILED_FATES:
        refund = order.cost_sun * account.failed_refund_percent // 100 or None
        order.chain_delegations.filter(by_other_party=False).delete()
    elif fate == Fate.REFUNDED_LATE:
        ends += timedelta(seconds=account.late_refund_seconds)
        in_full = faults.roll(0.5)
        refund = (
            order.cost_sun if in_full else order.cost_sun * account.partial_refund_percent // 100
        )
    order.fate = fate
    order.refund_due_sun = refund
    order.refund_due_at = ends if refund is not None else None
    order.save(update_fields=["fate", "refund_due_sun", "refund_due_at"])


def settle_due_refunds(account: SandboxAccount | None = None, now: datetime | None = None) -> int:
    """Credit every planned refund that is due (of one account, or all); returns how many.
    Refreshes account.balance_sun when it credited any."""
    now = now or timezone.now()
    due = SandboxOrder.objects.filter(
        refund_sun__isnull=True, refund_due_sun__isnull=False, refund_due_at__lte=now
    )
    if account is not None:
        due = due.filter(account=account)
    done = sum(order.refund(order.refund_due_sun, at=order.refund_due_at) for order in due)
    if done and account is not None:
        account.refresh_from_db(fields=["balance_sun"])
    return done


def pending_refunds() -> int:
    """Planned refunds not yet credited (the soak waits for none before reading the truth)."""
    return SandboxOrder.objects.filter(
        Q(refund_sun__isnull=True) & Q(refund_due_sun__isnull=False)
    ).count()


def shown_balance(account: SandboxAccount) -> int:
    """The balance in sun as the provider prints it: rounded half up to balance_precision_sun."""
    step = account.balance_precision_sun
    if not step or step <= 1:
        return account.balance_sun
    steps = (Decimal(account.balance_sun) / step).to_integral_value(rounding=ROUND_HALF_UP)
    return int(steps) * step


def delivered_share(order: SandboxOrder) -> Decimal:
    """The part of the order delivered: all, less the refunded part (an itrx 41 in part)."""
    if order.refund_sun is None or order.cost_sun <= 0:
        return Decimal(1)
    return max(Decimal(0), Decimal(order.cost_sun - order.refund_sun) / order.cost_sun)

"""The soak's money part (scripts/soak.py imports it): the sandbox's money faults switched on,
balances read while orders run, and what the console made of the money compared with the
sandbox's truth, per provider.

Figures (issue 19), per provider, in the soak's JSON line under "money":
- kept: for every console order not in review, the console's kept money (Order.kept_sun, the
  one definition in orders/money.py) against the sandbox's charged - refunded for the provider
  orders behind it: orders compared, mismatches, and the sun they differ by (sandbox - console,
  summed), with the first mismatched orders' codes.
- ledger: discrepancy flags (LedgerFlag) and the alerts/e-mails they raised, after one last
  balance reading and a ledger pass run as the scheduled one would 10 minutes later. The soak's
  sandbox takes no money without an order (charge_without_order is off), so every discrepancy
  is false unless the sandbox's balances show money gone that no sandbox order explains
  ("sandbox_unexplained_sun" != 0); then they are reported, not judged.
- review: uncertain orders (ever unknown or in review) the sandbox never charged, how many of
  them are in review, and charged orders concluded "not placed" (console failed, no provider
  id, yet the sandbox holds a charged order for it).

Goals (GOALS): 0 charged concluded not placed, 0 kept-money mismatches, 0 false discrepancy
e-mails, never-charged uncertain orders in review <= 2%. Reported always; an unmet goal fails
the soak (SOAK_STRICT_MONEY=0 reports them only, for a run that studies a regression).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

MONEY_FAULTS = os.environ.get("SOAK_MONEY_FAULTS", "1") != "0"
STRICT_MONEY = os.environ.get("SOAK_STRICT_MONEY", "1") != "0"
REFRESH_SECONDS = float(os.environ.get("SOAK_REFRESH_SECONDS", "3"))
MONEY_GRACE_SECONDS = float(os.environ.get("SOAK_MONEY_GRACE_SECONDS", "60"))
LATE_REFUND_SECONDS = 20
PUBLISHED_PRECISION_SUN = {"itrx": None, "tronzap": 10_000, "netts": 10_000}  # sun; 0.01 TRX
REVIEW_SHARE_GOAL = 0.02

logger = logging.getLogger("soak")


def money_knobs(rate: float) -> dict[str, dict[str, Any]]:
    """Per provider: the money faults at `rate`, and balances at the published precision."""
    return {
        "itrx": {
            "partial_refund_rate": rate,
            "failed_after_accept_rate": rate,
            "transient_status_rate": rate,
            "balance_precision_sun": PUBLISHED_PRECISION_SUN["itrx"],
        },
        "tronzap": {
            "failed_after_accept_rate": rate,
            "late_refund_rate": rate,
            "late_refund_seconds": LATE_REFUND_SECONDS,
            "balance_precision_sun": PUBLISHED_PRECISION_SUN["tronzap"],
        },
        "netts": {
            "unactivated_recipient_rate": rate,
            "balance_precision_sun": PUBLISHED_PRECISION_SUN["netts"],
        },
    }


def set_money_knobs(rate: float) -> None:
    """Left on to the end: a fate is chosen when an order is placed, rounding is how balances
    read. Off with SOAK_MONEY_FAULTS=0."""
    from energydash.sandbox.models import SandboxAccount

    if not MONEY_FAULTS:
        return
    for provider, knobs in money_knobs(rate).items():
        SandboxAccount.objects.filter(provider=provider).update(**knobs)


def read_balances() -> int:
    """One reading of every sandbox account through the console; how many succeeded. Also run
    once before the first order is placed: an operator's console has read its balances before
    (the scheduled refresh), so every order has a reading from before it was sent."""
    from energydash.balances.services import refresh_account
    from energydash.providers.models import ProviderAccount

    return sum(
        refresh_account(account) is not None
        for account in ProviderAccount.objects.filter(name__startswith="Sandbox")
    )


class BalanceReader(threading.Thread):
    """Reads every sandbox account's balance through the console every REFRESH_SECONDS, as the
    balance schedule does (more often, so the ledger sees the run): the readings the ledger
    judges. Stops when told."""

    def __init__(self) -> None:
        super().__init__(name="soak-balance-reader", daemon=True)
        self.stopping = threading.Event()
        self.readings = 0

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopping.wait(REFRESH_SECONDS):
                self.readings += read_balances()
        except Exception:  # the soak goes on; the summary shows how many readings were taken
            logger.exception("balance reader stopped")
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)


def sandbox_refunds_credited() -> bool:
    """Credit the sandbox's due refunds; True once none is left to come."""
    from energydash.sandbox import money

    money.settle_due_refunds()
    return money.pending_refunds() == 0


def late_refund_pass() -> int:
    """The late-refund schedule's pass as it runs once the orders' first check is due (15
    minutes after they finished): the soak compresses that wait, as final_ledger_pass does the
    ledger's. How many late refunds it recorded."""
    from django.conf import settings
    from django.utils import timezone

    from energydash.orders.late_refunds import check_late_refunds

    later = timezone.now() + timedelta(minutes=settings.ENERGYDASH_LATE_REFUND_CHECK_MINUTES + 1)
    recorded = 0
    for _ in range(100):  # passes of at most 100 orders each; each order is asked once
        found = check_late_refunds(now=later)
        recorded += found
        from energydash.orders.late_refunds import due

        if not due(later).exists():
            break
    return recorded


def final_ledger_pass() -> None:
    """One last reading per account, then the discrepancy pass as it would run 10 minutes on
    (nothing changes meanwhile), so the newest interval counts as settled."""
    from django.utils import timezone

    from energydash.balances.ledger_checks import check_all_discrepancies
    from energydash.balances.services import refresh_account
    from energydash.providers.models import ProviderAccount

    for account in ProviderAccount.objects.filter(name__startswith="Sandbox"):
        refresh_account(account)
    check_all_discrepancies(timezone.now() + timedelta(seconds=601))


# Figures ----------------------------------------------------------------------------------------


def _truth(remote: list) -> int:
    return sum(r.cost_sun - (r.refund_sun or 0) for r in remote)


def _recorded(order: Any) -> int:
    return (order.cost_sun or 0) - (order.refund_sun or 0)


def money_faulted(r: Any) -> bool:
    """A sandbox order whose money a new fault touched: a fate, or a Netts activation (the soak
    sends Netts only recipients it has not marked unactivated, so each is the knob's doing)."""
    return bool(r.fate) or (r.provider == "netts" and r.activation_sun > 0)


def kept_figures(orders: list, per_order: dict[int, list], review_ids: set[int]) -> dict:
    """Per provider: every console order outside review, its kept money as orders.money defines
    it (Order.kept_sun: cost - refund of a charged order; a refunded order without a figure
    refunded in full; a failed one without a figure keeping it; 0 when never charged) against
    the sandbox's charged - refunded; `recorded_*` is the plain cost - refund, for comparison."""
    out: dict[str, Any] = {}
    for provider in ("itrx", "netts", "tronzap"):
        rows = [o for o in orders if o.account.provider == provider and o.pk not in review_ids]
        truth = [_truth(per_order.get(o.pk, [])) for o in rows]
        kept = [t - o.kept_sun for t, o in zip(truth, rows, strict=True)]
        recorded = [t - _recorded(o) for t, o in zip(truth, rows, strict=True)]
        out[provider] = {
            "orders_compared": len(rows),
            "kept_mismatches": sum(d != 0 for d in kept),
            "kept_mismatch_sun": sum(kept),
            "console_kept_sun": sum(o.kept_sun for o in rows),
            "sandbox_kept_sun": sum(truth),
            "recorded_mismatches": sum(d != 0 for d in recorded),
            "recorded_mismatch_sun": sum(recorded),
            "mismatched_orders": [
                str(o.code)[:8] for d, o in zip(kept, rows, strict=True) if d != 0
            ][:10],
        }
    return out


def ledger_figures(before: dict[str, int], after: dict[str, int], remote: list) -> dict:
    from energydash.balances.models import Alert, AlertKind, LedgerFlag

    flags = Counter(
        f.account.provider
        for f in LedgerFlag.objects.filter(kind=LedgerFlag.Kind.DISCREPANCY).select_related(
            "account"
        )
    )
    flag_sun: dict[str, int] = defaultdict(int)
    for f in LedgerFlag.objects.filter(kind=LedgerFlag.Kind.DISCREPANCY).select_related("account"):
        flag_sun[f.account.provider] += f.amount_sun
    alerts = Alert.objects.filter(kind=AlertKind.LEDGER_DISCREPANCY).select_related("account")
    emailed = Counter(a.account.provider for a in alerts if a.recipients and not a.delivery_error)
    out = {}
    for provider in sorted(before):
        theirs = [r for r in remote if r.provider == provider]
        unexplained = before[provider] - after[provider] - _truth(theirs)
        judged = unexplained == 0
        out[provider] = {
            "discrepancy_flags": flags[provider],
            "discrepancy_sun": flag_sun[provider],
            "discrepancy_alerts": sum(a.account.provider == provider for a in alerts),
            "discrepancy_emails": emailed[provider],
            "sandbox_unexplained_sun": unexplained,
            "false_flags": flags[provider] if judged else None,
            "false_emails": emailed[provider] if judged else None,
        }
    return out


def review_figures(orders: list, per_order: dict[int, list]) -> dict:
    from energydash.orders.models import OrderEvent, Status

    doubtful = set(
        OrderEvent.objects.filter(to_status__in=[Status.UNKNOWN, Status.NEEDS_REVIEW]).values_list(
            "order_id", flat=True
        )
    )
    out = {}
    for provider in ("itrx", "netts", "tronzap"):
        mine = [o for o in orders if o.account.provider == provider]
        uncertain = [o for o in mine if o.pk in doubtful or o.status == Status.NEEDS_REVIEW]
        never = [o for o in uncertain if not per_order.get(o.pk)]
        in_review = [o for o in never if o.status == Status.NEEDS_REVIEW]
        wrong = [
            o
            for o in mine
            if o.status == Status.FAILED
            and not o.provider_ref
            and _truth(per_order.get(o.pk, [])) > 0
        ]
        out[provider] = {
            "uncertain": len(uncertain),
            "never_charged_uncertain": len(never),
            "never_charged_in_review": len(in_review),
            "review_share": round(len(in_review) / len(never), 4) if never else 0.0,
            "charged_in_review": sum(
                1 for o in uncertain if o.status == Status.NEEDS_REVIEW and per_order.get(o.pk)
            ),
            "charged_concluded_not_placed": len(wrong),
        }
    return out


def money_summary(
    orders: list,
    remote: list,
    per_order: dict[int, list],
    review_ids: set[int],
    before: dict[str, int],
    after: dict[str, int],
) -> dict:
    return {
        "faults_on": MONEY_FAULTS,
        "sandbox_fates": dict(
            Counter(f"{r.provider}/{r.fate or 'normal'}" for r in remote if r.fate)
            + Counter(
                f"{r.provider}/activated"
                for r in remote
                if r.provider == "netts" and r.activation_sun
            )
        ),
        "kept": kept_figures(orders, per_order, review_ids),
        "ledger": ledger_figures(before, after, remote),
        "review": review_figures(orders, per_order),
    }


def goals(money: dict) -> dict[str, dict[str, Any]]:
    """The issue's goals over all providers: value, target, met."""
    kept = money["kept"].values()
    mismatches = sum(k["kept_mismatches"] for k in kept)
    review = money["review"].values()
    never = sum(r["never_charged_uncertain"] for r in review)
    in_review = sum(r["never_charged_in_review"] for r in review)
    share = in_review / never if never else 0.0
    ledger = money["ledger"].values()
    false_emails = [v["false_emails"] for v in ledger]
    false_flags = [v["false_flags"] for v in ledger]
    unjudged = any(v is None for v in false_emails)
    return {
        "charged_concluded_not_placed": _goal(
            sum(r["charged_concluded_not_placed"] for r in review), 0
        ),
        "kept_mismatches": _goal(mismatches, 0),
        "false_discrepancy_emails": _goal(
            None if unjudged else sum(false_emails), 0, note="flags" if unjudged else ""
        ),
        "false_discrepancy_flags": _goal(None if unjudged else sum(false_flags), 0),
        "never_charged_in_review_share": {
            "value": round(share, 4),
            "target": f"<= {REVIEW_SHARE_GOAL}",
            "met": share <= REVIEW_SHARE_GOAL,
        },
    }


def _goal(value: int | None, target: int, note: str = "") -> dict[str, Any]:
    if value is None:
        return {"value": None, "target": target, "met": False, "note": "not judged: " + note}
    return {"value": value, "target": target, "met": value == target}


def money_mismatch_of_faulted(
    orders: list, per_order: dict[int, list], review_ids: set[int], provider: str
) -> int:
    """The part of the soak's mismatch_sun owed to orders a money fault touched (sandbox - console),
    reported apart so the old check keeps judging the orders it always judged."""
    return sum(
        _truth(per_order.get(o.pk, [])) - o.kept_sun
        for o in orders
        if o.account.provider == provider
        and o.pk not in review_ids
        and any(money_faulted(r) for r in per_order.get(o.pk, []))
    )

"""Ledger findings sent as alerts: discrepancies between balance readings, and itrx's per-key
usage summary disagreeing with what the console recorded.

Each finding is e-mailed once. The hysteresis is a LedgerFlag row claimed under a unique key
(a discrepancy by the reading that opens its interval, a summary mismatch by itrx's day): the
INSERT that wins sends the e-mail, every later pass finds the row and sends nothing. Recipients
are the low-balance alerts' (alerts.recipients_for) and every finding is an Alert row, so it is
listed on the Alerts page whether or not it could be delivered.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from energydash.balances import intervals, ledger
from energydash.balances.alerts import recipients_for
from energydash.balances.models import Alert, AlertKind, LedgerFlag
from energydash.core.schedules import every_minutes
from energydash.lib.emails import send_email
from energydash.lib.tron import format_trx
from energydash.providers.base import ProviderError
from energydash.providers.models import ProviderAccount

logger = logging.getLogger("energydash.balances")

# Discrepancies are looked for in intervals ending in this window before each pass: the pass
# runs every few minutes, so this only has to outlast a stopped worker.
LOOKBACK = timedelta(days=2)
# itrx's "today"/"yesterday" are taken as China Standard Time days (create_time is +08:00, 2.5).
ITRX_ZONE = dt_timezone(timedelta(hours=8), "UTC+08:00")


def ledger_url(account: ProviderAccount) -> str:
    path = reverse("balances:ledger", args=[account.code])
    return f"{settings.ENERGYDASH_PUBLIC_URL}{path}" if settings.ENERGYDASH_PUBLIC_URL else path


def _claim(account: ProviderAccount, kind: str, key: str, **fields: Any) -> LedgerFlag | None:
    """The new flag, or None when this finding was already reported."""
    try:
        with transaction.atomic():
            return LedgerFlag.objects.create(account=account, kind=kind, key=key, **fields)
    except IntegrityError:
        return None


def _alert(
    account: ProviderAccount,
    flag: LedgerFlag,
    kind: str,
    template: str,
    problem: str,
    balance_sun: int | None,
    context: dict[str, Any],
    now: datetime,
) -> Alert:
    to = recipients_for(account)
    alert = Alert(
        account=account,
        kind=kind,
        created=now,
        balance_sun=balance_sun,
        threshold_sun=account.low_balance_threshold_sun,
        problem=problem[:300],
        recipients=to,
    )
    label = AlertKind(kind).label
    if not to:
        alert.subject = f"{account.name}: {label} (not e-mailed)"
        alert.delivery_error = "no recipients: set the account's alert e-mails or admin e-mails"
    else:
        context = {**context, "account": account, "problem": problem, "url": ledger_url(account)}
        try:
            alert.subject = send_email(template, context, to).subject[:200]
        except Exception as exc:  # any mailer failure: keep the alert, say why it was not sent
            logger.exception("ledger alert e-mail for %s failed", account.name)
            alert.subject = f"{account.name}: {label} (not delivered)"
            alert.delivery_error = f"{type(exc).__name__}: {exc}"[:300]
    alert.save()
    LedgerFlag.objects.filter(pk=flag.pk).update(alert=alert)
    return alert


# --- discrepancies ---------------------------------------------------------------------------


def check_discrepancies(account: ProviderAccount, now: datetime | None = None) -> list[Alert]:
    """One e-mail per settled discrepancy interval of the account (see ledger)."""
    now = now or timezone.now()
    sent = []
    for iv in ledger.settled_discrepancies(account, now - LOOKBACK, now):
        flag = _claim(
            account,
            LedgerFlag.Kind.DISCREPANCY,
            f"reading:{iv.start_id}",
            started_at=iv.started_at,
            ended_at=iv.ended_at,
            amount_sun=iv.discrepancy_sun,
            details={
                "start_balance_sun": iv.start_balance_sun,
                "end_balance_sun": iv.end_balance_sun,
                "charges_sun": iv.charges_sun,
                "possible_sun": iv.possible_sun,
                "refunds_sun": iv.refunds_sun,
            },
        )
        if flag is None:
            continue
        start = timezone.localtime(iv.started_at)
        end = timezone.localtime(iv.ended_at)
        problem = (
            f"{format_trx(iv.discrepancy_sun)} TRX left the account between "
            f"{start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} that no order accounts for"
        )
        context = {
            "interval": iv,
            "amount": format_trx(iv.discrepancy_sun),
            "start_balance": format_trx(iv.start_balance_sun),
            "end_balance": format_trx(iv.end_balance_sun),
            "charges": format_trx(iv.charges_sun),
            "possible": format_trx(iv.possible_sun),
            "refunds": format_trx(iv.refunds_sun),
        }
        sent.append(
            _alert(
                account,
                flag,
                AlertKind.LEDGER_DISCREPANCY,
                "alert-ledger-discrepancy",
                problem,
                iv.end_balance_sun,
                context,
                now,
            )
        )
    return sent


def check_all_discrepancies(now: datetime | None = None) -> list[Alert]:
    sent: list[Alert] = []
    for account in ProviderAccount.objects.filter(enabled=True):
        sent += check_discrepancies(account, now)
    return sent


# --- itrx usage summary ----------------------------------------------------------------------


def itrx_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=ITRX_ZONE)
    return start, start + timedelta(days=1)


def recorded_for_itrx_day(account: ProviderAccount, day: date) -> dict[str, int]:
    """What the console recorded for the account in one itrx day: orders the provider charged
    (intervals.CHARGED, by submitted_at), their sun, and unresolved orders apart."""
    from energydash.orders.models import Order

    start, end = itrx_day_bounds(day)
    rows = Order.objects.filter(account=account, submitted_at__gte=start, submitted_at__lt=end)
    charged = rows.filter(intervals.CHARGED).aggregate(n=Count("pk"), sun=Sum(intervals._cost()))
    possible = rows.filter(status__in=intervals.POSSIBLE_STATUSES).aggregate(n=Count("pk"))
    return {"count": charged["n"], "sun": charged["sun"] or 0, "unresolved": possible["n"]}


def check_itrx_summary(
    account: ProviderAccount, now: datetime | None = None, client: Any = None
) -> tuple[str, Alert | None]:
    """Compare itrx's "yesterday" for this key with the console's record; one e-mail per day."""
    from energydash.providers.registry import adapter_for

    now = now or timezone.now()
    day = now.astimezone(ITRX_ZONE).date() - timedelta(days=1)
    try:
        with adapter_for(account.credentials(), client=client) as adapter:
            summary = adapter.summary()
    except ProviderError as exc:
        return f"{account.name}: summary not available ({exc})", None
    except Exception as exc:  # unreadable credentials and the like: this account only
        logger.warning("itrx summary of %s failed: %s", account.name, type(exc).__name__)
        return f"{account.name}: summary not available ({type(exc).__name__})", None
    recorded = recorded_for_itrx_day(account, day)
    theirs = {"count": summary.yesterday_count, "sun": summary.yesterday_sum_trx}
    if theirs["count"] == recorded["count"] and theirs["sun"] == recorded["sun"]:
        return f"{account.name}: {day} agrees ({recorded['count']} orders)", None
    start, end = itrx_day_bounds(day)
    flag = _claim(
        account,
        LedgerFlag.Kind.SUMMARY_MISMATCH,
        f"day:{day.isoformat()}",
        started_at=start,
        ended_at=end,
        amount_sun=theirs["sun"] - recorded["sun"],
        details={"itrx": theirs, "console": recorded, "key_name": summary.name},
    )
    line = (
        f"{account.name}: {day} itrx {theirs['count']} orders / {format_trx(theirs['sun'])} TRX,"
        f" console {recorded['count']} / {format_trx(recorded['sun'])} TRX"
    )
    if flag is None:
        return line + " (already reported)", None
    problem = (
        f"itrx counts {theirs['count']} orders for {format_trx(theirs['sun'])} TRX on {day} "
        f"(UTC+8); energydash recorded {recorded['count']} for {format_trx(recorded['sun'])} TRX"
    )
    if recorded["unresolved"]:
        problem += f" and {recorded['unresolved']} unresolved"
    context = {
        "day": day,
        "theirs_count": theirs["count"],
        "theirs_sum": format_trx(theirs["sun"]),
        "ours_count": recorded["count"],
        "ours_sum": format_trx(recorded["sun"]),
        "unresolved": recorded["unresolved"],
    }
    alert = _alert(
        account,
        flag,
        AlertKind.SUMMARY_MISMATCH,
        "alert-summary-mismatch",
        problem,
        None,
        context,
        now,
    )
    return line + " — mismatch reported", alert


def check_all_itrx_summaries(now: datetime | None = None) -> list[str]:
    accounts = ProviderAccount.objects.filter(enabled=True, provider="itrx")
    return [check_itrx_summary(account, now)[0] for account in accounts]


# --- django-q2 tasks and their schedules -----------------------------------------------------

LEDGER_SCHEDULE = "balances: ledger discrepancy check"
SUMMARY_SCHEDULE = "balances: itrx usage summary check"
LEDGER_CHECK_MINUTES = 10


def check_ledger() -> str:
    """Task: one discrepancy pass over every enabled account."""
    sent = check_all_discrepancies()
    return f"{len(sent)} discrepancy alert(s) sent" if sent else "no discrepancies"


def check_itrx_summaries() -> str:
    """Task: compare itrx's yesterday with the console's record, per itrx account."""
    return "\n".join(check_all_itrx_summaries()) or "no itrx accounts"


def next_summary_run(now: datetime) -> datetime:
    """01:00 in itrx's zone (UTC+8), the first after now: yesterday there is complete."""
    local = now.astimezone(ITRX_ZONE)
    run = local.replace(hour=1, minute=0, second=0, microsecond=0)
    if run <= local:
        run += timedelta(days=1)
    return run


def ensure_ledger_schedules() -> list[str]:
    """Create or update both schedules by name (idempotent; called with the balances' ones)."""
    from django_q.models import Schedule

    every_minutes(
        LEDGER_SCHEDULE, "energydash.balances.ledger_checks.check_ledger", LEDGER_CHECK_MINUTES
    )
    if not Schedule.objects.filter(name=SUMMARY_SCHEDULE).exists():
        Schedule.objects.create(
            name=SUMMARY_SCHEDULE,
            func="energydash.balances.ledger_checks.check_itrx_summaries",
            schedule_type=Schedule.DAILY,
            repeats=-1,
            next_run=next_summary_run(timezone.now()),
        )
    return [LEDGER_SCHEDULE, SUMMARY_SCHEDULE]

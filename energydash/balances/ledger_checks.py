"""Ledger findings sent as alerts: discrepancies between balance readings, and itrx's per-key
usage summary disagreeing with what the console recorded.

Each finding is e-mailed once. The hysteresis is a LedgerFlag row claimed under a unique key
(a discrepancy episode by the reading that opens its first interval, a summary mismatch by
itrx's day): the
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
from energydash.orders import money
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
    """One e-mail per settled discrepancy episode of the account (see ledger.Episode)."""
    now = now or timezone.now()
    sent = []
    for episode in ledger.settled_episodes(account, now - LOOKBACK, now):
        amount = episode.total("discrepancy_sun")
        suspects = orders_that_could_explain(account, episode)
        flag = _claim(
            account,
            LedgerFlag.Kind.DISCREPANCY,
            episode.key,
            started_at=episode.started_at,
            ended_at=episode.ended_at,
            amount_sun=amount,
            details={
                "start_balance_sun": episode.start_balance_sun,
                "end_balance_sun": episode.end_balance_sun,
                "charges_sun": episode.total("charges_sun"),
                "possible_sun": episode.total("possible_cover_sun"),
                "refunds_sun": episode.total("refunds_sun"),
                "intervals": len(episode.intervals),
                "orders": [str(o.code) for o in suspects],
            },
        )
        if flag is None:
            continue
        start = timezone.localtime(episode.started_at)
        end = timezone.localtime(episode.ended_at)
        problem = (
            f"{format_trx(amount)} TRX left the account between "
            f"{start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} that no order accounts for"
        )
        context = {
            "episode": episode,
            "amount": format_trx(amount),
            "start_balance": format_trx(episode.start_balance_sun),
            "end_balance": format_trx(episode.end_balance_sun),
            "charges": format_trx(episode.total("charges_sun")),
            "possible": format_trx(episode.total("possible_cover_sun")),
            "refunds": format_trx(episode.total("refunds_sun")),
            "orders": [_order_line(o) for o in suspects],
        }
        sent.append(
            _alert(
                account,
                flag,
                AlertKind.LEDGER_DISCREPANCY,
                "alert-ledger-discrepancy",
                problem,
                episode.end_balance_sun,
                context,
                now,
            )
        )
    return sent


SUSPECTS = 20


def orders_that_could_explain(account: ProviderAccount, episode: ledger.Episode) -> list[Any]:
    """The account's orders that could explain an episode, uncertain ones first: orders still
    unknown or in review whose request left before it ended and that were not given up on
    before it began, then orders sent, charged or finished in it (timing window either side).
    Each part reads an index on the account and one timestamp."""
    from django.db.models import Q

    from energydash.orders.models import Order

    lo, hi = episode.started_at - intervals.TIMING_WINDOW, episode.ended_at
    rows = Order.objects.filter(account=account).select_related("account")
    uncertain = list(
        rows.filter(status__in=intervals.POSSIBLE_STATUSES, created__lte=hi)
        .filter(Q(submitted_at__gt=lo) | Q(submitted_at__isnull=True))
        .order_by("created", "id")[:SUSPECTS]
    )
    seen = {o.pk for o in uncertain}
    nearby = rows.filter(
        Q(created__gt=lo, created__lte=hi)
        | Q(submitted_at__gt=lo, submitted_at__lte=hi)
        | Q(finished_at__gt=lo, finished_at__lte=hi)
    ).order_by("created", "id")[: SUSPECTS * 2]
    others = [o for o in nearby if o.pk not in seen]
    return (uncertain + others)[:SUSPECTS]


def _order_line(order: Any) -> dict[str, str]:
    path = reverse("orders:detail", args=[order.code])
    base = settings.ENERGYDASH_PUBLIC_URL
    cost = order.cost_sun if order.cost_sun is not None else order.quoted_cost_sun
    return {
        "code": order.short_code,
        "status": order.get_status_display(),
        "cost": format_trx(cost or 0),
        "sent": timezone.localtime(order.created).strftime("%Y-%m-%d %H:%M:%S"),
        "url": f"{base}{path}" if base else path,
    }


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
    charged = rows.filter(intervals.CHARGED).aggregate(n=Count("pk"), sun=Sum(money.COST))
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

"""Low-balance and failing-refresh alerts, each sent once per episode.

Low balance: an armed account whose balance is below its threshold sends one e-mail and disarms.
It re-arms only when the balance is back at or above threshold x (1 + margin%), so a balance
wobbling around the line sends one e-mail, not one per poll. Failing refresh: one e-mail when
refreshes have failed for longer than the setting; a successful refresh re-arms it
(services.record_balance). Arming is claimed with a conditional UPDATE, so two alert passes
running at once cannot both send.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from energydash.balances.models import AccountBalanceState, Alert, AlertKind
from energydash.balances.services import state_for
from energydash.balances.stats import daily_spend_by_account, runway_days
from energydash.core.roles import ADMIN
from energydash.lib.emails import send_email
from energydash.lib.tron import format_trx
from energydash.providers.models import ProviderAccount

logger = logging.getLogger("energydash.balances")


def rearm_level(threshold_sun: int) -> int:
    """The balance at or above which a low-balance alert is armed again."""
    margin = threshold_sun * settings.ENERGYDASH_ALERT_MARGIN_PERCENT
    return threshold_sun + -(-margin // 100)  # margin rounded up to whole sun


def recipients_for(account: ProviderAccount) -> list[str]:
    """The account's own list, else every active admin-group user (and superuser) with an e-mail."""
    if account.alert_recipients:
        return account.alert_recipients
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    admins = users.filter(groups__name=ADMIN) | users.filter(is_superuser=True)
    return sorted(set(admins.values_list("email", flat=True)))


def dashboard_url() -> str:
    path = reverse("home")
    return f"{settings.ENERGYDASH_PUBLIC_URL}{path}" if settings.ENERGYDASH_PUBLIC_URL else path


def _claim(state: AccountBalanceState, flag: str) -> bool:
    rows = AccountBalanceState.objects.filter(pk=state.pk, **{flag: True})
    return rows.update(**{flag: False}) == 1


def check_account(
    account: ProviderAccount, *, daily_spend: Decimal | None, now: datetime | None = None
) -> list[Alert]:
    now = now or timezone.now()
    state = state_for(account)
    runway = runway_days(state.balance_sun, daily_spend)
    sent: list[Alert] = []
    threshold = account.low_balance_threshold_sun
    if state.balance_sun is not None:
        if state.balance_sun < threshold:
            if _claim(state, "low_alert_armed"):
                sent.append(_send(account, state, AlertKind.LOW_BALANCE, runway, now))
        elif not state.low_alert_armed and state.balance_sun >= rearm_level(threshold):
            AccountBalanceState.objects.filter(pk=state.pk).update(low_alert_armed=True)
    delay = timedelta(minutes=settings.ENERGYDASH_REFRESH_FAILING_ALERT_MINUTES)
    if state.error_since and now - state.error_since >= delay:
        if _claim(state, "failing_alert_armed"):
            sent.append(_send(account, state, AlertKind.REFRESH_FAILING, runway, now))
    return sent


def check_all(now: datetime | None = None) -> list[Alert]:
    """One alert pass over every enabled account."""
    spend = daily_spend_by_account(now)
    sent: list[Alert] = []
    for account in ProviderAccount.objects.filter(enabled=True):
        sent += check_account(account, daily_spend=spend.get(account.pk), now=now)
    return sent


def _send(
    account: ProviderAccount,
    state: AccountBalanceState,
    kind: str,
    runway: Decimal | None,
    now: datetime,
) -> Alert:
    to = recipients_for(account)
    context = {
        "account": account,
        "kind": kind,
        "balance": format_trx(state.balance_sun, 2),
        "as_of": state.as_of,
        "threshold": format_trx(account.low_balance_threshold_sun, 2),
        "runway": runway,
        "problem": state.last_error,
        "error_since": state.error_since,
        "dashboard_url": dashboard_url(),
    }
    alert = Alert(
        account=account,
        kind=kind,
        created=now,
        balance_sun=state.balance_sun,
        threshold_sun=account.low_balance_threshold_sun,
        runway_days=runway,
        problem=state.last_error if kind == AlertKind.REFRESH_FAILING else "",
        recipients=to,
    )
    if not to:
        alert.subject = f"{account.name}: {AlertKind(kind).label.lower()} (not e-mailed)"
        alert.delivery_error = "no recipients: set the account's alert e-mails or admin e-mails"
    else:
        try:
            alert.subject = send_email(f"alert-{kind.replace('_', '-')}", context, to).subject
        except Exception as exc:  # any mailer failure: keep the alert, say why it was not sent
            logger.exception("alert e-mail for %s failed", account.name)
            alert.subject = f"{account.name}: {AlertKind(kind).label.lower()} (not delivered)"
            alert.delivery_error = f"{type(exc).__name__}: {exc}"[:300]
    alert.save()
    return alert

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from energydash.balances import alerts
from energydash.balances.models import Alert
from energydash.balances.services import record_balance, refresh_account, state_for
from energydash.lib.tron import SUN_PER_TRX
from tests.balances import providers
from tests.balances.factories import order

TRX = SUN_PER_TRX


@pytest.fixture
def account(itrx_account, settings):
    settings.ENERGYDASH_ALERT_MARGIN_PERCENT = 10
    itrx_account.low_balance_threshold_sun = 100 * TRX
    itrx_account.alert_emails = "ops@example.com, cfo@example.com"
    itrx_account.save()
    return itrx_account


def poll(account, trx: int) -> list[Alert]:
    record_balance(account, trx * TRX, source="refresh")
    return alerts.check_all()


def test_a_dip_below_the_threshold_sends_one_email(account):
    assert poll(account, 150) == []
    sent = poll(account, 99)
    assert len(sent) == 1 and len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "cfo@example.com"]
    assert "itrx main" in message.subject and "99.00" in message.subject
    html = message.alternatives[0].content
    assert "100.00 TRX" in message.body and "100.00 TRX" in html  # the threshold
    assert "no recent spend" in message.body
    assert "/" in message.body.split("Dashboard: ")[1]


def test_a_wobble_around_the_threshold_still_sends_one_email(account):
    for trx in (99, 101, 98, 105, 97, 109):  # never back to 110 (threshold + 10 %)
        poll(account, trx)
    assert len(mail.outbox) == 1
    assert Alert.objects.count() == 1


def test_recovery_above_the_margin_re_arms_and_the_next_dip_sends_a_second_email(account):
    poll(account, 99)
    poll(account, 110)  # threshold + 10 %: re-armed, nothing sent
    assert len(mail.outbox) == 1
    assert state_for(account).low_alert_armed
    poll(account, 95)
    assert len(mail.outbox) == 2
    assert Alert.objects.filter(kind="low_balance").count() == 2


def test_the_email_states_the_runway_at_the_trailing_weekly_spend(account):
    order(account, cost_sun=70 * TRX, created=timezone.now() - timedelta(days=2))  # 10 TRX/day
    order(account, cost_sun=500 * TRX, created=timezone.now() - timedelta(days=9))  # too old
    poll(account, 50)
    assert "about 5.0 days" in mail.outbox[0].body
    assert Alert.objects.get().runway_days == 5


def test_without_account_recipients_the_admin_group_is_mailed(
    itrx_account, admin_user, operator, django_user_model
):
    admin_user.email = "ada@example.com"
    admin_user.save()
    operator.email = "otto@example.com"  # operators are not alert recipients by default
    operator.save()
    itrx_account.low_balance_threshold_sun = 100 * TRX
    itrx_account.save()
    poll(itrx_account, 1)
    assert mail.outbox[0].to == ["ada@example.com"]


def test_an_alert_without_any_recipient_is_recorded_as_not_delivered(itrx_account):
    poll(itrx_account, 1)
    alert = Alert.objects.get()
    assert mail.outbox == []
    assert not alert.delivered
    assert "no recipients" in alert.delivery_error


def test_a_disabled_account_is_not_checked(account):
    account.enabled = False
    account.save()
    poll(account, 1)
    assert mail.outbox == []


def test_a_refresh_failing_longer_than_the_setting_alerts_once(account, settings):
    settings.ENERGYDASH_REFRESH_FAILING_ALERT_MINUTES = 30
    record_balance(account, 500 * TRX, source="refresh")
    refresh_account(account, client=providers.answering(401, {"detail": "bad key"}))
    assert alerts.check_all() == []  # failing, but not for 30 minutes yet
    later = timezone.now() + timedelta(minutes=31)
    (alert,) = alerts.check_all(now=later)
    assert alert.kind == "refresh_failing" and alert.problem == "authentication failed"
    assert "authentication failed" in mail.outbox[0].subject
    assert "500.00 TRX" in mail.outbox[0].body
    assert alerts.check_all(now=later + timedelta(hours=1)) == []
    assert len(mail.outbox) == 1


def test_a_successful_refresh_re_arms_the_failing_alert(account):
    down = providers.answering(503, {})
    refresh_account(account, client=down)
    alerts.check_all(now=timezone.now() + timedelta(hours=1))
    refresh_account(account, client=providers.itrx_balance(500 * TRX))
    refresh_account(account, client=down)
    alerts.check_all(now=timezone.now() + timedelta(hours=2))
    kinds = list(Alert.objects.values_list("kind", flat=True))
    assert kinds == ["refresh_failing", "refresh_failing"]


def test_a_mailer_failure_is_recorded_on_the_alert(account, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    poll(account, 1)
    alert = Alert.objects.get()
    assert "smtp down" in alert.delivery_error
    assert not alert.delivered


def test_the_email_links_to_the_public_dashboard_and_keeps_names_unescaped(account, settings):
    settings.ENERGYDASH_PUBLIC_URL = "https://energy.example.com"
    account.name = "Ops & Treasury"
    account.save()
    poll(account, 1)
    message = mail.outbox[0]
    assert message.subject.startswith("Low balance: Ops & Treasury has 1.00 TRX")
    assert "Dashboard: https://energy.example.com/" in message.body
    html = message.alternatives[0].content
    assert '<a href="https://energy.example.com/">' in html
    assert "Ops &amp; Treasury" in html

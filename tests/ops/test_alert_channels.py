"""Alert channels: each kind sent through a fake server on 127.0.0.1 (Telegram, Slack and
Discord with Apprise's fixed API host pointed at it), e-mail through Django's mailer; routing by
account and kind; re-notifying an unacknowledged alert once per round; secrets never shown; the
inbox's acknowledge / resolve and its count in the top bar."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from apprise.plugins.discord import NotifyDiscord
from apprise.plugins.slack import NotifySlack
from apprise.plugins.telegram import NotifyTelegram
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from energydash.balances import channels, tasks
from energydash.balances.models import Alert, AlertChannel, AlertKind
from energydash.core.models import AuditEvent
from energydash.providers.models import ProviderAccount

BOT_TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr"
SLACK_URL = "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
DISCORD_URL = "https://discord.com/api/webhooks/4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"


def channel(name: str, kind: str, secret: str = "", **kw) -> AlertChannel:
    made = AlertChannel(name=name, kind=kind, **kw)
    if secret:
        made.secret = secret
    made.save()
    return AlertChannel.objects.get(pk=made.pk)


def alert(account: ProviderAccount | None, kind: str = AlertKind.LOW_BALANCE, **kw) -> Alert:
    return Alert.objects.create(
        account=account,
        kind=kind,
        threshold_sun=100_000_000,
        balance_sun=5_000_000,
        subject=f"{account.name if account else 'energydash'}: low balance",
        **kw,
    )


@pytest.fixture
def account(db):
    return ProviderAccount.objects.create(name="itrx main", provider="itrx", api_key="k" * 32)


@pytest.fixture
def local_apis(monkeypatch, fake_server):
    """Apprise's fixed Telegram, Slack and Discord hosts, pointed at the fake server."""
    monkeypatch.setattr(NotifyTelegram, "notify_url", f"{fake_server.base}/bot")
    monkeypatch.setattr(NotifySlack, "webhook_url", f"{fake_server.base}/services")
    monkeypatch.setattr(NotifyDiscord, "notify_url", f"{fake_server.base}/api/webhooks")
    return fake_server


@pytest.fixture
def loopback_allowed(settings):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


def test_telegram(account, local_apis, loopback_allowed):
    tg = channel("ops chat", "telegram", BOT_TOKEN, chat_id="-1001234567")
    assert channels.send(tg, "itrx main: low balance", "Balance: 5 TRX") == "ok"
    (seen,) = local_apis.requests
    assert seen.path == f"/bot{BOT_TOKEN}/sendMessage"
    body = seen.json()
    assert str(body["chat_id"]) == "-1001234567"
    assert "itrx main: low balance" in body["text"] and "Balance: 5 TRX" in body["text"]


def test_slack(account, local_apis, loopback_allowed):
    local_apis.answer = b"ok"  # what Slack's webhook answers
    sl = channel("slack", "slack", SLACK_URL)
    assert channels.send(sl, "itrx main: low balance", "Balance: 5 TRX") == "ok"
    (seen,) = local_apis.requests
    assert seen.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
    assert "itrx main: low balance" in json.dumps(seen.json())


def test_discord(account, local_apis, loopback_allowed):
    dc = channel("discord", "discord", DISCORD_URL)
    assert channels.send(dc, "itrx main: low balance", "Balance: 5 TRX") == "ok"
    (seen,) = local_apis.requests
    assert seen.path.startswith("/api/webhooks/4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js")
    assert "itrx main: low balance" in json.dumps(seen.json())


def test_generic_webhook(account, fake_server, loopback_allowed):
    hook = channel("hook", "webhook", f"{fake_server.base}/alerts?team=ops")
    assert channels.send(hook, "itrx main: low balance", "Balance: 5 TRX") == "ok"
    (seen,) = fake_server.requests
    assert seen.path == "/alerts?team=ops"
    body = seen.json()
    assert body["title"] == "itrx main: low balance" and body["message"] == "Balance: 5 TRX"


def test_email(account, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    em = channel("mail", "email", emails="ops@example.com, cfo@example.com")
    assert channels.send(em, "itrx main: low balance", "Balance: 5 TRX") == "ok"
    (sent,) = mail.outbox
    assert sent.to == ["ops@example.com", "cfo@example.com"]
    assert sent.subject == "itrx main: low balance" and "Balance: 5 TRX" in sent.body


def test_a_private_destination_is_refused_and_nothing_is_sent(account, fake_server, settings):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = []
    hook = channel("hook", "webhook", f"{fake_server.base}/alerts")
    assert channels.send(hook, "t", "b") == "refused: private address"
    assert fake_server.requests == []


def test_a_failing_channel_says_so_without_its_secret(account, local_apis, loopback_allowed):
    local_apis.status = 500
    tg = channel("ops chat", "telegram", BOT_TOKEN, chat_id="-1001234567")
    result = channels.send(tg, "t", "b")
    assert result.startswith("not delivered")
    assert BOT_TOKEN not in result and BOT_TOKEN.split(":")[1] not in result


def test_alerts_go_to_the_channels_of_their_account_and_kind(
    account, fake_server, loopback_allowed, django_capture_on_commit_callbacks, monkeypatch
):
    other = ProviderAccount.objects.create(name="tz", provider="tronzap", api_key="t" * 20)
    queued: list[tuple] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **kw: queued.append(a))
    channel(
        "itrx low", "webhook", f"{fake_server.base}/a", account=account, alert_kinds=["low_balance"]
    )
    channel("all", "webhook", f"{fake_server.base}/b")
    channel("off", "webhook", f"{fake_server.base}/c", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        low = alert(account)
        ledger = alert(other, AlertKind.LEDGER_DISCREPANCY)
    assert queued == [(channels.NOTIFY_TASK, low.pk), (channels.NOTIFY_TASK, ledger.pk)]
    tasks.notify_alert(low.pk)
    tasks.notify_alert(ledger.pk)
    assert sorted(r.path for r in fake_server.requests) == ["/a", "/b", "/b"]
    low.refresh_from_db()
    assert low.channel_results == {"itrx low": "ok", "all": "ok"}
    assert tasks.notify_alert(low.pk) == f"alert {low.pk}: already notified"
    assert len(fake_server.requests) == 3


def test_an_unacknowledged_alert_is_sent_again_after_the_setting_and_not_once_acknowledged(
    account, fake_server, loopback_allowed, settings, operator
):
    settings.ENERGYDASH_ALERT_RENOTIFY_MINUTES = 60
    channel("all", "webhook", f"{fake_server.base}/b")
    raised = alert(account)
    now = timezone.now()
    channels.notify(raised.pk, now=now)
    assert channels.renotify_due(now + timedelta(minutes=59)) == 0
    assert channels.renotify_due(now + timedelta(minutes=61)) == 1
    assert fake_server.requests[-1].json()["title"].startswith("Still open: ")
    assert channels.renotify_due(now + timedelta(minutes=62)) == 0  # once per round
    assert channels.acknowledge(raised, operator)
    assert channels.renotify_due(now + timedelta(hours=5)) == 0
    assert len(fake_server.requests) == 2
    raised.refresh_from_db()
    assert raised.notify_count == 2 and raised.acknowledged_by == operator


def test_an_alert_whose_task_was_lost_is_sent_by_the_schedule(
    account, fake_server, loopback_allowed
):
    channel("all", "webhook", f"{fake_server.base}/b")
    lost = alert(account)
    Alert.objects.filter(pk=lost.pk).update(created=timezone.now() - timedelta(minutes=5))
    assert channels.renotify_due() == 1
    assert len(fake_server.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_re_notifying_at_once_send_one_round(fake_server, settings):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    account = ProviderAccount.objects.create(name="race", provider="itrx", api_key="r" * 32)
    channel("all", "webhook", f"{fake_server.base}/b")
    raised = alert(account)
    Alert.objects.filter(pk=raised.pk).update(notified_at=timezone.now() - timedelta(hours=2))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        from django.db import connection

        try:
            barrier.wait(timeout=30)
            results.append(channels.notify(raised.pk, again=True))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r is None for r in results) == [False, True]
    assert len(fake_server.requests) == 1
    assert Alert.objects.get(pk=raised.pk).notify_count == 1


def test_admin_keeps_the_secret_hidden_and_sends_a_test(
    admin_client_, local_apis, loopback_allowed
):
    add = reverse("admin:balances_alertchannel_add")
    response = admin_client_.post(
        add,
        {
            "name": "ops chat",
            "kind": "telegram",
            "new_secret": BOT_TOKEN,
            "chat_id": "-100777",
            "emails": "",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = AlertChannel.objects.get(name="ops chat")
    assert made.secret.reveal() == BOT_TOKEN
    page = admin_client_.get(reverse("admin:balances_alertchannel_change", args=[made.pk]))
    html = page.content.decode()
    assert BOT_TOKEN not in html and BOT_TOKEN.split(":")[1] not in html
    assert "Send a test" in html
    assert BOT_TOKEN not in json.dumps(list(AuditEvent.objects.values("details")))
    sent = admin_client_.post(
        reverse("admin:balances_alertchannel_send_test", args=[made.pk]), follow=True
    )
    assert "Test message sent on ops chat" in sent.content.decode()
    (seen,) = local_apis.requests
    assert seen.path == f"/bot{BOT_TOKEN}/sendMessage" and str(seen.json()["chat_id"]) == "-100777"
    made.refresh_from_db()
    assert made.last_test_result == "ok"


def test_admin_refuses_a_slack_url_that_is_not_slack(admin_client_):
    response = admin_client_.post(
        reverse("admin:balances_alertchannel_add"),
        {
            "name": "bad",
            "kind": "slack",
            "new_secret": "https://example.com/services/a/b/c",
            "emails": "",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "hooks.slack.com/services" in response.content.decode()
    assert not AlertChannel.objects.exists()


def test_inbox_acknowledge_resolve_and_the_count_in_the_top_bar(operator_client, account, operator):
    first, second = alert(account), alert(account, AlertKind.REFRESH_FAILING)
    page = operator_client.get(reverse("balances:alerts"))
    assert 'id="open-alert-count"' in page.content.decode()
    assert page.context["open_alert_count"] == 2
    operator_client.post(reverse("balances:alert_action", args=[first.pk, "acknowledge"]))
    first.refresh_from_db()
    assert first.state == "acknowledged" and first.acknowledged_by == operator
    page = operator_client.get(reverse("balances:alerts") + "?state=open")
    assert page.context["open_alert_count"] == 1
    assert [a.pk for a in page.context["page"]] == [second.pk]
    assert (
        "Acknowledged by otto" in operator_client.get(reverse("balances:alerts")).content.decode()
    )
    operator_client.post(reverse("balances:alert_action", args=[second.pk, "resolve"]))
    page = operator_client.get(reverse("balances:alerts"))
    assert 'id="open-alert-count"' not in page.content.decode()


def test_a_viewer_cannot_acknowledge(viewer_client, account):
    raised = alert(account)
    response = viewer_client.post(reverse("balances:alert_action", args=[raised.pk, "acknowledge"]))
    assert response.status_code == 403
    raised.refresh_from_db()
    assert raised.state == "open"

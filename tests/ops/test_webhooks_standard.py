"""Webhooks to the standard: Standard Webhooks headers the public `standardwebhooks` library
verifies (legacy headers beside them), secret rotation with both signatures during the overlap,
retries over 72 hours with jitter, disabling a failing endpoint with an alert, a test event, a
resend, and GET /api/v1/events to catch up."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from energydash.api import webhook_admin, webhook_signing, webhooks
from energydash.api.models import ApiToken, WebhookDelivery
from energydash.api.webhooks import deliver, deliver_due
from energydash.balances.models import Alert, AlertKind
from energydash.orders.models import Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from energydash.orders.transitions import transition
from energydash.providers.models import ProviderAccount
from tests.api.conftest import bearer, issue
from tests.ops.conftest import make_box
from tests.sandbox.helpers import address

HOOK = "https://hooks.example.com/energy"


class Capture:
    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []
        self.client = httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
def token(db) -> ApiToken:
    return issue("wallet", "operator", webhook_url=HOOK)[0]


def _account() -> ProviderAccount:
    found = ProviderAccount.objects.filter(name="Sandbox tronzap").first()
    return found or make_box("tronzap").account


def settled(token: ApiToken, http, capture, who: str = "w") -> WebhookDelivery:
    account = _account()
    with capture(execute=True):
        order = place_order(
            OrderSpec(account=account, kind="energy", receive_address=address(who), energy=65_000),
            via=token.placed_via,
            client=http,
        )
        assert transition(order, Status.COMPLETED, message="done", energy_delivered=65_000)
    return WebhookDelivery.objects.get(order=order)


@pytest.fixture
def delivery(token, http, django_capture_on_commit_callbacks) -> WebhookDelivery:
    return settled(token, http, django_capture_on_commit_callbacks)


def verify(secret: str, request: httpx.Request) -> dict:
    return Webhook(secret).verify(request.content, dict(request.headers))


def test_the_public_standardwebhooks_library_verifies_a_delivery(token, delivery):
    sent = Capture(200)
    deliver(delivery.pk, client=sent.client)
    (request,) = sent.requests
    payload = verify(token.signing_secret(), request)
    assert payload["event"] == "order.completed"
    assert request.headers["webhook-id"] == f"msg_{delivery.pk}"
    # A tampered body or another secret does not verify.
    with pytest.raises(WebhookVerificationError):
        Webhook(token.signing_secret()).verify(request.content + b" ", dict(request.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.content, dict(request.headers))


def test_the_legacy_headers_are_still_sent_and_valid(token, delivery):
    sent = Capture(200)
    deliver(delivery.pk, client=sent.client)
    (request,) = sent.requests
    stamp = request.headers["X-Energydash-Timestamp"]
    assert stamp == request.headers["webhook-timestamp"]
    assert request.headers["X-Energydash-Signature"] == webhooks.sign(
        token.signing_secret(), stamp, request.content
    )
    assert request.headers["X-Energydash-Event"] == "order.completed"


def test_a_retry_keeps_the_message_id_and_signs_its_own_time(token, delivery):
    sent = Capture(500, 200)
    start = timezone.now()
    deliver(delivery.pk, client=sent.client, now=start)
    delivery.refresh_from_db()
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=False):
        assert deliver_due(client=sent.client) == 1
        first, second = sent.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
        verify(token.signing_secret(), second)


def test_rotation_signs_with_both_secrets_during_the_overlap_then_only_the_new(
    token, http, django_capture_on_commit_callbacks
):
    old = token.signing_secret()
    new = webhook_signing.rotate(token, overlap=timedelta(hours=24))
    assert new != old and token.signing_secret() == new
    during = settled(token, http, django_capture_on_commit_callbacks, "rot1")
    sent = Capture(200, 200)
    deliver(during.pk, client=sent.client)
    request = sent.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(old, request)["event"] == "order.completed"  # a receiver not yet switched
    assert verify(new, request)["event"] == "order.completed"  # and one already switched
    assert len(request.headers["X-Energydash-Signature"].split(",")) == 2

    after = settled(token, http, django_capture_on_commit_callbacks, "rot2")
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        deliver(after.pk, client=sent.client)
        request = sent.requests[1]
        assert len(request.headers["webhook-signature"].split(" ")) == 1
        verify(new, request)
        with pytest.raises(WebhookVerificationError):
            verify(old, request)


def test_retries_span_over_72_hours_with_jitter_then_the_endpoint_is_disabled_with_an_alert(
    token, delivery, http, django_capture_on_commit_callbacks
):
    failing = Capture(*([503] * 50))
    first = timezone.now()
    now = first
    while True:
        assert deliver(delivery.pk, client=failing.client, now=now) is not None
        delivery.refresh_from_db()
        if delivery.gave_up_at:
            break
        now = delivery.next_attempt_at
    last_try = now
    assert delivery.attempts == 12
    assert last_try - first >= timedelta(hours=72)
    token.refresh_from_db()
    assert token.webhook_disabled_at is not None
    (alert,) = Alert.objects.filter(kind=AlertKind.WEBHOOK_DISABLED)
    assert "wallet" in alert.subject and alert.account is None

    # Disabled: a new event is recorded but held, and nothing is sent.
    held = settled(token, http, django_capture_on_commit_callbacks, "held")
    assert held.next_attempt_at is None
    tries = len(failing.requests)
    assert deliver_due(client=failing.client, now=timezone.now() + timedelta(days=5)) == 0
    assert len(failing.requests) == tries
    # Re-enabled: the held delivery is due and goes out.
    assert webhook_admin.reenable(token) == 1
    ok = Capture(200)
    assert deliver_due(client=ok.client) == 1
    held.refresh_from_db()
    assert held.state == "delivered"


def test_the_backoff_has_jitter_and_never_shortens_a_wait():
    waits = {webhooks.backoff_seconds(1) for _ in range(20)}
    assert len(waits) > 1
    assert all(30 <= w <= 36 for w in waits)


def test_resend_sends_a_delivered_event_again_with_its_id(token, delivery):
    sent = Capture(200, 200)
    deliver(delivery.pk, client=sent.client)
    webhook_admin.resend(delivery)
    assert deliver_due(client=sent.client) == 1
    first, again = sent.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.content == again.content


def test_the_admin_resend_action_and_send_test_event_button(
    admin_client_, token, delivery, fake_server, settings, monkeypatch
):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    ApiToken.objects.filter(pk=token.pk).update(webhook_url=f"{fake_server.base}/hook")
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **kw: queued.append(a))
    deliver(delivery.pk, client=Capture(200).client)
    response = admin_client_.post(
        reverse("admin:api_webhookdelivery_changelist"),
        {"action": "resend", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 delivery(ies) queued to be sent again" in response.content.decode()
    assert queued == [("energydash.api.tasks.deliver_webhook", delivery.pk)]
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 0

    page = admin_client_.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert "Send test event" in page.content.decode()
    response = admin_client_.post(
        reverse("admin:api_apitoken_send_test_event", args=[token.pk]), follow=True
    )
    assert "test event delivered" in response.content.decode()
    (seen,) = fake_server.requests
    token.refresh_from_db()
    payload = Webhook(token.signing_secret()).verify(seen.body, seen.headers)
    assert payload["event"] == "webhook.test"


def test_the_admin_rotates_a_secret_and_shows_it_once(admin_client_, token):
    old = token.signing_secret()
    response = admin_client_.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    html = response.content.decode()
    assert token.signing_secret() in html and old not in html
    assert token.previous_signing_secret() == old
    assert "no-store" in response["Cache-Control"]


def test_events_api_pages_the_tokens_events(
    client, token, http, django_capture_on_commit_callbacks
):
    _reader, key = issue("events-reader", "viewer")
    token2, _key2 = issue("other", "operator", webhook_url=HOOK)
    # The events of the token that placed the orders; tokens read their own.
    mine = [settled(token, http, django_capture_on_commit_callbacks, f"e{n}") for n in range(3)]
    settled(token2, http, django_capture_on_commit_callbacks, "other")
    raw_key = _raw_key(token)
    first = client.get("/api/v1/events?limit=2", **bearer(raw_key)).json()
    assert [e["id"] for e in first["events"]] == [f"msg_{d.pk}" for d in mine[:2]]
    assert first["has_more"] is True and first["events"][0]["event"] == "order.completed"
    assert first["events"][0]["data"]["order"]["id"] == str(mine[0].order.code)
    rest = client.get(f"/api/v1/events?since={first['next_since']}", **bearer(raw_key)).json()
    assert [e["id"] for e in rest["events"]] == [f"msg_{mine[2].pk}"] and not rest["has_more"]
    when = WebhookDelivery.objects.get(pk=mine[0].pk).created.isoformat()
    by_time = client.get("/api/v1/events", {"since": when}, **bearer(raw_key)).json()
    assert [e["seq"] for e in by_time["events"]] == [mine[1].pk, mine[2].pk]
    assert client.get("/api/v1/events", **bearer(key)).json()["events"] == []
    bad = client.get("/api/v1/events?since=yesterday", **bearer(raw_key))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_since"
    assert client.get("/api/v1/events?limit=0", **bearer(raw_key)).status_code == 422
    assert client.get("/api/v1/events").status_code == 401
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/events" in schema["paths"]


def _raw_key(token: ApiToken) -> str:
    """A new bearer for the token (only its hash is stored), keeping its webhook secret."""
    from energydash.api.models import TOKEN_PREFIX, hash_token

    raw = TOKEN_PREFIX + "eventsreader" + str(token.pk).rjust(30, "0")
    ApiToken.objects.filter(pk=token.pk).update(token_hash=hash_token(raw), prefix=raw[:12])
    return raw

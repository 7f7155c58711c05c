"""Webhooks: recorded when an API order settles, signed, retried with backoff, no redirects."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from energydash.api.models import WebhookDelivery
from energydash.api.webhooks import deliver, deliver_due
from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from energydash.orders.transitions import transition
from tests.api.conftest import address, box, issue

HOOK = "https://hooks.example.com/energy"


@pytest.fixture
def hooked(db):
    token, _raw = issue("wallet", "operator", webhook_url=HOOK)
    return token


@pytest.fixture
def order(hooked, http):
    itrx = box("itrx", "itrx-hook")
    return place_order(
        OrderSpec(
            account=itrx.account, kind="energy", receive_address=address("hook"), energy=65_000
        ),
        via=hooked.placed_via,
        client=http,
    )


def settle(order: Order, capture) -> WebhookDelivery:
    with capture(execute=True):
        assert transition(order, Status.COMPLETED, message="done", energy_delivered=65_000)
    return WebhookDelivery.objects.get(order=order)


def recorder(*statuses: int):
    seen: list[httpx.Request] = []
    codes = list(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        code = codes.pop(0)
        headers = {"Location": "https://elsewhere.example.com/"} if 300 <= code < 400 else {}
        return httpx.Response(code, headers=headers)

    return seen, httpx.Client(transport=httpx.MockTransport(handle))


def test_a_settled_api_order_is_posted_signed(hooked, order, django_capture_on_commit_callbacks):
    delivery = settle(order, django_capture_on_commit_callbacks)
    assert delivery.event == "order.completed" and delivery.url == HOOK
    seen, client = recorder(200)
    deliver(delivery.pk, client=client)
    [request] = seen
    stamp = request.headers["X-Energydash-Timestamp"]
    expected = hmac.new(
        hooked.signing_secret().encode(), stamp.encode() + b"." + request.content, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Energydash-Signature"] == f"v1={expected}"
    body = json.loads(request.content)
    assert body["event"] == "order.completed"
    assert body["order"]["id"] == str(order.code) and body["order"]["status"] == "completed"
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.tries.count() == 1


def test_failures_are_retried_with_backoff_and_redirects_are_not_followed(
    hooked, order, django_capture_on_commit_callbacks
):
    delivery = settle(order, django_capture_on_commit_callbacks)
    seen, client = recorder(500, 302, 204)
    now = timezone.now()
    deliver(delivery.pk, client=client, now=now)
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 500"
    # 30 s, stretched by up to 20% of jitter (never shortened).
    wait = delivery.next_attempt_at - now
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=36)
    assert deliver_due(client=client, now=now + timedelta(seconds=10)) == 0  # not due yet
    assert deliver_due(client=client, now=now + timedelta(seconds=37)) == 1
    delivery.refresh_from_db()
    assert "redirects are not followed" in delivery.last_error
    assert [str(r.url) for r in seen] == [HOOK, HOOK]  # never to the Location
    later = now + timedelta(seconds=37 + 145)
    assert deliver_due(client=client, now=later) == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 3
    assert list(delivery.tries.values_list("http_status", flat=True)) == [500, 302, 204]
    assert deliver_due(client=client, now=later + timedelta(days=1)) == 0  # sent once only


def test_gives_up_after_the_configured_tries(
    hooked, order, settings, django_capture_on_commit_callbacks
):
    settings.ENERGYDASH_WEBHOOK_MAX_ATTEMPTS = 2
    delivery = settle(order, django_capture_on_commit_callbacks)
    _seen, client = recorder(503, 503)
    now = timezone.now()
    deliver(delivery.pk, client=client, now=now)
    deliver_due(client=client, now=now + timedelta(hours=1))
    delivery.refresh_from_db()
    assert delivery.state == "gave up" and delivery.next_attempt_at is None


def test_needs_review_is_announced_once_and_console_orders_never(
    hooked, order, http, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        transition(order, Status.NEEDS_REVIEW, message="check")
        transition(order, Status.NEEDS_REVIEW, message="again", expected=Status.NEEDS_REVIEW)
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["order.needs_review"]
    console = Order.objects.create(
        account=order.account,
        receive_address=order.receive_address,
        energy=65_000,
        period="1H",
        burn_sun_per_energy=100,
        status=Status.SUBMITTED,
    )
    with django_capture_on_commit_callbacks(execute=True):
        transition(console, Status.COMPLETED)
    assert WebhookDelivery.objects.count() == 1

"""The API's order carries its delivery; webhooks tell of a verified and of a failed delivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import TestCase

from energydash.api.models import WebhookDelivery
from energydash.orders.delivery import verify_pass
from tests.api.conftest import bearer, issue
from tests.delivery.conftest import T0, address, completed_order

RECEIVER = address("api receiver")
POOL = address("api pool")
HOOK = "https://hooks.example.com/energy"


def run(http, at):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return verify_pass(now=at, client=http)


@pytest.mark.django_db
def test_the_api_order_has_a_delivery_and_webhooks_tell_verified_then_failed(
    itrx_account, chain, http, client
):
    token, raw = issue("wallet", "operator", webhook_url=HOOK)
    order = completed_order(itrx_account, RECEIVER, placed_via=token.placed_via)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + timedelta(hours=1))
    run(http, T0 + timedelta(seconds=1))
    body = client.get(f"/api/v1/orders/{order.code}", **bearer(raw)).json()
    delivery = body["delivery"]
    assert delivery["status"] == "verified" and delivery["energy"] >= 65_000
    assert delivery["evidence"]["delegators"] == [POOL]
    assert isinstance(delivery["evidence"]["staked_sun"], int)
    chain.undelegate(POOL, RECEIVER)
    run(http, T0 + timedelta(minutes=57))
    events = list(
        WebhookDelivery.objects.filter(order=order).order_by("id").values_list("event", "payload")
    )
    assert [e for e, _ in events] == ["order.delivery_verified", "order.delivery_failed"]
    failed = json.loads(events[1][1])
    assert failed["order"]["delivery"]["status"] == "reclaimed_early"


@pytest.mark.django_db
def test_an_order_that_delivers_nothing_has_no_delivery_and_an_open_one_is_pending(
    itrx_account, client
):
    token, raw = issue("reader", "viewer")
    failed = completed_order(itrx_account, RECEIVER, status="failed")
    open_ = completed_order(itrx_account, RECEIVER, status="submitted")
    get = lambda o: client.get(f"/api/v1/orders/{o.code}", **bearer(raw)).json()  # noqa: E731
    assert get(failed)["delivery"] is None
    assert get(open_)["delivery"]["status"] == "pending"

"""The fault knobs the chaos soak uses: a lost answer after the order exists (502), slow
delegation for a stable share of orders, duplicate and out-of-order itrx callbacks."""

from __future__ import annotations

import json

import pytest

from energydash.sandbox.models import SandboxOrder
from energydash.sandbox.tasks import deliver_due_callbacks
from tests.sandbox.helpers import balance, itrx_post, tronzap_post
from tests.sandbox.test_callbacks import CONSOLE, Receiver, at, place
from tests.sandbox.test_faults import FULL, ITRX_ORDER, TZ_ORDER, netts_order, set_faults


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ENERGYDASH_PUBLIC_URL = CONSOLE


def test_error_after_create_charges_and_creates_the_order_then_answers_502(
    http, itrx_box, tronzap_box, netts_box
):
    for account in (itrx_box, tronzap_box, netts_box):
        set_faults(account, error_after_create_rate=1.0)
    answers = [
        itrx_post(http, itrx_box, "order", ITRX_ORDER | {"out_trade_no": "gw-1"}),
        tronzap_post(http, tronzap_box, "transaction/new", TZ_ORDER | {"external_id": "gw-2"}),
        netts_order(http, netts_box),
    ]
    assert [a.status_code for a in answers] == [502, 502, 502]
    assert "Bad Gateway" in answers[0].text
    for account in (itrx_box, tronzap_box, netts_box):
        (order,) = SandboxOrder.objects.filter(account=account)
        assert balance(account) == FULL - order.cost_sun


def test_slow_delegation_picks_the_same_orders_on_every_read(http, itrx_box):
    set_faults(itrx_box, slow_delegation_rate=0.5, slow_delegation_seconds=90)
    for n in range(40):
        itrx_post(http, itrx_box, "order", ITRX_ORDER | {"out_trade_no": f"slow-{n}"})
    delays = [o.delegation_delay() for o in SandboxOrder.objects.all()]
    assert set(delays) == {6, 90}  # both kinds occur at a 50% rate over 40 orders
    again = [o.delegation_delay() for o in SandboxOrder.objects.all()]
    assert again == delays
    set_faults(itrx_box, slow_delegation_rate=0.0)
    assert {o.delegation_delay() for o in SandboxOrder.objects.all()} == {6}


def test_a_delivered_callback_can_come_twice_and_then_stale(http, itrx_box):
    set_faults(itrx_box, duplicate_callback_rate=1.0, out_of_order_callback_rate=1.0)
    place(http, itrx_box)
    receiver = Receiver(200)
    assert deliver_due_callbacks(now=at(6), client=receiver.client()) == 1
    bodies = [json.loads(r.content) for r in receiver.requests]
    assert [b["status"] for b in bodies] == [40, 40, 30]
    assert receiver.requests[0].content == receiver.requests[1].content  # the same callback
    assert bodies[2]["serial"] == bodies[0]["serial"] and bodies[2]["txid"] == ""
    # Each is signed: the stale one with its own body.
    assert receiver.requests[2].headers["SIGNATURE"] != receiver.requests[0].headers["SIGNATURE"]


def test_no_extra_callback_without_the_knobs_or_when_delivery_failed(http, itrx_box):
    set_faults(itrx_box, duplicate_callback_rate=1.0, out_of_order_callback_rate=1.0)
    place(http, itrx_box)
    receiver = Receiver(500)
    deliver_due_callbacks(now=at(6), client=receiver.client())
    assert len(receiver.requests) == 1  # failed: retried later, not repeated now
    plain = Receiver(200)
    set_faults(itrx_box, duplicate_callback_rate=0.0, out_of_order_callback_rate=0.0)
    deliver_due_callbacks(now=at(6 + 15), client=plain.client())
    assert len(plain.requests) == 1

"""The console's itrx callback endpoint judges a callback by its signature, never by its age:
itrx retries for about an hour with what it signed first (issue 8, part 4)."""

from __future__ import annotations

import time

import httpx
import pytest

from energydash.orders.models import Order
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from tests.orders.conftest import make_box
from tests.orders.test_tracking import callback, payload_for
from tests.sandbox.helpers import address

TWO_HOURS = 2 * 3600


@pytest.fixture
def placed(db, wsgi_app) -> Order:
    box = make_box("itrx")
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as client:
        spec = OrderSpec(
            account=box.account, kind="energy", receive_address=address("age"), energy=65_000
        )
        return place_order(spec, client=client)


def test_a_correctly_signed_callback_from_two_hours_ago_is_accepted(client, placed):
    response = callback(
        client, placed.account, payload_for(placed), ts=int(time.time()) - TWO_HOURS
    )
    assert response.status_code == 200
    assert placed.events.filter(actor_label="callback:itrx").exists()  # it was processed


def test_an_old_callback_signed_with_another_secret_is_still_refused(client, placed):
    before = Order.objects.get(pk=placed.pk).status
    response = callback(
        client, placed.account, payload_for(placed), ts=int(time.time()) - TWO_HOURS, secret="x"
    )
    assert response.status_code == 403
    assert Order.objects.get(pk=placed.pk).status == before
    assert not placed.events.filter(actor_label="callback:itrx").exists()

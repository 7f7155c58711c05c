"""The response of a placing request is lost: the order exists at the provider, we saw a timeout."""

from __future__ import annotations

import httpx
import pytest

from energydash.orders.models import Order, Status
from energydash.orders.services import OrderSpec, place_order
from energydash.sandbox.models import SandboxOrder
from tests.orders.conftest import address, make_box


def lossy_box(kind: str, base: str):
    # The sandbox takes and charges the order, then holds the answer past our timeout.
    box = make_box(kind, base=base, lose_response_rate=1.0, hang_seconds=1.5)
    box.account.timeout_seconds = 1
    box.account.save()
    return box


def spec(box) -> OrderSpec:
    return OrderSpec(
        account=box.account,
        kind="energy",
        receive_address=address("lost"),
        energy=65_000,
        period="1H",
    )


@pytest.mark.parametrize("kind", ["itrx", "tronzap"])
def test_a_lost_response_is_reconciled_to_exactly_one_order(kind, live_sandbox):
    box = lossy_box(kind, live_sandbox)
    before = box.balance()

    order = place_order(spec(box))

    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    order.refresh_from_db()
    remote = SandboxOrder.objects.get()
    assert order.provider_ref == remote.ref and remote.client_ref == order.reference
    assert order.cost_sun == before - box.balance()  # the charge we record is the charge made
    timeline = list(order.events.filter(kind="state").values_list("to_status", flat=True))
    assert timeline[:2] == [Status.UNKNOWN, order.status]
    assert Order.objects.count() == 1 and SandboxOrder.objects.count() == 1


def test_a_lost_netts_response_goes_to_review_and_is_never_resent(live_sandbox):
    box = lossy_box("netts", live_sandbox)
    order = place_order(spec(box))

    assert order.status == Status.NEEDS_REVIEW
    assert "cannot look an order up by our reference" in order.events.last().message
    assert SandboxOrder.objects.count() == 1  # charged once; we did not try again

    from django.utils import timezone

    from energydash.orders.polling import poll_pass

    poll_pass(now=timezone.now() + timezone.timedelta(hours=1))
    assert SandboxOrder.objects.count() == 1
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW


def test_an_order_the_provider_never_received_is_failed_after_repeated_lookups(itrx):
    """Timeout before the provider saw it: lookups by reference find nothing three times."""
    from django.utils import timezone

    from energydash.orders.polling import poll_pass

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("lost", request=request)
        if request.url.path.endswith("/order/query"):
            return httpx.Response(200, json={"errno": 404, "message": "Order not found"})
        if request.url.path.endswith("/order/price"):
            return httpx.Response(
                200,
                json={
                    "period": "1H",
                    "energy_amount": 65000,
                    "price": 60,
                    "total_price": 3_900_000,
                    "addition": 0,
                },
            )
        return httpx.Response(
            200,
            json={"minimum_order_energy": 10000, "maximum_order_energy": 10**8, "balance": 10**9},
        )

    client = httpx.Client(transport=httpx.MockTransport(handler))
    order = place_order(spec(itrx), client=client)
    assert order.status == Status.UNKNOWN

    start = timezone.now()
    for minutes in (1, 2, 3, 4):
        poll_pass(now=start + timezone.timedelta(minutes=minutes), client=client)
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert "nothing was charged" in order.events.filter(kind="state").last().message

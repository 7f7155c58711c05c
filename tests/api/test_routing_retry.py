"""A failed order's "Try the next cheapest account" (issue 25, item 7): routed like any
best-price order, with a new key, never to the account that failed it."""

from __future__ import annotations

import pytest

from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, Route, Status
from energydash.orders.routing import RouteRequest, route_order
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, route_request
from tests.signin import sign_in

BOB = address("retry-bob")


def want(**kw) -> RouteRequest:
    return route_request(BOB, **kw)


def test_routing_never_tries_an_excluded_account(three, http):
    dear, cheap, mid = three
    route, same = route_order(
        "retry-1", want(), via="console", client=http, exclude=frozenset({cheap.account.pk})
    )
    assert same and route.status == Route.Status.PLACED
    assert route.order.account == mid.account
    assert not SandboxOrder.objects.filter(account=cheap.sandbox).exists()
    # the same key without the exclusion is another request: refused, nothing sent
    again, same = route_order("retry-1", want(), via="console", client=http)
    assert not same and again.pk == route.pk
    assert Order.objects.count() == 1


def test_with_no_other_account_nothing_is_placed(db, http):
    only = box("itrx", "itrx-only", price="60")
    route, _ = route_order(
        "retry-2", want(), via="console", client=http, exclude=frozenset({only.account.pk})
    )
    assert route.status == Route.Status.FAILED and route.order is None
    assert route.problem == "No other account can take it."
    assert not Order.objects.exists() and not SandboxOrder.objects.exists()


# --- the console's button, over a real HTTP sandbox ----------------------------------------


@pytest.fixture
def live_three(live_sandbox):
    return (
        box("itrx", "itrx-dear", base=live_sandbox, price="70"),
        box("tronzap", "tz-cheap", base=live_sandbox, price="50"),
        box("itrx", "itrx-mid", base=live_sandbox, price="60"),
    )


def failed_at(account) -> Order:
    return Order.objects.create(
        account=account,
        kind="energy",
        receive_address=BOB,
        energy=65_000,
        period="1H",
        status=Status.FAILED,
        burn_sun_per_energy=100,
        quoted_cost_sun=3_250_000,
        last_error="address not activated",
    )


def retry_form(client, order) -> str:
    html = client.get(f"/orders/{order.code}/").content.decode()
    assert "Try the next cheapest account" in html
    return html.split('name="token" value="', 1)[1].split('"', 1)[0]


def test_the_button_places_at_the_next_cheapest_once_per_form(client, operator, live_three):
    dear, cheap, mid = live_three
    sign_in(client, operator)
    failed = failed_at(cheap.account)
    token = retry_form(client, failed)
    response = client.post(f"/orders/{failed.code}/retry/", {"token": token})
    new = Order.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{new.code}/"
    assert new.account == mid.account and new.receive_address == BOB and new.energy == 65_000
    assert new.idempotency_key != failed.idempotency_key
    assert new.placed_by == operator
    # the same form again (double click, browser retry): no second order
    client.post(f"/orders/{failed.code}/retry/", {"token": token})
    assert Order.objects.count() == 2
    assert SandboxOrder.objects.count() == 1
    # a fresh form is a new request: it excludes only the failed order's account
    client.post(f"/orders/{failed.code}/retry/", {"token": retry_form(client, failed)})
    assert Order.objects.count() == 3
    assert not SandboxOrder.objects.filter(account=cheap.sandbox).exists()


def test_the_next_account_keeps_its_limits_and_approvals(client, operator, live_three):
    dear, cheap, mid = live_three
    mid.account.max_order_sun = 1 * SUN_PER_TRX  # cannot take it: skipped
    mid.account.save()
    dear.account.approval_above_sun = 1 * SUN_PER_TRX  # takes it, after a second person
    dear.account.save()
    sign_in(client, operator)
    failed = failed_at(cheap.account)
    client.post(f"/orders/{failed.code}/retry/", {"token": retry_form(client, failed)})
    new = Order.objects.exclude(pk=failed.pk).get()
    assert new.account == dear.account and new.status == Status.AWAITING_APPROVAL
    assert not SandboxOrder.objects.exists()  # nothing sent before approval


def test_only_failed_orders_and_operators(client, operator, viewer, live_three):
    dear, cheap, mid = live_three
    done = failed_at(cheap.account)
    Order.objects.filter(pk=done.pk).update(status=Status.COMPLETED)
    sign_in(client, operator)
    html = client.get(f"/orders/{done.code}/").content.decode()
    assert "Try the next cheapest account" not in html
    response = client.post(f"/orders/{done.code}/retry/", {"token": "a" * 32}, follow=True)
    assert "Only a failed order can be tried at another account." in response.content.decode()
    assert Order.objects.count() == 1
    failed = failed_at(cheap.account)
    sign_in(client, viewer)
    assert (
        "Try the next cheapest account"
        not in client.get(f"/orders/{failed.code}/").content.decode()
    )
    assert client.post(f"/orders/{failed.code}/retry/", {"token": "b" * 32}).status_code == 403
    assert Order.objects.count() == 2

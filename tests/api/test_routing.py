"""Best-price routing and failover, against the sandbox providers over WSGI."""

from __future__ import annotations

import httpx

from energydash.balances.services import record_balance
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, Route, RouteAttempt, Status
from energydash.orders.routing import RouteRequest, attempt_key, candidates, route_order
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import FailPlacing, address, box, route_request

ALICE = address("routing-alice")


def want(**kw) -> RouteRequest:
    return route_request(ALICE, **kw)


def test_candidates_are_every_enabled_account_cheapest_first(three, http):
    dear, cheap, mid = three
    rows = candidates(want(), client=http)
    assert [r.account.name for r in rows] == ["tz-cheap", "itrx-mid", "itrx-dear"]
    assert rows[0].price_sun < rows[1].price_sun < rows[2].price_sun
    assert all(r.eligible for r in rows)


def test_routing_places_at_the_cheapest_eligible_account(three, http):
    dear, cheap, mid = three
    route, same = route_order("k1", want(), via="api:test", client=http)
    assert same and route.status == Route.Status.PLACED
    assert route.order.account == cheap.account
    assert SandboxOrder.objects.filter(account=cheap.sandbox).count() == 1
    assert SandboxOrder.objects.count() == 1
    [attempt] = route.attempts.all()
    assert attempt.outcome == "accepted" and attempt.price_sun == route.order.quoted_cost_sun


def test_spend_limits_balance_and_max_cost_make_accounts_ineligible(three, http):
    dear, cheap, mid = three
    cheap.account.max_order_sun = 1 * SUN_PER_TRX  # below any 65,000-energy price
    cheap.account.save()
    record_balance(mid.account, 1 * SUN_PER_TRX, source="refresh")  # known and too low
    rows = candidates(want(), client=http)
    by_name = {r.account.name: r for r in rows}
    assert "maximum of 1.000000 TRX per order" in by_name["tz-cheap"].reason
    assert "last known balance of 1.000000 TRX" in by_name["itrx-mid"].reason
    assert rows[0].account.name == "itrx-dear" and rows[0].eligible

    capped = candidates(want(max_cost_sun=rows[0].price_sun - 1), client=http)
    assert not any(r.eligible for r in capped)
    assert "above the maximum cost" in {r.account.name: r for r in capped}["itrx-dear"].reason
    route, _ = route_order("capped", want(max_cost_sun=1), via="api:test", client=http)
    assert route.status == Route.Status.FAILED and route.order is None
    assert "No account can take this order" in route.problem
    assert not SandboxOrder.objects.exists() and not Order.objects.exists()


def test_equal_prices_go_to_the_higher_priority(db, http):
    box("itrx", "itrx-a", price="60", priority=0)
    box("itrx", "itrx-b", price="60", priority=5)
    rows = candidates(want(), client=http)
    assert rows[0].price_sun == rows[1].price_sun
    assert rows[0].account.name == "itrx-b"


def test_a_rejection_fails_over_to_the_next_cheapest_with_distinct_keys(three, http):
    dear, cheap, mid = three
    cheap.sandbox.balance_sun = 1 * SUN_PER_TRX  # the provider refuses: insufficient funds
    cheap.sandbox.save()
    route, _ = route_order("k2", want(), via="api:test", client=http)
    attempts = list(route.attempts.select_related("account", "order"))
    assert [(a.account.name, a.outcome) for a in attempts] == [
        ("tz-cheap", "rejected"),
        ("itrx-mid", "accepted"),
    ]
    assert route.status == Route.Status.PLACED and route.order.account == mid.account
    assert attempts[0].order.status == Status.FAILED
    keys = [a.order.idempotency_key for a in attempts]
    assert keys == [attempt_key(route, 1), attempt_key(route, 2)] and keys[0] != keys[1]
    assert cheap.balance() == 1 * SUN_PER_TRX  # nothing charged at the refusing account
    assert SandboxOrder.objects.count() == 1


def test_unavailable_providers_fail_over_up_to_the_attempt_limit(three, http, settings):
    settings.ENERGYDASH_ROUTING_MAX_ATTEMPTS = 2
    for b in three:
        b.sandbox.orders_unavailable = True
        b.sandbox.save()
    route, _ = route_order("k3", want(), via="api:test", client=http)
    assert route.status == Route.Status.FAILED
    assert route.attempts.count() == 2  # the third account was never tried
    assert set(route.attempts.values_list("outcome", flat=True)) <= {"unavailable", "rejected"}
    assert "most routing tries" in route.problem
    assert not SandboxOrder.objects.exists()


def test_never_fails_over_after_an_unknown_outcome(three, wsgi_app):
    dear, cheap, mid = three
    lost = FailPlacing(
        httpx.WSGITransport(app=wsgi_app),
        lambda r: str(r.url).endswith("/sandbox/tronzap/v1/transaction/new"),
    )
    with httpx.Client(transport=lost) as client:
        route, _ = route_order("k4", want(), via="api:test", client=client)
    assert route.status == Route.Status.UNKNOWN, [
        (a.outcome, a.message, a.order and a.order.status) for a in route.attempts.all()
    ]
    [attempt] = route.attempts.all()
    assert attempt.outcome == RouteAttempt.Outcome.UNKNOWN
    assert route.order.status in (Status.UNKNOWN, Status.NEEDS_REVIEW)
    assert not Order.objects.filter(account__in=[mid.account, dear.account]).exists()


def test_the_same_key_routes_once_and_a_different_body_is_refused(three, http):
    first, _ = route_order("k5", want(), via="api:test", client=http)
    again, same = route_order("k5", want(), via="api:test", client=http)
    assert same and again.pk == first.pk and again.order_id == first.order_id
    other, same = route_order("k5", want(energy=131_000), via="api:test", client=http)
    assert not same and other.pk == first.pk
    assert SandboxOrder.objects.count() == 1 and Order.objects.count() == 1


def test_an_interrupted_route_resumes_without_sending_an_attempt_twice(three, http):
    route, _ = route_order("k6", want(), via="api:test", client=http)
    # As if the process died after the order was placed but before the route was finished.
    Route.objects.filter(pk=route.pk).update(status="pending", claimed_until=None, order=None)
    RouteAttempt.objects.filter(route=route).delete()
    resumed, _ = route_order("k6", want(), via="api:test", client=http)
    assert resumed.status == Route.Status.PLACED and resumed.order_id == route.order_id
    assert SandboxOrder.objects.count() == 1


def test_the_console_best_price_choice_routes_with_failover_once_per_token(
    operator_client, live_sandbox
):
    refusing = box("tronzap", "tz-cheap", base=live_sandbox, price="50", balance_sun=1)
    mid = box("itrx", "itrx-mid", base=live_sandbox, price="60")
    query = {
        "kind": "energy",
        "receive_address": ALICE,
        "energy_preset": "65000",
        "period": "1H",
    }
    plan = operator_client.get("/orders/new/best/", query)
    assert plan.status_code == 200
    names = [r.account.name for r in plan.context["rows"]]
    assert names == ["tz-cheap", "itrx-mid"]
    token = plan.context["token"]
    placed = operator_client.post("/orders/new/best/", {**query, "token": token})
    order = Order.objects.get(account=mid.account)
    assert placed.status_code == 302 and placed["Location"] == f"/orders/{order.code}/"
    again = operator_client.post("/orders/new/best/", {**query, "token": token})
    assert again["Location"] == placed["Location"] and SandboxOrder.objects.count() == 1
    page = operator_client.get(placed["Location"]).content.decode()
    assert "Routing attempts" in page and "Rejected by the provider" in page
    assert refusing.balance() == 1  # the refusing account charged nothing

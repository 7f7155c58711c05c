"""Best-price routing reads the scorecards: effective price = price / verified-delivery rate,
an account below the health floor is out, and every attempt keeps why each account won or lost."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from energydash.orders.models import Order, Route
from energydash.orders.routing import RouteRequest, candidates, route_order
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, issue, route_request

ALICE = address("health-alice")


def want(**kw) -> RouteRequest:
    return route_request(ALICE, **kw)


def history(account, *, verified: int, missing: int = 0, short: int = 0, minutes_ago: int = 5):
    """Orders of `account` the chain has judged, placed `minutes_ago` minutes ago."""
    when = timezone.now() - timedelta(minutes=minutes_ago)
    statuses = ["verified"] * verified + ["missing"] * missing + ["short"] * short
    Order.objects.bulk_create(
        Order(
            account=account,
            receive_address=ALICE,
            energy=65_000,
            period="1H",
            burn_sun_per_energy=100,
            status="completed",
            provider_ref=f"h-{i}",
            created=when,
            submitted_at=when,
            finished_at=when,
            delivery_status=s,
        )
        for i, s in enumerate(statuses)
    )


@pytest.fixture
def pair(db, settings):
    settings.ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT = 50
    settings.ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS = 10
    settings.ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES = 60
    return box("tronzap", "tz-cheap", price="50"), box("itrx", "itrx-mid", price="60")


def by_name(rows):
    return {r.account.name: r for r in rows}


def test_a_cheaper_account_that_delivers_less_loses_on_effective_price(pair, http):
    cheap, mid = pair
    history(cheap.account, verified=8, missing=2)  # 80%: 50 / 0.8 = 62.5 > 60
    history(mid.account, verified=10)
    rows = candidates(want(), client=http)
    assert [r.account.name for r in rows] == ["itrx-mid", "tz-cheap"]
    c, m = by_name(rows)["tz-cheap"], by_name(rows)["itrx-mid"]
    assert c.eligible and c.verified_percent == 80.0
    assert c.effective_sun == -(-c.price_sun * 10 // 8)
    assert m.effective_sun == m.price_sun and m.price_sun < c.effective_sun
    assert (m.standing, c.standing) == ("won", "lost")
    assert "80% verified of 10" in c.note and "itrx-mid" in c.note

    route, _ = route_order("eff-1", want(), via="api:test", client=http)
    assert route.status == Route.Status.PLACED and route.order.account == mid.account
    [attempt] = route.attempts.all()
    assert attempt.reason.startswith("Lowest effective price")
    ranking = {r["account"]: r for r in attempt.ranking}
    assert ranking["tz-cheap"]["standing"] == "lost"
    assert ranking["tz-cheap"]["effective_price_sun"] == c.effective_sun
    assert ranking["itrx-mid"]["standing"] == "won"


def test_a_small_delivery_gap_does_not_outweigh_a_large_price_gap(pair, http):
    cheap, mid = pair
    history(cheap.account, verified=9, missing=1)  # 90%: 50 / 0.9 = 55.6 < 60
    rows = candidates(want(), client=http)
    assert rows[0].account.name == "tz-cheap" and rows[0].standing == "won"


def test_an_account_below_the_health_floor_is_out_and_not_sent_anything(pair, http, settings):
    settings.ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT = 90
    cheap, mid = pair
    history(cheap.account, verified=8, short=1, missing=1)
    rows = candidates(want(), client=http)
    c = by_name(rows)["tz-cheap"]
    assert not c.eligible and c.standing == "out"
    assert "80% of its 10 orders" in c.reason and "health floor of 90%" in c.reason
    route, _ = route_order("floor-1", want(), via="api:test", client=http)
    assert route.order.account == mid.account
    assert not SandboxOrder.objects.filter(account=cheap.sandbox).exists()


def test_every_account_below_the_floor_means_no_route_with_the_reasons(pair, http, settings):
    settings.ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT = 90
    cheap, mid = pair
    history(cheap.account, verified=0, missing=10)
    history(mid.account, verified=5, missing=5)
    route, _ = route_order("floor-all", want(), via="api:test", client=http)
    assert route.status == Route.Status.FAILED and route.order is None
    assert "health floor" in route.problem and "tz-cheap" in route.problem
    assert not SandboxOrder.objects.exists()


def test_too_few_verdicts_or_old_ones_rank_on_price_alone(pair, http, settings):
    cheap, mid = pair
    history(cheap.account, verified=0, missing=9)  # 9 < 10 verdicts: no evidence yet
    history(cheap.account, verified=0, missing=20, minutes_ago=90)  # outside the window
    rows = candidates(want(), client=http)
    assert rows[0].account.name == "tz-cheap" and rows[0].effective_sun == rows[0].price_sun
    assert "fewer than 10" in rows[0].note


def test_a_pinned_account_is_not_judged_by_its_health(pair, http, settings):
    settings.ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT = 90
    cheap, mid = pair
    history(cheap.account, verified=0, missing=10)
    [row] = candidates(want(account=cheap.account), client=http)
    assert row.eligible and row.effective_sun == row.price_sun


def test_the_api_shows_why_each_account_won_or_lost(live_sandbox, settings):
    settings.ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT = 90
    settings.ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS = 10
    cheap = box("tronzap", "tz-cheap", base=live_sandbox, price="50")
    box("itrx", "itrx-mid", base=live_sandbox, price="60")
    history(cheap.account, verified=5, missing=5)
    _token, raw = issue("exchange", "operator")
    with httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    ) as api:
        quotes = api.get("/quotes", params={"energy": 65_000, "period": "1H", "address": ALICE})
        q = {r["account"]: r for r in quotes.json()}
        assert q["tz-cheap"]["standing"] == "out" and q["tz-cheap"]["verified_percent"] == 50.0
        assert q["itrx-mid"]["standing"] == "won" and q["itrx-mid"]["best"]
        body = {"address": ALICE, "energy": 65_000, "period": "1H"}
        placed = api.post("/orders", json=body, headers={"Idempotency-Key": "why-1"})
        assert placed.status_code == 201, placed.text
        [attempt] = placed.json()["attempts"]
        assert attempt["account"] == "itrx-mid" and "Lowest effective price" in attempt["reason"]
        ranking = {r["account"]: r for r in attempt["ranking"]}
        assert ranking["tz-cheap"]["standing"] == "out"
        assert "health floor" in ranking["tz-cheap"]["reason"]
        detail = api.get(f"/orders/{placed.json()['id']}").json()
        assert detail["attempts"][0]["ranking"] == attempt["ranking"]

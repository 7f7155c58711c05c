"""The order endpoints over a real HTTP server: idempotency under concurrency, problems, paging."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from energydash.orders.models import Order, Route
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, issue

BODY = {"address": address("api-bob"), "energy": 65_000, "period": "1H"}


@pytest.fixture
def server(live_sandbox):
    cheap = box("tronzap", "tz-cheap", base=live_sandbox, price="50")
    dear = box("itrx", "itrx-dear", base=live_sandbox, price="70")
    _token, raw = issue("exchange", "operator")
    api = httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    )
    yield api, cheap, dear
    api.close()


def test_twenty_concurrent_posts_with_one_key_place_exactly_one_order(server):
    api, cheap, _dear = server

    def post(_: int) -> httpx.Response:
        return api.post("/orders", json=BODY, headers={"Idempotency-Key": "sweep-0001"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(post, range(20)))
    # One new order (201); every other answer is its replay (200).
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [201], [r.text for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    assert SandboxOrder.objects.count() == 1 and Order.objects.count() == 1
    body = responses[0].json()
    assert body["account"] == "tz-cheap" and body["placed_via"] == "api:exchange"
    assert body["quoted_cost_sun"] > 0 and body["quoted_cost_trx"].count(".") == 1
    assert [a["outcome"] for a in body["attempts"]] == ["accepted"]


def test_the_same_key_with_another_body_is_refused_and_sends_nothing(server):
    api, _cheap, _dear = server
    first = api.post("/orders", json=BODY, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    sent = SandboxOrder.objects.count()
    other = api.post(
        "/orders", json={**BODY, "energy": 131_000}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert SandboxOrder.objects.count() == sent == 1 and Order.objects.count() == 1
    replay = api.post(
        "/orders", json=dict(reversed(BODY.items())), headers={"Idempotency-Key": "k-1"}
    )
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]


def test_orders_need_an_idempotency_key_and_valid_input(server):
    api, _cheap, _dear = server
    missing = api.post("/orders", json=BODY)
    assert missing.status_code == 422 and missing.json()["code"] == "invalid_request"
    bad = api.post("/orders", json={**BODY, "address": "Tnope"}, headers={"Idempotency-Key": "b"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_address"
    fine = api.post(
        "/orders", json={**BODY, "max_cost_trx": "0.0000001"}, headers={"Idempotency-Key": "c"}
    )
    assert fine.status_code == 422 and fine.json()["code"] == "invalid_amount"
    unknown = api.post(
        "/orders", json={**BODY, "account": "nope"}, headers={"Idempotency-Key": "d"}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_account"
    assert not SandboxOrder.objects.exists()


def test_a_price_cap_no_account_meets_is_a_no_route_problem(server):
    api, _cheap, _dear = server
    capped = api.post(
        "/orders", json={**BODY, "max_cost_trx": "0.5"}, headers={"Idempotency-Key": "cap"}
    )
    assert capped.status_code == 422 and capped.json()["code"] == "no_route"
    assert "above the maximum cost" in capped.json()["detail"]
    again = api.post(
        "/orders", json={**BODY, "max_cost_trx": "0.5"}, headers={"Idempotency-Key": "cap"}
    )
    assert again.status_code == 422 and Route.objects.count() == 1
    assert not SandboxOrder.objects.exists()


def test_a_pinned_account_is_used_even_when_dearer(server):
    api, _cheap, dear = server
    placed = api.post(
        "/orders", json={**BODY, "account": "itrx-dear"}, headers={"Idempotency-Key": "pin"}
    )
    assert placed.status_code == 201 and placed.json()["account"] == "itrx-dear"
    one = api.get(f"/orders/{placed.json()['id']}")
    assert one.status_code == 200 and one.json()["attempts"][0]["account"] == "itrx-dear"
    assert api.get(f"/orders/{'0' * 8}-0000-0000-0000-{'0' * 12}").json()["code"] == (
        "order_not_found"
    )


def test_quotes_balances_and_keyset_pages(server):
    api, _cheap, _dear = server
    quotes = api.get("/quotes", params={"energy": 65000, "address": BODY["address"]}).json()
    assert [q["account"] for q in quotes] == ["tz-cheap", "itrx-dear"] and quotes[0]["best"]
    assert quotes[0]["total_sun"] < quotes[1]["total_sun"]
    placed = api.post("/orders", json=BODY, headers={"Idempotency-Key": "p"}).json()
    template = Order.objects.get(code=placed["id"])
    start = timezone.now() - timedelta(days=1)
    for n in range(29):  # several rows share a second: the id breaks the ties
        Order.objects.create(
            account=template.account,
            receive_address=template.receive_address,
            energy=65_000,
            period="1H",
            burn_sun_per_energy=100,
            created=start + timedelta(seconds=n // 3),
        )
    first = api.get("/orders", params={"limit": 25}).json()
    second = api.get("/orders", params={"limit": 25, "cursor": first["next_cursor"]}).json()
    ids = [o["id"] for o in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 30 and second["next_cursor"] is None
    assert ids == [str(o.code) for o in Order.objects.order_by("-created", "-id")]
    assert api.get("/orders", params={"limit": 7}).json()["code"] == "invalid_limit"
    since = (timezone.now() + timedelta(hours=1)).isoformat()
    assert api.get("/orders", params={"since": since}).json()["items"] == []
    assert api.get("/orders", params={"cursor": "garbage"}).json()["code"] == "invalid_cursor"
    assert api.get("/orders", params={"status": "nope"}).json()["code"] == "invalid_status"
    balances = api.get("/balances").json()
    assert {b["account"] for b in balances} == {"tz-cheap", "itrx-dear"}


def test_health_reports_the_database_and_the_worker(db, client):
    down = client.get("/api/v1/health")
    assert down.status_code == 503 and down.json()["worker"] == "no worker has run a task"
    from django_q.models import Success

    now = timezone.now()
    Success.objects.create(
        id="a" * 32, name="poll", func="x", started=now, stopped=now, success=True
    )
    up = client.get("/api/v1/health")
    assert up.status_code == 200 and up.json() == {
        "status": "ok",
        "database": "ok",
        "worker": "ok",
        "worker_last_seen": up.json()["worker_last_seen"],
    }

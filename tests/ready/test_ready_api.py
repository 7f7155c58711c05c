"""POST /api/v1/ready over real HTTP (127.0.0.1) against the live sandbox providers and chain."""

from __future__ import annotations

import json

import httpx
import pytest

from energydash.api.models import WebhookDelivery
from energydash.orders.models import Order
from energydash.orders.readiness import RUN_TASK
from energydash.orders.tasks import run_ready_check
from energydash.sandbox.chain_models import ChainAccount
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, issue

SENDER = address("ready-api-sender")
HOLDER = address("ready-api-holder")


@pytest.fixture
def api(live_sandbox, settings):
    settings.ENERGYDASH_TRON_API_URL = f"{live_sandbox}/sandbox/chain"
    settings.ENERGYDASH_TRON_API_QPS = 10_000
    settings.ENERGYDASH_READY_HEADROOM_PERCENT = 5
    box("tronzap", "tz", base=live_sandbox, price="50")
    _token, raw = issue("wallet", "operator")
    with httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    ) as client:
        yield client


def queued_checks() -> list[int]:
    """The ready checks the API handed to the worker (django-q2's ORM broker in tests)."""
    from django_q.models import OrmQ

    return [t.task["args"][0] for t in OrmQ.objects.all() if t.func() == RUN_TASK]


def test_ready_answers_at_once_and_the_worker_buys_the_deficit_once(api):
    ChainAccount.objects.create(address=HOLDER, holds_usdt=True)
    body = {"address": SENDER, "recipient": HOLDER, "usdt": "25.5", "deadline_seconds": 30}
    first = api.post("/ready", json=body, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == 202, first.text
    started = first.json()
    assert started["state"] == "working" and started["energy_bought"] == 0
    assert queued_checks() == [started["id"]]  # nothing bought yet: the worker does it
    assert not SandboxOrder.objects.exists()
    following = api.get(f"/ready/{started['id']}")
    assert following.status_code == 200 and following.json()["state"] == "working"

    run_ready_check(started["id"])  # the worker
    answer = api.get(f"/ready/{started['id']}").json()
    assert answer["state"] == "ready", answer["reason"]
    assert answer["energy_estimate"] == 65_000 and answer["energy_bought"] == 68_250
    assert answer["energy_available"] >= 68_250 and answer["bandwidth_available"] > 0
    assert answer["energy_fee_sun"] == 100  # the chain's getEnergyFee
    assert (answer["fee_limit_sun"], answer["fee_limit_trx"]) == (6_500_000, "6.500000")
    assert answer["order"] == str(Order.objects.get().code)
    # The same key and body: the same check, nothing queued or bought again.
    again = api.post("/ready", json=body, headers={"Idempotency-Key": "r-1"})
    assert again.status_code == 200 and again.json() == answer
    assert queued_checks() == [started["id"]]
    run_ready_check(started["id"])  # a retried task finds it done
    assert SandboxOrder.objects.count() == 1
    reused = api.post("/ready", json={**body, "usdt": "1"}, headers={"Idempotency-Key": "r-1"})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    missing = api.get(f"/ready/{started['id'] + 1000}")
    assert missing.status_code == 404 and missing.json()["code"] == "ready_check_not_found"
    for odd in ("99999999999999999999", "-1", "abc"):
        refused = api.get(f"/ready/{odd}")
        assert refused.status_code in (404, 422), (odd, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"


def test_the_tokens_webhook_hears_the_answer_once(live_sandbox, settings):
    settings.ENERGYDASH_TRON_API_URL = f"{live_sandbox}/sandbox/chain"
    settings.ENERGYDASH_TRON_API_QPS = 10_000
    box("tronzap", "tz", base=live_sandbox, price="50")
    token, raw = issue("hooked", "operator", webhook_url="https://hooks.example.com/ready")
    with httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    ) as client:
        started = client.post(
            "/ready", json={"address": SENDER}, headers={"Idempotency-Key": "w-1"}
        ).json()
        ready_events = WebhookDelivery.objects.filter(event__startswith="ready.")
        assert not ready_events.exists()  # nothing to tell while it works
        run_ready_check(started["id"])
        answer = client.get(f"/ready/{started['id']}").json()
    delivery = ready_events.get()  # beside order.completed for the order it placed
    assert (delivery.token, delivery.event, delivery.order) == (token, "ready.ready", None)
    sent = json.loads(delivery.payload)
    assert sent["event"] == "ready.ready" and sent["ready"] == answer
    run_ready_check(started["id"])  # a retried task tells nothing twice
    assert ready_events.count() == 1


def test_a_bad_address_is_refused_with_422_and_nothing_is_done(api):
    for bad in (
        SENDER[:-1] + ("2" if SENDER.endswith("1") else "1"),
        " " + SENDER,
        "0x" + "ab" * 20,
    ):
        refused = api.post("/ready", json={"address": bad}, headers={"Idempotency-Key": "r-bad"})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    bad_usdt = api.post(
        "/ready", json={"address": SENDER, "usdt": "1.1234567"}, headers={"Idempotency-Key": "u"}
    )
    assert bad_usdt.status_code == 422
    unknown = api.post("/ready?dry=1", json={"address": SENDER}, headers={"Idempotency-Key": "q"})
    assert unknown.status_code == 422 and "dry" in unknown.json()["detail"]
    assert not SandboxOrder.objects.exists() and not Order.objects.exists()


def test_a_viewer_or_a_token_without_place_cannot_ask(api, live_sandbox):
    _t, raw = issue("viewer", "viewer")
    viewer = httpx.post(
        f"{live_sandbox}/api/v1/ready",
        json={"address": SENDER},
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "v"},
    )
    assert viewer.status_code == 403
    assert not SandboxOrder.objects.exists()

"""Maker-checker through the API: 202 awaiting_approval, a webhook, nothing sent until approved."""

from __future__ import annotations

import json

import httpx
import pytest

from energydash.api.models import WebhookDelivery
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.approvals import approve
from energydash.orders.models import Order, Route
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, issue

BODY = {"address": address("api-maker-checker"), "energy": 65_000, "period": "1H"}
HOOK = "https://hooks.example.com/energy"


@pytest.fixture
def server(live_sandbox):
    tz = box("tronzap", "tz-approval", base=live_sandbox, price="50")
    tz.account.approval_above_sun = 1 * SUN_PER_TRX
    tz.account.save(update_fields=["approval_above_sun"])
    token, raw = issue("treasury", "operator", webhook_url=HOOK)
    api = httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    )
    yield api, token, tz
    api.close()


def test_an_api_order_above_the_threshold_answers_202_and_sends_nothing(server, operator):
    api, token, tz = server
    response = api.post("/orders", json=BODY, headers={"Idempotency-Key": "big-1"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "awaiting_approval" and body["final"] is False
    assert body["kept_sun"] is None  # not settled: it may still be sent
    assert [a["outcome"] for a in body["attempts"]] == ["awaiting"]
    assert SandboxOrder.objects.count() == 0
    assert Route.objects.get().status == Route.Status.AWAITING
    # The same key again: the same order, still 202, nothing sent.
    again = api.post("/orders", json=BODY, headers={"Idempotency-Key": "big-1"})
    assert again.status_code == 202 and again.json()["id"] == body["id"]
    listed = api.get("/orders", params={"status": "awaiting_approval"}).json()["items"]
    assert [o["id"] for o in listed] == [body["id"]]
    # A person approves it (an API token is not a person, so any operator may): sent once.
    order = Order.objects.select_related("account").get(code=body["id"])
    assert approve(order, operator, "expected sweep", order.quoted_cost_sun)
    assert SandboxOrder.objects.count() == 1
    sent = api.get(f"/orders/{body['id']}").json()["status"]
    assert sent in ("submitted", "delegating", "completed")


def test_an_order_awaiting_approval_is_announced_by_webhook(
    server, django_capture_on_commit_callbacks
):
    api, token, _tz = server
    response = api.post("/orders", json=BODY, headers={"Idempotency-Key": "big-2"})
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(token=token)
    assert delivery.event == "order.awaiting_approval" and delivery.url == HOOK
    assert json.loads(delivery.payload)["order"]["status"] == "awaiting_approval"


def test_the_openapi_document_lists_202_and_the_new_problems(db, client):
    schema = client.get("/api/v1/openapi.json").json()
    post = schema["paths"]["/api/v1/orders"]["post"]
    assert "202" in post["responses"]
    codes = str(schema)
    for code in ("insufficient_scope", "token_expired", "ip_not_allowed", "token_cap_exceeded"):
        assert code in codes

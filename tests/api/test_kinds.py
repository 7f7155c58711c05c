"""POST /api/v1/orders takes every kind the console places, and routes each only to the accounts
whose provider offers it (itrx: collection; TronZap: activation)."""

from __future__ import annotations

import httpx
import pytest

from energydash.orders.models import Order, Route
from energydash.orders.routing import RouteRequest, candidates
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, issue

ALICE = address("kinds-alice")
BOB = address("kinds-bob")


@pytest.fixture
def server(live_sandbox):
    itrx = box("itrx", "itrx-1", base=live_sandbox, price="60")
    tz = box("tronzap", "tz-1", base=live_sandbox, price="50")
    netts = box("netts", "netts-1", base=live_sandbox, price="40")
    _token, raw = issue("kinds", "operator")
    api = httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    )
    yield api, itrx, tz, netts
    api.close()


def post(api: httpx.Client, body: dict, key: str) -> httpx.Response:
    return api.post("/orders", json=body, headers={"Idempotency-Key": key})


def test_a_collection_is_placed_at_the_only_provider_that_offers_it(server):
    api, itrx, _tz, _netts = server
    placed = post(api, {"kind": "collection", "address": ALICE, "to_address": BOB}, "col-1")
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["kind"] == "collection" and body["account"] == "itrx-1"
    assert body["address"] == ALICE and body["energy"] is None
    assert [a["account"] for a in body["attempts"]] == ["itrx-1"]
    order = Order.objects.get(code=body["id"])
    assert order.kind == "collection" and order.to_address == BOB
    assert SandboxOrder.objects.count() == 1
    replay = post(api, {"to_address": BOB, "address": ALICE, "kind": "collection"}, "col-1")
    assert replay.status_code == 200 and replay.json()["id"] == body["id"]


def test_an_activation_is_placed_at_tronzap(server):
    api, _itrx, _tz, _netts = server
    placed = post(api, {"kind": "activation", "address": ALICE}, "act-1")
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["kind"] == "activation" and body["account"] == "tz-1"
    assert Order.objects.get(code=body["id"]).kind == "activation"


def test_energy_is_the_default_kind_and_goes_to_the_cheapest(server):
    api, *_ = server
    cheapest = candidates(RouteRequest(receive_address=ALICE, energy=65_000))[0].account.name
    placed = post(api, {"address": ALICE, "energy": 65_000}, "en-1")
    assert placed.status_code == 201, placed.text
    assert placed.json()["kind"] == "energy" and placed.json()["account"] == cheapest
    explicit = post(api, {"kind": "energy", "address": BOB, "energy": 65_000}, "en-2")
    assert explicit.status_code == 201 and explicit.json()["energy"] == 65_000


def test_routing_considers_only_accounts_that_offer_the_kind(server):
    _api, itrx, tz, _netts = server
    collection = candidates(RouteRequest(receive_address=ALICE, energy=None, kind="collection"))
    assert [c.account.name for c in collection] == ["itrx-1"]
    activation = candidates(RouteRequest(receive_address=ALICE, energy=None, kind="activation"))
    assert [c.account.name for c in activation] == ["tz-1"]
    energy = candidates(RouteRequest(receive_address=ALICE, energy=65_000))
    assert {c.account.name for c in energy} == {"itrx-1", "tz-1", "netts-1"}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"kind": "energy", "address": ALICE}, "invalid_request", "energy"),
        ({"address": ALICE, "energy": 0}, "invalid_request", "energy"),
        ({"address": ALICE, "energy": 65_000, "period": "2H"}, "invalid_request", "period"),
        ({"kind": "rental", "address": ALICE, "energy": 65_000}, "invalid_request", "kind"),
        ({"kind": "collection"}, "invalid_request", "address"),
        ({"kind": "collection", "address": ALICE, "to_address": "Tnope"}, "invalid_address", ""),
        ({"kind": "activation", "address": ALICE[:-1] + "x"}, "invalid_address", ""),
        ({"kind": "activation", "address": " " + ALICE}, "invalid_address", ""),
        ({"address": ALICE, "energy": "65000"}, "invalid_request", "energy"),
        ({"address": ALICE, "energy": 65_000, "activate": "yes"}, "invalid_request", "activate"),
        ({"address": ALICE, "energy": 65_000, "max_cost_trx": "1.0000001"}, "invalid_amount", ""),
        ({"address": ALICE, "energy": 65_000, "max_cost_trx": "-1"}, "invalid_amount", ""),
    ],
)
def test_each_kind_refuses_what_the_console_form_refuses(server, body, code, field):
    api, *_ = server
    refused = post(api, body, "bad")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == code, problem
    if field:
        assert field in {e["field"] for e in problem["errors"]}, problem
    assert not Route.objects.exists() and not Order.objects.exists()
    assert not SandboxOrder.objects.exists()


def test_a_kind_no_enabled_account_offers_is_no_route_and_sends_nothing(server):
    api, itrx, tz, _netts = server
    tz.account.enabled = False
    tz.account.save()
    refused = post(api, {"kind": "activation", "address": ALICE}, "act-none")
    assert refused.status_code == 422 and refused.json()["code"] == "no_route"
    assert "No enabled provider account offers address activation" in refused.json()["detail"]
    assert not SandboxOrder.objects.exists() and not Order.objects.exists()


def test_a_pinned_account_that_lacks_the_kind_is_refused_before_sending(server):
    api, *_ = server
    refused = post(api, {"kind": "collection", "address": ALICE, "account": "tz-1"}, "pin")
    assert refused.status_code == 422 and refused.json()["code"] == "no_route"
    assert "Collection orders exist only at itrx" in refused.json()["detail"]
    assert not SandboxOrder.objects.exists()

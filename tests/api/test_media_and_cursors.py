"""Bodies must be JSON (415 otherwise, nothing done) and cursors are opaque and signed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from energydash.orders.models import Order, Route
from tests.api.conftest import address, bearer, box, issue

BODY = {"address": address("media-bob"), "energy": 65_000, "period": "1H"}


@pytest.fixture
def operator(db) -> dict[str, str]:
    return bearer(issue("exchange", "operator")[1])


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("application/x-www-form-urlencoded", "address=T&energy=65000"),
        ("text/plain", json.dumps(BODY)),  # JSON, but not said to be: used to place an order
        ("text/plain; charset=utf-8", json.dumps(BODY)),
        ("multipart/form-data; boundary=xyz", "--xyz--"),
        ("application/xml", "<order/>"),
        ("", json.dumps(BODY)),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/batches"])
def test_a_body_that_is_not_json_gets_415_and_changes_nothing(
    client, operator, content_type, data, path
):
    answer = client.post(
        path, data, content_type=content_type, HTTP_IDEMPOTENCY_KEY="m-1", **operator
    )
    assert answer.status_code == 415, answer.content
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unsupported_media_type"
    assert not Route.objects.exists() and not Order.objects.exists()


def test_an_empty_body_without_a_type_is_415_too(client, operator):
    answer = client.generic("POST", "/api/v1/orders", b"", HTTP_IDEMPOTENCY_KEY="m", **operator)
    assert answer.status_code == 415 and answer.json()["code"] == "unsupported_media_type"


def test_broken_json_is_a_400_problem_with_a_stable_code(client, operator):
    answer = client.post(
        "/api/v1/orders",
        "{nope",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="j",
        **operator,
    )
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_json"
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_nul_character_is_a_400_problem_document_under_the_api(client, operator):
    answer = client.get("/api/v1/orders", {"cursor": "a\x00b"}, **operator)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_request"
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.fixture
def thirty_orders(db):
    account = box("tronzap", "tz").account
    start = timezone.now() - timedelta(days=1)
    for n in range(30):
        Order.objects.create(
            account=account,
            receive_address=BODY["address"],
            energy=65_000,
            period="1H",
            burn_sun_per_energy=100,
            created=start + timedelta(seconds=n // 3),
        )


def test_cursors_are_opaque_and_walk_every_order_once(client, operator, thirty_orders):
    first = client.get("/api/v1/orders", {"limit": 25}, **operator).json()
    cursor = first["next_cursor"]
    last = Order.objects.order_by("-created", "-id")[24]
    assert "~" not in cursor and last.created.isoformat()[:10] not in cursor  # not readable
    second = client.get("/api/v1/orders", {"limit": 25, "cursor": cursor}, **operator).json()
    ids = [o["id"] for o in first["items"] + second["items"]]
    assert ids == [str(o.code) for o in Order.objects.order_by("-created", "-id")]
    assert second["next_cursor"] is None


def test_a_tampered_or_home_made_cursor_is_422_invalid_cursor(client, operator, thirty_orders):
    cursor = client.get("/api/v1/orders", {"limit": 25}, **operator).json()["next_cursor"]
    last = Order.objects.order_by("-created", "-id")[24]
    readable = f"{last.created.isoformat()}~{last.pk}"  # what the API used to hand out
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    payload, _, signature = cursor.partition(":")
    forged = "x" + payload[1:] + ":" + signature
    for bad in (readable, flipped, forged, "garbage"):
        answer = client.get("/api/v1/orders", {"limit": 25, "cursor": bad}, **operator)
        assert answer.status_code == 422, (bad, answer.content)
        assert answer.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("bad", ["Tnope", " " + BODY["address"], BODY["address"][:-1] + "1"])
def test_a_bad_quote_address_keeps_its_own_code(client, operator, bad):
    answer = client.get("/api/v1/quotes", {"energy": 65000, "address": bad}, **operator)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_address"


def test_an_unknown_query_parameter_is_refused_not_ignored(client, operator):
    answer = client.get("/api/v1/orders", {"stauts": "open"}, **operator)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"
    assert answer.json()["errors"] == [
        {"field": "stauts", "message": "Not a parameter of this operation."}
    ]

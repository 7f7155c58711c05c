"""Tokens you can narrow: scopes, expiry, an IP allowlist and a daily spending cap."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from energydash.api.models import ALL_SCOPES, ApiToken
from energydash.orders.limits import spent_today_via
from energydash.orders.models import Order
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, bearer, box, issue

BODY = {"address": address("narrow"), "energy": 65_000, "period": "1H"}


def narrowed(token: ApiToken, **fields) -> ApiToken:
    for name, value in fields.items():
        setattr(token, name, value)
    token.full_clean()
    token.save()
    return token


def test_new_tokens_have_every_scope_so_existing_clients_keep_working(db):
    token, _raw = issue("legacy", "operator")
    assert token.scopes == ALL_SCOPES
    assert token.scope_set == {"read", "quote", "place", "batches"}


def test_a_token_without_a_scope_gets_insufficient_scope_and_nothing_happens(db, client):
    token, raw = issue("reader", "operator")
    narrowed(token, scopes="read")
    assert client.get("/api/v1/orders", **bearer(raw)).status_code == 200
    assert client.get("/api/v1/balances", **bearer(raw)).status_code == 200
    quote = client.get(
        "/api/v1/quotes", {"energy": 65000, "address": BODY["address"]}, **bearer(raw)
    )
    assert quote.status_code == 403 and quote.json()["code"] == "insufficient_scope"
    assert quote["Content-Type"] == "application/problem+json"
    assert quote.json()["required_scope"] == "quote"
    place = client.post(
        "/api/v1/orders",
        BODY,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
        **bearer(raw),
    )
    assert place.status_code == 403 and place.json()["code"] == "insufficient_scope"
    assert "'place' scope" in place.json()["detail"]
    batch = client.post(
        "/api/v1/batches",
        {"lines": [{"address": BODY["address"]}], "energy": 65000, "period": "1H"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="b1",
        **bearer(raw),
    )
    assert batch.status_code == 403 and batch.json()["code"] == "insufficient_scope"
    assert not Order.objects.exists()


def test_a_place_only_token_cannot_read(db, client):
    token, raw = issue("placer", "operator")
    narrowed(token, scopes="place")
    response = client.get("/api/v1/orders", **bearer(raw))
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"


def test_unknown_or_empty_scopes_are_refused_when_saved(db):
    token, _raw = issue("typo", "operator")
    with pytest.raises(ValidationError, match="Choose at least one"):
        narrowed(token, scopes="read,admin")
    with pytest.raises(ValidationError, match="scopes"):
        narrowed(token, scopes="")


def test_an_expired_token_is_refused(db, client):
    token, raw = issue("short-lived", "operator")
    narrowed(token, expires_at=timezone.now() + timedelta(hours=1))
    assert client.get("/api/v1/orders", **bearer(raw)).status_code == 200
    narrowed(token, expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/orders", **bearer(raw))
    assert response.status_code == 403 and response.json()["code"] == "token_expired"
    assert "expired at" in response.json()["detail"]


def test_the_allowlist_takes_the_client_address_as_the_proxy_count_defines_it(db, client, settings):
    token, raw = issue("office", "operator")
    narrowed(token, allowed_ips="198.51.100.0/24\n2001:db8::/32")
    inside = client.get("/api/v1/orders", REMOTE_ADDR="198.51.100.7", **bearer(raw))
    assert inside.status_code == 200
    token.refresh_from_db()
    assert token.last_used_from == "198.51.100.7"
    outside = client.get("/api/v1/orders", REMOTE_ADDR="203.0.113.9", **bearer(raw))
    assert outside.status_code == 403 and outside.json()["code"] == "ip_not_allowed"
    # Without a proxy count a forged X-Forwarded-For changes nothing.
    forged = client.get(
        "/api/v1/orders",
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **bearer(raw),
    )
    assert forged.status_code == 403
    # Behind one proxy, the address that proxy saw counts; entries the client wrote do not.
    settings.ENERGYDASH_PROXY_COUNT = 1
    proxied = client.get(
        "/api/v1/orders",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.8",
        **bearer(raw),
    )
    assert proxied.status_code == 200
    spoofed = client.get(
        "/api/v1/orders",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.8, 203.0.113.9",
        **bearer(raw),
    )
    assert spoofed.status_code == 403


def test_a_bad_network_is_refused_when_saved(db):
    token, _raw = issue("typo-net", "operator")
    with pytest.raises(ValidationError, match="not an IP address or CIDR"):
        narrowed(token, allowed_ips="10.0.0.0/33")


def test_the_admin_shows_where_a_token_was_last_used(db, admin_client_):
    token, raw = issue("shown", "operator")
    from django.test import Client

    Client().get("/api/v1/orders", REMOTE_ADDR="192.0.2.44", **bearer(raw))
    page = admin_client_.get(f"/admin/api/apitoken/{token.pk}/change/")
    assert page.status_code == 200 and "192.0.2.44" in page.content.decode()


# The daily cap, over real HTTP ----------------------------------------------------------------


@pytest.fixture
def capped(live_sandbox):
    tz = box("tronzap", "tz-cap", base=live_sandbox, price="50", latency_ms=200)
    token, raw = issue("capped", "operator")
    api = httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    )
    yield api, token, tz
    api.close()


def test_an_order_over_the_tokens_daily_cap_is_refused_with_403(capped):
    api, token, _tz = capped
    first = api.post("/orders", json=BODY, headers={"Idempotency-Key": "c-1"})
    assert first.status_code == 201, first.text
    cost = first.json()["quoted_cost_sun"]
    narrowed(token, daily_cap_sun=cost + cost // 2)
    second = api.post("/orders", json=BODY, headers={"Idempotency-Key": "c-2"})
    assert second.status_code == 403, second.text
    assert second.json()["code"] == "token_cap_exceeded"
    assert "daily cap" in second.json()["detail"] and "Nothing was sent" in second.json()["detail"]
    assert SandboxOrder.objects.count() == 1 and Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_posts_with_one_capped_token_never_spend_past_the_cap(capped, live_sandbox):
    """Eight different keys at once, half pinned to each of two accounts (so no account lock
    orders them: only the token's), a cap that fits three orders: exactly three are sent."""
    api, token, tz = capped
    other = box("tronzap", "tz-cap-2", base=live_sandbox, price="50", latency_ms=200)
    probe = api.get("/quotes", params={"energy": 65000, "address": BODY["address"]}).json()
    price = probe[0]["total_sun"]
    narrowed(token, daily_cap_sun=3 * price + price // 2)
    n = 8
    start = threading.Barrier(n)
    codes: list[int] = []
    lock = threading.Lock()

    def post(i: int) -> None:
        try:
            with httpx.Client(
                base_url=str(api.base_url), headers=dict(api.headers), timeout=120
            ) as mine:
                start.wait()
                pinned = {**BODY, "account": (tz if i % 2 else other).account.name}
                response = mine.post("/orders", json=pinned, headers={"Idempotency-Key": f"r-{i}"})
            with lock:
                codes.append(response.status_code)
        finally:
            if connection.vendor != "sqlite" or not connection.is_in_memory_db():
                connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [201] * 3 + [403] * 5, codes
    assert SandboxOrder.objects.count() == 3
    assert spent_today_via(token.placed_via) <= token.daily_cap_sun
    assert token.daily_cap_sun < 4 * price  # a fourth would have broken it


def test_the_command_issues_a_narrowed_token(db, capsys):
    from django.core.management import CommandError, call_command

    call_command(
        "create_api_token",
        "--name",
        "sweeper",
        "--role",
        "operator",
        "--scopes",
        "quote,place",
        "--expires-in-days",
        "30",
        "--allowed-networks",
        "198.51.100.0/24",
        "--daily-cap-trx",
        "250.5",
    )
    token = ApiToken.objects.get(name="sweeper")
    assert token.scope_set == {"quote", "place"} and token.daily_cap_sun == 250_500_000
    assert token.allows_ip("198.51.100.9") and not token.allows_ip("203.0.113.1")
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    with pytest.raises(CommandError, match="scopes"):
        call_command("create_api_token", "--name", "bad", "--role", "viewer", "--scopes", "all")
    assert not ApiToken.objects.filter(name="bad").exists()

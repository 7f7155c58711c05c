"""A cache (Redis) outage never turns a money request into a 500 (security issue, finding 3).

The rate limits count in Django's cache. With Redis down they used to raise, so every API order
POST and every new-order page failed. Now a limiter that cannot reach the cache counts in the
process instead (the limit still holds per process) and logs a warning; idempotency and
exactly-once live in the database and never depend on the cache.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from energydash.core import ratelimit
from tests.api.conftest import bearer, issue

DEAD_REDIS = {
    "default": {
        # Nothing listens on port 1 of the loopback: every cache call fails to connect.
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = DEAD_REDIS
    ratelimit.reset_local_counts()
    yield
    ratelimit.reset_local_counts()


def test_api_requests_are_answered_and_still_limited_when_the_cache_is_down(
    db, client, settings, dead_cache, caplog
):
    settings.ENERGYDASH_API_RATE_LIMIT_PER_MINUTE = 2
    _token, raw = issue("exchange", "operator")
    with (
        caplog.at_level(logging.WARNING, logger="energydash.ratelimit"),
        time_machine.travel(datetime(2026, 8, 7, 10, 0, 5, tzinfo=UTC), tick=False),
    ):
        first = client.get("/api/v1/balances", **bearer(raw))
        second = client.post(
            "/api/v1/orders",
            {"address": "not an address", "energy": 65000},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="outage-1",
            **bearer(raw),
        )
        third = client.get("/api/v1/balances", **bearer(raw))
    assert first.status_code == 200
    assert second.status_code == 422  # the body's own error, not a 500 from the limiter
    assert third.status_code == 429 and third.json()["code"] == "rate_limited"
    assert any("cache is unreachable" in r.getMessage() for r in caplog.records)


def test_the_new_order_page_loads_with_quotes_when_the_cache_is_down(
    viewer_client, itrx_account, dead_cache, monkeypatch
):
    from energydash.console.orders import views

    monkeypatch.setattr(views.quote_service, "compare", lambda specs: [])
    page = viewer_client.get(
        reverse("orders:new"),
        {
            "kind": "energy",
            "receive_address": "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
            "energy": 65000,
        },
    )
    assert page.status_code == 200


def test_the_local_fallback_is_a_fixed_window_per_bucket_and_caller(dead_cache):
    with time_machine.travel(datetime(2026, 8, 7, 10, 0, 5, tzinfo=UTC), tick=False):
        assert [ratelimit.allow("b", 1, 2) for _ in range(3)] == [True, True, False]
        assert ratelimit.allow("b", 2, 2) is True
        assert ratelimit.allow("other", 1, 2) is True
    with time_machine.travel(datetime(2026, 8, 7, 10, 1, 1, tzinfo=UTC), tick=False):
        assert ratelimit.allow("b", 1, 2) is True

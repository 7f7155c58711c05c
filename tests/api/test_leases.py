"""A crashed request's Idempotency-Key is free again within the lease (no fixed 5 minutes), a live
slow request keeps its claim by heartbeat, and 409's Retry-After says how long the claim lasts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from energydash.orders import routing
from energydash.orders.models import Order, Route
from energydash.orders.routing import RouteRequest, claim, renew, route_request
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box, issue
from tests.waiting import wait_until

BODY = {"address": address("lease-bob"), "energy": 65_000, "period": "1H"}


@pytest.fixture
def server(live_sandbox, settings):
    settings.ENERGYDASH_API_IDEMPOTENCY_WAIT_SECONDS = 0  # answer 409 at once, do not wait
    settings.ENERGYDASH_ROUTE_LEASE_SECONDS = 15
    box("tronzap", "tz", base=live_sandbox, price="50")
    _token, raw = issue("exchange", "operator")
    api = httpx.Client(
        base_url=f"{live_sandbox}/api/v1", headers={"Authorization": f"Bearer {raw}"}, timeout=60
    )
    yield api
    api.close()


def crashed_route(api: httpx.Client, monkeypatch, key: str) -> Route:
    """POST once and crash after the route was claimed, before anything was sent: the lease row
    is left behind and nobody beats for it any more, as when the web process dies."""
    real = routing.run_route

    def die(route, **kwargs):
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(routing, "run_route", die)
    crashed = api.post("/orders", json=BODY, headers={"Idempotency-Key": key})
    assert crashed.status_code == 500
    monkeypatch.setattr(routing, "run_route", real)
    route = Route.objects.get()
    assert route.status == Route.Status.PENDING and route.claimed_until is not None
    return route


def test_a_crashed_requests_key_is_released_within_the_lease(server, monkeypatch):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        route = crashed_route(server, monkeypatch, "crash-1")
        assert route.claimed_until - start <= timedelta(seconds=15)
        busy = server.post("/orders", json=BODY, headers={"Idempotency-Key": "crash-1"})
    assert busy.status_code == 409 and busy.json()["code"] == "request_in_progress"
    # Retry-After is the time left on the dead request's lease, not a hopeful 2 s.
    assert busy.headers["Retry-After"] == "15"
    with time_machine.travel(start + timedelta(seconds=8), tick=False):
        again = server.post("/orders", json=BODY, headers={"Idempotency-Key": "crash-1"})
    assert again.status_code == 409 and again.headers["Retry-After"] == "7"
    assert not SandboxOrder.objects.exists()
    with time_machine.travel(start + timedelta(seconds=16), tick=False):
        done = server.post("/orders", json=BODY, headers={"Idempotency-Key": "crash-1"})
    assert done.status_code == 201, done.text
    assert SandboxOrder.objects.count() == 1 and Order.objects.count() == 1
    replay = server.post("/orders", json=BODY, headers={"Idempotency-Key": "crash-1"})
    assert replay.status_code == 200 and replay.json()["id"] == done.json()["id"]
    assert SandboxOrder.objects.count() == 1


def test_a_heartbeat_keeps_a_slow_requests_claim(db, settings):
    settings.ENERGYDASH_ROUTE_LEASE_SECONDS = 15
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        route, created = routing.open_route(
            "slow", "digest", RouteRequest(receive_address=BODY["address"], energy=1), via="t"
        )
        assert created
    for beat in range(1, 5):  # four beats, 10 s apart: 40 s in all, longer than the lease
        with time_machine.travel(start + timedelta(seconds=10 * beat), tick=False):
            assert not claim(route), "a beating request's claim was taken over"
            assert renew(route)
    with time_machine.travel(start + timedelta(seconds=40 + 16), tick=False):
        assert claim(route), "without beats the claim lapses within the lease"


@pytest.mark.django_db(transaction=True)
def test_a_live_slow_request_beats_and_is_never_run_twice(settings, monkeypatch):
    """Real heartbeat thread, a fast lease: while the first request is blocked routing, its
    lease keeps being renewed and a concurrent request with the key never runs the route."""
    settings.ENERGYDASH_ROUTE_LEASE_SECONDS = 0.6
    blocked, release, runs = threading.Event(), threading.Event(), []

    def slow(route, **kwargs):
        runs.append(route.pk)
        blocked.set()
        assert release.wait(timeout=60)
        Route.objects.filter(pk=route.pk).update(
            status=Route.Status.FAILED, claimed_until=None, problem="done"
        )
        route.refresh_from_db()
        return route

    monkeypatch.setattr(routing, "run_route", slow)
    request = RouteRequest(receive_address=BODY["address"], energy=65_000)
    results = []

    def first() -> None:
        try:
            results.append(route_request("k-slow", request, via="t"))
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert blocked.wait(timeout=30)
        seen = {Route.objects.get(key="k-slow").claimed_until}
        # Wait for several renewals: each beat moves claimed_until; meanwhile retries find the
        # claim held and do not route.
        while len(seen) < 5:
            other = route_request("k-slow", request, via="t")
            assert not other.routed_here and other.route.status == Route.Status.PENDING
            wait_until(
                lambda: Route.objects.get(key="k-slow").claimed_until not in seen, timeout=30
            )
            seen.add(Route.objects.get(key="k-slow").claimed_until)
    finally:
        release.set()
        thread.join(timeout=60)
    assert runs == [Route.objects.get(key="k-slow").pk]
    assert results[0].routed_here and results[0].route.status == Route.Status.FAILED


def test_retries_racing_for_a_lapsed_key_place_one_order(server, monkeypatch):
    """Several clients retry a crashed request's key at once after its lease lapsed: one takes
    the request over (201), the others get that order (200) or are told to wait (409)."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        crashed_route(server, monkeypatch, "crash-race")
    barrier = threading.Barrier(6)

    def retry(_: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return server.post("/orders", json=BODY, headers={"Idempotency-Key": "crash-race"})

    with time_machine.travel(start + timedelta(seconds=16), tick=True):
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(retry, range(6)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, codes
    assert SandboxOrder.objects.count() == 1 and Order.objects.count() == 1
    ids = {a.json()["id"] for a in answers if a.status_code in (200, 201)}
    assert ids == {str(Order.objects.get().code)}

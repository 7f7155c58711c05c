"""Provider requests per routed order and per batch line, counted at the sandbox (issue 23)."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from energydash.batches import services
from energydash.batches.models import Batch, BatchLine
from energydash.orders.models import Route
from energydash.orders.routing import RouteRequest, route_order
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box


class Counting(httpx.BaseTransport):
    """The sandbox over WSGI, counting every provider request by method and path."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[f"{request.method} {request.url.path}"] += 1
        return self.inner.handle_request(request)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def counted(wsgi_app):
    transport = Counting(httpx.WSGITransport(app=wsgi_app))
    with httpx.Client(transport=transport) as client:
        yield transport, client


@pytest.fixture
def three(db):
    return (
        box("itrx", "itrx-a", price="60"),
        box("tronzap", "tz-b", price="50"),
        box("netts", "netts-c", price="58", orders_unavailable=False),
    )


def test_a_routed_order_costs_at_most_four_provider_calls(three, counted):
    """One price per account, and the chosen account's quote is what placement spends on."""
    transport, client = counted
    for n in range(6):
        transport.calls.clear()
        request = RouteRequest(receive_address=address(f"calls-{n}"), energy=65_000, period="1H")
        route, _same = route_order(f"calls-{n}", request, via="api:test", client=client)
        assert route.status == Route.Status.PLACED
        assert route.order.account == three[1].account  # the cheapest
        # The first order in a process also reads each account's limits (kept for minutes).
        assert transport.total <= (6 if n == 0 else 4), (n, transport.calls)
    assert SandboxOrder.objects.count() == 6


def test_a_batch_costs_at_most_one_and_a_half_calls_per_line(three, counted):
    transport, client = counted
    parsed, errors = services.parse(
        "\n".join(address(f"calls-line-{n}") for n in range(20)), 65_000
    )
    assert not errors
    batch = services.create_batch(parsed, period="1H", via="console:batch")
    services.plan(batch, client=client)
    services.start(batch)
    batch = services.run_batch(batch.pk, client=client)
    assert batch.status == Batch.Status.FINISHED
    assert batch.lines.filter(status=BatchLine.Status.PLACED).count() == 20
    assert SandboxOrder.objects.count() == 20
    assert transport.total <= 1.5 * 20, transport.calls


def test_a_shared_quote_never_understates_a_line_that_may_need_activating(db, counted, monkeypatch):
    """Netts activates an inactive recipient unasked, at cost: a quote for an address known to
    be active (no activation in it) must not be spent on one that is not known to be."""
    from energydash.sandbox.models import SandboxAddress

    transport, client = counted
    netts = box("netts", "netts-c", price="30", orders_unavailable=False)
    active, unknown = address("known-active"), address("maybe-inactive")
    SandboxAddress.objects.create(address=unknown, activated=False)
    monkeypatch.setattr("energydash.orders.spec.known_active", lambda a, *r: a == active)
    monkeypatch.setattr(services, "known_active", lambda a, *r: a == active)
    parsed, errors = services.parse(f"{active}\n{unknown}", 65_000)
    assert not errors
    batch = services.create_batch(parsed, period="1H", via="console:batch")
    services.start(batch)
    batch = services.run_batch(batch.pk, client=client)
    assert batch.status == Batch.Status.FINISHED
    for line in batch.lines.select_related("order"):
        assert line.status == BatchLine.Status.PLACED, line.error
        charged = SandboxOrder.objects.get(receive_address=line.address).cost_sun
        assert line.order.account == netts.account
        assert line.order.quoted_cost_sun >= charged, line.address

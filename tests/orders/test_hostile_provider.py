"""A provider that sends nonsense after it may have charged must never strand the order.

The fake provider is the sandbox (real protocol, real charge) behind a transport that rewrites
one answer: an over-long order id, NaN / 1e30 / negative amounts, statuses nobody documented,
junk transaction ids. Whatever it sends, at placement or while polling: no exception escapes,
nothing is left in `draft`, no money field takes the garbage, the raw answer is on the timeline
and the order waits in `needs_review` with the reason in words.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.utils import timezone

from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.polling import poll_pass
from energydash.orders.spec import OrderSpec
from energydash.orders.tracking import DRAFT_GRACE, MAX_FAILURES
from energydash.orders.vetting import MAX_SUN
from energydash.sandbox.models import SandboxOrder
from tests.orders.conftest import address

# Where each adapter reads each value, per answer: (path suffix, keys to the value's object).
ANSWERS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "itrx": {"place": ("/frontend/order", ()), "query": ("/order/query", ())},
    "tronzap": {"place": ("/transaction/new", ("result",)), "query": ("/check", ("result",))},
    "netts": {"place": ("/order1h", ("detail", "data")), "query": ("/order_check", ("order",))},
}
FIELDS = {
    "itrx": {
        "place": {"id": "serial", "amount": "amount"},
        "query": {"id": "order_no", "amount": "amount", "status": "status"},
    },
    "tronzap": {
        "place": {"id": "id", "amount": "amount", "status": "status", "hash": "hash"},
        "query": {"id": "id", "amount": "amount", "status": "status", "hash": "hash"},
    },
    "netts": {
        "place": {"id": "orderId", "amount": "paidTRX", "hash": "hash"},
        "query": {"id": "id", "amount": "cost", "hashes": "tx_hashes"},
    },
}
LONG_ID = "7" * 150
NAN = float("nan")


class Rewriting(httpx.BaseTransport):
    """Passes requests to the sandbox and rewrites the answer of one endpoint."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.rules: list[tuple[str, Callable[[Any], None]]] = []

    def rewrite(self, suffix: str, change: Callable[[Any], None]) -> None:
        self.rules.append((suffix, change))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        for suffix, change in self.rules:
            if request.url.path.endswith(suffix):
                response.read()
                data = json.loads(response.content)
                change(data)
                body = json.dumps(data).encode()  # allow_nan: NaN goes out as the JSON literal
                return httpx.Response(
                    response.status_code,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
        return response


@pytest.fixture
def hostile(wsgi_app) -> Rewriting:
    return Rewriting(httpx.WSGITransport(app=wsgi_app))


def setter(kind: str, stage: str, field: str, value: Any) -> tuple[str, Callable[[Any], None]]:
    suffix, where = ANSWERS[kind][stage]
    key = FIELDS[kind][stage][field]

    def change(data: Any) -> None:
        for step in where:
            data = data[step]
        data[key] = value

    return suffix, change


def spec(box, seed: str = "hostile") -> OrderSpec:
    return OrderSpec(
        account=box.account,
        kind="energy",
        receive_address=address(seed),
        energy=65_000,
        period="1H",
    )


def on_timeline(order: Order, token: str) -> bool:
    return any(
        token in (message or "") or token in (body or "")
        for message, body in order.events.values_list("message", "response_body")
    )


def money_is_sane(order: Order) -> None:
    for name in ("cost_sun", "refund_sun", "balance_after_sun", "quoted_cost_sun"):
        value = getattr(order, name)
        assert value is None or 0 <= value <= MAX_SUN, (name, value)
    assert order.energy_delivered is None or 0 <= order.energy_delivered <= 10**9
    assert len(order.provider_ref) <= 100


AMOUNTS = {
    "nan": (NAN, "NaN"),
    "huge": (1e30, "1e+30"),
    "negative": (-5, "-5"),
    "text": ("lots", "lots"),
}
PLACEMENT_CASES = [
    *[(k, "id", LONG_ID, "150 characters") for k in ("itrx", "tronzap", "netts")],
    *[
        (k, "amount", value, token)
        for k in ("itrx", "tronzap", "netts")
        for value, token in AMOUNTS.values()
    ],
    ("tronzap", "status", "exploded", "exploded"),
    ("tronzap", "hash", "not-a-hash", "not-a-hash"),
    ("netts", "hash", "<script>x</script>", "script"),
]


@pytest.mark.parametrize(("kind", "field", "value", "token"), PLACEMENT_CASES)
def test_a_hostile_placing_answer_sends_the_charged_order_to_review(
    kind, field, value, token, hostile, request
):
    box = request.getfixturevalue(kind)
    hostile.rewrite(*setter(kind, "place", field, value))
    with httpx.Client(transport=hostile) as client:
        order = place_order(spec(box), client=client)  # never raises
    order.refresh_from_db()
    assert SandboxOrder.objects.count() == 1  # the provider did take (and charge) it
    assert order.status == Status.NEEDS_REVIEW, order.events.last().message
    assert order.last_error
    assert on_timeline(order, token)  # the raw answer is kept as text
    money_is_sane(order)
    if field == "id":
        assert order.provider_ref == ""
        assert "150 characters long (at most 100)" in order.last_error


@pytest.mark.parametrize(
    ("kind", "field", "value", "words"),
    [
        ("itrx", "status", 77, 'status "77"'),
        ("itrx", "amount", 3_900_000.5, "not a whole number of sun"),
        ("tronzap", "amount", "3.1234567", "fraction of a sun"),
        ("tronzap", "amount", "lots", "is not a number"),
        ("itrx", "status", "x" * 300, "status text is 300 characters"),
        ("tronzap", "status", "exploded", "which energydash does not know"),
        ("itrx", "amount", 1e30, "more TRX than exist"),
        ("itrx", "amount", -5, "negative"),
        ("itrx", "amount", NAN, "NaN"),
        ("tronzap", "amount", 1e30, "more TRX than exist"),
        ("tronzap", "amount", -5, "negative"),
        ("tronzap", "amount", NAN, "NaN"),
        ("netts", "amount", 1e30, "more TRX than exist"),
        ("netts", "amount", -5, "negative"),
        ("itrx", "id", LONG_ID, "150 characters"),
        ("tronzap", "id", LONG_ID, "150 characters"),
        ("netts", "id", LONG_ID, "150 characters"),
        ("tronzap", "hash", "junk", "not 64 hex digits"),
        ("netts", "hashes", ["junk", "ab" * 32], "not 64 hex digits"),
        ("netts", "hashes", ["ab" * 32] * 500, "500 transaction ids"),
    ],
)
def test_a_hostile_status_answer_sends_the_order_to_review_and_keeps_its_money(
    kind, field, value, words, hostile, request
):
    box = request.getfixturevalue(kind)
    with httpx.Client(transport=hostile) as client:
        order = place_order(spec(box), client=client)
        placed_cost = order.cost_sun
        assert order.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
        if order.status == Status.COMPLETED:
            Order.objects.filter(pk=order.pk).update(status=Status.DELEGATING)
        hostile.rewrite(*setter(kind, "query", field, value))
        poll_pass(now=timezone.now() + timezone.timedelta(seconds=30), client=client)
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
    assert words in order.last_error, order.last_error
    assert order.cost_sun == placed_cost  # no money field took the garbage
    money_is_sane(order)
    assert "Raw answer" in order.events.filter(kind="state").last().message


def test_an_order_whose_processing_keeps_failing_goes_to_review_with_the_error(
    itrx, hostile, monkeypatch
):
    """Something in processing raises on every pass (here: a bug reading the answer): each pass
    records the raw exchange and counts a failure; after MAX_FAILURES in a row the order goes
    to review with the error instead of being retried forever."""
    with httpx.Client(transport=hostile) as client:
        order = place_order(spec(itrx), client=client)

        def broken(*args, **kwargs):
            raise ZeroDivisionError("a bug reading the answer")

        monkeypatch.setattr("energydash.orders.tracking.apply_state", broken)
        for n in range(1, MAX_FAILURES + 1):
            # Each pass when the order is next due (its schedule: orders/schedule.py).
            poll_pass(now=order.next_poll_at, client=client)
            order.refresh_from_db()
            expected = Status.NEEDS_REVIEW if n == MAX_FAILURES else Status.SUBMITTED
            assert order.status == expected, n
    assert f"Processing failed {MAX_FAILURES} times" in order.last_error
    assert "ZeroDivisionError: a bug reading the answer" in order.last_error
    assert on_timeline(order, '"errno"')  # the raw answers of the failing passes are kept
    # Identical lookups fold into one row with a count (issue 19): count them all.
    looks = order.events.filter(kind="exchange", method="GET").values_list("count", flat=True)
    assert sum(looks) >= MAX_FAILURES
    assert order.cost_sun and order.cost_sun <= MAX_SUN


def test_a_stale_draft_leaves_draft_even_when_processing_raises(itrx, monkeypatch):
    """A placement interrupted after saving its draft: the poller picks the draft up after
    DRAFT_GRACE even if it cannot build an adapter (or anything else raises)."""
    order = Order.objects.create(
        account=itrx.account,
        kind="energy",
        receive_address=address("draft"),
        energy=65_000,
        period="1H",
        quoted_cost_sun=4_000_000,
        burn_sun_per_energy=100,
    )

    def broken(*args, **kwargs):
        raise RuntimeError("adapter cannot be built")

    monkeypatch.setattr("energydash.orders.polling.adapter_for", broken)
    start = timezone.now() + DRAFT_GRACE + timezone.timedelta(seconds=1)
    poll_pass(now=start)
    order.refresh_from_db()
    assert order.status == Status.UNKNOWN
    assert "interrupted" in order.events.get(kind="state").message
    for _ in range(MAX_FAILURES):
        order.refresh_from_db()
        poll_pass(now=max(start, order.next_poll_at))  # when it is next due (orders/schedule.py)
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
    assert "RuntimeError: adapter cannot be built" in order.last_error


def test_a_draft_past_grace_is_reconciled_like_a_lost_answer(itrx, http):
    """A draft that never reached the provider is picked up as unknown and looked up."""
    order = Order.objects.create(
        account=itrx.account,
        kind="energy",
        receive_address=address("draft2"),
        energy=65_000,
        period="1H",
        quoted_cost_sun=4_000_000,
        burn_sun_per_energy=100,
    )
    poll_pass(now=timezone.now() + DRAFT_GRACE + timezone.timedelta(seconds=1), client=http)
    order.refresh_from_db()
    assert order.status == Status.UNKNOWN
    assert order.events.filter(kind="note", message__startswith="Not found by reference").exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"pay_amount": NAN}, "NaN"),
        ({"pay_amount": 1e30}, "1e+30"),
        ({"pay_amount": -65050}, "out of range"),
        ({"status": 77}, 'status "77"'),
        ({"txid": "not-a-transaction"}, "not 64 hex digits"),
        ({"serial": LONG_ID}, "150 characters"),
    ],
)
def test_a_signed_itrx_callback_with_odd_values_answers_without_500_and_keeps_the_money(
    change, words, itrx, http
):
    """Correctly signed (so it is itrx speaking), but nonsense: answered 200 (recorded, itrx
    need not retry), the order goes to review with the raw body, no money field changes."""
    from tests.orders.test_tracking import callback, payload_for, place

    order = place(itrx, http)
    cost = order.cost_sun
    response = callback(http, itrx.account, {**payload_for(order), **change})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
    assert words in order.last_error or words in order.events.last().message
    assert order.cost_sun == cost and order.refund_sun is None
    assert order.energy_delivered is None
    money_is_sane(order)
    assert "Raw answer" in order.events.filter(kind="state").last().message


def test_an_unreadable_signed_callback_body_is_refused_with_400(itrx, http):
    from tests.orders.test_tracking import callback, place

    order = place(itrx, http)
    response = callback(http, itrx.account, ["not", "an", "object"])
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)

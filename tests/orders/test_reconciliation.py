"""The response of a placing request is lost: the order exists at the provider, we saw a timeout."""

from __future__ import annotations

import httpx
import pytest

from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from energydash.sandbox.models import SandboxOrder
from tests.orders.conftest import address, make_box
from tests.waiting import SettlingTransport


def lossy_box(kind: str, base: str):
    # The sandbox takes and charges the order, then holds the answer past our timeout.
    box = make_box(kind, base=base, lose_response_rate=1.0, hang_seconds=1.5)
    box.account.timeout_seconds = 1
    box.account.save()
    return box


def lossy_client(box) -> httpx.Client:
    """The account's 1 s timeout, reported only once the sandbox holds the order: on a busy
    machine the timeout could otherwise fire before the request was even handled."""
    transport = SettlingTransport(SandboxOrder.objects.filter(account=box.sandbox).exists)
    return httpx.Client(timeout=httpx.Timeout(1.0, connect=30.0), transport=transport)


def spec(box) -> OrderSpec:
    return OrderSpec(
        account=box.account,
        kind="energy",
        receive_address=address("lost"),
        energy=65_000,
        period="1H",
    )


@pytest.mark.parametrize("kind", ["itrx", "tronzap"])
def test_a_lost_response_is_reconciled_to_exactly_one_order(kind, live_sandbox):
    box = lossy_box(kind, live_sandbox)
    before = box.balance()

    with lossy_client(box) as client:
        order = place_order(spec(box), client=client)

    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    order.refresh_from_db()
    remote = SandboxOrder.objects.get()
    assert order.provider_ref == remote.ref and remote.client_ref == order.reference
    assert order.cost_sun == before - box.balance()  # the charge we record is the charge made
    timeline = list(order.events.filter(kind="state").values_list("to_status", flat=True))
    assert timeline[:2] == [Status.UNKNOWN, order.status]
    assert Order.objects.count() == 1 and SandboxOrder.objects.count() == 1


def test_a_lost_netts_response_goes_to_review_and_is_never_resent(live_sandbox):
    box = lossy_box("netts", live_sandbox)
    with lossy_client(box) as client:
        order = place_order(spec(box), client=client)

    assert order.status == Status.NEEDS_REVIEW
    assert "cannot look an order up by our reference" in order.events.last().message
    assert SandboxOrder.objects.count() == 1  # charged once; we did not try again

    from django.utils import timezone

    from energydash.orders.polling import poll_pass

    poll_pass(now=timezone.now() + timezone.timedelta(hours=1))
    assert SandboxOrder.objects.count() == 1
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW


QUOTE_SUN = 3_900_000
START_BALANCE = 10**9


def never_received(balance_now: list, summary: dict | None = None) -> httpx.Client:
    """itrx that never got the order: the POST times out, lookups say 404 Order not found; the
    balance it reports is balance_now[0]; its usage summary for the key is `summary` (or
    unreadable when None)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("lost", request=request)
        if request.url.path.endswith("/userapi/summary") and summary is not None:
            return httpx.Response(200, json={"name": "key", **summary})
        if request.url.path.endswith("/order/query"):
            return httpx.Response(200, json={"errno": 404, "message": "Order not found"})
        if request.url.path.endswith("/order/price"):
            return httpx.Response(
                200,
                json={
                    "period": "1H",
                    "energy_amount": 65000,
                    "price": 60,
                    "total_price": QUOTE_SUN,
                    "addition": 0,
                },
            )
        return httpx.Response(
            200,
            json={
                "minimum_order_energy": 10000,
                "maximum_order_energy": 10**8,
                "balance": balance_now[0],
            },
        )

    return httpx.Client(transport=httpx.MockTransport(handler))


def reconcile_until_settled(box, client: httpx.Client) -> Order:
    import time_machine
    from django.utils import timezone

    from energydash.orders.polling import poll_pass

    order = place_order(spec(box), client=client)
    assert order.status == Status.UNKNOWN
    start = timezone.now()
    # Three lookups, then (past the charge window's slack) the evidence is weighed; while it
    # does not allow "not placed", the order waits until its patience runs out (10 minutes).
    for minutes in (1, 2, 3, 4, 11):
        with time_machine.travel(start + timezone.timedelta(minutes=minutes), tick=False):
            poll_pass(now=start + timezone.timedelta(minutes=minutes), client=client)
    order.refresh_from_db()
    return order


def reading_before_sending(box, balance_sun: int = START_BALANCE) -> None:
    from django.utils import timezone

    from energydash.balances.services import record_balance

    record_balance(
        box.account,
        balance_sun,
        source="refresh",
        taken_at=timezone.now() - timezone.timedelta(minutes=1),
    )


def test_not_found_and_an_unchanged_balance_concludes_not_placed(itrx):
    """Timeout before the provider saw it: three lookups find nothing and the balance, read
    again before deciding, did not move: it was not placed and nothing was charged."""
    reading_before_sending(itrx)
    order = reconcile_until_settled(itrx, never_received([START_BALANCE]))
    assert order.status == Status.FAILED
    last = order.events.filter(kind="state").last().message
    assert "nothing was charged" in last and "balance agrees" in last
    assert order.cost_sun is None


def test_not_found_but_the_balance_fell_by_the_cost_goes_to_review(itrx):
    """The lookup may be blind (itrx's lookup by out_trade_no is documented on one page only):
    money gone that no order explains, as much as this order costs, forbids "not placed"."""
    reading_before_sending(itrx)
    order = reconcile_until_settled(itrx, never_received([START_BALANCE - QUOTE_SUN]))
    assert order.status == Status.NEEDS_REVIEW
    last = order.events.filter(kind="state").last().message
    assert "has no order with our reference" in last
    assert "fell by 3.900000 TRX more than recorded orders explain" in last
    assert "cannot conclude that nothing was charged" in last


def test_not_found_with_a_smaller_unexplained_decrease_still_concludes_not_placed(itrx):
    reading_before_sending(itrx)
    order = reconcile_until_settled(itrx, never_received([START_BALANCE - 1_000_000]))
    assert order.status == Status.FAILED
    assert "only 1.000000 TRX left the account unexplained" in order.last_error + "".join(
        order.events.values_list("message", flat=True)
    )


def test_not_found_with_no_reading_before_sending_goes_to_review(itrx):
    """No balance history from before the send: the balance is no evidence either way."""
    order = reconcile_until_settled(itrx, never_received([START_BALANCE]))
    assert order.status == Status.NEEDS_REVIEW
    assert "no balance reading of the account from before it was sent" in order.last_error


def test_not_found_when_the_balance_cannot_be_read_again_goes_to_review(itrx):
    """A reading before, none after (the refresh before deciding fails): no evidence."""
    reading_before_sending(itrx)
    order = reconcile_until_settled(itrx, never_received(["not a number"]))
    assert order.status == Status.NEEDS_REVIEW
    assert "no balance reading of the account since it could have been charged" in order.last_error


def test_not_found_with_an_unexplained_top_up_goes_to_review(itrx):
    """A deposit in the same interval could hide the charge: not conclusive."""
    reading_before_sending(itrx)
    order = reconcile_until_settled(itrx, never_received([START_BALANCE + 50_000_000]))
    assert order.status == Status.NEEDS_REVIEW
    assert "could hide a charge" in order.last_error


def itrx_day_summary(count: int, sun: int) -> dict:
    return {
        "today_count": count,
        "today_sum_trx": sun,
        "yesterday_count": 0,
        "yesterday_sum_trx": 0,
    }


def test_not_found_no_balance_history_but_itrx_usage_summary_agrees_concludes_not_placed(itrx):
    """No balance evidence either way, but itrx's own count of the key's orders today equals
    what the console recorded as charged (none): not placed."""
    order = reconcile_until_settled(
        itrx, never_received([START_BALANCE], summary=itrx_day_summary(0, 0))
    )
    assert order.status == Status.FAILED
    last = order.events.filter(kind="state").last().message
    assert "itrx counts 0 order(s)" in last and "they agree" in last


def test_not_found_but_itrx_counts_one_more_order_goes_to_review(itrx):
    """The balance looks unchanged, but itrx counts an order the console does not have as
    charged: that may be this one."""
    reading_before_sending(itrx)
    order = reconcile_until_settled(
        itrx, never_received([START_BALANCE], summary=itrx_day_summary(1, QUOTE_SUN))
    )
    assert order.status == Status.NEEDS_REVIEW
    assert "itrx has more, which may be this order" in order.last_error
    assert "balance agrees" in order.last_error  # both facts shown


def test_the_usage_summary_never_overrides_a_balance_that_shows_money_gone(itrx):
    reading_before_sending(itrx)
    order = reconcile_until_settled(
        itrx,
        never_received([START_BALANCE - QUOTE_SUN], summary=itrx_day_summary(0, 0)),
    )
    assert order.status == Status.NEEDS_REVIEW
    assert "fell by 3.900000 TRX" in order.last_error and "they agree" in order.last_error


@pytest.mark.parametrize("kind", ["itrx", "tronzap"])
def test_an_order_sent_to_review_is_adopted_when_the_provider_has_it_after_all(kind, live_sandbox):
    """Weighing again in review (reconciliation.reweigh): the provider now has the order by
    our reference; its record is applied, once, and a second pass changes nothing."""
    from energydash.orders.reconciliation import reweigh_reviews
    from energydash.orders.transitions import transition

    box = lossy_box(kind, live_sandbox)
    with lossy_client(box) as client:
        order = place_order(spec(box), client=client)
    remote = SandboxOrder.objects.get()
    # As if the lookups had failed until the patience ran out: unknown, then review.
    Order.objects.filter(pk=order.pk).update(status=Status.UNKNOWN, provider_ref="")
    order.refresh_from_db()
    assert transition(order, Status.NEEDS_REVIEW, message="sent to review")

    with httpx.Client(timeout=10) as client:
        assert reweigh_reviews(client=client) == 1
        order.refresh_from_db()
        assert order.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
        assert order.provider_ref == remote.ref
        assert "Weighed again in review" in " ".join(order.events.values_list("message", flat=True))
        assert reweigh_reviews(client=client) == 0
    assert SandboxOrder.objects.count() == 1  # asked, never re-sent

"""Issue 19, finding 4: review decisions are made with the evidence, never against it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.balances.models import REFRESH
from energydash.balances.services import record_balance
from energydash.core.models import AuditEvent
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, Status
from energydash.orders.review import ReviewRefused, mark_not_placed
from tests.orders.test_views import order_for

CHARGE = 3_575_000


def charged_after_lost_answer(box) -> Order:
    """A lost Netts answer; the balance fell by exactly the order's cost since it was sent."""
    now = timezone.now()
    record_balance(
        box.account, 5_000 * SUN_PER_TRX, source=REFRESH, taken_at=now - timedelta(minutes=10)
    )
    order = order_for(
        box,
        status=Status.NEEDS_REVIEW,
        quoted_cost_sun=CHARGE,
        created=now - timedelta(minutes=5),
        submitted_at=now - timedelta(minutes=5),
    )
    record_balance(box.account, 5_000 * SUN_PER_TRX - CHARGE, source=REFRESH, taken_at=now)
    return order


def test_an_operator_cannot_mark_not_placed_against_a_balance_drop(netts, operator):
    order = charged_after_lost_answer(netts)
    with pytest.raises(ReviewRefused, match="fell by 3.575000 TRX"):
        mark_not_placed(order, operator, "not in the dashboard")
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
    assert not AuditEvent.objects.filter(action="order.marked_not_placed").exists()


def test_an_admin_may_with_a_written_reason_and_it_is_audited(netts, admin_user):
    order = charged_after_lost_answer(netts)
    with pytest.raises(ReviewRefused, match="write why"):
        mark_not_placed(order, admin_user, "  ")
    assert mark_not_placed(order, admin_user, "Netts support: order rejected, refund pending")
    order.refresh_from_db()
    assert order.status == Status.FAILED
    audit = AuditEvent.objects.get(action="order.marked_not_placed")
    assert (
        audit.actor == admin_user and "fell by 3.575000 TRX" in audit.details["against_evidence"][0]
    )
    assert "against the evidence" in order.events.filter(kind="state").last().message


def test_an_operator_may_when_the_balance_shows_no_charge(netts, operator):
    now = timezone.now()
    record_balance(
        netts.account, 5_000 * SUN_PER_TRX, source=REFRESH, taken_at=now - timedelta(minutes=10)
    )
    order = order_for(netts, status=Status.NEEDS_REVIEW, created=now - timedelta(minutes=5))
    record_balance(netts.account, 5_000 * SUN_PER_TRX, source=REFRESH, taken_at=now)
    assert mark_not_placed(order, operator, "not on the dashboard")
    order.refresh_from_db()
    assert order.status == Status.FAILED


def test_the_review_box_shows_the_balance_facts(operator_client, netts):
    order = charged_after_lost_answer(netts)
    html = operator_client.get(reverse("orders:detail", args=[order.code])).content.decode()
    assert "Evidence" in html
    assert "5,000.000000" in html and "4,996.425000" in html  # before and now
    assert "−3.575000" in html or "-3.575000" in html  # the change since it was sent
    assert "fell by 3.575000 TRX more than recorded orders explain" in html


def test_the_refusal_is_shown_on_the_page_and_changes_nothing(operator_client, netts):
    order = charged_after_lost_answer(netts)
    response = operator_client.post(
        reverse("orders:review", args=[order.code]),
        {"decision": "not_placed", "comment": "nope"},
        follow=True,
    )
    assert "Not placed is refused" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == Status.NEEDS_REVIEW


@pytest.fixture
def checks_through_sandbox(monkeypatch, http):
    from energydash.orders import review_check
    from energydash.providers import registry

    def adapter(creds, client=None, **kw):
        return registry.adapter_for(creds, http)

    monkeypatch.setattr(review_check, "adapter_for", adapter)


@pytest.mark.django_db(transaction=True)  # the sandbox answers inside the console's request
def test_check_now_asks_the_provider_and_adopts_an_order_it_has(
    operator_client, tronzap, checks_through_sandbox
):
    from tests.orders.test_review_lookup import remote_order

    order = order_for(tronzap, status=Status.NEEDS_REVIEW)
    remote_order(tronzap, "tz-found-1", client_ref=order.reference)
    response = operator_client.post(reverse("orders:check", args=[order.code]), follow=True)
    assert "TronZap has the order with our reference" in response.content.decode()
    order.refresh_from_db()
    assert order.provider_ref == "tz-found-1" and order.cost_sun == 3_575_000
    assert order.status != Status.NEEDS_REVIEW


@pytest.mark.django_db(transaction=True)
def test_check_now_puts_what_it_found_on_the_timeline(
    operator_client, tronzap, checks_through_sandbox
):
    order = order_for(tronzap, status=Status.NEEDS_REVIEW)
    operator_client.post(reverse("orders:check", args=[order.code]))
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
    words = order.events.filter(kind="note").last().message
    assert words.startswith("Evidence checked by otto: TronZap has no order with our reference")


def test_viewers_cannot_check_now(viewer_client, tronzap):
    order = order_for(tronzap, status=Status.NEEDS_REVIEW)
    assert viewer_client.post(reverse("orders:check", args=[order.code])).status_code == 403
    assert not order.events.exists()


def test_the_review_box_shows_the_chain_facts_reconciliation_weighed(
    operator_client, netts, settings
):
    """Beside the ledger: the delegations reconciliation saw dated in the order's window (from
    which delegator, known as the provider's or not, of the size or not) and the provider's
    delegators; or that none was seen. From what was recorded; no chain call on a page view."""
    settings.ENERGYDASH_TRON_API_URL = "http://node.invalid"  # never asked: nothing listens
    settings.ENERGYDASH_CHAIN_EVIDENCE = True
    order = charged_after_lost_answer(netts)
    url = reverse("orders:detail", args=[order.code])
    html = operator_client.get(url).content.decode()
    assert "Delegations on chain" in html and "has not been read for it yet" in html

    named = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"
    for _ in range(2):  # two verified orders taught energydash the provider's delegator
        taught = order_for(netts, status=Status.COMPLETED)
        Order.objects.filter(pk=taught.pk).update(
            delivery_status="verified",
            delivery_evidence={"delegators": [named], "delegator_known": True},
        )
    lock_end_ms = int((order.started_at + timedelta(hours=1, seconds=20)).timestamp() * 1000)
    Order.objects.filter(pk=order.pk).update(
        chain_sightings=[
            {
                "delegator": named,
                "staked_sun": 3_071_805_556,
                "expire_ms": lock_end_ms,
                "energy": (order.energy or 0) // 2,
                "seen_at": "2026-12-03T16:44:27+00:00",
            }
        ]
    )
    html = operator_client.get(url).content.decode()
    assert named in html and "the provider's (named by Netts)" in html
    assert f"not of the order's {order.energy} energy" in html
    assert "seen at 2026-12-03 16:44:27 UTC" in html

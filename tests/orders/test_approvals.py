"""Maker-checker: an order above its account's approval threshold waits for a second person."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from energydash.core.models import AuditEvent
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.approvals import ApprovalRefused, approve, expire_due, reject
from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.polling import poll_pass
from energydash.orders.spec import OrderSpec
from energydash.orders.tasks import expire_approvals
from energydash.sandbox.models import SandboxOrder
from tests.orders.conftest import address, make_box

RECEIVER = address("maker checker")


def spec(box) -> OrderSpec:
    return OrderSpec(
        account=box.account, kind="energy", receive_address=RECEIVER, energy=65_000, period="1H"
    )


def with_threshold(box, trx: int = 1):
    box.account.approval_above_sun = trx * SUN_PER_TRX
    box.account.save(update_fields=["approval_above_sun"])
    return box


@pytest.fixture
def maker(operator):
    return operator  # otto


@pytest.fixture
def checker(db, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="chen", password="pw-chen")
    user.groups.add(Group.objects.get(name="operator"))
    return user


def awaiting_order(box, maker, http) -> Order:
    with_threshold(box)
    order = place_order(spec(box), actor=maker, client=http)
    assert order.status == Status.AWAITING_APPROVAL
    return order


def test_an_order_above_the_threshold_is_saved_awaiting_approval_and_nothing_is_sent(
    itrx, maker, http
):
    before = itrx.balance()
    order = awaiting_order(itrx, maker, http)

    assert SandboxOrder.objects.count() == 0 and itrx.balance() == before
    assert order.quoted_cost_sun > SUN_PER_TRX and order.approval_requested_at is not None
    assert "Awaiting approval" in order.events.last().message
    assert AuditEvent.objects.filter(
        action="order.approval_requested", object_code=str(order.code)
    ).exists()
    # Not polled: nothing is at the provider to ask about.
    assert poll_pass(now=timezone.now() + timedelta(hours=1)).checked == 0
    order.refresh_from_db()
    assert order.status == Status.AWAITING_APPROVAL


def test_an_order_at_or_below_the_threshold_is_sent_at_once(itrx, maker, http):
    with_threshold(itrx, trx=1000)
    order = place_order(spec(itrx), actor=maker, client=http)
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert SandboxOrder.objects.count() == 1


def test_another_operator_approves_and_the_order_is_sent_once(itrx, maker, checker, http):
    order = awaiting_order(itrx, maker, http)
    before = itrx.balance()

    result = approve(order, checker, "checked the address", order.quoted_cost_sun, client=http)

    assert result.done and not result.requoted
    order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert order.approved_by == checker and order.approved_at is not None
    assert order.placed_by == maker
    assert SandboxOrder.objects.count() == 1
    assert order.cost_sun == before - itrx.balance() > 0
    assert order.events.filter(message__startswith="Approved at").exists()
    audit = AuditEvent.objects.get(action="order.approved", object_code=str(order.code))
    assert audit.actor == checker and audit.details["comment"] == "checked the address"
    # Approving again changes nothing and sends nothing.
    with pytest.raises(ApprovalRefused, match="not awaiting approval"):
        approve(order, checker, "again", order.quoted_cost_sun, client=http)
    assert SandboxOrder.objects.count() == 1


def test_the_maker_can_never_approve_their_own_order(itrx, maker, http):
    order = awaiting_order(itrx, maker, http)
    with pytest.raises(ApprovalRefused, match="You placed this order"):
        approve(order, maker, "mine", order.quoted_cost_sun, client=http)
    with pytest.raises(ApprovalRefused, match="You placed this order"):
        reject(order, maker, "mine")
    order.refresh_from_db()
    assert order.status == Status.AWAITING_APPROVAL
    assert SandboxOrder.objects.count() == 0


def test_a_decision_needs_a_comment(itrx, maker, checker, http):
    order = awaiting_order(itrx, maker, http)
    with pytest.raises(ApprovalRefused, match="comment"):
        approve(order, checker, "   ", order.quoted_cost_sun, client=http)
    assert SandboxOrder.objects.count() == 0


def test_a_viewer_cannot_approve(itrx, maker, viewer, http):
    order = awaiting_order(itrx, maker, http)
    with pytest.raises(ApprovalRefused, match="operator or admin"):
        approve(order, viewer, "ok", order.quoted_cost_sun, client=http)
    assert SandboxOrder.objects.count() == 0


def test_rejection_fails_the_order_with_the_comment_and_sends_nothing(itrx, maker, checker, http):
    order = awaiting_order(itrx, maker, http)
    assert reject(order, checker, "wrong address")
    order.refresh_from_db()
    assert order.status == Status.FAILED and not order.charged and order.spend_sun == 0
    assert "Rejected by chen: wrong address" in order.last_error
    assert "nothing was charged" in order.last_error
    assert SandboxOrder.objects.count() == 0
    assert AuditEvent.objects.filter(action="order.approval_rejected", actor=checker).exists()


def test_a_request_past_its_expiry_cannot_be_approved_and_fails(
    itrx, maker, checker, http, settings
):
    settings.ENERGYDASH_APPROVAL_EXPIRY_HOURS = 24
    order = awaiting_order(itrx, maker, http)
    Order.objects.filter(pk=order.pk).update(
        approval_requested_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    order.refresh_from_db()
    with pytest.raises(ApprovalRefused, match="expired"):
        approve(order, checker, "late", order.quoted_cost_sun, client=http)
    order.refresh_from_db()
    assert order.status == Status.FAILED and "Nobody approved it within 24 h" in order.last_error
    assert SandboxOrder.objects.count() == 0
    assert AuditEvent.objects.filter(action="order.approval_expired").count() == 1


def test_the_schedule_expires_only_requests_past_their_time(itrx, maker, http):
    old = awaiting_order(itrx, maker, http)
    young = place_order(spec(itrx), actor=maker, client=http)
    Order.objects.filter(pk=old.pk).update(
        approval_requested_at=timezone.now() - timedelta(hours=25)
    )
    assert expire_approvals() == "1 order approval request(s) expired"
    assert expire_due() == 0
    assert Order.objects.get(pk=old.pk).status == Status.FAILED
    assert Order.objects.get(pk=young.pk).status == Status.AWAITING_APPROVAL


def test_a_price_that_rose_since_the_request_needs_approval_again(itrx, maker, checker, http):
    order = awaiting_order(itrx, maker, http)
    old_price = order.quoted_cost_sun
    itrx.sandbox.price_sun = itrx.sandbox.price_sun + Decimal(10)
    itrx.sandbox.save(update_fields=["price_sun"])

    result = approve(order, checker, "ok", old_price, client=http)

    assert result.requoted
    order.refresh_from_db()
    assert order.status == Status.AWAITING_APPROVAL
    assert order.quoted_cost_sun > old_price
    assert SandboxOrder.objects.count() == 0
    assert order.events.filter(message__startswith="Re-quoted at approval").exists()
    # The old price no longer approves it; the new one does.
    with pytest.raises(ApprovalRefused, match="changed since you opened"):
        approve(order, checker, "ok", old_price, client=http)
    assert approve(order, checker, "ok at the new price", order.quoted_cost_sun, client=http)
    assert SandboxOrder.objects.count() == 1


def test_a_lower_price_at_approval_is_sent_at_that_price(itrx, maker, checker, http):
    order = awaiting_order(itrx, maker, http)
    seen = order.quoted_cost_sun + SUN_PER_TRX
    Order.objects.filter(pk=order.pk).update(quoted_cost_sun=seen)  # it was dearer when asked
    order.refresh_from_db()
    assert approve(order, checker, "ok", seen, client=http)
    order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING) and order.cost_sun < seen


def test_an_awaiting_order_reserves_no_budget_and_approval_rechecks_it(itrx, maker, checker, http):
    order = awaiting_order(itrx, maker, http)
    cost = order.quoted_cost_sun
    itrx.account.daily_budget_sun = cost + cost // 2
    itrx.account.save(update_fields=["daily_budget_sun"])
    itrx.account.approval_above_sun = None
    itrx.account.save(update_fields=["approval_above_sun"])
    # The waiting order holds no budget: a routine order of the same cost still goes out.
    sent = place_order(spec(itrx), actor=maker, client=http)
    assert sent.status in (Status.SUBMITTED, Status.DELEGATING)
    # Approving now would break the budget: refused, still awaiting, nothing more sent.
    with pytest.raises(ApprovalRefused, match="daily budget"):
        approve(order, checker, "ok", cost, client=http)
    order.refresh_from_db()
    assert order.status == Status.AWAITING_APPROVAL
    assert SandboxOrder.objects.count() == 1


def test_an_approved_order_created_long_ago_is_not_taken_for_an_abandoned_draft(itrx, maker, http):
    order = awaiting_order(itrx, maker, http)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        created=now - timedelta(hours=3), status=Status.DRAFT, approved_at=now
    )
    assert poll_pass(now=now + timedelta(seconds=5)).checked == 0
    assert Order.objects.get(pk=order.pk).status == Status.DRAFT


# The race: two (or eight) approvers click at once ------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("racers", [2, 8])
def test_approvers_clicking_at_once_send_the_order_exactly_once(
    racers, live_sandbox, django_user_model
):
    from django.contrib.auth.models import Group

    box = with_threshold(make_box("tronzap", base=live_sandbox, latency_ms=300))
    operators = Group.objects.get(name="operator")
    users = []
    for n in range(racers + 1):
        user = django_user_model.objects.create_user(username=f"op{n}", password="x")
        user.groups.add(operators)
        users.append(user)
    order = place_order(spec(box), actor=users[0])
    assert order.status == Status.AWAITING_APPROVAL
    seen = order.quoted_cost_sun
    start = threading.Barrier(racers)
    results: list[object] = []
    lock = threading.Lock()

    def click(user) -> None:
        try:
            mine = Order.objects.select_related("account").get(pk=order.pk)
            start.wait()
            try:
                outcome: object = approve(mine, user, f"ok from {user.username}", seen)
            except ApprovalRefused as exc:
                outcome = exc
            with lock:
                results.append(outcome)
        finally:
            if connection.vendor != "sqlite" or not connection.is_in_memory_db():
                connection.close()

    threads = [threading.Thread(target=click, args=(u,)) for u in users[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == racers
    assert sum(1 for r in results if getattr(r, "done", False)) == 1
    assert SandboxOrder.objects.filter(account=box.sandbox).count() == 1
    order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
    assert order.events.filter(kind="exchange", method="POST").count() == 1
    assert AuditEvent.objects.filter(action="order.approved").count() == 1


# Console -------------------------------------------------------------------------------------


def test_the_order_page_offers_approval_to_another_operator_only(
    itrx, maker, checker, http, client
):
    order = awaiting_order(itrx, maker, http)
    page = reverse("orders:detail", args=[order.code])
    client.force_login(maker)
    mine = client.get(page).content.decode()
    assert "Awaiting approval" in mine and 'id="approval-not-yours"' in mine
    assert reverse("orders:approval", args=[order.code]) not in mine
    client.force_login(checker)
    theirs = client.get(page).content.decode()
    assert reverse("orders:approval", args=[order.code]) in theirs
    assert f'name="seen_cost_sun" value="{order.quoted_cost_sun}"' in theirs


def test_the_maker_posting_approve_is_refused_with_a_clear_message(
    itrx, maker, http, operator_client
):
    order = awaiting_order(itrx, maker, http)
    response = operator_client.post(
        reverse("orders:approval", args=[order.code]),
        {"decision": "approve", "comment": "me", "seen_cost_sun": order.quoted_cost_sun},
        follow=True,
    )
    assert "You placed this order" in response.content.decode()
    assert SandboxOrder.objects.count() == 0


def test_a_viewer_posting_approve_is_forbidden(itrx, maker, http, viewer_client):
    order = awaiting_order(itrx, maker, http)
    response = viewer_client.post(
        reverse("orders:approval", args=[order.code]),
        {"decision": "approve", "comment": "x", "seen_cost_sun": order.quoted_cost_sun},
    )
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == Status.AWAITING_APPROVAL


def test_the_list_offers_an_awaiting_approval_filter(itrx, maker, http, operator_client):
    order = awaiting_order(itrx, maker, http)
    listing = operator_client.get(reverse("orders:list")).content.decode()
    assert "1 order awaiting approval" in listing
    filtered = operator_client.get(reverse("orders:list"), {"status": "awaiting_approval"})
    assert filtered.status_code == 200
    assert order.short_code in filtered.content.decode()

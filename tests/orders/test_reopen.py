"""An admin reopens a wrongly decided review; operators cannot. Audited, with a reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from energydash.core.models import AuditEvent
from energydash.orders.models import Order, Status
from energydash.orders.review import ReopenRefused, mark_not_placed, mark_placed, reopen
from tests.orders.test_review_lookup import remote_order
from tests.orders.test_views import order_for
from tests.signin import sign_in


def decided_not_placed(box, operator) -> Order:
    order = order_for(box, status=Status.NEEDS_REVIEW, provider_ref="")
    assert mark_not_placed(order, operator, "nothing on the dashboard")
    return order


@pytest.mark.django_db(transaction=True)  # test-client requests before the sandbox call
def test_an_admin_reopens_a_wrong_not_placed_and_then_marks_it_placed(
    netts, operator, admin_user, client, http
):
    """The case the issue found: "not placed" on an order the provider did charge."""
    order = decided_not_placed(netts, operator)
    sign_in(client, admin_user)
    detail = client.get(reverse("orders:detail", args=[order.code]))
    assert b"Reopen for review" in detail.content

    response = client.post(
        reverse("orders:reopen", args=[order.code]),
        {"reason": "Netts dashboard shows it, charged 3.575 TRX"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW and order.finished_at is None
    event = order.events.filter(kind="state").last()
    assert (event.from_status, event.to_status) == (Status.FAILED, Status.NEEDS_REVIEW)
    assert "Netts dashboard shows it" in event.message and event.actor == admin_user
    audit = AuditEvent.objects.get(action="order.reopened", object_code=str(order.code))
    assert audit.actor == admin_user
    assert audit.details == {
        "from_status": "failed",
        "reason": "Netts dashboard shows it, charged 3.575 TRX",
    }

    # The normal review actions apply again (the id is looked up at Netts first).
    remote_order(netts, "netts-order-42")
    assert mark_placed(order, admin_user, "netts-order-42", None, "", client=http)
    order.refresh_from_db()
    assert order.status == Status.DELEGATING and order.provider_ref == "netts-order-42"


def test_an_admin_reopens_a_placed_mark(itrx, operator, admin_user, http):
    order = order_for(itrx, status=Status.NEEDS_REVIEW)
    remote_order(itrx, "wrong-serial")
    assert mark_placed(order, operator, "wrong-serial", None, "", client=http)
    assert reopen(order, admin_user, "typed the wrong serial")
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW


def test_operators_cannot_reopen(netts, operator, operator_client):
    order = decided_not_placed(netts, operator)
    response = operator_client.post(
        reverse("orders:reopen", args=[order.code]), {"reason": "I think it was charged"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert not AuditEvent.objects.filter(action="order.reopened").exists()
    assert (
        b"Reopen for review"
        not in operator_client.get(reverse("orders:detail", args=[order.code])).content
    )
    with pytest.raises(ReopenRefused, match="Only an admin"):
        reopen(order, operator, "still no")


def test_a_reason_is_required(netts, operator, admin_user, client):
    order = decided_not_placed(netts, operator)
    sign_in(client, admin_user)
    response = client.post(reverse("orders:reopen", args=[order.code]), {"reason": "   "})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.FAILED
    page = client.get(reverse("orders:detail", args=[order.code]))
    assert b"Give the reason for reopening" in page.content
    assert not AuditEvent.objects.filter(action="order.reopened").exists()


def test_an_order_nobody_decided_cannot_be_reopened(itrx, admin_user):
    order = order_for(itrx, status=Status.SUBMITTED)
    with pytest.raises(ReopenRefused, match="no decision to reopen"):
        reopen(order, admin_user, "just because")
    review = order_for(itrx, status=Status.NEEDS_REVIEW, receive_address=order.receive_address)
    with pytest.raises(ReopenRefused):
        reopen(review, admin_user, "already in review")


def test_two_admins_reopening_at_once_change_it_once(
    netts, operator, admin_user, django_user_model
):
    order = decided_not_placed(netts, operator)
    other = django_user_model.objects.create_user(username="bea", password="pw-bea")
    other.groups.add(Group.objects.get(name="admin"))
    stale = Order.objects.get(pk=order.pk)
    assert reopen(order, admin_user, "first")
    assert not reopen(stale, other, "second")  # conditional on the status it saw
    assert AuditEvent.objects.filter(action="order.reopened").count() == 1

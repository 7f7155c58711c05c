"""Saved views of the orders list and actions on selected rows: export, and "not placed" on
needs-review orders by exactly the rules of one order's review, each in its own transaction."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from energydash.core.models import AuditEvent
from energydash.core.second_factor import AUTH_AT_KEY
from energydash.orders.models import Order, SavedView, Status
from tests.balances.factories import order

LIST = reverse("orders:list")
BULK = reverse("orders:bulk")


def review(account, ref: str = "") -> Order:
    o = order(account, status=Status.NEEDS_REVIEW)
    if ref:
        Order.objects.filter(pk=o.pk).update(provider_ref=ref)
        o.refresh_from_db()
    return o


# --- saved views --------------------------------------------------------------------------


def test_save_use_and_delete_a_view(viewer_client, viewer, itrx_account):
    response = viewer_client.post(
        reverse("orders:view_save"),
        {"name": "  Waiting   review ", "query": "status=needs_review&sort=-cost&after=x~1"},
    )
    assert response.status_code == 302
    view = SavedView.objects.get(user=viewer)
    assert view.name == "Waiting review"
    assert view.query == "status=needs_review&sort=-cost"  # the cursor is not part of a view
    html = viewer_client.get(LIST).content.decode()
    assert f'href="{LIST}?status=needs_review&amp;sort=-cost"' in html
    viewer_client.post(reverse("orders:view_delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_views_are_ones_own(viewer_client, operator, viewer):
    theirs = SavedView.objects.create(user=operator, name="theirs", query="status=failed")
    html = viewer_client.get(LIST).content.decode()
    assert "theirs" not in html
    assert viewer_client.post(reverse("orders:view_delete", args=[theirs.pk])).status_code == 404
    assert SavedView.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize(
    ("name", "query"),
    [("", "status=failed"), ("x" * 61, "status=failed"), ("bad", "date_from=yesterday")],
)
def test_bad_views_are_refused_and_nothing_saved(viewer_client, name, query):
    response = viewer_client.post(reverse("orders:view_save"), {"name": name, "query": query})
    assert response.status_code == 302
    assert not SavedView.objects.exists()


def test_a_second_view_of_the_same_name_is_refused(viewer_client, viewer):
    for _ in range(2):
        viewer_client.post(reverse("orders:view_save"), {"name": "mine", "query": "kind=energy"})
    assert SavedView.objects.filter(user=viewer).count() == 1


# --- bulk actions -------------------------------------------------------------------------


def test_export_selected_has_only_those_rows(viewer_client, itrx_account):
    a, b, _c = (order(itrx_account) for _ in range(3))
    response = viewer_client.post(BULK, {"action": "export", "order": [str(a.code), str(b.code)]})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    assert {str(a.code), str(b.code)} <= set(text.replace(",", " ").split())


@pytest.mark.parametrize("codes", [[], ["not-a-code"], ["00000000-0000-0000-0000-000000000000"]])
def test_a_bad_selection_does_nothing(operator_client, itrx_account, codes):
    o = review(itrx_account)
    response = operator_client.post(BULK, {"action": "not_placed", "order": codes})
    assert response.status_code == 400
    o.refresh_from_db()
    assert o.status == Status.NEEDS_REVIEW


def test_a_viewer_cannot_decide(viewer_client, itrx_account):
    o = review(itrx_account)
    response = viewer_client.post(BULK, {"action": "not_placed", "order": [str(o.code)]})
    assert response.status_code == 403
    o.refresh_from_db()
    assert o.status == Status.NEEDS_REVIEW


def test_operator_bulk_decides_each_order_alone_with_the_evidence_refusal(
    operator_client, itrx_account
):
    plain, charged, done = review(itrx_account), review(itrx_account, "P-1"), order(itrx_account)
    codes = [str(o.code) for o in (plain, charged, done)]
    response = operator_client.post(
        BULK, {"action": "not_placed", "order": codes, "comment": "never sent"}
    )
    assert response.status_code == 200
    results = {r.order.pk: r for r in response.context["results"]}
    assert results[plain.pk].done
    assert not results[charged.pk].done and "Only an admin" in results[charged.pk].words
    assert not results[done.pk].done and "Not waiting for review" in results[done.pk].words
    for o, status in ((plain, Status.FAILED), (charged, Status.NEEDS_REVIEW)):
        o.refresh_from_db()
        assert o.status == status
    assert AuditEvent.objects.filter(action="order.marked_not_placed").count() == 1


def test_an_admin_against_evidence_needs_sudo_first_and_changes_nothing_without(
    admin_client, itrx_account
):
    plain, charged = review(itrx_account), review(itrx_account, "P-2")
    session = admin_client.session
    session[AUTH_AT_KEY] = 0  # signed in long ago: sudo mode is off
    session.save()
    payload = {"action": "not_placed", "order": [str(plain.code), str(charged.code)]}
    response = admin_client.post(BULK, {**payload, "comment": "checked the dashboard"})
    assert response.status_code == 302 and reverse("reauth") in response.url
    for o in (plain, charged):
        o.refresh_from_db()
        assert o.status == Status.NEEDS_REVIEW


def test_an_admin_in_sudo_mode_decides_against_evidence_only_with_a_reason(
    admin_client, itrx_account
):
    charged = review(itrx_account, "P-3")
    payload = {"action": "not_placed", "order": [str(charged.code)]}
    [result] = admin_client.post(BULK, payload).context["results"]
    assert not result.done and "write why" in result.words
    [result] = admin_client.post(BULK, {**payload, "comment": "provider confirmed"}).context[
        "results"
    ]
    assert result.done
    event = AuditEvent.objects.get(action="order.marked_not_placed")
    assert event.details["against_evidence"]

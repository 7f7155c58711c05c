"""The audit trail in the console: admin only, filters by user, order, token, action and date,
keyset pages that neither count nor list distinct values of the table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from energydash.api.models import ApiToken
from energydash.core.models import AuditEvent
from energydash.orders.models import Order
from tests.orders.conftest import address

URL = reverse("audit")


def _order(account) -> Order:
    return Order.objects.create(
        account=account,
        kind="energy",
        receive_address=address("audit"),
        energy=65_000,
        period="1H",
        quoted_cost_sun=4_000_000,
        burn_sun_per_energy=100,
    )


def test_viewers_and_operators_are_refused(viewer_client, operator, client):
    assert viewer_client.get(URL).status_code == 403
    client.force_login(operator)
    assert client.get(URL).status_code == 403


def test_the_menu_shows_audit_to_admins(admin_client):
    assert 'href="/audit/"' in admin_client.get(reverse("providers")).content.decode()


def test_the_menu_hides_audit_from_a_viewer(viewer_client):
    assert 'href="/audit/"' not in viewer_client.get(reverse("providers")).content.decode()


def test_filters_by_user_order_action_and_date(admin_client, admin_user, operator, itrx_account):
    mine, other = _order(itrx_account), _order(itrx_account)
    AuditEvent.record("order.marked_reviewed", mine, actor=operator, details={"decision": "x"})
    AuditEvent.record("order.marked_reviewed", other, actor=admin_user)
    AuditEvent.record("provider_account.changed", itrx_account, actor=operator)
    old = AuditEvent.record("order.approval_requested", mine, actor_label="api:old")
    AuditEvent.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=40))

    def rows(**params):
        response = admin_client.get(URL, params)
        assert response.status_code == 200
        return [e.pk for e in response.context["page"].rows], response

    by_user, _ = rows(user=operator.pk)
    assert set(by_user) == set(
        AuditEvent.objects.filter(actor=operator).values_list("pk", flat=True)
    )
    assert len(by_user) == 2
    by_order, _ = rows(order=mine.short_code)
    assert len(by_order) == 2
    assert all(AuditEvent.objects.get(pk=p).object_code == str(mine.code) for p in by_order)
    by_action, _ = rows(action="order.")
    assert len(by_action) == 3
    today = timezone.localdate().isoformat()
    recent, _ = rows(since=(timezone.localdate() - timedelta(days=1)).isoformat(), until=today)
    assert old.pk not in recent and len(recent) == 3
    combined, _ = rows(user=operator.pk, action="order.", order=str(mine.code))
    assert len(combined) == 1


def test_filters_by_token_both_about_it_and_through_it(admin_client, admin_user, itrx_account):
    token = ApiToken.objects.create(name="robot", role="operator", prefix="abc", token_hash="h1")
    AuditEvent.record("api_token.created", token, actor=admin_user)
    AuditEvent.record("order.approval_requested", _order(itrx_account), actor_label="api:robot")
    AuditEvent.record("order.approval_requested", _order(itrx_account), actor_label="api:other")
    response = admin_client.get(URL, {"token": token.pk})
    actions = sorted(e.actor_label or e.action for e in response.context["page"].rows)
    assert actions == ["api:robot", "api_token.created"]


@pytest.mark.parametrize(
    "params",
    [
        {"user": "x'; drop"},
        {"token": "99999"},
        {"order": "<script>"},
        {"since": "yesterday"},
        {"after": "garbage~x"},
        {"before": "2026-13-01T00:00:00+00:00~1"},
    ],
)
def test_bad_filters_are_said_not_500(admin_client, params):
    AuditEvent.record("order.marked_reviewed", None, actor_label="test")
    response = admin_client.get(URL, params)
    assert response.status_code == 200
    assert response.context["problems"]
    assert "<script>" not in response.content.decode().replace("&lt;script&gt;", "")


def test_pages_walk_by_cursor_without_count_or_distinct(admin_client):
    base = timezone.now() - timedelta(hours=1)
    for i in range(120):
        e = AuditEvent.record("order.marked_reviewed", None, actor_label=f"t{i}")
        AuditEvent.objects.filter(pk=e.pk).update(created=base + timedelta(seconds=i))
    seen: list[int] = []
    params: dict = {}
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = admin_client.get(URL, params)
            page = response.context["page"]
            seen += [e.pk for e in page.rows]
            if not page.has_next:
                break
            params = {"after": page.next_cursor}
    assert len(seen) == 120 == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first, created rises with pk here
    sql = " ".join(
        q["sql"].upper() for q in queries.captured_queries if "AUDITEVENT" in q["sql"].upper()
    )
    assert "COUNT(" not in sql and "DISTINCT" not in sql
    back = admin_client.get(URL, {"before": page.previous_cursor}).context["page"]
    assert back.rows and back.rows[-1].pk == seen[-len(page.rows) - 1]


def test_an_order_link_opens_the_order(admin_client, itrx_account):
    order = _order(itrx_account)
    AuditEvent.record("order.marked_reviewed", order, actor_label="test")
    body = admin_client.get(URL).content.decode()
    assert reverse("orders:detail", args=[order.code]) in body


def test_dates_are_local_days(admin_client, settings):
    e = AuditEvent.record("order.marked_reviewed", None, actor_label="edge")
    tz = timezone.get_current_timezone()
    AuditEvent.objects.filter(pk=e.pk).update(created=datetime(2026, 3, 1, 0, 30, tzinfo=tz))
    day = admin_client.get(URL, {"since": "2026-03-01", "until": "2026-03-01"}).context["page"]
    before = admin_client.get(URL, {"until": "2026-02-28"}).context["page"]
    assert [r.pk for r in day.rows] == [e.pk] and e.pk not in [r.pk for r in before.rows]

"""Issue 19, finding 4: Mark as placed looks the provider's id up before accepting it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from energydash.core.models import AuditEvent
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders import review
from energydash.orders.models import Order, Status
from energydash.orders.review import ReviewRefused, mark_placed
from energydash.providers import registry
from energydash.sandbox.models import SandboxOrder
from tests.orders.test_views import ALICE, order_for


def remote_order(box, ref: str, **kw) -> SandboxOrder:
    """An order the provider holds (as after a lost answer): charged, its id on its dashboard."""
    values = {
        "account": box.sandbox,
        "provider": box.sandbox.provider,
        "ref": ref,
        "receive_address": ALICE,
        "energy": 65_000,
        "period": "1h" if box.sandbox.provider == "netts" else "1H",
        "cost_sun": 3_575_000,
    }
    values.update(kw)
    return SandboxOrder.objects.create(**values)


@pytest.fixture
def through_sandbox(monkeypatch, http):
    monkeypatch.setattr(
        review, "adapter_for", lambda creds, client=None, **kw: registry.adapter_for(creds, http)
    )


def test_a_mistyped_id_is_refused_and_changes_nothing(netts, operator, http):
    remote_order(netts, "1Hreal0001")
    order = order_for(netts, status=Status.NEEDS_REVIEW)
    events = order.events.count()
    with pytest.raises(ReviewRefused, match="Netts has no order 1Hrea10001"):
        mark_placed(order, operator, "1Hrea10001", None, "", client=http)
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW and order.provider_ref == ""
    assert order.events.count() == events and not AuditEvent.objects.exists()


def test_a_found_order_is_applied_with_the_providers_figures(netts, operator, http):
    remote_order(netts, "1Hreal0002")
    order = order_for(netts, status=Status.NEEDS_REVIEW)
    decision = mark_placed(
        order, operator, "1Hreal0002", None, "seen on the dashboard", client=http
    )
    assert decision
    order.refresh_from_db()
    assert order.provider_ref == "1Hreal0002"
    assert order.cost_sun == 3_575_000  # Netts's figure, not a typed one
    assert order.status in (Status.DELEGATING, Status.COMPLETED)
    assert "Netts has order 1Hreal0002" in decision.found and "3.575" in decision.found
    assert "Netts has order 1Hreal0002" in order.events.filter(kind="state").last().message
    audit = AuditEvent.objects.get(action="order.marked_placed")
    assert audit.details["found"] == decision.found


def test_an_order_of_another_console_order_is_refused(tronzap, operator, http):
    """TronZap's check answers with the order's external_id (our reference)."""
    remote_order(tronzap, "serialofanother", client_ref="ed-someotherorder")
    order = order_for(tronzap, status=Status.NEEDS_REVIEW)
    with pytest.raises(ReviewRefused, match="our reference ed-someotherorder"):
        mark_placed(order, operator, "serialofanother", None, "", client=http)
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW and order.provider_ref == ""


def test_an_id_already_recorded_on_another_order_is_refused(tronzap, operator, http):
    remote_order(tronzap, "tz-0001")
    order_for(tronzap, status=Status.COMPLETED, provider_ref="tz-0001")
    order = order_for(tronzap, status=Status.NEEDS_REVIEW)
    with pytest.raises(ReviewRefused, match="already the provider's id of order"):
        mark_placed(order, operator, "tz-0001", None, "", client=http)
    assert Order.objects.get(pk=order.pk).status == Status.NEEDS_REVIEW


@pytest.mark.django_db(transaction=True)
def test_the_review_form_says_what_the_provider_has(operator_client, netts, through_sandbox):
    remote_order(netts, "1Hreal0003", cost_sun=2 * SUN_PER_TRX)
    order = order_for(netts, status=Status.NEEDS_REVIEW)
    url = reverse("orders:review", args=[order.code])
    wrong = operator_client.post(url, {"decision": "placed", "provider_ref": "1Hnope"}, follow=True)
    assert "Netts has no order 1Hnope" in wrong.content.decode()
    assert Order.objects.get(pk=order.pk).status == Status.NEEDS_REVIEW
    right = operator_client.post(
        url, {"decision": "placed", "provider_ref": "1Hreal0003"}, follow=True
    )
    assert "Netts has order 1Hreal0003" in right.content.decode()
    order.refresh_from_db()
    assert order.provider_ref == "1Hreal0003" and order.cost_sun == 2 * SUN_PER_TRX


@pytest.mark.django_db(transaction=True)
def test_placed_and_not_placed_racing_apply_once(live_sandbox, operator, admin_user):
    """Two people decide one review at once (threads released together): one decision applies,
    the other changes nothing; the provider's cost is recorded once."""
    import threading

    from django.db import connection

    from energydash.orders.review import mark_not_placed
    from tests.orders.conftest import make_box

    box = make_box("netts", base=live_sandbox)
    remote_order(box, "1Hrace0001")
    order = order_for(box, status=Status.NEEDS_REVIEW)
    start = threading.Barrier(2)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def decide(name: str, act) -> None:
        try:
            mine = Order.objects.select_related("account").get(pk=order.pk)
            start.wait(timeout=30)
            results[name] = bool(act(mine))
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=decide,
            args=("placed", lambda o: mark_placed(o, operator, "1Hrace0001", None, "")),
        ),
        threading.Thread(
            target=decide, args=("not", lambda o: mark_not_placed(o, admin_user, "not there"))
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results.values()) == [False, True]
    order.refresh_from_db()
    decided = AuditEvent.objects.filter(action__startswith="order.marked_").count()
    assert decided == 1
    if results["placed"]:
        assert order.provider_ref == "1Hrace0001" and order.cost_sun == 3_575_000
    else:
        assert order.status == Status.FAILED and order.provider_ref == ""

"""Failed deliveries: one alert per order, on the dashboard, in the orders list's Deliveries
filter, and in a box on the order's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase

from energydash.balances.delivery_alerts import alert_delivery_failed
from energydash.balances.models import Alert, AlertKind
from energydash.orders.delivery import verify_pass
from energydash.orders.models import Order
from tests.delivery.conftest import T0, address, completed_order

RECEIVER = address("console receiver")
POOL = address("console pool")


def run(http, at):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return verify_pass(now=at, client=http)


@pytest.fixture
def missing_order(itrx_account, chain, http):
    itrx_account.alert_emails = "ops@example.com"
    itrx_account.save()
    order = completed_order(itrx_account, RECEIVER)
    run(http, T0 + timedelta(minutes=4))
    order.refresh_from_db()
    assert order.delivery_status == "missing"
    return order


@pytest.mark.django_db
def test_a_missing_delivery_raises_one_alert_e_mailed_with_the_evidence(missing_order):
    [alert] = Alert.objects.filter(kind=AlertKind.DELIVERY_FAILED)
    assert alert.order_id == missing_order.pk and alert.recipients == ["ops@example.com"]
    assert "Missing on chain" in alert.problem
    [message] = mail.outbox
    assert missing_order.receive_address in message.subject
    assert "Missing on chain" in message.body
    assert alert_delivery_failed(missing_order) is None  # a second announcement: no-op
    assert Alert.objects.filter(kind=AlertKind.DELIVERY_FAILED).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_verified_delivery_raises_no_alert(itrx_account, chain, http):
    completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + timedelta(hours=1))
    run(http, T0 + timedelta(seconds=1))
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_the_deliveries_filter_lists_failed_deliveries(missing_order, viewer_client, itrx_account):
    fine = completed_order(itrx_account, address("fine"))
    Order.objects.filter(pk=fine.pk).update(delivery_status="verified")
    page = viewer_client.get("/orders/?delivery=failed").content.decode()
    assert f"order-{missing_order.code}" in page and f"order-{fine.code}" not in page
    assert 'data-delivery="missing"' in page
    page = viewer_client.get("/orders/?delivery=verified").content.decode()
    assert f"order-{fine.code}" in page and f"order-{missing_order.code}" not in page
    assert "1 order" in page or ">1<" in page


@pytest.mark.django_db
def test_the_dashboard_counts_failed_deliveries_and_links_to_the_filter(
    missing_order, viewer_client
):
    page = viewer_client.get("/").content.decode()
    assert "?delivery=failed" in page
    assert "<strong>1</strong> delivery failed on chain" in page


@pytest.mark.django_db
def test_the_order_page_shows_the_delivery_and_its_evidence(missing_order, viewer_client):
    page = viewer_client.get(f"/orders/{missing_order.code}/").content.decode()
    assert 'id="delivery"' in page and 'data-delivery="missing"' in page
    assert "Missing on chain" in page
    assert "Delivery: pending → missing" in page


@pytest.mark.django_db
def test_the_orders_page_refuses_an_anonymous_visitor(missing_order, client):
    assert client.get("/orders/?delivery=failed").status_code in (302, 403)

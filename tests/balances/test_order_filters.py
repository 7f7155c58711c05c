from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from energydash.console.orders.filters import OrderFilterForm
from energydash.orders.models import Order, Status
from tests.balances.factories import ADDRESS, OTHER_ADDRESS, order


def filtered(params: dict) -> list[Order]:
    form = OrderFilterForm(params)
    return list(form.filter(Order.objects.order_by("id")))


def test_it_returns_every_order_without_filters(itrx_account, tronzap_account):
    orders = [order(itrx_account), order(tronzap_account)]
    assert filtered({}) == orders


def test_it_filters_by_status_account_provider_kind_and_address(itrx_account, tronzap_account):
    wanted = order(itrx_account, status=Status.UNKNOWN, address=OTHER_ADDRESS)
    order(itrx_account, status=Status.COMPLETED, address=OTHER_ADDRESS)
    order(tronzap_account, status=Status.UNKNOWN, address=OTHER_ADDRESS)
    order(itrx_account, status=Status.UNKNOWN, address=ADDRESS)
    params = {
        "status": "unknown",
        "account": str(itrx_account.code),
        "provider": "itrx",
        "kind": "energy",
        "address": f"  {OTHER_ADDRESS} ",
    }
    assert filtered(params) == [wanted]


def test_open_means_every_status_that_is_not_final(itrx_account):
    open_ones = [
        order(itrx_account, status=s)
        for s in (Status.SUBMITTED, Status.DELEGATING, Status.UNKNOWN, Status.NEEDS_REVIEW)
    ]
    order(itrx_account, status=Status.COMPLETED)
    order(itrx_account, status=Status.FAILED)
    assert filtered({"status": "open"}) == open_ones


def test_dates_are_inclusive_calendar_days_in_the_operators_time_zone(settings, itrx_account):
    settings.TIME_ZONE = "Asia/Shanghai"
    tz = ZoneInfo("Asia/Shanghai")
    before = order(itrx_account, created=datetime(2026, 3, 1, 23, 59, tzinfo=tz))
    first = order(itrx_account, created=datetime(2026, 3, 2, 0, 0, tzinfo=tz))
    last = order(itrx_account, created=datetime(2026, 3, 3, 23, 59, tzinfo=tz))
    after = order(itrx_account, created=datetime(2026, 3, 4, 0, 0, tzinfo=tz))
    assert filtered({"date_from": "2026-03-02", "date_to": "2026-03-03"}) == [first, last]
    assert before.pk and after.pk


def test_invalid_filters_are_reported_and_left_out(itrx_account):
    kept = order(itrx_account, status=Status.FAILED)
    order(itrx_account, status=Status.COMPLETED)
    form = OrderFilterForm(
        {"status": "failed", "account": "not-a-uuid", "address": "Tnope", "date_from": "x"}
    )
    assert list(form.filter(Order.objects.all())) == [kept]
    assert set(form.errors) == {"account", "address", "date_from"}


def test_an_end_date_before_the_start_date_is_an_error(db):
    form = OrderFilterForm({"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert not form.is_valid()
    assert "date_to" in form.errors

"""Monthly statement per account: exact sun from the ledger, CSV and a printable page."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.balances import ledger
from energydash.balances.models import BalanceSnapshot
from energydash.balances.statements import monthly_statement
from energydash.orders.models import Order, Status
from tests.balances.factories import order

TRX = 1_000_000


def local(y, m, d, h=12, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=timezone.get_current_timezone())


def reading(account, when, sun):
    return BalanceSnapshot.objects.create(
        account=account, balance_sun=sun, taken_at=when, source="refresh"
    )


def placed(account, when, cost_sun, status=Status.COMPLETED, **extra):
    o = order(account, cost_sun=cost_sun, status=status, created=when - timedelta(seconds=1))
    fields = {"submitted_at": when, **extra}
    if status in (Status.COMPLETED, Status.REFUNDED, Status.FAILED) and "finished_at" not in extra:
        fields["finished_at"] = when + timedelta(minutes=1)
    Order.objects.filter(pk=o.pk).update(**fields)
    return Order.objects.get(pk=o.pk)


@pytest.fixture
def november(itrx_account):
    """October closes at 1,000 TRX; November: a 500.000001 TRX top-up, three charges (one
    refunded 2.5 TRX back), an unexplained loss of 3 TRX, and a reading exactly at December's
    midnight that belongs to December."""
    a = itrx_account
    reading(a, local(2026, 10, 31, 23, 0), 1_000 * TRX)
    placed(a, local(2026, 11, 1, 0, 10), 7_000_001)
    reading(a, local(2026, 11, 1, 0, 20), 1_000 * TRX - 7_000_001)
    reading(a, local(2026, 11, 5), 1_000 * TRX - 7_000_001 + 500_000_001)  # top-up
    placed(a, local(2026, 11, 10, 9), 4 * TRX)
    placed(a, local(2026, 11, 10, 10), 5 * TRX, status=Status.REFUNDED, refund_sun=2_500_000)
    reading(a, local(2026, 11, 10, 11), 1_493 * TRX - 9 * TRX + 2_500_000)
    reading(a, local(2026, 11, 20), 1_493 * TRX - 9 * TRX + 2_500_000 - 3 * TRX)  # loss
    placed(a, local(2026, 11, 30, 23, 50), 1 * TRX)
    reading(a, local(2026, 12, 1, 0, 0), 1_493 * TRX - 10 * TRX + 2_500_000 - 3 * TRX)
    return a


def test_the_month_adds_up_exactly_to_the_sun(november):
    st = monthly_statement(november, date(2026, 11, 15))
    assert st.opening_sun == 1_000 * TRX and st.opening_known
    assert st.topups_sun == 500_000_001
    assert st.charges_sun == 7_000_001 + 4 * TRX + 5 * TRX  # the 23:50 one closes in December
    assert st.refunds_sun == 2_500_000
    assert st.kept_sun == st.charges_sun - st.refunds_sun
    assert st.discrepancies_sun == 3 * TRX
    assert st.orders == 3
    assert st.closing_sun == 1_493 * TRX - 9 * TRX + 2_500_000 - 3 * TRX
    assert st.closing_sun - st.opening_sun == (
        st.refunds_sun - st.charges_sun + st.topups_sun - st.discrepancies_sun + st.other_sun
    )
    assert st.other_sun == 0
    december = monthly_statement(november, date(2026, 12, 1))
    assert december.opening_sun == st.closing_sun  # months tile: one closes where the next opens
    assert december.charges_sun == 1 * TRX and december.orders == 1


def test_a_month_equals_the_sum_of_its_ledger_days(november):
    st = monthly_statement(november, date(2026, 11, 1))
    now = local(2026, 11, 30, 23, 59)
    days = ledger.daily_summary(november, 30, now=now)
    assert sum(d.charges_sun for d in days) == st.charges_sun
    assert sum(d.refunds_sun for d in days) == st.refunds_sun
    assert sum(d.topups_sun for d in days) == st.topups_sun
    assert days[-1].opening_sun == st.opening_sun and days[0].closing_sun == st.closing_sun


def test_a_month_without_readings_keeps_the_last_balance(itrx_account):
    reading(itrx_account, local(2026, 9, 3), 42 * TRX)
    st = monthly_statement(itrx_account, date(2026, 10, 1))
    assert (st.opening_sun, st.closing_sun, st.charges_sun, st.orders) == (42 * TRX, 42 * TRX, 0, 0)


def test_an_account_never_read_says_so(viewer_client, itrx_account):
    body = viewer_client.get(reverse("balances:statement", args=[itrx_account.code])).content
    assert b"no reading" in body


def test_page_shows_trx_and_links_csv_and_print(viewer_client, november):
    url = reverse("balances:statement", args=[november.code])
    response = viewer_client.get(url, {"month": "2026-11"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "500.000001" in body and "1,000.000000" in body
    assert "css/print.css" in body and 'media="print"' in body
    assert "data-print" in body
    assert reverse("balances:statement_csv", args=[november.code]) + "?month=2026-11" in body


def test_csv_has_exact_trx_and_sun(viewer_client, november):
    url = reverse("balances:statement_csv", args=[november.code])
    response = viewer_client.get(url, {"month": "2026-11"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = {r["line"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["Top-ups"]["sun"] == "500000001" and rows["Top-ups"]["trx"] == "500.000001"
    assert rows["Charges"]["sun"] == str(7_000_001 + 9 * TRX)
    assert rows["Orders charged"]["sun"] == "3"
    assert rows["Closing balance"]["month"] == "2026-11"


@pytest.mark.parametrize("month", ["2026-13", "11-2026", "x", "2026-1", "9999-01"])
def test_bad_months_are_said(viewer_client, itrx_account, month):
    page = viewer_client.get(
        reverse("balances:statement", args=[itrx_account.code]), {"month": month}
    )
    assert page.status_code == 200 and page.context["problem"]
    export = viewer_client.get(
        reverse("balances:statement_csv", args=[itrx_account.code]), {"month": month}
    )
    assert export.status_code == 400


def test_the_account_name_cannot_become_a_formula(viewer_client, itrx_account):
    itrx_account.name = "=HYPERLINK(1)"
    itrx_account.save(update_fields=["name"])
    response = viewer_client.get(reverse("balances:statement_csv", args=[itrx_account.code]))
    assert "'=HYPERLINK(1)" in response.content.decode()

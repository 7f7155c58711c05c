from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from energydash.balances.services import record_balance, refresh_account
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Status
from tests.balances import providers
from tests.balances.factories import order

TRX = SUN_PER_TRX


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_home_page_is_the_dashboard_for_a_viewer(viewer_client, itrx_account):
    record_balance(itrx_account, 250 * TRX, source="refresh")
    response = viewer_client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "itrx main" in page and "250.00" in page
    assert "Refresh balances" not in page  # viewers cannot refresh


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_each_account_shows_balance_age_threshold_runway_and_state(
    viewer_client, itrx_account, tronzap_account, netts_account
):
    itrx_account.low_balance_threshold_sun = 100 * TRX
    itrx_account.save()
    record_balance(itrx_account, 50 * TRX, source="refresh")
    order(itrx_account, cost_sun=70 * TRX, created=timezone.now() - timedelta(days=1))
    record_balance(
        tronzap_account, 900 * TRX, source="refresh", taken_at=timezone.now() - timedelta(hours=3)
    )
    refresh_account(
        netts_account, client=providers.answering(401, {"detail": "IP not in whitelist"})
    )
    page = text(viewer_client.get("/"))
    itrx_row = re.search(r'<tr class="state-row-low".*?</tr>', page).group(0)
    assert "50.00" in itrx_row and "100.00" in itrx_row and "5.0 days" in itrx_row
    tronzap_row = re.search(r'<tr class="state-row-ok".*?</tr>', page).group(0)
    assert "no recent spend" in tronzap_row and "3 hours ago" in tronzap_row
    netts_row = re.search(r'<tr class="state-row-error".*?</tr>', page).group(0)
    assert "IP not whitelisted" in netts_row and "never read" in netts_row


def test_the_totals_show_spend_energy_price_and_savings_per_provider(
    viewer_client, itrx_account, tronzap_account
):
    now = timezone.now()
    order(itrx_account, cost_sun=6_500_000, energy=100_000, created=now)  # 65 sun/energy
    order(itrx_account, cost_sun=3_000_000, energy=50_000, created=now - timedelta(days=10))
    order(tronzap_account, cost_sun=5_230_000, energy=100_000, created=now)
    order(tronzap_account, cost_sun=9_999_000, status=Status.FAILED, created=now)  # not spent
    response = viewer_client.get("/")
    totals = response.context["totals"]
    itrx, tronzap, _ = totals.providers
    assert (itrx.today_sun, itrx.month_sun, itrx.energy) == (6_500_000, 9_500_000, 150_000)
    assert str(itrx.average_price) == "63.33"
    assert itrx.savings_sun == 150_000 * 100 - 9_500_000
    assert tronzap.today_sun == 5_230_000
    assert totals.overall.month_sun == 9_500_000 + 5_230_000


def test_the_attention_counts_link_to_the_filtered_order_list(viewer_client, itrx_account):
    order(itrx_account, status=Status.UNKNOWN)
    order(itrx_account, status=Status.NEEDS_REVIEW)
    order(itrx_account, status=Status.SUBMITTED)
    page = text(viewer_client.get("/"))
    assert '<a href="/orders/?status=open"><strong>3</strong> open</a>' in page
    assert '<a href="/orders/?status=unknown"><strong>1</strong> unknown</a>' in page
    assert '<a href="/orders/?status=needs_review"><strong>1</strong> needs review</a>' in page

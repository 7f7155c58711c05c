"""The providers page: prices of the common sizes through the quote path (kept in the cache so
opening the page does not ask the providers every time), limits, budget left today, runway, an
edit link for admins, and the price history with its CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.balances.models import AccountBalanceState
from energydash.orders import prices, quotes
from energydash.orders.models import PriceSample, Status
from energydash.orders.spec import OrderSpec
from energydash.providers import registry
from tests.orders.conftest import address
from tests.orders.test_views import order_for

BOARD = reverse("provider_prices")

pytestmark = pytest.mark.django_db(transaction=True)  # quotes run in worker threads


@pytest.fixture
def calls(monkeypatch, http):
    """Every adapter the board and the quotes build, through the in-process sandbox, counted."""
    made: list[str] = []

    def through_sandbox(credentials, client=None, **kw):
        made.append(credentials.provider)
        return registry.adapter_for(credentials, http, **kw)

    monkeypatch.setattr(prices, "adapter_for", through_sandbox)
    monkeypatch.setattr(quotes, "adapter_for", through_sandbox)
    return made


def _board(client):
    response = client.get(BOARD, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response, {row.account.pk: row for row in response.context["rows"]}


def test_the_board_prices_the_common_sizes_where_offered(viewer_client, itrx, tronzap, calls):
    response, rows = _board(viewer_client)
    cells = {(c.energy, c.period): c for c in rows[itrx.account.pk].cells}
    assert set(cells) == {(65_000, "1H"), (65_000, "1D"), (131_000, "1H"), (131_000, "1D")}
    assert all(c.offered and c.total_sun and not c.problem for c in cells.values())
    assert cells[(131_000, "1D")].total_sun > cells[(131_000, "1H")].total_sun > 0
    zap = {(c.energy, c.period): c for c in rows[tronzap.account.pk].cells}
    assert not zap[(65_000, "1D")].offered and zap[(65_000, "1H")].total_sun
    assert "not offered" in response.content.decode()
    assert rows[tronzap.account.pk].min_energy is not None
    # The same figure the new-order page's quote path gives for that size.
    [row] = quotes.compare(
        [OrderSpec(itrx.account, "energy", address("board"), energy=131_000, period="1H")]
    )
    assert row.total_sun == cells[(131_000, "1H")].total_sun


def test_opening_the_page_again_asks_no_provider_until_the_prices_expire(
    viewer_client, itrx, tronzap, calls, settings
):
    _board(viewer_client)
    first = len(calls)
    assert first == 4 + 2  # itrx: two sizes x two periods; TronZap: two sizes x 1 hour
    _board(viewer_client)
    _board(viewer_client)
    assert len(calls) == first
    from django.core.cache import cache

    cache.delete_many(
        [prices._cache_key(itrx.account, e, p) for e in prices.SIZES for p in prices.PERIODS]
    )
    _board(viewer_client)
    assert len(calls) == first + 4


def test_a_changed_account_is_asked_afresh(viewer_client, itrx, calls):
    _board(viewer_client)
    before = len(calls)
    itrx.account.priority = 3
    itrx.account.save()  # `updated` moves on
    _board(viewer_client)
    assert len(calls) > before


def test_a_refused_account_says_why_in_plain_words_and_a_disabled_one_is_not_asked(
    viewer_client, itrx, tronzap, calls
):
    itrx.account.api_key = "0" * 32
    itrx.account.save()
    tronzap.account.enabled = False
    tronzap.account.save()
    response, rows = _board(viewer_client)
    html = response.content.decode()
    assert all(c.total_sun is None for c in rows[itrx.account.pk].cells)
    assert "refused this account&#x27;s credentials" in html
    assert "0" * 32 not in html
    assert calls.count("tronzap") == 0
    assert "Account disabled." in html


def test_board_and_quotes_record_history_at_most_once_per_window(viewer_client, itrx, calls):
    _board(viewer_client)
    assert PriceSample.objects.filter(account=itrx.account).count() == 4
    spec = OrderSpec(itrx.account, "energy", address("h"), energy=131_000, period="1H")
    quotes.compare([spec])  # within the window: not recorded again
    assert PriceSample.objects.filter(account=itrx.account).count() == 4
    other = OrderSpec(itrx.account, "energy", address("h"), energy=100_000, period="1H")
    quotes.compare([other])
    sample = PriceSample.objects.get(account=itrx.account, energy=100_000)
    assert sample.total_sun > 0 and sample.period == "1H"


def test_history_page_and_csv_are_exact(viewer_client, itrx):
    PriceSample.objects.create(
        account=itrx.account, energy=65_000, period="1H", total_sun=3_250_001
    )
    page = viewer_client.get(reverse("provider_price_history", args=[itrx.account.code]))
    assert page.status_code == 200 and "3.250001" in page.content.decode()
    export = viewer_client.get(reverse("provider_price_history_csv", args=[itrx.account.code]))
    [row] = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert row["price_sun"] == "3250001" and row["price_trx"] == "3.250001"
    assert row["energy"] == "65000" and row["provider"] == "itrx"


def test_limits_budget_left_and_runway(viewer_client, itrx):
    account = itrx.account
    account.max_order_sun, account.daily_budget_sun, account.priority = 5_000_000, 50_000_000, 7
    account.save()
    order_for(itrx, status=Status.COMPLETED, cost_sun=4_000_000, quoted_cost_sun=4_000_000)
    AccountBalanceState.objects.create(
        account=account, balance_sun=300_000_000, as_of=timezone.now(), source="refresh"
    )
    response = viewer_client.get(reverse("providers"))
    [standing] = response.context["standings"]
    assert standing.spent_today_sun == 4_000_000 and standing.budget_left_sun == 46_000_000
    html = response.content.decode()
    assert "46.00 TRX" in html and "5.00 TRX" in html and "50.00 TRX" in html
    assert reverse("balances:statement", args=[account.code]) in html
    assert reverse("provider_price_history", args=[account.code]) in html
    edit = reverse("admin:providers_provideraccount_change", args=[account.pk])
    assert edit not in html  # a viewer gets no edit link
    assert hx_board_link(html)


def hx_board_link(html: str) -> bool:
    return f'hx-get="{BOARD}"' in html


def test_admins_get_the_edit_link(admin_client, itrx):
    html = admin_client.get(reverse("providers")).content.decode()
    assert reverse("admin:providers_provideraccount_change", args=[itrx.account.pk]) in html


def test_the_board_works_without_javascript_as_a_page(viewer_client, itrx, calls):
    response = viewer_client.get(BOARD)
    assert response.status_code == 200
    assert b"<h1>Prices now</h1>" in response.content

"""Quotes respect each account's spend limits (per-order maximum, daily budget) like placement."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from energydash.orders.models import Order
from tests.orders.conftest import address
from tests.orders.test_views import order_for, wsgi_clients  # noqa: F401  (fixture)

ALICE = address("alice")
REQUEST = {"kind": "energy", "receive_address": ALICE, "energy_preset": "131000", "period": "1H"}


def _rows(operator_client):
    response = operator_client.get(reverse("orders:new"), REQUEST)
    assert response.status_code == 200
    return response, {row.account.pk: row for row in response.context["rows"]}


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_quote_above_the_per_order_maximum_says_so_and_cannot_be_chosen(
    operator_client,
    itrx,
    tronzap,
    wsgi_clients,  # noqa: F811
):
    _response, rows = _rows(operator_client)
    cheapest = min(rows.values(), key=lambda r: r.total_sun)
    cheapest.account.max_order_sun = cheapest.total_sun - 1
    cheapest.account.save()

    response, rows = _rows(operator_client)
    html = response.content.decode()
    over = rows[cheapest.account.pk]
    other = next(r for r in rows.values() if r is not over)
    assert not over.available and not over.cheapest
    assert "maximum of" in over.limit and "per order" in over.limit
    assert escape(over.limit) in html
    assert f'value="{over.account.code}"' not in html  # no radio button
    assert (
        other.cheapest
        and f'value="{other.account.code}" id="acct-{other.account.code}" checked' in html
    )


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_quote_above_what_is_left_of_the_daily_budget_says_so(
    operator_client,
    itrx,
    wsgi_clients,  # noqa: F811
):
    _response, rows = _rows(operator_client)
    price = rows[itrx.account.pk].total_sun
    order_for(itrx, quoted_cost_sun=4_000_000, cost_sun=4_000_000)
    itrx.account.daily_budget_sun = 4_000_000 + price - 1
    itrx.account.save()

    response, rows = _rows(operator_client)
    row = rows[itrx.account.pk]
    assert not row.available and "daily budget" in row.limit
    assert "No account can take this order" in response.content.decode()


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_the_confirm_page_does_not_offer_place_above_the_maximum(
    operator_client,
    itrx,
    wsgi_clients,  # noqa: F811
):
    itrx.account.max_order_sun = 1_000_000
    itrx.account.save()
    confirm = operator_client.get(
        reverse("orders:confirm"), {**REQUEST, "account": str(itrx.account.code)}
    )
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "maximum of 1.000000 TRX per order" in html
    assert "Place order for" not in html and 'action="/orders/place/' not in html
    assert "Nothing was sent" in html
    assert not Order.objects.exists()

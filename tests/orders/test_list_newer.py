"""The orders list adds new orders at the top without a reload (issue 25, item 5): page 1,
newest first, polls for the rows newer than its first row."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from energydash.orders.models import Status
from tests.balances.factories import OTHER_ADDRESS, order

LIST = reverse("orders:list")
NEWER = reverse("orders:newer")


@pytest.fixture
def five(itrx_account):
    start = timezone.now() - timedelta(hours=1)
    return [order(itrx_account, created=start + timedelta(minutes=i)) for i in range(5)]


def poll_url(html: str) -> str | None:
    found = re.search(r'id="orders-newer"[^>]*hx-get="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


def row_codes(html: str) -> list[str]:
    return re.findall(r'<tr id="order-([0-9a-f-]{36})"', html)


def test_page_one_polls_and_new_orders_come_back_newest_first(viewer_client, five, itrx_account):
    html = viewer_client.get(LIST).content.decode()
    url = poll_url(html)
    assert url and url.startswith(NEWER)
    assert viewer_client.get(url).status_code == 204  # nothing new yet

    now = timezone.now()
    a = order(itrx_account, created=now - timedelta(seconds=2))
    b = order(itrx_account, created=now - timedelta(seconds=1), status=Status.SUBMITTED)
    response = viewer_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert row_codes(body) == [str(b.code), str(a.code)]
    # the open order's row keeps updating itself, like the list's own rows
    assert f'hx-get="/orders/{b.code}/row/"' in body
    # the poll comes back first, now counting from the newest row: nothing new after it
    assert body.index('id="orders-newer"') < body.index(f'id="order-{b.code}"')
    assert viewer_client.get(poll_url(body)).status_code == 204
    later = order(itrx_account, created=timezone.now())
    assert row_codes(viewer_client.get(poll_url(body)).content.decode()) == [str(later.code)]


def test_the_poll_keeps_the_filters(viewer_client, five, itrx_account):
    html = viewer_client.get(LIST, {"address": OTHER_ADDRESS}).content.decode()
    url = poll_url(html)
    assert url and f"address={OTHER_ADDRESS}" in url
    order(itrx_account, created=timezone.now())  # another address: not for this list
    assert viewer_client.get(url).status_code == 204
    match = order(itrx_account, created=timezone.now(), address=OTHER_ADDRESS)
    assert row_codes(viewer_client.get(url).content.decode()) == [str(match.code)]


def test_an_empty_list_still_hears_of_the_first_order(viewer_client, itrx_account):
    url = poll_url(viewer_client.get(LIST).content.decode())
    assert url
    first = order(itrx_account, created=timezone.now() + timedelta(seconds=1))
    assert row_codes(viewer_client.get(url).content.decode()) == [str(first.code)]


def test_no_poll_on_later_pages_or_other_sorts(viewer_client, itrx_account):
    start = timezone.now() - timedelta(hours=1)
    for i in range(30):
        order(itrx_account, created=start + timedelta(minutes=i))
    first = viewer_client.get(LIST, {"size": "25"})
    assert poll_url(first.content.decode())
    second = viewer_client.get(LIST + "?" + first.context["next_query"])
    assert poll_url(second.content.decode()) is None
    for sort in ("created", "-cost", "energy"):
        assert poll_url(viewer_client.get(LIST, {"sort": sort}).content.decode()) is None
    assert poll_url(viewer_client.get(LIST, {"date_from": "not a date"}).content.decode()) is None


@pytest.mark.parametrize(
    "query",
    ["", "before=garbage", "before=2026-01-01T00:00:00+00:00~1&sort=-cost", "after=x&before=y"],
)
def test_a_poll_that_does_not_apply_stops_without_an_error(viewer_client, itrx_account, query):
    response = viewer_client.get(f"{NEWER}?{query}")
    assert response.status_code == 286  # htmx stops polling


def test_the_poll_is_one_bounded_index_query(viewer_client, five, itrx_account):
    url = poll_url(viewer_client.get(LIST).content.decode())
    with CaptureQueriesContext(connection) as queries:
        viewer_client.get(url)
    order_queries = [q["sql"] for q in queries.captured_queries if "orders_order" in q["sql"]]
    assert len(order_queries) == 1
    sql = order_queries[0]
    assert "LIMIT" in sql and "COUNT(" not in sql.upper()


def test_the_poll_needs_a_login(client):
    assert client.get(NEWER).status_code == 302

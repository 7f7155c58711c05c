"""The orders list's tools: keyset pages, search, sort, page size and totals (issues 9 and 11)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from energydash.orders.models import Order, Status
from tests.balances.factories import ADDRESS, OTHER_ADDRESS, order

LIST = reverse("orders:list")


@pytest.fixture
def thirty(itrx_account):
    start = timezone.now() - timedelta(hours=1)
    return [
        order(itrx_account, cost_sun=1_000 * (i % 4), created=start + timedelta(minutes=i))
        for i in range(30)
    ]


def codes(response) -> list:
    return [o.code for o in response.context["page"]]


def follow(response, link: str) -> dict[str, str]:
    query = response.context[link]
    return {k: v[0] for k, v in parse_qs(query).items()}


def test_pages_are_stable_when_new_orders_arrive(viewer_client, thirty, itrx_account):
    first = viewer_client.get(LIST, {"size": "25"})
    assert codes(first) == [o.code for o in reversed(thirty)][:25]
    order(itrx_account, created=timezone.now())  # arrives at the top while we read
    second = viewer_client.get(LIST, follow(first, "next_query"))
    assert codes(second) == [o.code for o in reversed(thirty)][25:]
    assert not second.context["page"].has_next
    back = viewer_client.get(LIST, follow(second, "previous_query"))
    assert codes(back) == codes(first)


def test_sorting_by_cost_pages_through_ties_without_gaps_or_repeats(viewer_client, thirty):
    seen = []
    params = {"sort": "-cost", "size": "25"}
    response = viewer_client.get(LIST, params)
    seen += codes(response)
    response = viewer_client.get(LIST, follow(response, "next_query"))
    seen += codes(response)
    assert sorted(seen) == sorted(o.code for o in thirty) and len(seen) == 30
    costs = [Order.objects.get(code=c).cost_sun for c in seen]
    assert costs == sorted(costs, reverse=True)
    assert 'aria-sort="descending"' in response.content.decode()


def test_a_deep_page_costs_what_the_first_page_costs(viewer_client, thirty):
    with CaptureQueriesContext(connection) as first_queries:
        first = viewer_client.get(LIST, {"size": "25"})
    with CaptureQueriesContext(connection) as deep_queries:
        viewer_client.get(LIST, follow(first, "next_query"))
    assert len(deep_queries) == len(first_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in deep_queries.captured_queries)


def test_search_matches_any_part_of_address_code_reference_or_provider_id(
    viewer_client, itrx_account
):
    mine = order(itrx_account, address=OTHER_ADDRESS)
    other = order(itrx_account, address=ADDRESS)
    Order.objects.filter(pk=other.pk).update(provider_ref="ITRX-998877")
    code = str(mine.code)
    for text, expected in [
        (OTHER_ADDRESS[:6], [mine.code]),  # start, middle and end of the address
        (OTHER_ADDRESS[12:20], [mine.code]),
        (OTHER_ADDRESS[-5:], [mine.code]),
        (code[:8], [mine.code]),  # the short code, a middle part across a dash, the end
        (code[6:15], [mine.code]),
        (code.replace("-", "")[14:22], [mine.code]),
        (code[-6:].upper(), [mine.code]),
        (mine.reference[-8:], [mine.code]),
        ("ITRX-998", [other.code]),
        ("8877", [other.code]),
        (OTHER_ADDRESS[12:20].swapcase(), []),  # addresses are case-sensitive (base58)
    ]:
        response = viewer_client.get(LIST, {"q": text})
        assert codes(response) == expected, text


def test_a_too_short_search_or_a_reversed_date_range_lists_nothing(viewer_client, thirty):
    short = viewer_client.get(LIST, {"q": "TQ"})
    assert short.context["page"] is None
    assert "at least 4 characters" in short.content.decode()
    reversed_range = viewer_client.get(LIST, {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert reversed_range.context["page"] is None
    assert "not valid, so no orders are listed" in reversed_range.content.decode()


def test_totals_of_the_filtered_rows_count_only_money_spent(
    viewer_client, itrx_account, tronzap_account
):
    order(itrx_account, cost_sun=1_000_000, energy=65_000)
    order(itrx_account, cost_sun=2_000_000, energy=131_000)
    order(itrx_account, cost_sun=5_000_000, energy=65_000, status=Status.FAILED)
    order(tronzap_account, cost_sun=7_000_000)
    totals = viewer_client.get(LIST, {"account": str(itrx_account.code)}).context["totals"]
    assert (totals.count, totals.spent_sun, totals.energy) == (3, 3_000_000, 196_000)
    searched = viewer_client.get(LIST, {"q": ADDRESS[:5], "provider": "itrx"}).context["totals"]
    assert (searched.count, searched.spent_sun, searched.capped) == (3, 3_000_000, False)
    page = viewer_client.get(LIST, {"account": str(itrx_account.code)})
    assert "3,000,000" not in page.content.decode()  # shown in TRX
    assert "3.00" in page.content.decode()


def test_totals_count_a_draft_being_sent_though_the_rollups_leave_it_out(
    viewer_client, itrx_account
):
    order(itrx_account, cost_sun=1_000_000)
    order(itrx_account, cost_sun=None, quoted_cost_sun=9_000_000, status=Status.DRAFT)
    every = viewer_client.get(LIST).context["totals"]
    assert (every.count, every.spent_sun) == (2, 1_000_000)  # a draft spends nothing yet
    drafts = viewer_client.get(LIST, {"status": Status.DRAFT}).context["totals"]
    assert drafts.count == 1
    assert viewer_client.get(LIST, {"status": "open"}).context["totals"].count == 1
    assert viewer_client.get(LIST, {"status": Status.COMPLETED}).context["totals"].count == 1


def test_a_tampered_page_link_shows_the_first_page_with_a_message(viewer_client, thirty):
    response = viewer_client.get(LIST, {"after": "yesterday~x", "size": "25"})
    assert response.status_code == 200
    assert "not valid any more" in response.content.decode()
    assert len(codes(response)) == 25


def test_page_size_choice_is_kept_and_bounded(viewer_client, thirty):
    assert len(codes(viewer_client.get(LIST, {"size": "25"}))) == 25
    assert len(codes(viewer_client.get(LIST, {"size": "100000"}))) == 30  # default 50


def test_search_totals_stop_at_the_cap_without_counting_the_table(
    viewer_client, itrx_account, monkeypatch
):
    from energydash.console.orders import listing

    monkeypatch.setattr(listing, "TOTALS_CAP", 3)
    for _ in range(5):
        order(itrx_account, cost_sun=1_000_000)
    few = order(itrx_account, cost_sun=2_000_000, address=OTHER_ADDRESS)
    with CaptureQueriesContext(connection) as queries:
        shared = viewer_client.get(LIST, {"q": ADDRESS[8:14]}).context["totals"]  # 5 orders
    assert (shared.count, shared.capped, shared.spent_sun) == (3, True, None)
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and "receive_address" in q["sql"]
    ]
    assert counts and all("LIMIT 4" in sql for sql in counts)
    assert not any(" IN (SELECT" in sql for sql in counts)
    one = viewer_client.get(LIST, {"q": OTHER_ADDRESS[-6:]}).context["totals"]
    assert (one.count, one.capped, one.spent_sun) == (1, False, few.cost_sun)

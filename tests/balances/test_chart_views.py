from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.balances.services import record_balance
from energydash.lib.tron import SUN_PER_TRX
from tests.balances.factories import order

TRX = SUN_PER_TRX


def svgs(response) -> list[str]:
    return re.findall(r"<svg class=\"chart\".*?</svg>", response.content.decode(), re.S)


def count(svg: str, css_class: str) -> int:
    return len(re.findall(rf'class="{css_class}"', svg))


@pytest.fixture
def seeded(itrx_account, tronzap_account, netts_account):
    """Three days of orders at two providers and six balance readings of itrx."""
    now = timezone.now()
    for days_ago in (0, 1, 2):
        at = now - timedelta(days=days_ago, minutes=5)
        order(itrx_account, cost_sun=6_500_000, energy=100_000, created=at)
        if days_ago != 1:
            order(tronzap_account, cost_sun=5_230_000, energy=100_000, created=at)
    order(netts_account, cost_sun=99 * TRX, created=now - timedelta(days=40))  # outside 30 d
    for hours_ago, trx in [(60, 900), (48, 880), (36, 860), (24, 840), (12, 820), (1, 800)]:
        record_balance(
            itrx_account, trx * TRX, source="order", taken_at=now - timedelta(hours=hours_ago)
        )
    return {"itrx": itrx_account, "tronzap": tronzap_account, "netts": netts_account}


def test_the_balance_chart_draws_one_point_per_reading_in_range(viewer_client, seeded):
    url = reverse("balances:balance_chart", args=[seeded["itrx"].code])
    (svg,) = svgs(viewer_client.get(url, {"range": "7d"}))
    assert count(svg, "point") == 6
    assert "itrx main: 800.00 TRX at" in svg
    (svg,) = svgs(viewer_client.get(url, {"range": "24h"}))
    # the reading held at the start of the range (840 from 24 h ago, or 860 before it) + 2 after
    assert count(svg, "point") == 3


def test_the_cost_chart_draws_one_bar_per_provider_and_day_with_spend(viewer_client, seeded):
    response = viewer_client.get(reverse("balances:chart", args=["cost"]), {"range": "7d"})
    (svg,) = svgs(response)
    assert count(svg, "bar") == 5  # itrx on 3 days, TronZap on 2
    assert 'data-series="itrx.io"' in svg and 'data-series="TronZap"' in svg
    assert "<title>itrx.io: 6.50 TRX on" in svg


def test_the_cost_chart_leaves_out_spend_older_than_the_range(viewer_client, seeded):
    response = viewer_client.get(reverse("balances:chart", args=["cost"]), {"range": "30d"})
    (svg,) = svgs(response)
    assert 'data-series="Netts"' not in svg


def test_the_price_chart_draws_one_point_per_provider_and_day_with_orders(viewer_client, seeded):
    response = viewer_client.get(reverse("balances:chart", args=["price"]), {"range": "30d"})
    (svg,) = svgs(response)
    assert count(svg, "point") == 5
    assert "TronZap: 52.3 sun per energy on" in svg
    assert "itrx.io: 65 sun per energy on" in svg


def test_each_chart_has_a_data_table_and_a_legend(viewer_client, seeded):
    page = viewer_client.get(reverse("balances:chart", args=["cost"]), {"range": "7d"})
    html = page.content.decode()
    assert "<summary>Data table</summary>" in html
    assert html.count('<tr><th scope="row">') == 7  # one row per day
    assert "TronZap (hatch)" in html and "Netts (dots)" in html


def test_the_24_hour_range_is_drawn_per_hour(viewer_client, seeded):
    page = viewer_client.get(reverse("balances:chart", args=["cost"]), {"range": "24h"})
    assert page.content.decode().count('<tr><th scope="row">') == 24
    assert page.context["view"].title == "Cost per hour by provider"


def test_an_htmx_range_switch_returns_only_the_chart_fragment(viewer_client, seeded):
    url = reverse("balances:chart", args=["cost"])
    response = viewer_client.get(url, {"range": "90d"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="chart"')
    assert "<html" not in html
    assert '<a href="/charts/cost/?range=90d" hx-get="/charts/cost/?range=90d"' in html
    assert re.search(r'range=90d"[^>]*aria-current="true"', html)


def test_the_dashboard_switches_all_charts_through_one_htmx_fragment(viewer_client, seeded):
    response = viewer_client.get("/", {"range": "7d"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="charts"')
    assert len(svgs(response)) == 2 + 3  # cost, price and one balance chart per enabled account
    assert 'hx-target="#charts"' in html and 'hx-push-url="true"' in html


def test_a_history_restore_gets_the_whole_page(viewer_client, seeded):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    html = viewer_client.get("/", {"range": "7d"}, headers=headers).content.decode()
    assert "<html" in html


def test_an_unknown_range_falls_back_to_30_days(viewer_client, seeded):
    response = viewer_client.get(reverse("balances:chart", args=["cost"]), {"range": "1y"})
    assert response.context["range"].key == "30d"


def test_charts_of_an_empty_database_say_so(viewer_client, itrx_account):
    html = viewer_client.get("/").content.decode()
    assert html.count("No data in this range") >= 3


def test_an_unknown_chart_is_not_found(viewer_client, db):
    assert viewer_client.get("/charts/pie/").status_code == 404


@pytest.mark.parametrize("path", ["/charts/cost/", "/charts/price/"])
def test_anonymous_visitors_cannot_see_charts(client, db, path):
    assert client.get(path).status_code == 302


def test_anonymous_visitors_cannot_see_a_balance_chart(client, itrx_account):
    url = reverse("balances:balance_chart", args=[itrx_account.code])
    assert client.get(url).status_code == 302


def test_the_pages_carry_no_inline_script_or_style(viewer_client, seeded):
    for url in ["/", "/charts/cost/", "/charts/price/"]:
        html = viewer_client.get(url).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html

"""Scorecards on the providers page and in the API; routing reasons on the order page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.orders.models import Order, Route, RouteAttempt
from tests.api.conftest import bearer, issue

ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def judged(account, statuses, *, hours_ago: float = 0.1):
    when = timezone.now() - timedelta(hours=hours_ago)
    return [
        Order.objects.create(
            account=account,
            receive_address=ADDRESS,
            energy=65_000,
            period="1H",
            burn_sun_per_energy=100,
            status="completed",
            provider_ref=f"s-{i}",
            created=when,
            submitted_at=when,
            finished_at=when + timedelta(seconds=4),
            delivery_status=s,
            delivery_verified_at=when + timedelta(seconds=6) if s == "verified" else None,
        )
        for i, s in enumerate(statuses)
    ]


@pytest.mark.django_db
def test_the_providers_page_shows_each_accounts_scorecard(viewer_client, itrx_account):
    judged(itrx_account, ["verified"] * 3 + ["missing"])
    judged(itrx_account, ["short"] * 5, hours_ago=48)  # outside the default 24 h
    page = viewer_client.get(reverse("providers")).content.decode()
    assert "Scorecards: the last 24 h" in page
    assert '75.0% <span class="muted">of 4</span>' in page
    assert "4.0 / 4.0 s" in page and "6.0 / 6.0 s" in page  # to done, to verified
    wide = viewer_client.get(reverse("providers") + "?hours=72").content.decode()
    assert "the last 72 h" in wide and '33.3% <span class="muted">of 9</span>' in wide


@pytest.mark.django_db
@pytest.mark.parametrize("hours", ["0", "-3", "abc", "99999999", "1e3", "\u0661\u0662"])
def test_a_bad_window_is_refused_in_words_and_the_default_shown(viewer_client, itrx_account, hours):
    response = viewer_client.get(reverse("providers"), {"hours": hours})
    assert response.status_code == 200
    page = response.content.decode()
    assert "whole number of hours" in page and "Scorecards: the last 24 h" in page


@pytest.mark.django_db
def test_anonymous_users_do_not_see_scorecards(client, itrx_account):
    assert client.get(reverse("providers")).status_code == 302
    assert client.get(f"/api/v1/accounts/{itrx_account.code}/scorecard").status_code == 401


@pytest.mark.django_db
def test_the_api_serves_scorecards_by_account_and_window(client, itrx_account, tronzap_account):
    judged(itrx_account, ["verified"] * 9 + ["reclaimed_early"])
    judged(itrx_account, ["missing"] * 10, hours_ago=30)
    _token, raw = issue("reporting", "viewer")
    one = client.get(f"/api/v1/accounts/{itrx_account.code}/scorecard", **bearer(raw))
    assert one.status_code == 200
    body = one.json()
    assert body["account"] == itrx_account.name and body["hours"] == 24
    assert body["delivery"]["verified_percent"] == 90.0
    assert body["delivery"]["reclaimed_early"] == 1
    assert body["seconds_to_done"] == {"p50": 4.0, "p95": 4.0}
    by_name = client.get(
        f"/api/v1/accounts/{itrx_account.name}/scorecard?hours=48", **bearer(raw)
    ).json()
    assert by_name["delivery"]["judged"] == 20 and by_name["delivery"]["missing"] == 10
    listing = client.get("/api/v1/scorecards", **bearer(raw)).json()
    assert {c["account"] for c in listing} == {itrx_account.name, tronzap_account.name}
    empty = next(c for c in listing if c["account"] == tronzap_account.name)
    assert empty["orders"] == 0 and empty["delivery"]["verified_percent"] is None


@pytest.mark.django_db
def test_the_api_refuses_an_unknown_account_or_window(client, itrx_account):
    _token, raw = issue("reporting", "viewer")
    missing = client.get("/api/v1/accounts/nobody/scorecard", **bearer(raw))
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_account"
    bad = client.get(f"/api/v1/accounts/{itrx_account.code}/scorecard?hours=0", **bearer(raw))
    assert bad.status_code == 422
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/accounts/{account_id}/scorecard" in schema["paths"]
    assert "ScorecardOut" in schema["components"]["schemas"]


@pytest.mark.django_db
def test_the_order_page_shows_why_each_account_won_or_lost(viewer_client, itrx_account):
    [order] = judged(itrx_account, ["verified"])
    route = Route.objects.create(key="k", body_hash="h", via="api:x", receive_address=ADDRESS)
    RouteAttempt.objects.create(
        route=route,
        number=1,
        account=itrx_account,
        price_sun=3_000_000,
        order=order,
        outcome="accepted",
        reason="Lowest effective price: 3 TRX / 100% verified of 12 = 3 TRX effective.",
        ranking=[
            {
                "account": "netts-main",
                "price_sun": 2_800_000,
                "verified_percent": 70.0,
                "judged": 20,
                "effective_price_sun": 4_000_000,
                "standing": "out",
                "reason": "only 70% of its 20 orders judged on chain were verified",
            }
        ],
    )
    page = viewer_client.get(reverse("orders:detail", args=[order.code])).content.decode()
    assert "Lowest effective price" in page
    assert "netts-main" in page and "only 70% of its 20 orders" in page
    assert "4.000000" in page  # its effective price

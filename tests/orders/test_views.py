from __future__ import annotations

import pytest
from django.urls import reverse

from energydash.core.models import AuditEvent
from energydash.orders.models import Order, Status
from tests.orders.conftest import address

ALICE = address("alice")


@pytest.fixture
def wsgi_clients(monkeypatch, http):
    """Route every adapter the views build through the in-process sandbox."""
    from energydash.orders import placement, quotes
    from energydash.providers import registry

    def through_sandbox(credentials, client=None, **kw):
        return registry.adapter_for(credentials, http, **kw)

    monkeypatch.setattr(placement, "adapter_for", through_sandbox)
    monkeypatch.setattr(quotes, "adapter_for", through_sandbox)


def order_for(box, **kw) -> Order:
    values = {
        "account": box.account,
        "kind": "energy",
        "receive_address": ALICE,
        "energy": 65_000,
        "period": "1H",
        "status": Status.SUBMITTED,
        "burn_sun_per_energy": 100,
        "quoted_cost_sun": 4_000_000,
    }
    values.update(kw)
    return Order.objects.create(**values)


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_new_order_compares_live_prices_and_preselects_the_cheapest(
    operator_client, itrx, tronzap, netts, wsgi_clients
):
    response = operator_client.get(
        reverse("orders:new"),
        {"kind": "energy", "receive_address": ALICE, "energy_preset": "131000", "period": "1H"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("Sandbox itrx", "Sandbox tronzap", "Sandbox netts"):
        assert name in html
    rows = response.context["rows"]
    assert sum(r.cheapest for r in rows) == 1
    cheapest = min((r for r in rows if r.available), key=lambda r: r.total_sun)
    assert (
        cheapest.cheapest
        and f'value="{cheapest.account.code}" id="acct-{cheapest.account.code}" checked' in html
    )
    assert all(r.savings_sun == 131_000 * 100 - r.total_sun for r in rows if r.available)


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_quotes_come_back_as_a_fragment_for_htmx(operator_client, itrx, wsgi_clients):
    response = operator_client.get(
        reverse("orders:new"),
        {"kind": "energy", "receive_address": ALICE, "energy_preset": "65000"},
        headers={"HX-Request": "true", "HX-Target": "quotes"},
    )
    html = response.content.decode()
    assert "Live prices" in html and "<html" not in html


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_provider_that_does_not_offer_the_period_says_so(
    operator_client, itrx, netts, wsgi_clients
):
    response = operator_client.get(
        reverse("orders:new"),
        {"kind": "energy", "receive_address": ALICE, "energy_preset": "65000", "period": "1D"},
    )
    netts_row = next(r for r in response.context["rows"] if r.account == netts.account)
    assert "does not offer 1D" in netts_row.error and not netts_row.available


def test_the_address_is_validated_live_with_a_clear_message(viewer_client):
    bad = viewer_client.get(reverse("orders:validate_address"), {"receive_address": ALICE[:-2]})
    good = viewer_client.get(reverse("orders:validate_address"), {"receive_address": ALICE})
    assert "has 32" in bad.content.decode() and "Valid TRON address" in good.content.decode()


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_confirm_shows_the_exact_cost_then_placing_creates_one_order(
    operator_client, operator, itrx, wsgi_clients
):
    params = {
        "kind": "energy",
        "receive_address": ALICE,
        "energy_preset": "65000",
        "period": "1H",
        "account": str(itrx.account.code),
    }
    confirm = operator_client.get(reverse("orders:confirm"), params)
    row = confirm.context["row"]
    token = confirm.context["token"]
    assert f"Place order for {row.total_sun / 1_000_000:.6f} TRX" in confirm.content.decode()

    post = {**params, "confirmed_cost_sun": row.total_sun, "token": token}
    first = operator_client.post(reverse("orders:place"), post)
    second = operator_client.post(reverse("orders:place"), post)  # double click
    order = Order.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == reverse("orders:detail", args=[order.code])
    assert order.placed_by == operator and order.cost_sun == row.total_sun
    assert AuditEvent.objects.filter(action="order.placed", actor=operator).count() == 1


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_refused_placement_shows_the_reason_and_changes_nothing(
    operator_client, itrx, wsgi_clients
):
    itrx.account.max_order_sun = 1
    itrx.account.save()
    params = {
        "kind": "energy",
        "receive_address": ALICE,
        "energy_preset": "65000",
        "period": "1H",
        "account": str(itrx.account.code),
        "confirmed_cost_sun": 3_900_000,
        "token": "t1",
    }
    response = operator_client.post(reverse("orders:place"), params)
    assert response.status_code == 200
    assert "maximum of 0.000001 TRX per order" in response.content.decode()
    assert not Order.objects.exists()


def test_viewers_see_orders_but_cannot_place_or_review(viewer_client, itrx):
    order = order_for(itrx, status=Status.NEEDS_REVIEW)
    assert viewer_client.get(reverse("orders:list")).status_code == 200
    assert viewer_client.get(reverse("orders:detail", args=[order.code])).status_code == 200
    assert (
        viewer_client.get(
            reverse("orders:confirm"), {"account": str(itrx.account.code)}
        ).status_code
        == 403
    )
    assert viewer_client.post(reverse("orders:place"), {}).status_code == 403
    assert (
        viewer_client.post(
            reverse("orders:review", args=[order.code]), {"decision": "not_placed"}
        ).status_code
        == 403
    )
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW and not Order.objects.exclude(pk=order.pk).exists()


def test_the_list_filters_and_flags_orders_needing_attention(viewer_client, itrx, tronzap):
    order_for(itrx, status=Status.COMPLETED)
    review = order_for(tronzap, status=Status.NEEDS_REVIEW)
    response = viewer_client.get(reverse("orders:list"), {"status": "needs_review"})
    page = list(response.context["page"])
    assert page == [review]
    assert "1 order needs attention" in response.content.decode()
    by_provider = viewer_client.get(reverse("orders:list"), {"provider": "itrx"})
    assert [o.account for o in by_provider.context["page"]] == [itrx.account]


def test_open_rows_poll_and_final_rows_stop_polling(viewer_client, itrx):
    open_order = order_for(itrx, status=Status.DELEGATING)
    done = order_for(itrx, status=Status.COMPLETED)
    still = viewer_client.get(reverse("orders:row", args=[open_order.code]))
    final = viewer_client.get(reverse("orders:row", args=[done.code]))
    assert still.status_code == 200 and 'hx-trigger="every 3s"' in still.content.decode()
    assert final.status_code == 286 and "hx-trigger" not in final.content.decode()
    assert "Completed" in final.content.decode()


@pytest.mark.django_db(transaction=True)  # the sandbox answers in the same request
def test_an_operator_marks_a_review_order_as_placed_and_it_is_audited(
    operator_client, operator, netts, monkeypatch, http
):
    from energydash.orders import review
    from energydash.providers import registry
    from tests.orders.test_review_lookup import remote_order

    monkeypatch.setattr(review, "adapter_for", lambda c, client=None: registry.adapter_for(c, http))
    remote_order(netts, "1H777", cost_sun=2_230_000)
    order = order_for(netts, status=Status.NEEDS_REVIEW)
    url = reverse("orders:review", args=[order.code])
    missing = operator_client.post(url, {"decision": "placed", "provider_ref": ""})
    assert "Enter the provider" in missing.content.decode()
    response = operator_client.post(
        url, {"decision": "placed", "provider_ref": "1H777", "cost_trx": "9.99"}
    )
    order.refresh_from_db()
    assert response.status_code == 302
    assert (
        order.status == Status.DELEGATING
        and order.provider_ref == "1H777"
        and order.cost_sun == 2_230_000  # what Netts says it charged, not the typed figure
    )
    assert AuditEvent.objects.get(action="order.marked_placed").actor == operator


def test_an_operator_marks_a_review_order_as_not_placed(operator_client, netts):
    order = order_for(netts, status=Status.NEEDS_REVIEW)
    operator_client.post(
        reverse("orders:review", args=[order.code]),
        {"decision": "not_placed", "comment": "not in dashboard"},
    )
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert "not in dashboard" in order.events.last().message
    assert AuditEvent.objects.filter(action="order.marked_not_placed").count() == 1


def test_anonymous_users_are_sent_to_login(client, db):
    assert client.get(reverse("orders:list")).status_code == 302
    assert client.get(reverse("orders:new")).status_code == 302


def test_the_list_links_to_the_csv_export_with_the_same_filters(viewer_client, itrx):
    html = viewer_client.get(reverse("orders:list"), {"provider": "itrx"}).content.decode()
    assert f'href="{reverse("balances:orders_csv")}?provider=itrx"' in html


def test_review_without_a_chosen_account_goes_back_to_the_quotes(operator_client, itrx):
    params = {"kind": "energy", "receive_address": ALICE, "energy_preset": "65000"}
    response = operator_client.get(reverse("orders:confirm"), params)
    assert response.status_code == 302
    assert response.url.startswith(reverse("orders:new") + "?kind=energy")
    assert not Order.objects.exists()

"""The operator console's defects from issue 11, each checked at the view level.

Rendering and behaviour that need a browser (menu on a phone, busy button, live detail page,
no page overflow) are in tests/browser/test_console_pages.py.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.balances.models import AccountBalanceState
from energydash.console.orders.forms import OrderRequestForm
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, OrderEvent, Status
from energydash.providers.models import ProviderAccount
from tests.orders.conftest import address
from tests.orders.test_views import order_for, wsgi_clients  # noqa: F401  (fixture)

ALICE = address("alice")
BOB = address("bob")


def quotes(client, **params):
    base = {"kind": "energy", "receive_address": ALICE, "period": "1H"}
    return client.get(reverse("orders:new"), {**base, **params})


# 1. The energy is one number: what is typed is what is quoted.


def test_typed_energy_is_what_the_form_orders_and_presets_fill_the_same_number():
    typed = OrderRequestForm({"kind": "energy", "receive_address": ALICE, "energy": "200000"})
    preset = OrderRequestForm(
        {"kind": "energy", "receive_address": ALICE, "energy": "200000", "energy_preset": "131000"}
    )
    old_link = OrderRequestForm(
        {"kind": "energy", "receive_address": ALICE, "energy_preset": "custom", "energy": "90000"}
    )
    empty = OrderRequestForm({"kind": "energy", "receive_address": ALICE, "energy": ""})
    assert typed.is_valid() and typed.cleaned_data["energy"] == 200_000
    # A pressed preset button (no JavaScript) fills the box: the page then shows 131000.
    assert preset.is_valid() and preset.cleaned_data["energy"] == 131_000
    assert 'value="131000"' in str(preset["energy"])
    assert old_link.is_valid() and old_link.cleaned_data["energy"] == 90_000
    assert not empty.is_valid() and empty.errors["energy"] == ["Enter the amount of energy."]


@pytest.mark.django_db(transaction=True)
def test_typing_200000_quotes_200000_not_the_preset(operator_client, itrx, wsgi_clients):  # noqa: F811
    response = quotes(operator_client, energy="200000")
    html = response.content.decode()
    assert "Live prices for 200,000 energy" in html
    [row] = response.context["rows"]
    assert row.available and row.burn_sun == 200_000 * 100
    assert 'name="energy_preset"' not in html.split('id="quotes"')[1]  # no hidden second control
    assert 'type="radio" name="energy_preset"' not in html


def test_the_form_marks_each_field_with_its_kind_so_only_those_show(operator_client):
    html = operator_client.get(reverse("orders:new")).content.decode()
    energy_block = html.split('class="kind-field for-energy"')[1].split("</div>\n    <div")[0]
    collection_block = html.split('class="kind-field for-collection"')[1]
    assert 'name="energy"' in energy_block and 'name="period"' in energy_block
    assert 'name="activate"' in energy_block
    assert 'name="to_address"' in collection_block.split("</div>")[0]


def test_fields_of_another_kind_are_ignored():
    form = OrderRequestForm(
        {
            "kind": "activation",
            "receive_address": ALICE,
            "energy": "65000",
            "activate": "on",
            "to_address": BOB,
        }
    )
    assert form.is_valid()
    assert form.cleaned_data["energy"] is None and form.cleaned_data["activate"] is False
    assert form.cleaned_data["to_address"] == ""


# 2. A settled order does not keep showing an old error as if it were current.


def test_a_reconciled_completed_order_marks_the_lost_answer_error_superseded(viewer_client, itrx):
    lost = "itrx gave no usable answer (timeout); reconcile before retrying."
    done = order_for(itrx, status=Status.COMPLETED, cost_sun=4_000_000, last_error=lost)
    failed = order_for(itrx, status=Status.FAILED, last_error="address not activated")
    html = viewer_client.get(reverse("orders:detail", args=[done.code])).content.decode()
    assert 'id="order-error"' not in html
    assert "superseded: the order is now completed" in html and lost in html
    failed_html = viewer_client.get(reverse("orders:detail", args=[failed.code])).content.decode()
    assert '<p class="error" id="order-error">address not activated</p>' in failed_html


# 5. Review is not offered when every provider refused.


@pytest.mark.django_db(transaction=True)
def test_review_is_not_offered_when_every_account_refuses(
    operator_client,
    itrx,
    netts,
    wsgi_clients,  # noqa: F811
):
    response = quotes(operator_client, energy="100")  # below every provider's minimum
    html = response.content.decode()
    assert response.context["rows"] and not any(r.available for r in response.context["rows"])
    assert "Review order" not in html
    assert "No account can take this order as it is" in html


@pytest.mark.django_db(transaction=True)
def test_review_is_offered_when_one_account_can_serve(operator_client, itrx, wsgi_clients):  # noqa: F811
    html = quotes(operator_client, energy="65000").content.decode()
    assert "Review order" in html and "No account can take" not in html


def test_review_without_a_chosen_account_says_so(operator_client, itrx):
    params = {"kind": "energy", "receive_address": ALICE, "energy": "65000", "period": "1H"}
    response = operator_client.get(reverse("orders:confirm"), params, follow=True)
    assert "Choose a provider account from the quotes" in response.content.decode()


# 6. A wrong TronZap token reads "authentication failed", with TronZap's words as detail.


@pytest.mark.django_db(transaction=True)
def test_a_wrong_tronzap_token_reads_authentication_failed(
    operator_client,
    tronzap,
    wsgi_clients,  # noqa: F811
):
    tronzap.account.api_key = "wrong-token"
    tronzap.account.save()
    response = quotes(operator_client, energy="65000")
    [row] = response.context["rows"]
    assert "credentials (authentication failed)" in row.error, row.error
    # TronZap's own text and request id stay in the log (issue 25, item 7).
    assert "Incorrect token or signature" not in response.content.decode()
    assert "[auth]" not in row.error


# 8. Failed orders cost nothing and save nothing; estimates say "up to".


def test_a_failed_order_costs_nothing_and_saves_nothing(viewer_client, itrx):
    order = order_for(
        itrx, status=Status.FAILED, quoted_cost_sun=3_250 * SUN_PER_TRX, energy=50_000
    )
    html = viewer_client.get(reverse("orders:detail", args=[order.code])).content.decode()
    assert "nothing was charged: the provider refused it before accepting it" in html
    assert "saved" not in html and "Burning instead" not in html
    assert '3,250.000000 TRX <span class="muted">(not charged)</span>' in html


@pytest.mark.django_db(transaction=True)
def test_a_collection_is_confirmed_as_up_to_its_estimate(operator_client, itrx, wsgi_clients):  # noqa: F811
    params = {
        "kind": "collection",
        "receive_address": ALICE,
        "to_address": BOB,
        "account": str(itrx.account.code),
    }
    response = operator_client.get(reverse("orders:confirm"), params)
    html = response.content.decode()
    row = response.context["row"]
    assert row.available
    assert re.search(r"Place order for up to [\d,]+\.\d{6} TRX", html)
    assert "Kind</dt><dd>Collection (itrx)" in html


# 9. Placing shows that it is waiting for the provider.


@pytest.mark.django_db(transaction=True)
def test_the_place_button_says_which_provider_it_waits_for(operator_client, itrx, wsgi_clients):  # noqa: F811
    params = {"kind": "energy", "receive_address": ALICE, "energy": "65000", "period": "1H"}
    html = operator_client.get(
        reverse("orders:confirm"), {**params, "account": str(itrx.account.code)}
    ).content.decode()
    assert 'data-busy-text="Waiting for itrx.io…"' in html
    assert "js/console.js" in html  # the script that applies it, from our origin


# 10. Styled 403 / 404 / 500 pages in the console's layout, with a way back.


def test_an_unknown_chart_is_a_styled_404_with_the_navigation(viewer_client):
    response = viewer_client.get("/charts/bogus/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and 'aria-label="Main"' in html
    assert "Back to the dashboard" in html and "/charts/bogus/" in html


def test_a_forbidden_action_is_a_styled_403_in_the_layout(viewer_client):
    response = viewer_client.get(reverse("orders:confirm"), {"kind": "energy"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in html and "operator role" in html and "Back to the dashboard" in html


def test_the_500_page_renders_without_a_request():
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "Something went wrong" in html and "Back to the dashboard" in html


# 11. Quotes above the known balance, and unusually large orders, are marked and warned.


@pytest.mark.django_db(transaction=True)
def test_a_quote_above_the_known_balance_is_marked_and_warned_before_placing(
    operator_client,
    itrx,
    wsgi_clients,  # noqa: F811
):
    AccountBalanceState.objects.create(
        account=itrx.account, balance_sun=1_000_000, as_of=timezone.now()
    )
    itrx.account.large_order_sun = 2 * SUN_PER_TRX
    itrx.account.save()
    response = quotes(operator_client, energy="65000")
    [row] = response.context["rows"]
    html = response.content.decode()
    assert row.over_balance and row.large
    assert "More than the known balance (1.00 TRX)" in html
    assert "Unusually large for this account (warns above 2.00 TRX)" in html

    confirm = operator_client.get(
        reverse("orders:confirm"),
        {
            "kind": "energy",
            "receive_address": ALICE,
            "energy": "65000",
            "period": "1H",
            "account": str(itrx.account.code),
        },
    ).content.decode()
    assert 'id="warn-balance"' in confirm and "held 1.000000 TRX" in confirm
    assert 'id="warn-large"' in confirm


@pytest.mark.django_db(transaction=True)
def test_a_quote_within_the_balance_has_no_warning(operator_client, itrx, wsgi_clients):  # noqa: F811
    AccountBalanceState.objects.create(
        account=itrx.account, balance_sun=10_000 * SUN_PER_TRX, as_of=timezone.now()
    )
    response = quotes(operator_client, energy="65000")
    [row] = response.context["rows"]
    assert not row.over_balance and not row.large
    assert "quote-warning" not in response.content.decode()


# Formatting: grouped energy, zone on every timestamp, no raw status codes in the facts.


def test_the_detail_page_groups_figures_names_the_zone_and_hides_raw_codes(
    viewer_client, itrx, settings
):
    order = order_for(
        itrx,
        energy=50_000_000,
        status=Status.COMPLETED,
        cost_sun=3_250_123_456,
        raw_status="errno 0",
    )
    OrderEvent.objects.create(
        order=order, kind="state", from_status="submitted", to_status="needs_review"
    )
    html = viewer_client.get(reverse("orders:detail", args=[order.code])).content.decode()
    assert "50,000,000 for 1H" in html
    assert "3,250.123456 TRX (3,250,123,456 sun)" in html
    assert "errno 0" not in html
    assert "Submitted → Needs review" in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", html)


def test_admin_shows_timestamps_in_the_console_format(admin_client_, itrx_account):
    html = admin_client_.get(
        reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    ).content.decode()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", html)


# Live detail page: polls while open, stops (286) once final or waiting for review.


def test_the_detail_page_polls_while_open_and_stops_when_final(viewer_client, itrx):
    order = order_for(itrx, status=Status.SUBMITTED)
    url = reverse("orders:detail", args=[order.code])
    page = viewer_client.get(url).content.decode()
    assert f'hx-get="{url}" hx-trigger="every 3s"' in page
    live = {"HX-Request": "true", "HX-Target": "order-live"}
    open_part = viewer_client.get(url, headers=live)
    assert open_part.status_code == 200 and "<html" not in open_part.content.decode()
    assert 'hx-trigger="every 3s"' in open_part.content.decode()

    Order.objects.filter(pk=order.pk).update(status=Status.COMPLETED, cost_sun=3_900_000)
    final = viewer_client.get(url, headers=live)
    assert final.status_code == 286
    assert 'data-status="completed"' in final.content.decode()
    assert "every 3s" not in final.content.decode()

    Order.objects.filter(pk=order.pk).update(status=Status.NEEDS_REVIEW)
    assert viewer_client.get(url, headers=live).status_code == 286


# A notice on every page when any account is low or failing.


@pytest.mark.parametrize("page", ["home", "orders:list", "orders:new", "providers"])
def test_every_page_says_when_an_account_is_low_or_failing(viewer_client, itrx_account, page):
    other = ProviderAccount.objects.create(
        name="tz spare", provider="tronzap", api_key="k" * 20, api_secret="s" * 20
    )
    AccountBalanceState.objects.create(account=itrx_account, balance_sun=1, as_of=timezone.now())
    AccountBalanceState.objects.create(
        account=other, last_error="authentication failed", error_since=timezone.now()
    )
    html = viewer_client.get(reverse(page)).content.decode()
    notice = html.split('id="account-notice"')[1].split("</p>")[0]
    assert "balance refresh failing for tz spare" in notice
    assert f"low balance on {itrx_account.name}" in notice


def test_no_notice_when_every_account_is_fine(viewer_client, itrx_account):
    AccountBalanceState.objects.create(
        account=itrx_account, balance_sun=10_000 * SUN_PER_TRX, as_of=timezone.now()
    )
    html = viewer_client.get(reverse("providers")).content.decode()
    assert 'id="account-notice"' not in html


# 12. One truth for Netts's maximum: the quotes use the limit the provider (sandbox) lists.


@pytest.mark.django_db(transaction=True)
def test_netts_quotes_follow_the_maximum_the_provider_lists(operator_client, wsgi_clients):  # noqa: F811
    from tests.orders.conftest import make_box

    make_box("netts", max_energy=500_000)
    [over] = quotes(operator_client, energy="1000000").context["rows"]
    [within] = quotes(operator_client, energy="400000").context["rows"]
    assert not over.available
    assert "1,000,000 energy is above Netts's maximum order of 500,000" in over.error
    assert within.available

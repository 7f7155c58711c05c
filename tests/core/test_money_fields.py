"""Money typed by people is TRX; stored money is integer sun. Edges of that conversion."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse

from energydash.lib.money_fields import TrxField, plain_trx
from energydash.lib.tron import SUN_PER_TRX, format_energy, format_trx, format_unit_price
from energydash.providers.models import ProviderAccount
from tests.core.test_admin_vault import form_data


@pytest.mark.parametrize(
    ("typed", "sun"),
    [
        ("0", 0),
        ("0.000001", 1),
        ("1,000,000,000", 1_000_000_000 * SUN_PER_TRX),
        ("1000000000", 1_000_000_000 * SUN_PER_TRX),
        ("500", 500 * SUN_PER_TRX),
        (" 12.5 ", 12_500_000),
        ("1 737.25", 1_737_250_000),
    ],
)
def test_trx_typed_in_a_form_becomes_exact_sun(typed, sun):
    assert TrxField().clean(typed) == sun


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("0.0000001", "at most 6 decimal places"),
        ("-1", "cannot be negative"),
        ("-0.000001", "cannot be negative"),
        ("abc", "is not an amount in TRX"),
        ("1e400", "more than this console accepts"),
        ("NaN", "is not an amount in TRX"),
    ],
)
def test_inexact_negative_or_non_numeric_trx_is_refused_with_words(typed, words):
    with pytest.raises(forms.ValidationError) as caught:
        TrxField().clean(typed)
    assert words in " ".join(caught.value.messages)


def test_a_minimum_in_sun_is_explained_in_trx():
    with pytest.raises(forms.ValidationError) as caught:
        TrxField(min_sun=1, required=False).clean("0")
    assert caught.value.messages == ["Enter at least 0.000001 TRX."]
    assert TrxField(required=False).clean("") is None


@pytest.mark.parametrize(
    ("sun", "shown"),
    [
        (0, "0"),
        (1, "0.000001"),
        (500 * SUN_PER_TRX, "500"),
        (1_000_000_000 * SUN_PER_TRX, "1,000,000,000"),
        (1_737_250_000, "1,737.25"),
    ],
)
def test_stored_sun_is_shown_as_trx_and_reads_back_the_same(sun, shown):
    field = TrxField()
    assert field.prepare_value(sun) == shown
    assert field.clean(shown) == sun


def test_console_formats_group_thousands_with_fixed_places():
    assert format_trx(3_250_000_000, 2) == "3,250.00"
    assert format_trx(4_225_000, 6) == "4.225000"
    assert format_trx(1_000_000_000 * SUN_PER_TRX, 2) == "1,000,000,000.00"
    assert format_trx(None) == "—"
    assert format_energy(50_000_000) == "50,000,000"
    assert format_unit_price("65") == "65.00"
    assert format_unit_price(None) == "—"


def test_admin_takes_and_shows_limits_in_trx(admin_client_, itrx_account):
    url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    data = form_data(
        itrx_account,
        low_balance_threshold_sun="500",
        max_order_sun="0.000001",
        daily_budget_sun="1,000,000,000",
        large_order_sun="2,500.5",
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert account.low_balance_threshold_sun == 500 * SUN_PER_TRX
    assert account.max_order_sun == 1
    assert account.daily_budget_sun == 1_000_000_000 * SUN_PER_TRX
    assert account.large_order_sun == 2_500_500_000

    page = admin_client_.get(url).content.decode()
    assert "Low-balance threshold (TRX)" in page
    assert 'name="low_balance_threshold_sun" value="500"' in page
    assert 'name="max_order_sun" value="0.000001"' in page
    assert 'name="daily_budget_sun" value="1,000,000,000"' in page


@pytest.mark.parametrize(
    ("field", "typed", "words"),
    [
        ("low_balance_threshold_sun", "0.0000001", "at most 6 decimal places"),
        ("low_balance_threshold_sun", "-5", "cannot be negative"),
        ("max_order_sun", "0", "at least 0.000001 TRX"),
    ],
)
def test_admin_refuses_bad_trx_and_changes_nothing(
    admin_client_, itrx_account, field, typed, words
):
    before = ProviderAccount.objects.values().get(pk=itrx_account.pk)
    url = reverse("admin:providers_provideraccount_change", args=[itrx_account.pk])
    response = admin_client_.post(url, form_data(itrx_account, **{field: typed}))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert ProviderAccount.objects.values().get(pk=itrx_account.pk) == before


def test_plain_trx_for_inputs_has_no_trailing_zeros():
    assert plain_trx(100_000_000) == "100"
    assert plain_trx(100_100_000) == "100.1"

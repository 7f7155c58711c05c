"""The new-order and confirm pages: the menu, the busy text, and providers' refusals in words."""

from __future__ import annotations

import logging
import re

import pytest
from django.urls import reverse

from energydash.providers.errors import REJECTED, ProviderError
from energydash.providers.tronzap import TronZapAdapter
from tests.batches.test_small_things import current_menu_items
from tests.orders.conftest import address
from tests.orders.test_views import wsgi_clients  # noqa: F401  (fixture)

ALICE = address("alice")
REQUEST = {"kind": "energy", "receive_address": ALICE, "energy_preset": "131000", "period": "1H"}


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_the_confirm_page_highlights_new_order_and_shows_the_busy_text_once(
    operator_client,
    itrx,
    wsgi_clients,  # noqa: F811
):
    confirm = operator_client.get(
        reverse("orders:confirm"), {**REQUEST, "account": str(itrx.account.code)}
    )
    html = confirm.content.decode()
    assert current_menu_items(html) == ["New order"]
    notes = re.findall(r'<span class="busy-note[^"]*"', html)
    assert notes and all("visually-hidden" in note for note in notes)
    quotes = operator_client.get(reverse("orders:new"), REQUEST).content.decode()
    notes = re.findall(r'<span class="busy-note[^"]*"', quotes)
    assert notes and all("visually-hidden" in note for note in notes)


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_providers_refusal_reads_as_a_sentence_and_its_detail_goes_to_the_log(
    operator_client,
    tronzap,
    wsgi_clients,  # noqa: F811
    monkeypatch,
    caplog,
):
    raw = "Invalid energy amount [invalid_energy_amount.energy_amount] (request_id 7f3a9c)"

    def refuse(self, *args, **kwargs):
        raise ProviderError(REJECTED, raw, provider="tronzap", code="11", http_status=200)

    monkeypatch.setattr(TronZapAdapter, "quote", refuse)
    with caplog.at_level(logging.WARNING, logger="energydash.orders"):
        response = operator_client.get(reverse("orders:new"), REQUEST)
    html = response.content.decode()
    [row] = response.context["rows"]
    assert not row.available
    assert row.error.startswith("TronZap would not price this request")
    assert "invalid_energy_amount" not in html and "request_id" not in html and "7f3a9c" not in html
    assert "7f3a9c" in caplog.text and "invalid_energy_amount" in caplog.text


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_credentials_refusal_says_to_check_them_without_the_providers_text(
    operator_client,
    tronzap,
    wsgi_clients,  # noqa: F811
    monkeypatch,
):
    def refuse(self, *args, **kwargs):
        raise ProviderError(
            REJECTED,
            "authentication failed: Invalid signature for token orders-tz (request_id 99)",
            provider="tronzap",
            code="1",
        )

    monkeypatch.setattr(TronZapAdapter, "quote", refuse)
    response = operator_client.get(reverse("orders:new"), REQUEST)
    [row] = response.context["rows"]
    assert "credentials" in row.error and "Invalid signature" not in response.content.decode()

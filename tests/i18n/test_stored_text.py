"""Words workers store in English (order timeline, limit and routing reasons) are shown in the
reader's language at display time; the database and the API keep the English, and a sentence
the console does not know is shown exactly as stored."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from energydash.console.stored_text import translate_stored
from energydash.orders import candidates
from energydash.orders.limits import limit_violation
from energydash.orders.models import OrderEvent
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

TRX = 1_000_000


def in_language(lang: str, text: str) -> str:
    with translation.override(lang):
        return translate_stored(text)


def test_the_order_timeline_speaks_the_readers_language(viewer_client, itrx_account):
    o = order(itrx_account)
    accepted = "Accepted by the provider as P-77; cost 3.25 TRX."
    OrderEvent.objects.create(order=o, kind="note", message=accepted)
    OrderEvent.objects.create(
        order=o, kind="note", message="Reconciled: the provider has this order."
    )
    unknown = "Something a provider said that nobody listed."
    OrderEvent.objects.create(order=o, kind="note", message=unknown)
    url = reverse("orders:detail", args=[o.code])
    ru = viewer_client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Accepted by the provider" not in ru and "Reconciled:" not in ru
    assert "Принят провайдером как P-77; стоимость 3.25 TRX." in ru
    assert unknown in ru  # as stored
    zh = viewer_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Accepted by the provider" not in zh and "P-77" in zh
    en = viewer_client.get(url).content.decode()
    assert accepted in en
    # The database keeps the English.
    assert OrderEvent.objects.filter(message=accepted).count() == 1


def test_limit_reasons_translate_with_their_figures(itrx_account):
    itrx_account.max_order_sun = 5 * TRX
    itrx_account.save()
    reason = limit_violation(itrx_account, 6_850_000)
    assert reason.startswith("This order costs 6.850000 TRX")
    ru = in_language("ru", reason)
    assert ru != reason and "6.850000" in ru and itrx_account.name in ru and "5" in ru
    assert "This order costs" not in in_language("zh-hans", reason)
    assert in_language("en", reason) == reason
    itrx_account.max_order_sun = None
    itrx_account.daily_budget_sun = 5 * TRX
    itrx_account.save()
    budget = limit_violation(itrx_account, 6_850_000)
    assert "daily budget" in budget and "daily budget" not in in_language("ru", budget)


def test_routing_reasons_and_notes_translate_nested_sentences(itrx_account):
    over_max = candidates._ineligible(itrx_account, 7 * TRX, 5 * TRX, {})
    low_balance = candidates._ineligible(itrx_account, 7 * TRX, None, {itrx_account.pk: TRX})
    for reason in (over_max, low_balance):
        assert reason and in_language("ru", reason) != reason
    row = candidates.Candidate(account=itrx_account, price_sun=7 * TRX)
    row.effective_sun = 7 * TRX
    candidates._explain([row])
    assert row.standing == "won" and row.note.startswith("Lowest effective price:")
    ru = in_language("ru", row.note)
    assert "Lowest effective price" not in ru and "ranked on its price alone" not in ru


def test_unknown_words_stay_as_stored():
    for text in ("", "A provider's own words.", "Partly known. Reconciled: maybe"):
        assert in_language("ru", text) == text

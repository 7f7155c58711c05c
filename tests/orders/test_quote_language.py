"""The live quotes in the operator's language: they are fetched in worker threads, which must
speak the page's language too (a thread does not inherit Django's active translation)."""

from __future__ import annotations

import pytest

from energydash.providers.errors import REJECTED, ProviderError
from energydash.providers.tronzap import TronZapAdapter
from tests.orders.conftest import address
from tests.orders.test_views import wsgi_clients  # noqa: F401  (fixture)


# Quotes are fetched in worker threads, which only see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_providers_refusal_on_the_quotes_reads_in_the_operators_language(
    operator,
    operator_client,
    tronzap,
    wsgi_clients,  # noqa: F811
    monkeypatch,
):
    """Quotes come back from worker threads; their sentences are still in the page's language."""

    def refuse(self, *args, **kwargs):
        raise ProviderError(REJECTED, "Invalid energy amount", provider="tronzap", code="11")

    monkeypatch.setattr(TronZapAdapter, "quote", refuse)
    request = {"kind": "energy", "receive_address": address("lang"), "energy": "131000"}
    response = operator_client.get("/orders/new/", request, HTTP_ACCEPT_LANGUAGE="ru")
    [row] = response.context["rows"]
    assert row.error.startswith("TronZap не даёт цену на этот запрос")

"""The shared account fixtures, read back from the database as production code sees them
(freshly created instances still hold plain strings where the encrypted fields load Secrets)."""

from __future__ import annotations

import pytest

from energydash.providers.models import ProviderAccount


@pytest.fixture
def itrx_account(itrx_account):
    return ProviderAccount.objects.get(pk=itrx_account.pk)


@pytest.fixture
def tronzap_account(tronzap_account):
    return ProviderAccount.objects.get(pk=tronzap_account.pk)


@pytest.fixture
def netts_account(netts_account):
    return ProviderAccount.objects.get(pk=netts_account.pk)


@pytest.fixture(autouse=True)
def _no_retry_backoff(monkeypatch):
    """Reads are retried with a real sleep between attempts; the tests need not wait for it."""
    from energydash.providers.base import Adapter

    monkeypatch.setitem(Adapter.__init__.__kwdefaults__, "sleep", lambda seconds: None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

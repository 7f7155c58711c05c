from __future__ import annotations

import httpx

from energydash.balances.models import BalanceSnapshot
from energydash.balances.services import refresh_account, state_for
from tests.balances import providers


def test_a_refresh_records_each_providers_balance_in_sun(
    itrx_account, tronzap_account, netts_account
):
    refresh_account(itrx_account, client=providers.itrx_balance(813_892_429_257))
    refresh_account(tronzap_account, client=providers.tronzap_balance(100.5))
    refresh_account(netts_account, client=providers.netts_balance("28361.15"))
    assert state_for(itrx_account).balance_sun == 813_892_429_257
    assert state_for(tronzap_account).balance_sun == 100_500_000
    assert state_for(netts_account).balance_sun == 28_361_150_000
    assert set(BalanceSnapshot.objects.values_list("source", flat=True)) == {"refresh"}


def test_a_manual_refresh_is_recorded_as_manual(itrx_account):
    snapshot = refresh_account(itrx_account, source="manual", client=providers.itrx_balance(7))
    assert (snapshot.balance_sun, snapshot.source) == (7, "manual")


def test_a_refresh_error_never_writes_a_balance(itrx_account):
    refresh_account(itrx_account, client=providers.itrx_balance(5_000_000))
    result = refresh_account(itrx_account, client=providers.answering(503, {"error": "down"}))
    assert result is None
    assert list(BalanceSnapshot.objects.values_list("balance_sun", flat=True)) == [5_000_000]
    state = state_for(itrx_account)
    assert state.balance_sun == 5_000_000
    assert state.last_error == "provider unavailable"
    assert state.error_since is not None


def test_a_wrong_itrx_key_reads_authentication_failed(itrx_account):
    refresh_account(itrx_account, client=providers.answering(200, {}))
    state = state_for(itrx_account)
    assert state.last_error == "authentication failed"
    assert state.balance_sun is None
    assert not BalanceSnapshot.objects.exists()


def test_a_tronzap_refusal_reads_authentication_failed(tronzap_account):
    refresh_account(tronzap_account, client=providers.answering(401, {"message": "no"}))
    assert state_for(tronzap_account).last_error == "authentication failed"


def test_a_netts_whitelist_refusal_reads_ip_not_whitelisted(netts_account):
    body = {"detail": "Invalid API key or IP not in whitelist"}
    refresh_account(netts_account, client=providers.answering(401, body))
    state = state_for(netts_account)
    assert state.last_error == "IP not whitelisted"
    assert "whitelist" in state.last_error_detail


def test_an_unreachable_provider_reads_provider_unavailable(tronzap_account):
    client = providers.failing(httpx.ConnectError("refused"))
    refresh_account(tronzap_account, client=client)
    assert state_for(tronzap_account).last_error == "provider unavailable"


def test_the_error_keeps_its_first_time_until_a_refresh_succeeds(itrx_account):
    down = providers.answering(502, {})
    refresh_account(itrx_account, client=down)
    since = state_for(itrx_account).error_since
    refresh_account(itrx_account, client=down)
    assert state_for(itrx_account).error_since == since
    refresh_account(itrx_account, client=providers.itrx_balance(1))
    state = state_for(itrx_account)
    assert (state.last_error, state.error_since, state.balance_sun) == ("", None, 1)


def test_undecryptable_credentials_are_an_error_in_words_not_a_crash(itrx_account, settings):
    from cryptography.fernet import Fernet

    settings.ENERGYDASH_FIELD_KEYS = [Fernet.generate_key().decode()]  # the old key is gone
    from energydash.providers.models import ProviderAccount

    account = ProviderAccount.objects.only("id", "name").get(pk=itrx_account.pk)
    assert refresh_account(account, client=providers.itrx_balance(1)) is None
    assert state_for(account).last_error == "credentials cannot be decrypted — re-enter them"


def test_a_crash_in_one_account_does_not_stop_the_pass(itrx_account, tronzap_account, monkeypatch):
    from energydash.balances import passes

    def refresh_account(account, *, source="refresh", client=None):
        if account.provider == "itrx":
            raise KeyError("balance")
        from energydash.balances.services import record_balance

        return record_balance(account, 5, source=source)

    monkeypatch.setattr(passes, "refresh_account", refresh_account)
    results = {r.account.name: r for r in passes.refresh_all()}
    assert results["itrx main"].error.startswith("refresh failed (internal error")
    assert results["tronzap main"].balance_sun == 5
    assert "KeyError" in state_for(itrx_account).last_error_detail

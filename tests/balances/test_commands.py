from __future__ import annotations

from io import StringIO

from django.core import mail
from django.core.management import call_command

from energydash.balances.services import record_balance
from energydash.lib.tron import SUN_PER_TRX


def run(name: str) -> str:
    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


def test_refresh_balances_prints_each_accounts_balance_or_error(
    itrx_account, tronzap_account, monkeypatch
):
    from energydash.balances import services
    from energydash.providers.base import REJECTED, ProviderError

    def refresh_account(account, *, source="refresh", client=None):
        if account.provider == "tronzap":
            error = ProviderError(REJECTED, "authentication failed", http_status=401)
            services.record_refresh_error(account, error)
            return None
        return services.record_balance(account, 1_234_500_000, source=source)

    monkeypatch.setattr("energydash.balances.passes.refresh_account", refresh_account)
    output = run("refresh_balances")
    assert "itrx main: 1,234.500000 TRX" in output
    assert "tronzap main: error: authentication failed" in output
    assert "1 refreshed, 1 failed" in output


def test_refresh_balances_says_when_there_is_nothing_to_refresh(db):
    assert "No enabled provider accounts." in run("refresh_balances")


def test_check_balances_prints_the_alerts_sent(itrx_account):
    itrx_account.alert_emails = "ops@example.com"
    itrx_account.save()
    record_balance(itrx_account, 3 * SUN_PER_TRX, source="refresh")
    output = run("check_balances")
    assert "Low balance: itrx main has 3.00 TRX" in output and "ops@example.com" in output
    assert len(mail.outbox) == 1
    assert "No alerts to send." in run("check_balances")

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django_q.models import Schedule

from energydash.lib.tron import SUN_PER_TRX
from energydash.providers.models import ProviderAccount
from energydash.sandbox.models import SandboxAccount
from energydash.sandbox.schedules import CALLBACKS_SCHEDULE

NAMES = {"Sandbox itrx", "Sandbox Netts", "Sandbox TronZap"}


def setup(*args: str) -> str:
    out = StringIO()
    call_command("sandbox_setup", *args, stdout=out)
    return out.getvalue()


def test_it_creates_a_funded_sandbox_account_and_a_provider_account_per_provider(db):
    output = setup("--base-url", "http://demo.local:8000/")
    assert output.count("created") == 6
    boxes = {a.provider: a for a in SandboxAccount.objects.all()}
    assert sorted(boxes) == ["itrx", "netts", "tronzap"]
    assert all(b.balance_sun == 5_000 * SUN_PER_TRX for b in boxes.values())
    assert boxes["netts"].whitelist == {"127.0.0.1"}
    accounts = {a.provider: a for a in ProviderAccount.objects.order_by("name")}
    assert {a.name for a in accounts.values()} == NAMES
    assert accounts["itrx"].base_url == "http://demo.local:8000/sandbox/itrx"
    assert accounts["tronzap"].base_url == "http://demo.local:8000/sandbox/tronzap"
    assert accounts["netts"].egress_ip == "127.0.0.1"
    for provider, account in accounts.items():
        assert account.api_key.reveal() == boxes[provider].api_key.reveal()
        assert (account.api_secret.reveal() if account.api_secret else "") == boxes[provider].secret
    assert Schedule.objects.filter(name=CALLBACKS_SCHEDULE).count() == 1


def test_running_it_twice_changes_nothing(db):
    setup()
    before = {a.name: (a.updated, a.api_key.reveal()) for a in ProviderAccount.objects.all()}
    output = setup()
    assert "created" not in output and "updated" not in output
    assert output.count("unchanged") == 6
    after = {a.name: (a.updated, a.api_key.reveal()) for a in ProviderAccount.objects.all()}
    assert after == before
    assert SandboxAccount.objects.count() == 3
    assert Schedule.objects.filter(name=CALLBACKS_SCHEDULE).count() == 1


def test_spent_balances_survive_a_rerun_unless_reset(db):
    setup()
    SandboxAccount.objects.filter(provider="itrx").update(balance_sun=42)
    setup()
    assert SandboxAccount.objects.get(provider="itrx").balance_sun == 42
    assert "updated balance_sun" in setup("--reset-balances")
    assert SandboxAccount.objects.get(provider="itrx").balance_sun == 5_000 * SUN_PER_TRX


def test_a_new_base_url_and_tampered_credentials_are_put_back(db):
    setup()
    account = ProviderAccount.objects.get(name="Sandbox TronZap")
    account.api_secret = "changed"
    account.save()
    output = setup("--base-url", "http://10.0.0.5:9000")
    assert "provider account 'Sandbox TronZap': updated base_url, api_secret" in output
    account.refresh_from_db()
    assert account.base_url == "http://10.0.0.5:9000/sandbox/tronzap"
    assert account.api_secret.reveal() == SandboxAccount.objects.get(provider="tronzap").secret

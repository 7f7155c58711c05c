from __future__ import annotations

import io
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from energydash.core.models import AuditEvent
from energydash.providers.models import ProviderAccount


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("add_provider_account", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def no_tty(monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)


def test_it_creates_an_account_from_environment_credentials(db, monkeypatch, no_tty):
    monkeypatch.setenv("ENERGYDASH_API_KEY", "key-from-env-0001")
    monkeypatch.setenv("ENERGYDASH_API_SECRET", "secret-from-env-0001")
    output = run(
        "--name",
        "itrx prod",
        "--provider",
        "itrx",
        "--low-balance-trx",
        "250.5",
        "--alert-email",
        "ops@example.com",
        "--alert-email",
        "cfo@example.com",
    )
    account = ProviderAccount.objects.get(name="itrx prod")
    assert account.api_secret.reveal() == "secret-from-env-0001"
    assert account.low_balance_threshold_sun == 250_500_000
    assert account.alert_recipients == ["ops@example.com", "cfo@example.com"]
    assert "Created" in output and "secret-from-env" not in output and "key-from-env" not in output
    event = AuditEvent.objects.get()
    assert event.actor_label == "command:add_provider_account"
    assert "secret-from-env" not in str(event.details)


def test_it_updates_by_name_and_keeps_credentials_when_none_given(
    itrx_account, monkeypatch, no_tty
):
    monkeypatch.delenv("ENERGYDASH_API_KEY", raising=False)
    monkeypatch.delenv("ENERGYDASH_API_SECRET", raising=False)
    output = run("--name", "itrx main", "--provider", "itrx", "--disabled")
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert not account.enabled
    assert account.api_key.reveal() == "B433BFF1CDE7450AA38A56BEAC690DD4"
    assert "Updated" in output
    assert AuditEvent.objects.get().details["fields"] == {"enabled": {"from": True, "to": False}}


def test_it_refuses_a_new_account_without_credentials(db, monkeypatch, no_tty):
    monkeypatch.delenv("ENERGYDASH_API_KEY", raising=False)
    monkeypatch.delenv("ENERGYDASH_API_SECRET", raising=False)
    with pytest.raises(CommandError, match="ENERGYDASH_API_KEY"):
        run("--name", "x", "--provider", "tronzap")
    assert not ProviderAccount.objects.exists()


def test_it_refuses_bad_input_and_changes_nothing(itrx_account, monkeypatch, no_tty):
    monkeypatch.setenv("ENERGYDASH_API_KEY", "k")
    with pytest.raises(CommandError, match="not an e-mail"):
        run("--name", "itrx main", "--provider", "itrx", "--alert-email", "nope")
    with pytest.raises(CommandError, match="TRX"):
        run("--name", "itrx main", "--provider", "itrx", "--low-balance-trx", "lots")
    with pytest.raises(CommandError, match="refusing to change"):
        run("--name", "itrx main", "--provider", "netts")
    with pytest.raises(CommandError, match="egress-ip"):
        run("--name", "new netts", "--provider", "netts")
    assert ProviderAccount.objects.get(pk=itrx_account.pk).api_key.reveal() != "k"
    assert not AuditEvent.objects.exists()


def test_credentials_cannot_be_passed_on_the_command_line(db):
    with pytest.raises(CommandError):
        call_command(
            "add_provider_account", "--name", "x", "--provider", "itrx", "--api-key", "leak"
        )

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from energydash.lib import crypto
from energydash.providers.models import ProviderAccount

SECRET = "0285A2741D0E76E2E187260EB23E51851D48403A756333E7D0CF845406ABF3E8"


def raw_row(account: ProviderAccount) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key, api_secret FROM providers_provideraccount WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()


def test_the_database_column_holds_ciphertext_not_the_secret(itrx_account):
    api_key, api_secret = raw_row(itrx_account)
    assert SECRET not in api_secret
    assert "B433BFF1" not in api_key
    assert api_secret.startswith("gAAAAA")  # a Fernet token
    assert crypto.decrypt(api_secret) == SECRET


def test_reading_back_gives_a_masked_secret_that_reveals_on_purpose(itrx_account):
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert account.api_secret.reveal() == SECRET
    assert str(account.api_secret) == "••••F3E8"
    assert SECRET not in repr(account.api_secret)
    assert SECRET not in repr(account.credentials())


def test_a_wrong_key_raises_instead_of_returning_ciphertext(itrx_account, settings):
    settings.ENERGYDASH_FIELD_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError) as excinfo:
        ProviderAccount.objects.get(pk=itrx_account.pk)
    assert "gAAAA" not in str(excinfo.value)
    assert SECRET not in str(excinfo.value)


def test_rotation_re_encrypts_under_the_newest_key_and_old_key_can_go(itrx_account, settings):
    old_key = settings.ENERGYDASH_FIELD_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = raw_row(itrx_account)

    settings.ENERGYDASH_FIELD_KEYS = [new_key, old_key]
    assert ProviderAccount.objects.get(pk=itrx_account.pk).api_secret.reveal() == SECRET
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))
    after = raw_row(itrx_account)
    assert after != before

    settings.ENERGYDASH_FIELD_KEYS = [new_key]
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert account.api_secret.reveal() == SECRET
    assert account.api_key.reveal() == "B433BFF1CDE7450AA38A56BEAC690DD4"


def test_rotation_refuses_and_changes_nothing_when_a_secret_cannot_be_opened(
    itrx_account, settings
):
    from django.core.management.base import CommandError

    before = raw_row(itrx_account)
    settings.ENERGYDASH_FIELD_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_field_keys")
    assert raw_row(itrx_account) == before


def test_an_invalid_field_key_is_reported_by_a_system_check(settings):
    from energydash.core.checks import check_field_keys

    settings.ENERGYDASH_FIELD_KEYS = ["not-a-fernet-key"]
    assert [e.id for e in check_field_keys()] == ["energydash.E003"]
    settings.ENERGYDASH_FIELD_KEYS = []
    assert [e.id for e in check_field_keys()] == ["energydash.E001"]


def test_production_refuses_the_development_key_file(settings, monkeypatch):
    from energydash.core.checks import check_field_keys

    monkeypatch.delenv("ENERGYDASH_FIELD_KEYS_FILE", raising=False)
    settings.DEBUG = False
    settings.ENERGYDASH_FIELD_KEYS_SOURCE = "file"
    assert [e.id for e in check_field_keys()] == ["energydash.E001"]


def test_masking_shows_only_the_last_four_characters_of_long_values():
    assert crypto.mask("abcdefghijkl3f9a") == "••••3f9a"
    assert crypto.mask("short") == "••••"
    assert crypto.mask("") == ""

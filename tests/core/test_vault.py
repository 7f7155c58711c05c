from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from energydash.lib import crypto
from energydash.providers.credentials import CredentialsUnreadable
from energydash.providers.models import ProviderAccount

SECRET = "0285A2741D0E76E2E187260EB23E51851D48403A756333E7D0CF845406ABF3E8"


def corrupt(account: ProviderAccount, field: str) -> None:
    """Damage one stored token in place (a flipped character in the middle: bad HMAC)."""
    token = raw_row(account)[0 if field == "api_key" else 1]
    middle = len(token) // 2
    broken = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE providers_provideraccount SET {field} = %s WHERE id = %s",
            [broken, account.pk],
        )


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


def test_a_wrong_key_loads_the_row_but_refuses_to_reveal_and_never_shows_ciphertext(
    itrx_account, settings
):
    settings.ENERGYDASH_FIELD_KEYS = [Fernet.generate_key().decode()]
    account = ProviderAccount.objects.get(pk=itrx_account.pk)  # loading does not decrypt
    with pytest.raises(crypto.DecryptionError) as excinfo:
        account.api_secret.reveal()
    assert "gAAAA" not in str(excinfo.value)
    assert SECRET not in str(excinfo.value)
    assert str(account.api_secret) == "••••"  # printing never raises, never shows the token
    assert "gAAAA" not in repr(account.api_secret)
    assert account.api_secret  # still "set": there is a stored value, it is just unreadable
    assert not account.credentials_readable


def test_credentials_raise_a_typed_error_naming_the_account_only(itrx_account, settings):
    settings.ENERGYDASH_FIELD_KEYS = [Fernet.generate_key().decode()]
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    with pytest.raises(CredentialsUnreadable) as excinfo:
        account.credentials()
    message = str(excinfo.value)
    assert message == "itrx main: credentials cannot be decrypted — re-enter them"
    assert isinstance(excinfo.value, crypto.DecryptionError)
    assert account.credentials_problem == "credentials cannot be decrypted — re-enter them"
    assert account.masked_secret == "credentials cannot be decrypted — re-enter them"


def test_one_corrupted_token_breaks_only_that_value(itrx_account):
    corrupt(itrx_account, "api_secret")
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert account.api_key.reveal() == "B433BFF1CDE7450AA38A56BEAC690DD4"
    assert account.masked_key == "••••0DD4"
    assert not account.api_secret.readable
    assert account.credentials_problem


def test_saving_other_fields_keeps_an_unreadable_token_as_it_was(itrx_account):
    corrupt(itrx_account, "api_secret")
    before = raw_row(itrx_account)
    account = ProviderAccount.objects.get(pk=itrx_account.pk)
    account.low_balance_threshold_sun = 7
    account.save()  # neither decrypts nor fails
    assert raw_row(itrx_account) == before
    account.api_secret = "a-new-secret-typed-again"
    account.save()
    fixed = ProviderAccount.objects.get(pk=itrx_account.pk)
    assert fixed.credentials_readable
    assert fixed.api_secret.reveal() == "a-new-secret-typed-again"


def test_an_untouched_loaded_value_is_not_re_encrypted_on_save(itrx_account):
    before = raw_row(itrx_account)
    ProviderAccount.objects.get(pk=itrx_account.pk).save()
    assert raw_row(itrx_account) == before


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

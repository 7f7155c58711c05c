from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from energydash.lib.tron import format_trx
from energydash.providers.credentials import CredentialsUnreadable
from energydash.providers.errors import ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for


def account_named(name: str) -> ProviderAccount:
    try:
        return ProviderAccount.objects.get(name=name)
    except ProviderAccount.DoesNotExist:
        raise CommandError(f"no provider account named {name!r}") from None


class Command(BaseCommand):
    help = "Ask the provider for an account's balance; prints it in TRX and sun."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account", help="Provider account name")

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_named(options["account"])
        try:
            with adapter_for(account.credentials()) as adapter:
                balance = adapter.balance()
        except (ProviderError, CredentialsUnreadable) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{account.name}: {format_trx(balance.balance_sun)} TRX ({balance.balance_sun} sun)"
        )

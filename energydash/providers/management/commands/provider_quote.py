from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from energydash.lib.tron import format_trx
from energydash.providers.credentials import CredentialsUnreadable
from energydash.providers.errors import ProviderError
from energydash.providers.management.commands.provider_balance import account_named
from energydash.providers.registry import adapter_for


class Command(BaseCommand):
    help = "Ask the provider for a price: total TRX and sun, sun per energy, and its limits."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account", help="Provider account name")
        parser.add_argument("--energy", type=int, required=True)
        parser.add_argument("--period", default="1H")
        parser.add_argument("--address", default=None, help="Receive address (T...)")
        parser.add_argument(
            "--activate", action="store_true", help="Include activating the address in the price"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_named(options["account"])
        if options["energy"] <= 0:
            raise CommandError("--energy must be a positive number")
        try:
            with adapter_for(account.credentials()) as adapter:
                quote = adapter.quote(
                    options["energy"],
                    options["period"],
                    options["address"],
                    activate=options["activate"],
                )
        except (ProviderError, CredentialsUnreadable) as exc:
            raise CommandError(str(exc)) from None
        burn = quote.energy * settings.ENERGYDASH_BURN_SUN_PER_ENERGY
        limits = quote.limits
        lines = [
            f"{account.name}: {quote.energy:,} energy for {quote.period}",
            f"  total:      {format_trx(quote.total_sun)} TRX ({quote.total_sun} sun)",
            f"  unit price: {quote.unit_price_sun} sun/energy",
            f"  vs burning: {format_trx(burn - quote.total_sun)} TRX saved "
            f"(burn {format_trx(burn)} TRX)",
            f"  limits:     {limits.min_energy or '?'}..{limits.max_energy or '?'} energy, "
            f"periods {', '.join(limits.periods)}",
        ]
        if quote.activation_sun:
            lines.append(f"  includes activation: {format_trx(quote.activation_sun)} TRX")
        if quote.price_source:
            lines.append(f"  price from: {quote.price_source}")
        self.stdout.write("\n".join(lines))

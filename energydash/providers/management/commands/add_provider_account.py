"""Create or update (by name) a provider account from scripts.

The key and secret come from ENERGYDASH_API_KEY / ENERGYDASH_API_SECRET or a terminal prompt,
never from argv, where they would land in shell history and `ps` output.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from energydash.lib.tron import trx_to_sun
from energydash.providers.audit import record_account_change, snapshot
from energydash.providers.models import Provider, ProviderAccount


class Command(BaseCommand):
    help = "Create or update a provider account. Credentials are read from the environment."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--provider", required=True, choices=Provider.values)
        parser.add_argument(
            "--base-url",
            default=None,
            help="Origin (+ optional prefix); default: the provider's own.",
        )
        parser.add_argument(
            "--egress-ip", default=None, help="Netts: whitelisted IP sent as X-Real-IP."
        )
        parser.add_argument("--low-balance-trx", default=None, help="Low-balance threshold in TRX.")
        parser.add_argument("--alert-email", action="append", default=None, dest="alert_emails")
        parser.add_argument("--disabled", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("--name must not be empty")
        account = ProviderAccount.objects.filter(name=name).first()
        creating = account is None
        if account is None:
            account = ProviderAccount(name=name, provider=options["provider"])
        elif account.provider != options["provider"]:
            raise CommandError(
                f"account {name!r} is a {account.provider} account; refusing to change it to "
                f"{options['provider']} (credentials would not fit)"
            )
        key = self._read_secret("ENERGYDASH_API_KEY", "API key", required=creating)
        needs_secret = options["provider"] != "netts"
        secret = self._read_secret(
            "ENERGYDASH_API_SECRET", "API secret", required=creating and needs_secret
        )
        self._apply(account, options)
        if key:
            account.api_key = key
        if secret:
            account.api_secret = secret
        try:
            account.full_clean()
        except ValidationError as exc:
            messages = "; ".join(
                f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items()
            )
            raise CommandError(f"invalid account: {messages}") from None
        if account.provider == "netts" and not account.egress_ip:
            raise CommandError("Netts needs --egress-ip (its whitelist checks X-Real-IP)")

        with transaction.atomic():
            before = None if creating else snapshot(ProviderAccount.objects.get(pk=account.pk))
            account.save()
            event = record_account_change(
                account, before, actor_label="command:add_provider_account"
            )
        verb = "Created" if creating else ("Updated" if event else "Unchanged")
        self.stdout.write(
            f"{verb} {account} (code {account.code}, key {account.masked_key or 'not set'})"
        )

    def _apply(self, account: ProviderAccount, options: dict[str, Any]) -> None:
        if options["base_url"] is not None:
            account.base_url = options["base_url"].strip()
        if options["egress_ip"] is not None:
            account.egress_ip = options["egress_ip"].strip() or None
        if options["low_balance_trx"] is not None:
            try:
                account.low_balance_threshold_sun = trx_to_sun(options["low_balance_trx"])
            except ValueError:
                raise CommandError(
                    f"--low-balance-trx must be a number of TRX, got {options['low_balance_trx']!r}"
                ) from None
            if account.low_balance_threshold_sun < 0:
                raise CommandError("--low-balance-trx must not be negative")
        if options["alert_emails"] is not None:
            for address in options["alert_emails"]:
                try:
                    validate_email(address)
                except ValidationError:
                    raise CommandError(
                        f"--alert-email {address!r} is not an e-mail address"
                    ) from None
            account.alert_emails = "\n".join(options["alert_emails"])
        account.enabled = not options["disabled"]

    def _read_secret(self, env_name: str, label: str, *, required: bool) -> str:
        value = os.environ.get(env_name, "").strip()
        if not value and sys.stdin.isatty():
            value = getpass.getpass(
                f"{label} (input hidden{'' if required else ', blank keeps current'}): "
            ).strip()
        if required and not value:
            raise CommandError(
                f"{label} missing: set {env_name} (or run on a terminal to be prompted)"
            )
        return value

"""Issue an API token; it is printed once and only its hash is stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from energydash.api.admin import token_details
from energydash.api.models import ALL_SCOPES, ApiToken, TokenRole
from energydash.core.models import AuditEvent
from energydash.lib.tron import parse_trx


class Command(BaseCommand):
    help = "Create an API token (operator places orders, viewer only reads); prints it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Letters, digits, '.', '_', '-'.")
        parser.add_argument("--role", required=True, choices=TokenRole.values)
        parser.add_argument("--webhook-url", default="", help="http(s) URL for order webhooks.")
        parser.add_argument(
            "--scopes", default=ALL_SCOPES, help=f"Comma-separated (default: {ALL_SCOPES})."
        )
        parser.add_argument("--expires-in-days", type=int, default=None, help="Default: never.")
        parser.add_argument(
            "--allowed-networks", default="", help="Comma-separated CIDRs (default: any)."
        )
        parser.add_argument("--daily-cap-trx", default="", help="Daily spending cap in TRX.")

    def handle(self, *args: Any, name: str, role: str, webhook_url: str, **options: Any) -> None:
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        try:
            cap = parse_trx(options["daily_cap_trx"]) if options["daily_cap_trx"] else None
        except ValueError as exc:
            raise CommandError(f"--daily-cap-trx: {exc}") from None
        token = ApiToken(
            name=name,
            role=role,
            webhook_url=webhook_url,
            scopes=",".join(s.strip() for s in options["scopes"].split(",") if s.strip()),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            allowed_ips=options["allowed_networks"],
            daily_cap_sun=cap,
        )
        raw, signing = token.assign_new_secrets()
        try:
            token.full_clean()
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from None
        token.save()
        AuditEvent.record(
            "api_token.created",
            token,
            actor_label="command:create_api_token",
            details=token_details(token),
        )
        self.stdout.write(f"Created {role} token {name!r}. Shown only once; store it now.")
        self.stdout.write(f"token: {raw}")
        self.stdout.write(f"webhook signing secret: {signing}")

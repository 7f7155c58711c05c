"""Issue an API token; it is printed once and only its hash is stored."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from energydash.api.admin import token_details
from energydash.api.models import ApiToken, TokenRole
from energydash.core.models import AuditEvent


class Command(BaseCommand):
    help = "Create an API token (operator places orders, viewer only reads); prints it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Letters, digits, '.', '_', '-'.")
        parser.add_argument("--role", required=True, choices=TokenRole.values)
        parser.add_argument("--webhook-url", default="", help="http(s) URL for order webhooks.")

    def handle(self, *args: Any, name: str, role: str, webhook_url: str, **options: Any) -> None:
        token = ApiToken(name=name, role=role, webhook_url=webhook_url)
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

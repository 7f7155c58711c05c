"""Remove a user's second factor from the shell: for the last admin who lost their phone (other
users are reset by an admin in Django admin). Audited like the admin action."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from energydash.core import second_factor


class Command(BaseCommand):
    help = (
        "Remove USERNAME's authenticator and recovery codes; they enrol again at their next "
        "login. Recorded in the audit log."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}; nothing was changed.")
        removed = second_factor.reset(user, actor_label="command:reset_second_factor")
        self.stdout.write(
            f"Second factor of {user.get_username()} reset ({removed} device(s) removed): "
            "they enrol again at their next login."
        )

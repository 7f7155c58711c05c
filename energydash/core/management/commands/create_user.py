"""Create a console user with one role, or update an existing one, for automation.

The password comes from ENERGYDASH_PASSWORD or a terminal prompt, never from argv, where it
would land in shell history and `ps` output. It must pass the configured password validators.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from energydash.core.models import AuditEvent
from energydash.core.roles import ADMIN, ROLES

PASSWORD_ENV = "ENERGYDASH_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a user with a role (viewer, operator, admin), or set an existing user's role, "
        f"e-mail and password. The password is read from {PASSWORD_ENV} or a prompt."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default=None)
        parser.add_argument(
            "--keep-password",
            action="store_true",
            help="Existing user: leave the password as it is (no prompt, variable ignored).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username:
            raise CommandError("the username must not be empty")
        email = (options["email"] or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"--email {email!r} is not an e-mail address") from None
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        creating = user is None
        if user is None:
            user = User(username=username)
        elif user.is_superuser:
            raise CommandError(f"{username!r} is a superuser; manage it with createsuperuser")
        if email:
            user.email = email
        password = None
        if creating or not options["keep_password"]:
            password = self._password()
            try:
                password_validation.validate_password(password, user)
            except ValidationError as exc:
                raise CommandError("password refused: " + " ".join(exc.messages)) from None
        role = options["role"]
        with transaction.atomic():
            if password is not None:
                user.set_password(password)
            user.is_staff = role == ADMIN  # admin works in Django admin; the others do not
            user.is_active = True
            user.save()
            user.groups.remove(*Group.objects.filter(name__in=ROLES))
            user.groups.add(Group.objects.get(name=role))
            AuditEvent.record(
                "user.created" if creating else "user.changed",
                user,
                actor_label="command:create_user",
                details={"role": role, "password_set": password is not None},
            )
        verb = "Created" if creating else "Updated"
        self.stdout.write(f"{verb} user {username!r} with role {role}.")

    def _password(self) -> str:
        value = os.environ.get(PASSWORD_ENV)
        if value is not None:
            if not value:
                raise CommandError(f"{PASSWORD_ENV} is set but empty")
            return value
        if not sys.stdin.isatty():
            raise CommandError(f"no password: set {PASSWORD_ENV} or run on a terminal to be asked")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        if not first:
            raise CommandError("the password must not be empty")
        return first

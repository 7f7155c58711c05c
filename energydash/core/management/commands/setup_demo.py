"""Idempotent first-run setup for `make run`: the demo operator and the sandbox accounts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from energydash.core.roles import ADMIN

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = (
        "Create the demo admin user (password kept in var/demo-password) and the sandbox accounts."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._demo_password()
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "email": "demo@localhost"}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.is_staff = True
            user.save()
        user.groups.add(Group.objects.get(name=ADMIN))
        if settings.ENERGYDASH_SANDBOX:
            call_command("sandbox_setup", base_url=options["base_url"], stdout=self.stdout)
            # 30 days of generated sandbox history (once), so the first dashboard has charts.
            call_command("seed_sandbox_history", stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username {DEMO_USERNAME!r}, password {password!r} "
                f"(role: admin; kept in {self._password_file()}). The admin role needs a "
                "second factor: the first login asks you to enrol an authenticator app."
            )
        )

    def _password_file(self) -> Path:
        return settings.VAR_DIR / "demo-password"

    def _demo_password(self) -> str:
        path = self._password_file()
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(12)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        return password

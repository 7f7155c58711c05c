from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from energydash.lib.crypto import generate_key


class Command(BaseCommand):
    requires_system_checks: list = []
    help = "Print a new Fernet key for ENERGYDASH_FIELD_KEYS (or write it to a file with --write)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--write", metavar="PATH", help="Create PATH (mode 600) if it does not exist."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["write"]:
            self.stdout.write(generate_key())
            return
        path = Path(options["write"])
        if path.exists():
            self.stdout.write(f"{path} exists; left unchanged.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(generate_key() + "\n")
        self.stdout.write(f"Wrote a new field key to {path}.")

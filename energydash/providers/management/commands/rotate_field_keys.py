"""Re-encrypt every stored secret under the newest key in ENERGYDASH_FIELD_KEYS.

Rotation: put the new key first (keeping the old ones after it), run this, then drop the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from energydash.core.models import AuditEvent
from energydash.lib import crypto
from energydash.providers.models import ProviderAccount

FIELDS = ("api_key", "api_secret")


class Command(BaseCommand):
    help = "Re-encrypt all provider credentials under the newest field key."

    def handle(self, *args: Any, **options: Any) -> None:
        table = ProviderAccount._meta.db_table
        qn = connection.ops.quote_name
        rotated = 0
        # Work on the raw ciphertext: no plaintext is held longer than one token's rotation.
        with transaction.atomic():
            list(ProviderAccount.objects.select_for_update().values_list("pk", flat=True))
            rows = self._raw_rows(table)
            for pk, *tokens in rows:
                new_tokens = []
                for token in tokens:
                    try:
                        new_tokens.append(crypto.rotate(token) if token else token)
                    except crypto.DecryptionError:
                        raise CommandError(
                            f"account #{pk}: a secret cannot be decrypted with any configured key; "
                            "nothing was changed"
                        ) from None
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {qn(table)} SET {qn('api_key')} = %s, {qn('api_secret')} = %s "
                        f"WHERE {qn('id')} = %s",
                        [*new_tokens, pk],
                    )
                rotated += 1
            AuditEvent.record(
                "field_keys.rotated",
                actor_label="command:rotate_field_keys",
                details={"accounts": rotated},
            )
        self.stdout.write(
            f"Re-encrypted the credentials of {rotated} account(s) under the newest key."
        )

    def _raw_rows(self, table: str) -> list[tuple]:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn('id')}, {qn('api_key')}, {qn('api_secret')} FROM {qn(table)} "
                f"ORDER BY {qn('id')}"
            )
            return list(cursor.fetchall())

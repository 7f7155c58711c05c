"""Sandbox keys and secrets: plain text -> Fernet ciphertext (like ProviderAccount), with a
SHA-256 digest of the key for lookups. Reversible."""

from __future__ import annotations

import hashlib

from django.db import migrations, models

import energydash.lib.crypto


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest() if key else ""


def encrypt_existing(apps, schema_editor):
    from energydash.lib import crypto

    SandboxAccount = apps.get_model("sandbox", "SandboxAccount")
    for row in SandboxAccount.objects.all().values("pk", "api_key", "api_secret"):
        key, secret = row["api_key"] or "", row["api_secret"] or ""
        SandboxAccount.objects.filter(pk=row["pk"]).update(
            api_key=crypto.encrypt(key) if key else "",
            api_secret=crypto.encrypt(secret) if secret else "",
            api_key_digest=_digest(key),
        )


def decrypt_existing(apps, schema_editor):
    from energydash.lib import crypto

    SandboxAccount = apps.get_model("sandbox", "SandboxAccount")
    for row in SandboxAccount.objects.all().values("pk", "api_key", "api_secret"):
        SandboxAccount.objects.filter(pk=row["pk"]).update(
            api_key=crypto.decrypt(row["api_key"]) if row["api_key"] else "",
            api_secret=crypto.decrypt(row["api_secret"]) if row["api_secret"] else "",
        )


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="sandboxaccount", name="sandbox_account_key_unique"),
        migrations.AddField(
            model_name="sandboxaccount",
            name="api_key_digest",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        # Ciphertext is longer than 128 characters: widen to text first, still plain.
        migrations.AlterField(
            model_name="sandboxaccount", name="api_key", field=models.TextField()
        ),
        migrations.AlterField(
            model_name="sandboxaccount", name="api_secret", field=models.TextField(blank=True)
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.AlterField(
            model_name="sandboxaccount",
            name="api_key",
            field=energydash.lib.crypto.EncryptedTextField(
                help_text="itrx API-KEY, TronZap token, Netts key."
            ),
        ),
        migrations.AlterField(
            model_name="sandboxaccount",
            name="api_secret",
            field=energydash.lib.crypto.EncryptedTextField(
                blank=True, help_text="Not used by Netts."
            ),
        ),
        migrations.AddConstraint(
            model_name="sandboxaccount",
            constraint=models.UniqueConstraint(
                fields=("provider", "api_key_digest"), name="sandbox_account_key_digest_unique"
            ),
        ),
    ]

"""Runtime requirements, reported by `manage.py check` (and refused at start-up when errors)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from energydash.lib import crypto


@register(Tags.security, deploy=False)
def check_field_keys(app_configs: Any = None, **kwargs: Any) -> list:
    errors: list = []
    keys = settings.ENERGYDASH_FIELD_KEYS
    if not keys:
        return [
            Error(
                "No encryption keys for provider credentials.",
                hint="Set ENERGYDASH_FIELD_KEYS to one or more Fernet keys, newest first "
                "(generate one with `python manage.py generate_field_key`).",
                id="energydash.E001",
            )
        ]
    try:
        crypto.parse_keys(keys)
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="energydash.E003"))
    if (
        not settings.DEBUG
        and settings.ENERGYDASH_FIELD_KEYS_SOURCE == "file"
        and not _file_is_explicit()
    ):
        errors.append(
            Error(
                "Provider credentials are encrypted with the development key file written by "
                "`make run`.",
                hint="With DEBUG off, set ENERGYDASH_FIELD_KEYS (or point "
                "ENERGYDASH_FIELD_KEYS_FILE at a key file you manage).",
                id="energydash.E001",
            )
        )
    return errors


def _file_is_explicit() -> bool:
    return bool(os.environ.get("ENERGYDASH_FIELD_KEYS_FILE"))


@register(Tags.security, deploy=False)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list:
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the built-in development key.",
                hint="Set SECRET_KEY to a long random value in production.",
                id="energydash.E002",
            )
        ]
    return []


@register(Tags.security, deploy=False)
def check_sandbox(app_configs: Any = None, **kwargs: Any) -> list:
    """With DEBUG off the sandbox is an error (the server refuses to start) unless the operator
    said ENERGYDASH_SANDBOX_IN_PRODUCTION=1 on purpose; then it stays a warning."""
    if not settings.ENERGYDASH_SANDBOX or settings.DEBUG:
        return []
    if not settings.ENERGYDASH_SANDBOX_IN_PRODUCTION:
        return [
            Error(
                "The provider sandbox is enabled with DEBUG off.",
                hint="The sandbox simulates providers with fake balances. Set "
                "ENERGYDASH_SANDBOX=0 in production, or ENERGYDASH_SANDBOX_IN_PRODUCTION=1 if "
                "this server is meant to serve it (staging, the deployment smoke test).",
                id="energydash.E004",
            )
        ]
    return [
        Warning(
            "The provider sandbox is enabled with DEBUG off (ENERGYDASH_SANDBOX_IN_PRODUCTION).",
            hint="The sandbox simulates providers with fake balances; its APIs answer only "
            "requests with a sandbox account's credentials.",
            id="energydash.W001",
        )
    ]

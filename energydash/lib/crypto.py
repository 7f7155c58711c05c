"""Encryption at rest for provider credentials.

Values are Fernet tokens under a MultiFernet built from ENERGYDASH_FIELD_KEYS (newest first), a
key set independent of SECRET_KEY so either can be rotated alone. Decrypted values are wrapped in
Secret, whose str() and repr() are masked: a secret that reaches a template, a log line, an
exception or a debug page shows as "••••3f9a", and code must call .reveal() on purpose.

Decryption is lazy: a value loaded from the database holds its ciphertext and is decrypted on the
first .reveal(). Loading a row therefore never fails, so one unreadable secret (a removed field
key, a corrupted token) breaks only the code that actually uses that secret, which can say so,
and never every page that merely lists the account.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.query_utils import DeferredAttribute

MASK = "••••"


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key (never carries the value)."""


class Secret:
    """A secret string, masked when printed. Built from plaintext, or from ciphertext
    (Secret.encrypted) which is decrypted on the first reveal() and never before."""

    __slots__ = ("_token", "_value")

    def __init__(self, value: str) -> None:
        self._value: str | None = value
        self._token = ""

    @classmethod
    def encrypted(cls, token: str) -> Secret:
        secret = cls("")
        secret._value, secret._token = None, token
        return secret

    def reveal(self) -> str:
        """The plaintext; raises DecryptionError when the stored token cannot be opened."""
        if self._value is None:
            self._value = decrypt(self._token)
        return self._value

    @property
    def readable(self) -> bool:
        """Whether reveal() would succeed (decrypts once; the result is kept)."""
        try:
            self.reveal()
        except DecryptionError:
            return False
        return True

    @property
    def stored_token(self) -> str | None:
        """The ciphertext this value was loaded from, while it has not been replaced."""
        return self._token or None

    @property
    def masked(self) -> str:
        try:
            return mask(self.reveal())
        except DecryptionError:
            return MASK  # never the token, never an exception from str()

    def __bool__(self) -> bool:
        return bool(self._token) if self._value is None else bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return False
        if self._token and self._token == other._token:
            return True
        try:
            return other.reveal() == self.reveal()
        except DecryptionError:
            return False

    def __hash__(self) -> int:
        try:
            return hash(("Secret", self.reveal()))
        except DecryptionError:
            return hash(("Secret token", self._token))

    def __str__(self) -> str:
        return self.masked

    __repr__ = __str__

    def __reduce__(self) -> Any:
        # Refuse pickling: a pickled secret would end up in a task queue or cache in clear.
        raise TypeError("Secret values cannot be pickled")


def mask(value: str | None) -> str:
    """Show only the last four characters; short values show nothing of themselves."""
    if not value:
        return ""
    return MASK + (value[-4:] if len(value) >= 12 else "")


def parse_keys(keys: list[str]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "No field encryption keys: set ENERGYDASH_FIELD_KEYS to comma-separated Fernet keys "
            "(newest first)."
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"ENERGYDASH_FIELD_KEYS entry {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
    return MultiFernet(fernets)


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return parse_keys(list(keys))


def current() -> MultiFernet:
    return _multifernet(tuple(settings.ENERGYDASH_FIELD_KEYS))


def _clear_cache(*, setting: str, **kwargs: Any) -> None:
    if setting == "ENERGYDASH_FIELD_KEYS":
        _multifernet.cache_clear()


setting_changed.connect(_clear_cache)


def encrypt(plaintext: str) -> str:
    return current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret could not be decrypted with the configured ENERGYDASH_FIELD_KEYS; "
            "was a key removed before `rotate_field_keys` ran?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (raises DecryptionError if no key opens it)."""
    try:
        return current().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret could not be decrypted for rotation.") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()


class _SecretAttribute(DeferredAttribute):
    """Wraps whatever is assigned in a Secret, so a fresh value is masked like a loaded one."""

    def __set__(self, instance: Any, value: Any) -> None:
        if value is not None and not isinstance(value, Secret):
            value = Secret(str(value))
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; the Python value is a Secret. An empty value is stored empty."""

    description = "Text encrypted with the field keys"
    descriptor_class = _SecretAttribute

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        if value is None:
            return None
        return Secret.encrypted(value) if value else Secret("")

    def to_python(self, value: Any) -> Secret | None:
        if value is None or isinstance(value, Secret):
            return value
        return Secret(str(value))

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, Secret) and value.stored_token:
            # Unchanged since it was loaded: store the same token, without decrypting it, so
            # saving other fields of an account whose secret is unreadable does not fail.
            return value.stored_token
        plaintext = value.reveal() if isinstance(value, Secret) else str(value)
        return encrypt(plaintext) if plaintext else ""

    def value_to_string(self, obj: Any) -> str:
        # dumpdata / serializers get ciphertext, never plaintext.
        return self.get_prep_value(self.value_from_object(obj)) or ""

"""What an adapter needs from a provider account, without Django models."""

from __future__ import annotations

from dataclasses import dataclass, field

from energydash.lib.crypto import DecryptionError, Secret

ITRX = "itrx"
TRONZAP = "tronzap"
NETTS = "netts"

DEFAULT_BASE_URLS = {
    ITRX: "https://itrx.io",
    TRONZAP: "https://api.tronzap.com",
    NETTS: "https://netts.io",
}


UNREADABLE = "credentials cannot be decrypted — re-enter them"


class CredentialsUnreadable(DecryptionError):
    """An account's stored key or secret cannot be decrypted with the configured field keys.

    Raised when the credentials are about to be used, never when the account is merely loaded.
    The message names the account only: no ciphertext, no key material.
    """

    def __init__(self, label: str = "") -> None:
        self.label = label
        where = f"{label}: " if label else ""
        super().__init__(f"{where}{UNREADABLE}")


@dataclass(frozen=True)
class Credentials:
    provider: str  # ITRX, TRONZAP or NETTS
    base_url: str  # origin, optionally with a path prefix; never the API path
    api_key: Secret = field(repr=False)
    api_secret: Secret = field(repr=False)
    egress_ip: str = ""  # Netts X-Real-IP
    timeout: float = 20.0  # seconds, for the whole exchange
    connect_timeout: float = 5.0
    label: str = ""  # account name, for messages and logs

"""Clients that speak each provider's protocol to the sandbox, as the docs prescribe."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import httpx

from energydash.lib.tron import address_from_payload
from energydash.sandbox.itrx_auth import canonical_json, sign
from energydash.sandbox.models import SandboxAccount, SandboxAddress

ITRX = "/sandbox/itrx/api/v1/frontend/"
TRONZAP = "/sandbox/tronzap/v1/"
NETTS = "/sandbox/netts/apiv2/"


def key_of(account: SandboxAccount) -> str:
    """The account's key in clear (stored encrypted, held as a masked Secret)."""
    return account.api_key.reveal() if account.api_key else ""


def secret_of(account: SandboxAccount) -> str:
    return account.api_secret.reveal() if account.api_secret else ""


def address(seed: str) -> str:
    return address_from_payload(hashlib.sha256(seed.encode()).digest()[:20])


def unactivated(seed: str) -> str:
    addr = address(seed)
    SandboxAddress.objects.create(address=addr, activated=False)
    return addr


def itrx_post(
    http: httpx.Client,
    account: SandboxAccount,
    path: str,
    data: dict[str, Any],
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    body: str | None = None,
) -> httpx.Response:
    body = canonical_json(data) if body is None else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "API-KEY": key_of(account),
        "TIMESTAMP": ts,
        "Content-Type": "application/json",
        "SIGNATURE": sign(secret_of(account) if secret is None else secret, ts, body),
    }
    return http.post(ITRX + path, content=body.encode(), headers=headers)


def itrx_get(
    http: httpx.Client, account: SandboxAccount, path: str, **params: Any
) -> httpx.Response:
    return http.get(ITRX + path, params=params, headers={"API-KEY": key_of(account)})


def tronzap_post(
    http: httpx.Client,
    account: SandboxAccount,
    path: str,
    data: Any = None,
    *,
    secret: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    body = json.dumps({} if data is None else data)  # default spacing, like the Python SDK
    signature = hashlib.sha256((body + (secret_of(account) if secret is None else secret)).encode())
    headers = {
        "Authorization": f"Bearer {key_of(account) if token is None else token}",
        "X-Signature": signature.hexdigest(),
        "Content-Type": "application/json",
    }
    return http.post(TRONZAP + path, content=body.encode(), headers=headers)


def netts_headers(account: SandboxAccount, ip: str = "127.0.0.1") -> dict[str, str]:
    return {"X-API-KEY": key_of(account), "X-Real-IP": ip}


def balance(account: SandboxAccount) -> int:
    account.refresh_from_db(fields=["balance_sun"])
    return account.balance_sun

"""Idempotent demo set-up: one sandbox account per provider and the ProviderAccount using it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction

from energydash.lib.crypto import Secret
from energydash.lib.tron import address_from_payload
from energydash.providers.credentials import ITRX, NETTS, TRONZAP
from energydash.providers.models import ProviderAccount
from energydash.sandbox.defaults import DEMO_BALANCE_SUN
from energydash.sandbox.models import SandboxAccount
from energydash.sandbox.schedules import ensure_schedules

LOCAL_IP = "127.0.0.1"


@dataclass(frozen=True)
class Demo:
    provider: str
    name: str
    path: str
    api_key: str
    api_secret: str


# Fake credentials, published on purpose: they only open the local sandbox.
DEMOS = (
    Demo(ITRX, "Sandbox itrx", "itrx", "5A4DB0C1000000000000000000000001", "5A4DB0C1E7A1D5EC" * 4),
    Demo(
        TRONZAP,
        "Sandbox TronZap",
        "tronzap",
        "sandbox-tronzap-token-0001",
        "sandbox-tronzap-secret-0001",
    ),
    Demo(NETTS, "Sandbox Netts", "netts", "5a4db0c15a4db0c15a4db0c15a4db0c1", ""),
)


def setup_sandbox(base_url: str, *, reset_balances: bool = False) -> list[str]:
    """Create or align the demo accounts; returns one line per thing done or left alone."""
    base = base_url.rstrip("/")
    report = []
    with transaction.atomic():
        for demo in DEMOS:
            report.append(_sandbox_account(demo, reset_balances))
            report.append(_provider_account(demo, f"{base}/sandbox/{demo.path}"))
        names = ensure_schedules()
    report.append(f"schedule(s) ensured: {', '.join(names)}")
    return report


def _plain(value: object) -> object:
    """A stored credential in clear (the sandbox's are encrypted too), other values as they are."""
    return value.reveal() if isinstance(value, Secret) else value


def _sandbox_account(demo: Demo, reset_balances: bool) -> str:
    account = SandboxAccount.objects.filter(name=demo.name).first()
    if account is None:
        SandboxAccount.objects.create(
            provider=demo.provider,
            name=demo.name,
            api_key=demo.api_key,
            api_secret=demo.api_secret,
            balance_sun=DEMO_BALANCE_SUN,
            whitelist_ips=LOCAL_IP if demo.provider == NETTS else "",
            deposit_address=address_from_payload(hashlib.sha256(demo.name.encode()).digest()[:20]),
        )
        return f"sandbox account {demo.name!r}: created with 5,000 TRX"
    wanted = {"provider": demo.provider, "api_key": demo.api_key, "api_secret": demo.api_secret}
    changed = [field for field, value in wanted.items() if _plain(getattr(account, field)) != value]
    if demo.provider == NETTS and LOCAL_IP not in account.whitelist:
        account.whitelist_ips = "\n".join([*sorted(account.whitelist), LOCAL_IP])
        changed.append("whitelist_ips")
    for field in changed:
        if field in wanted:
            setattr(account, field, wanted[field])
    if reset_balances and account.balance_sun != DEMO_BALANCE_SUN:
        account.balance_sun = DEMO_BALANCE_SUN
        changed.append("balance_sun")
    if not changed:
        return f"sandbox account {demo.name!r}: unchanged"
    account.save(update_fields=changed)
    return f"sandbox account {demo.name!r}: updated {', '.join(changed)}"


def _provider_account(demo: Demo, base_url: str) -> str:
    account = ProviderAccount.objects.filter(name=demo.name).first()
    if account is None:
        ProviderAccount.objects.create(
            name=demo.name,
            provider=demo.provider,
            base_url=base_url,
            api_key=demo.api_key,
            api_secret=demo.api_secret,
            egress_ip=LOCAL_IP,
        )
        return f"provider account {demo.name!r}: created, base URL {base_url}"
    changed = []
    plain = {"provider": demo.provider, "base_url": base_url, "egress_ip": LOCAL_IP}
    for field, value in plain.items():
        if getattr(account, field) != value:
            setattr(account, field, value)
            changed.append(field)
    for field in ("api_key", "api_secret"):
        current = getattr(account, field)
        if (current.reveal() if current else "") != getattr(demo, field):
            setattr(account, field, getattr(demo, field))
            changed.append(field)
    if not changed:
        return f"provider account {demo.name!r}: unchanged"
    account.save(update_fields=[*changed, "updated"])
    return f"provider account {demo.name!r}: updated {', '.join(changed)}"

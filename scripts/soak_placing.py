"""The soak's submissions (scripts/soak.py): a plan across every provider and kind, placed
through the console's placing path from SOAK_CONCURRENCY threads, one in ten as a double submit."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from soak_services import log

CONCURRENCY = int(os.environ.get("SOAK_CONCURRENCY", "8"))


@dataclass(frozen=True)
class Submission:
    index: int
    provider: str
    kind: str
    energy: int | None
    activate: bool
    address: str
    to_address: str
    key: str | None  # idempotency key: the form's one-time token
    double: bool  # the same form submitted twice at once


def plan(total: int, rng: random.Random) -> list[Submission]:
    """Submissions across every provider and kind; one in ten is a double submit."""
    from energydash.lib.tron import address_from_payload

    shapes = [
        ("itrx", "energy"),
        ("itrx", "collection"),
        ("tronzap", "energy"),
        ("tronzap", "activation"),
        ("netts", "energy"),
    ]
    subs = []
    for i in range(total):
        provider, kind = shapes[i % len(shapes)]
        subs.append(
            Submission(
                index=i,
                provider=provider,
                kind=kind,
                energy=rng.choice([65_000, 131_000]) if kind == "energy" else None,
                activate=kind == "energy" and provider != "netts" and rng.random() < 0.1,
                address=address_from_payload(rng.randbytes(20)),
                to_address=address_from_payload(rng.randbytes(20)) if kind == "collection" else "",
                key=f"soak-form-{i}-{rng.getrandbits(64):016x}",
                double=rng.random() < 0.1,
            )
        )
    return subs


def mark_unactivated(subs: list[Submission]) -> None:
    """Activation orders and activate=True energy orders target addresses the chain lacks."""
    from energydash.sandbox.models import SandboxAddress

    SandboxAddress.objects.bulk_create(
        [
            SandboxAddress(address=s.address, activated=False)
            for s in subs
            if s.kind == "activation" or s.activate
        ]
    )


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    replays_differed: int = 0

    def add(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


def submit(sub: Submission, accounts: dict, tally: Tally) -> int | None:
    """One form submission through the console's placing path; the order's id, if any."""
    from django.db import close_old_connections, connection

    from energydash.orders.placement import place_order
    from energydash.orders.spec import OrderSpec, PlacementRefused

    spec = OrderSpec(
        account=accounts[sub.provider],
        kind=sub.kind,
        receive_address=sub.address,
        energy=sub.energy,
        period="1H",
        activate=sub.activate,
        to_address=sub.to_address,
    )
    close_old_connections()
    try:
        order = place_order(spec, via="soak", idempotency_key=sub.key)
    except PlacementRefused:
        tally.add("refused before sending")
        return None
    except Exception as exc:  # a bug in placement: reported, and the soak fails
        with tally.lock:
            tally.unexpected.append(f"{sub.provider}/{sub.kind}: {type(exc).__name__}: {exc}")
        return None
    finally:
        connection.close()
    tally.add(f"returned {order.status}")
    return order.pk


def place_all(subs: list[Submission], tally: Tally) -> None:
    from energydash.providers.models import ProviderAccount

    accounts = {a.provider: a for a in ProviderAccount.objects.filter(name__startswith="Sandbox")}
    missing = {"itrx", "tronzap", "netts"} - set(accounts)
    if missing:
        raise RuntimeError(f"sandbox provider accounts missing: {sorted(missing)}")
    done = 0
    pool = ThreadPoolExecutor(max_workers=CONCURRENCY)
    try:
        futures = []
        for sub in subs:
            if sub.double:
                pair = [pool.submit(submit, sub, accounts, tally) for _ in range(2)]
                futures.append(("double", pair))
            else:
                futures.append(("single", [pool.submit(submit, sub, accounts, tally)]))
        for shape, group in futures:
            ids = [f.result() for f in group]
            if shape == "double" and ids[0] is not None and ids[1] is not None and ids[0] != ids[1]:
                with tally.lock:
                    tally.replays_differed += 1
            done += 1
            if done % 100 == 0:
                log(f"{done}/{len(subs)} submissions answered")
    except BaseException:
        # Interrupted: drop what was not started; running submissions end within a timeout.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)

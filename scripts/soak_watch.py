"""Watch rules under simulated consumption (issue 26): a simulated day, compressed.

Everything runs in this one process against a fresh PostgreSQL database (SOAK_WATCH_DATABASE_URL,
dropped and created; its name must start with "energydash_soak" or "ed_"): the product's watch
pass (orders/watch.py, the same code the worker loop runs) buys through best-price routing from
sandbox providers, and reads the sandbox chain with the product's chain reader, both over WSGI
in-process (no sockets). The clock is time_machine's, frozen and moved by the script: a simulated
day is 24 hours of that clock (8,640 steps of SOAK_WATCH_STEP_SECONDS, 10), however long the
machine takes, so the figures do not depend on the machine's speed. The chain reader's budget
(SOAK_WATCH_QPS, 10) paces reads on that same clock: a pass with more reads than the budget
allows in a second moves the clock on, as real reads would wait.

Each of SOAK_WATCH_ADDRESSES (1,000) addresses sends USDT in bursts (sandbox ChainConsumer:
SOAK_WATCH_RATE transfers an hour on average, bursts of 1 to SOAK_WATCH_BURST, 65,000 energy
each) and is watched by a threshold rule "keep at least SOAK_WATCH_BURST x 65,000" (interval
SOAK_WATCH_INTERVAL seconds, cap 100 sun per energy, the sandbox's prices are 30-60). Printed:
- minutes below threshold per address (sampled each simulated minute from the sandbox chain,
  after the first purchase of each address), total and worst address;
- transfers that burned TRX (after the address's first purchase; before it an address has no
  energy at all);
- chain calls per address-hour, and what 10,000 addresses would ask a second at that rate
  (the rate measured here, scaled: a read-only extrapolation), against the configured QPS;
- purchases, energy bought per energy used, wall time and the load average.

    SOAK_WATCH_ADDRESSES=1000 SOAK_WATCH_HOURS=24 .venv/bin/python scripts/soak_watch.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADDRESSES = int(os.environ.get("SOAK_WATCH_ADDRESSES", "1000"))
HOURS = float(os.environ.get("SOAK_WATCH_HOURS", "24"))
STEP = int(os.environ.get("SOAK_WATCH_STEP_SECONDS", "10"))
QPS = int(os.environ.get("SOAK_WATCH_QPS", "10"))
RATE = int(os.environ.get("SOAK_WATCH_RATE", "4"))
BURST = int(os.environ.get("SOAK_WATCH_BURST", "2"))
INTERVAL = int(os.environ.get("SOAK_WATCH_INTERVAL", "300"))
TRANSFER = 65_000
DATABASE_URL = os.environ.get(
    "SOAK_WATCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/energydash_soak_watch"
)
START = datetime(2026, 6, 1, 0, 0, 0, tzinfo=UTC)


def log(words: str) -> None:
    print(f"soak_watch: {words}", flush=True)


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    if not (name.startswith("energydash_soak") or name.startswith("ed_")):
        raise SystemExit(f"soak_watch: unusable database name {name!r}")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "energydash.settings",
            "DATABASE_URL": DATABASE_URL,
            "DEBUG": "1",
            "ENERGYDASH_FIELD_KEYS": os.environ.get(
                "ENERGYDASH_FIELD_KEYS", Fernet.generate_key().decode()
            ),
            "ENERGYDASH_SANDBOX": "1",
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "ENERGYDASH_TRON_API_URL": "http://testserver/sandbox/chain",
            "ENERGYDASH_TRON_API_QPS": str(QPS),
            "TIME_ZONE": "UTC",
            "REDIS_URL": "",
        }
    )
    import django

    django.setup()
    import logging

    for name in ("energydash", "energydash.chain", "energydash.providers", "energydash.orders"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed() -> list[str]:
    from energydash.lib.tron import SUN_PER_TRX
    from energydash.orders.models import WatchAddress, WatchRule
    from energydash.providers.models import ProviderAccount
    from energydash.sandbox.chain_models import ChainConsumer
    from energydash.sandbox.models import SandboxAccount
    from tests.sandbox.helpers import address

    for kind, name, price in (("tronzap", "tz", "40"), ("itrx", "ix", "45")):
        key = (name.upper() + "K" * 32)[:32]
        SandboxAccount.objects.create(
            provider=kind,
            name=f"box {name}",
            api_key=key,
            api_secret=f"secret-{name}",
            balance_sun=10**9 * SUN_PER_TRX,
            delegation_delay_seconds=3,
            hang_seconds=0,
            price_sun=price,
        )
        ProviderAccount.objects.create(
            name=name,
            provider=kind,
            base_url=f"http://testserver/sandbox/{kind}",
            api_key=key,
            api_secret=f"secret-{name}",
        )
    addresses = [address(f"soak-watch-{n}") for n in range(ADDRESSES)]
    rule = WatchRule.objects.create(
        name="soak",
        energy=BURST * TRANSFER,
        max_price_sun=100,
        daily_budget_sun=10**15,
        interval_seconds=INTERVAL,
        period="1H",
    )
    WatchAddress.objects.bulk_create(
        [WatchAddress(rule=rule, address=a, next_check_at=START) for a in addresses]
    )
    ChainConsumer.objects.bulk_create(
        [
            ChainConsumer(address=a, transfers_per_hour=RATE, burst=BURST, seed="soak")
            for a in addresses
        ]
    )
    return addresses


def main() -> int:
    import httpx
    import time_machine

    started = time.monotonic()
    recreate_database(DATABASE_URL)
    setup_django()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db.models import Min

    from energydash.chain.budget import RequestBudget
    from energydash.chain.reader import ChainReader
    from energydash.orders.models import WatchEvent
    from energydash.orders.watch import budget_floor, watch_pass
    from energydash.sandbox.chain_consumption import energy, run_consumers
    from energydash.sandbox.chain_models import ChainTransfer

    addresses = seed()
    threshold = BURST * TRANSFER
    log(
        f"{ADDRESSES} addresses, {HOURS:g} simulated hours in steps of {STEP} s; "
        f"{RATE} transfers/h each in bursts of 1-{BURST}; keep {threshold:,}; "
        f"interval {INTERVAL} s; chain budget {QPS}/s"
    )
    below: dict[str, int] = dict.fromkeys(addresses, 0)
    with time_machine.travel(START, tick=False) as clock:
        http = httpx.Client(transport=httpx.WSGITransport(app=WSGIHandler()))
        reader = ChainReader(
            "http://testserver/sandbox/chain",
            budget=RequestBudget(QPS, sleep=clock.shift, max_wait=600),
            client=http,
            retries=0,
            sleep=clock.shift,
        )
        end = START + timedelta(hours=HOURS)
        next_step = START
        next_sample = START + timedelta(minutes=1)
        run_consumers(START)
        while True:
            now = datetime.now(UTC)
            if now >= end:
                break
            run_consumers(now)
            watch_pass(client=http, reader=reader)
            now = datetime.now(UTC)
            if now >= next_sample:
                first = dict(
                    WatchEvent.objects.filter(kind="purchase")
                    .values("address")
                    .annotate(first=Min("created"))
                    .values_list("address", "first")
                )
                for who in addresses:
                    if who in first and first[who] <= now - timedelta(minutes=1):
                        if energy(who, now).available < threshold:
                            below[who] += 1
                next_sample += timedelta(minutes=1)
                if next_sample.minute == 0:
                    log(f"simulated {now - START} (wall {time.monotonic() - started:.0f} s)")
            next_step += timedelta(seconds=STEP)
            if next_step > now:
                clock.move_to(next_step)
        calls = len(reader.exchanges)
        rate_limited = sum(1 for e in reader.exchanges if e.status_code in (403, 429, 503))
    first = dict(
        WatchEvent.objects.filter(kind="purchase")
        .values("address")
        .annotate(first=Min("created"))
        .values_list("address", "first")
    )
    transfers = ChainTransfer.objects.all()
    burned_after = sum(
        1
        for sender, at in transfers.filter(burned_sun__gt=0).values_list("sender", "at")
        if sender in first and at >= first[sender]
    )
    burned_before = transfers.filter(burned_sun__gt=0).count() - burned_after
    used = sum(transfers.values_list("energy_from_stake", flat=True))
    bought = sum(WatchEvent.objects.filter(kind="purchase").values_list("energy", flat=True))
    purchases = WatchEvent.objects.filter(kind="purchase").count()
    skips = WatchEvent.objects.filter(kind="skip").count()
    address_hours = ADDRESSES * HOURS
    per_address_hour = calls / address_hours
    at_10k = per_address_hour * 10_000 / 3600
    minutes = list(below.values())
    load = os.getloadavg()
    log(f"transfers sent: {transfers.count():,}; energy used {used:,}")
    log(
        f"minutes below threshold per address: total {sum(minutes):,}, mean "
        f"{statistics.mean(minutes):.3f}, worst {max(minutes)} "
        f"({sum(1 for m in minutes if m)} of {ADDRESSES} addresses ever below)"
    )
    log(
        f"transfers that burned TRX: {burned_after} after the address's first purchase "
        f"({burned_before} before it, when nothing had been bought yet)"
    )
    log(
        f"purchases {purchases:,}, skips {skips:,}; energy bought {bought:,} = "
        f"{bought / max(used, 1):.2f} x the energy used"
    )
    log(
        f"chain calls {calls:,} ({rate_limited} rate-limited) = {per_address_hour:.2f} per "
        f"address-hour here ({ADDRESSES} addresses); 10,000 addresses at that rate would ask "
        f"{at_10k:.1f} calls/s"
    )
    from django.conf import settings

    floor = budget_floor(10_000)
    at_floor = 10_000 / floor
    log(
        f"10,000 addresses (scheduling measure): each read at most every {floor:,} s "
        f"(budget_floor, {settings.ENERGYDASH_WATCH_QPS_PERCENT}% of {QPS}/s) = at most "
        f"{at_floor:.1f} calls/s, {3600 / floor:.2f} per address-hour: "
        f"{'within' if at_floor <= QPS else 'OVER'} the configured {QPS}/s"
    )
    at_10k = at_floor
    log(
        f"wall {time.monotonic() - started:.0f} s; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    ok = burned_after == 0 and sum(minutes) == 0 and at_10k <= QPS
    log("PASSED" if ok else "targets not met (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

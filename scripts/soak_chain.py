"""The chain under the soak (issue 20): delivery verification figures and the routing figure.

Called by scripts/soak.py. The sandbox chain gets a block time of SOAK_CHAIN_BLOCK_SECONDS (3):
a delegation appears at the next block. The reader's budget (SOAK_CHAIN_QPS, 10 a second) is also
the sandbox chain's rate limit, so any request over the budget would be answered 429 and counted.
Every sandbox account puts SOAK_DELIVERY_FAULT_RATE (10%) of its energy orders through each
delivery fault: nothing delegated (missing), half delegated (short), delegated 10 s late (still
within the soak's 30 s deadline: verified), taken back 20 s after landing (reclaimed_early), a
stranger's equal delegation beside ours (verified, the stranger's not counted).

After the orders settle it waits for every completed energy order's verdict, then asks for one
mid-period look at every verified order (what the 20% sample does over an hour, brought forward
for all: an operator's "check now"), and reports under "chain": latency from the provider's done
(the sandbox's own delegation time) and from our recorded done to verification (p50/p99, over
orders without a fault that delays them), chain calls per verified order, rate-limit answers,
and per fault kind how many orders got the right state, plus false alarms on healthy orders.

The routing phase (SOAK_ROUTING_SECONDS, 360; 0 skips it) uses three fresh sandbox accounts so the
main phase's faults do not colour their scorecards; the cheapest delivers nothing for 20% of its
orders. One routed order every SOAK_ROUTING_INTERVAL seconds (1.5) goes through best-price
routing; "routing" reports its share of orders in the first minute and the last two, when it
got its last order, and the average cost per order against the price gap to the next account.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from typing import Any

BLOCK_SECONDS = int(os.environ.get("SOAK_CHAIN_BLOCK_SECONDS", "3"))
CHAIN_QPS = int(os.environ.get("SOAK_CHAIN_QPS", "10"))
DELIVERY_FAULT_RATE = float(os.environ.get("SOAK_DELIVERY_FAULT_RATE", "0.1"))
DEADLINE_SECONDS = 30
ROUTING_SECONDS = float(os.environ.get("SOAK_ROUTING_SECONDS", "360"))
ROUTING_INTERVAL = float(os.environ.get("SOAK_ROUTING_INTERVAL", "1.5"))
ROUTING_DEGRADED_MISSING = 0.2
EXPECTED = {
    "": "verified",
    "late": "verified",
    "other_party": "verified",
    "missing": "missing",
    "short": "short",
    "early": "reclaimed_early",
    "taken_back": "reclaimed_early",
    # Refunded before its block: the sandbox undelegates it before it lands, so the chain never
    # showed any energy: missing is the truth.
    "never_landed": "missing",
}
FAILED = ("short", "missing", "reclaimed_early")


def environment(public_url: str) -> dict[str, str]:
    return {
        "ENERGYDASH_TRON_API_URL": f"{public_url}/sandbox/chain",
        "ENERGYDASH_TRON_API_QPS": str(CHAIN_QPS),
        "ENERGYDASH_DELIVERY_DEADLINE_SECONDS": str(DEADLINE_SECONDS),
        "ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT": "0",  # the soak asks for its own look
        "ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES": "10",
        "ENERGYDASH_ROUTING_HEALTH_MIN_ORDERS": "10",
        "ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT": "90",
    }


def taken_back_fault(delegations: list[tuple[Any, Any]]) -> str:
    """For an order a money fault took back: "taken_back" when its delegation was on chain for
    a while (landed before it was undelegated), "never_landed" otherwise. `delegations`: the
    (lands_at, undelegated_at) of the provider's own delegations for the order."""
    for lands_at, undelegated_at in delegations:
        if undelegated_at is None or undelegated_at > lands_at:
            return "taken_back"
    return "never_landed"


def set_chain_knobs() -> None:
    from energydash.sandbox.chain_models import ChainNetwork
    from energydash.sandbox.models import SandboxAccount, SandboxOrder

    network = ChainNetwork.current()
    network.block_seconds = BLOCK_SECONDS
    network.rate_limit_qps = CHAIN_QPS
    network.rate_limit_status = 429
    network.rate_limited_answers = 0
    network.save()
    rates = {f"chain_{f}_rate": DELIVERY_FAULT_RATE for f in SandboxOrder.CHAIN_FAULTS}
    SandboxAccount.objects.update(
        chain_late_fault_seconds=10, chain_early_fault_seconds=20, **rates
    )


def _percentile(values: list[float], share: float) -> float | None:
    from energydash.lib.ranks import nearest_rank

    return round(nearest_rank(values, share / 100), 2) if values else None


def _energy_orders(per_order: dict) -> list:
    """(console order, its sandbox order) of every completed energy or collection order with
    one (a collection delegates its scene's energy and is verified as energy orders are)."""
    from energydash.orders.models import Kind, Order, Status

    rows = (
        Order.objects.filter(kind__in=[Kind.ENERGY, Kind.COLLECTION], status=Status.COMPLETED)
        .exclude(placed_via="soak:routing")
        .select_related("account")
    )
    return [(o, per_order[o.pk][0]) for o in rows if len(per_order.get(o.pk, [])) == 1]


def wait_for_verdicts(wait_until, per_order: dict) -> dict:
    """Every completed energy order judged; then one look at every verified order, after the
    early reclaims have happened. Returns what it waited for, in seconds."""
    from django.utils import timezone

    from energydash.orders.models import Delivery, Order
    from energydash.sandbox.chain_models import ChainDelegation

    started = time.monotonic()
    pairs = _energy_orders(per_order)
    pks = [o.pk for o, _ in pairs]

    def judged() -> bool:
        open_ = Order.objects.filter(pk__in=pks).filter(delivery_status__in=["", Delivery.PENDING])
        return not open_.exists()

    wait_until(judged, DEADLINE_SECONDS * 6 + 120, "every delivery judged", 2)
    verdicts = time.monotonic() - started
    early = ChainDelegation.objects.filter(by_other_party=False).order_by("-undelegated_at")
    last_early = [
        d.undelegated_at
        for d in early.select_related("order__account")
        if d.order.chain_fault() == "early"
    ]
    if last_early:
        wait_until(lambda: timezone.now() > max(last_early), 120, "early reclaims happened", 1)
    asked = timezone.now()
    Order.objects.filter(pk__in=pks, delivery_status=Delivery.VERIFIED).update(
        delivery_next_check_at=asked
    )

    def looked() -> bool:
        return not Order.objects.filter(
            pk__in=pks, delivery_status=Delivery.VERIFIED, delivery_next_check_at__lte=asked
        ).exists()

    wait_until(looked, 300, "the mid-period looks", 2)
    return {
        "verdicts_seconds": round(verdicts, 1),
        "look_seconds": round(time.monotonic() - started - verdicts, 1),
    }


def chain_summary(per_order: dict) -> dict:
    from energydash.lib.ranks import median
    from energydash.orders.models import Order
    from energydash.sandbox.chain_models import ChainNetwork

    pairs = _energy_orders(per_order)
    fresh = {o.pk: o for o in Order.objects.filter(pk__in=[o.pk for o, _ in pairs])}
    by_fault: dict[str, Counter] = {}
    latency_provider: list[float] = []
    latency_ours: list[float] = []
    calls: list[int] = []
    wrong_examples = []
    collections: Counter = Counter()
    for console, remote in pairs:
        order = fresh[console.pk]
        fault = remote.chain_fault()
        if remote.refund_sun is not None or remote.reclaimed_at is not None:
            # A money fault (a refund after completion, an itrx reclaim) took the energy back:
            # the chain then shows it gone early, or nothing if the first look came after.
            fault = taken_back_fault(
                list(
                    remote.chain_delegations.filter(by_other_party=False).values_list(
                        "lands_at", "undelegated_at"
                    )
                )
            )
        expected = EXPECTED[fault]
        if order.kind == "collection":
            collections["orders"] += 1
            collections["right"] += order.delivery_status == expected
            collections[order.delivery_status or "blank"] += 1
        tally = by_fault.setdefault(fault or "healthy", Counter())
        tally["orders"] += 1
        tally[order.delivery_status or "blank"] += 1
        if order.delivery_status == expected:
            tally["right"] += 1
        elif len(wrong_examples) < 5:
            wrong_examples.append(
                {"order": str(order.code), "fault": fault, "state": order.delivery_status}
            )
        if order.delivery_status == "verified" or order.delivery_verified_at:
            calls.append(int((order.delivery_evidence or {}).get("calls") or 0))
        if fault in ("", "other_party", "short", "early") and order.delivery_verified_at:
            # Faults that do not delay the delegation: its latency is the verifier's.
            done = remote.delegated_at()
            latency_provider.append((order.delivery_verified_at - done).total_seconds())
            latency_ours.append((order.delivery_verified_at - order.finished_at).total_seconds())
    faulty = {k: v for k, v in by_fault.items() if k in ("missing", "short", "early")}
    healthy = [v for k, v in by_fault.items() if k in ("healthy", "late", "other_party")]
    caught = sum(v["right"] for v in faulty.values())
    faulty_total = sum(v["orders"] for v in faulty.values())
    false_alarms = sum(sum(v[s] for s in FAILED) for v in healthy)
    network = ChainNetwork.current()
    return {
        "block_seconds": network.block_seconds,
        "qps_budget": CHAIN_QPS,
        "energy_orders_completed": len(pairs),
        "collections": dict(collections),
        "by_fault": {k: dict(v) for k, v in sorted(by_fault.items())},
        "faulty_orders": faulty_total,
        "faulty_caught_percent": round(100 * caught / faulty_total, 2) if faulty_total else None,
        "false_alarms_on_healthy": false_alarms,
        "wrong_examples": wrong_examples,
        "latency_after_provider_done": {
            "p50": _percentile(latency_provider, 50),
            "p99": _percentile(latency_provider, 99),
            "orders": len(latency_provider),
        },
        "latency_after_recorded_done": {
            "p50": _percentile(latency_ours, 50),
            "p99": _percentile(latency_ours, 99),
        },
        "chain_calls_per_verified_order": {
            "median": median(calls) if calls else None,
            "max": max(calls) if calls else None,
        },
        "rate_limited_answers": network.rate_limited_answers,
    }


def chain_goals(chain: dict) -> dict:
    lat = chain["latency_after_provider_done"]
    calls = chain["chain_calls_per_verified_order"]["median"]
    goals = {
        "latency_p50_le_3s": lat["p50"] is not None and lat["p50"] <= 3,
        "latency_p99_le_9s": lat["p99"] is not None and lat["p99"] <= 9,
        "calls_median_le_3": calls is not None and calls <= 3,
        "no_rate_limited_answers": chain["rate_limited_answers"] == 0,
        "all_faulty_caught": chain["faulty_caught_percent"] == 100.0,
        "no_false_alarms": chain["false_alarms_on_healthy"] == 0,
    }
    return {name: {"met": met} for name, met in goals.items()}


# The routing phase ------------------------------------------------------------------------------

ROUTE_ACCOUNTS = (
    ("itrx", "Route itrx", "5A4DB0C1000000000000000000000002", "5A4DB0C1E7A1D5ED" * 4),
    ("tronzap", "Route TronZap", "route-tronzap-token-0002", "route-tronzap-secret-0002"),
    ("netts", "Route Netts", "5a4db0c15a4db0c15a4db0c15a4db0c2", ""),
)


def _route_accounts(public_url: str) -> list:
    from energydash.providers.models import ProviderAccount
    from energydash.sandbox.models import SandboxAccount

    ProviderAccount.objects.update(enabled=False)
    made = []
    for provider, name, key, secret in ROUTE_ACCOUNTS:
        SandboxAccount.objects.create(
            provider=provider,
            name=name,
            api_key=key,
            api_secret=secret,
            balance_sun=10**15,
            delegation_delay_seconds=3,
            whitelist_ips="127.0.0.1" if provider == "netts" else "",
        )
        made.append(
            ProviderAccount.objects.create(
                name=name,
                provider=provider,
                base_url=f"{public_url}/sandbox/{provider}",
                api_key=key,
                api_secret=secret,
                egress_ip="127.0.0.1",
                timeout_seconds=5,
            )
        )
    return made


def phase_windows(seconds: float) -> tuple[float, float]:
    """(end of the "first" window, start of the "last" one) for a routing phase this long: the
    first minute and the last two, or for a short phase its first quarter and last third."""
    return min(60.0, seconds / 4), max(seconds - 120.0, seconds * 2 / 3)


def routing_phase(public_url: str, log) -> dict:
    import hashlib

    from energydash.lib.tron import address_from_payload
    from energydash.orders.candidates import RouteRequest, candidates
    from energydash.orders.routing import route_order
    from energydash.sandbox.models import SandboxAccount

    if ROUTING_SECONDS <= 0:
        return {"skipped": True}
    _route_accounts(public_url)

    def request(i: int) -> RouteRequest:
        seed = hashlib.sha256(f"soak routing {i}".encode()).digest()[:20]
        return RouteRequest(receive_address=address_from_payload(seed), energy=65_000)

    first = [r for r in candidates(request(-1)) if r.eligible]
    degraded, runner_up = first[0], first[1]
    SandboxAccount.objects.filter(name=degraded.account.name).update(
        chain_missing_rate=ROUTING_DEGRADED_MISSING
    )
    log(
        f"routing phase: {ROUTING_SECONDS:.0f} s; {degraded.account.name} degraded "
        f"({ROUTING_DEGRADED_MISSING:.0%} missing), next is {runner_up.account.name}"
    )
    rows = []
    started = time.monotonic()
    i = 0
    while time.monotonic() - started < ROUTING_SECONDS:
        at = time.monotonic() - started
        route, _ = route_order(f"soak-route-{i}", request(i), via="soak:routing")
        if route.order_id:
            rows.append((at, route.order.account_id, route.order.quoted_cost_sun or 0))
        i += 1
        time.sleep(max(0.0, ROUTING_INTERVAL - (time.monotonic() - started - at)))
    ours = degraded.account.pk
    early_end, late_start = phase_windows(ROUTING_SECONDS)
    early = [r for r in rows if r[0] < early_end]
    late = [r for r in rows if r[0] >= late_start]

    def share(part: list) -> float | None:
        return round(100 * sum(r[1] == ours for r in part) / len(part), 1) if part else None

    def mean_cost(part: list) -> float | None:
        return round(statistics.fmean(r[2] for r in part)) if part else None

    got = [r[0] for r in rows if r[1] == ours]
    early_share, late_share = share(early), share(late)
    fall = (
        round(100 * (1 - late_share / early_share), 1)
        if early_share and late_share is not None
        else None
    )
    gap = (runner_up.price_sun or 0) - (degraded.price_sun or 0)
    increase = (mean_cost(late) or 0) - (mean_cost(early) or 0)
    return {
        "seconds": ROUTING_SECONDS,
        "routed_orders": len(rows),
        "degraded_account": degraded.account.name,
        "degraded_missing_percent": round(100 * ROUTING_DEGRADED_MISSING),
        "runner_up": runner_up.account.name,
        "first_window_seconds": [0, round(early_end)],
        "last_window_seconds": [round(late_start), round(ROUTING_SECONDS)],
        "share_first_minute_percent": early_share,
        "share_last_two_minutes_percent": late_share,
        "share_fall_percent": fall,
        "last_order_to_degraded_after_seconds": round(max(got), 1) if got else None,
        "mean_cost_first_minute_sun": mean_cost(early),
        "mean_cost_last_two_minutes_sun": mean_cost(late),
        "cost_increase_sun": increase,
        "price_gap_sun": gap,
        "goals": {
            "share_falls_80_percent_within_10_minutes": {
                "met": fall is not None and fall >= 80 and bool(got) and max(got) <= 600
            },
            "cost_increase_within_price_gap": {"met": increase <= gap},
        },
    }

"""Watch rules: keep watched addresses stocked with energy, through Ready to send's purchase path.

A worker pass (orders/tasks.py check_watch_rules, scheduled every minute) takes each enabled
rule with an address due. One worker acts on a rule at a time: it claims the rule with a guarded
write (busy_until), so two workers never both see one shortfall, and spending within one rule is
serial (the daily budget cannot be overrun by a race). Each due address is moved on to its next
check (another guarded write) and then:

1. the chain's getaccount: an address that is not active is activated through the cheapest
   allowed provider that offers it (readiness.buy);
2. `threshold`: outside the rule's hours nothing is read further; else getaccountresource, and
   the shortfall below the rule's energy, less the energy of the rule's orders still on their
   way, is what is lacking (rounded up to a provider's minimum: readiness.order_size).
   `renew`: when the rule's last purchase for the address expires within renew_minutes (or there
   is none), the rule's energy is bought again;
3. the allowed accounts are priced (candidates): above max_price_sun per energy it is skipped
   ("skipped: price above cap", alerted once per episode: until a check finds the price under the
   cap again); beyond the rule's daily budget it is skipped; otherwise it is bought through
   best-price routing (readiness.buy: limits and approvals apply) with max_cost_sun at the lower
   of the cap and the budget left, once per key (the address's purchase counter, itself advanced
   by a guarded write).

Money spent today is the spend (orders/money.py SPEND: kept money plus possible charges of
uncertain orders) of the orders the rule's history links, created since midnight in the
console's time zone (TIME_ZONE).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db.models import F, Q, Sum
from django.utils import timezone

from energydash.chain.reader import ChainReader
from energydash.lib.tron import validate_address
from energydash.orders import hooks
from energydash.orders.candidates import RouteRequest, candidates
from energydash.orders.models import (
    Kind,
    Order,
    Status,
    WatchAddress,
    WatchEvent,
    WatchRule,
)
from energydash.orders.money import SPEND
from energydash.orders.readiness import ON_ITS_WAY, buy, on_its_way, order_size, route_problem

logger = logging.getLogger("energydash.orders")

LANDING_SECONDS = 60  # a purchase is on chain within this, as a rule (the look ahead of a read)
LEASE = timedelta(minutes=5)  # a worker that dies holding a rule lets go of it after this
PERIOD_MINUTES = {"1H": 60, "1D": 1440, "3D": 4320, "30D": 43200}
MIN_INTERVAL_SECONDS = 60
MAX_ADDRESSES = 1000  # per rule
# A rule's last purchase still counts as its current rental in these states.
RENTAL_STATUSES = (
    Status.AWAITING_APPROVAL,
    Status.SUBMITTED,
    Status.DELEGATING,
    Status.COMPLETED,
    Status.UNKNOWN,
)


class WatchRefused(ValueError):
    """A rule's input cannot be taken; nothing was changed."""


@dataclass
class WatchPass:
    checked: int = 0
    changed: int = 0  # purchases and activations placed


def parse_addresses(text: str) -> list[str]:
    """Addresses pasted one per line, or as CSV (commas, semicolons, spaces): validated and
    de-duplicated in their order. Raises WatchRefused naming the first bad one."""
    found: list[str] = []
    for part in re.split(r"[\s,;]+", str(text or "")):
        part = part.strip().strip('"').strip("'")
        if not part or part.lower() == "address":  # a CSV header
            continue
        try:
            address = validate_address(part)
        except Exception:
            raise WatchRefused(f"addresses: {part[:40]!r} is not a valid TRON address") from None
        if address not in found:
            found.append(address)
    if len(found) > MAX_ADDRESSES:
        raise WatchRefused(f"addresses: at most {MAX_ADDRESSES} per rule")
    return found


def in_hours(rule: WatchRule, when: datetime) -> bool:
    """Whether `when` (in the console's time zone) is within the rule's hours; all day if unset.
    hour_from 22, hour_to 6 is a night window; equal hours are all day."""
    if rule.hour_from is None or rule.hour_to is None or rule.hour_from == rule.hour_to:
        return True
    hour = timezone.localtime(when).hour
    if rule.hour_from < rule.hour_to:
        return rule.hour_from <= hour < rule.hour_to
    return hour >= rule.hour_from or hour < rule.hour_to


def rule_orders(rule: WatchRule, address: str | None = None) -> Any:
    events = WatchEvent.objects.filter(rule=rule, order__isnull=False)
    if address is not None:
        events = events.filter(address=address)
    return Order.objects.filter(pk__in=events.values("order"))


def day_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def spent_today(rule: WatchRule, now: datetime | None = None) -> int:
    """Sun the rule spent today (SPEND: uncertain orders count as possible spend)."""
    since = day_start(now or timezone.now())
    total = rule_orders(rule).filter(created__gte=since).aggregate(total=Sum(SPEND))["total"]
    return int(total or 0)


def watch_pass(
    *,
    client: httpx.Client | None = None,
    reader: ChainReader | None = None,
    now: datetime | None = None,
) -> WatchPass:
    """Check every due address of every enabled rule once (see the module's words)."""
    now = now or timezone.now()
    result = WatchPass()
    rule_ids = list(
        WatchRule.objects.filter(enabled=True, addresses__next_check_at__lte=now)
        .values_list("pk", flat=True)
        .distinct()
    )
    if not rule_ids:
        return result
    reader = reader or ChainReader.from_settings(client=client)
    floor = budget_floor(WatchAddress.objects.filter(rule__enabled=True).count())
    for rule_id in rule_ids:
        claimed = (
            WatchRule.objects.filter(pk=rule_id, enabled=True)
            .filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now))
            .update(busy_until=now + LEASE)
        )
        if not claimed:
            continue  # another worker acts on it
        try:
            rule = WatchRule.objects.get(pk=rule_id)
            allowed = tuple(rule.accounts.values_list("pk", flat=True))
            for target in rule.addresses.filter(next_check_at__lte=now).order_by("pk"):
                moved = WatchAddress.objects.filter(
                    pk=target.pk, next_check_at=target.next_check_at
                ).update(next_check_at=now + timedelta(seconds=rule.interval_seconds))
                target.read_every = target.read_every or rule.interval_seconds
                target.budget_floor = floor
                if not moved:
                    continue
                result.checked += 1
                try:
                    result.changed += check_address(
                        rule, target, reader, allowed=allowed, client=client, now=now
                    )
                except Exception as exc:
                    logger.exception("watch rule %s: checking %s failed", rule.pk, target.address)
                    _event(
                        rule,
                        target,
                        WatchEvent.Kind.SKIP,
                        f"The check stopped on an error: {type(exc).__name__}; see the log.",
                    )
                _save_schedule(rule, target, now)
        finally:
            WatchRule.objects.filter(pk=rule_id).update(busy_until=None)
    return result


def _event(rule: WatchRule, target: WatchAddress, kind: str, reason: str, **fields: Any) -> Any:
    return WatchEvent.objects.create(
        rule=rule, address=target.address, kind=kind, reason=reason, **fields
    )


def _next_key(target: WatchAddress, what: str) -> str | None:
    """Claim the address's next purchase (a guarded write); None if another worker did."""
    number = target.purchases
    if not WatchAddress.objects.filter(pk=target.pk, purchases=number).update(
        purchases=F("purchases") + 1
    ):
        return None
    target.purchases = number + 1
    return f"watch-{target.pk}-{number + 1}-{what}"


def check_address(
    rule: WatchRule,
    target: WatchAddress,
    reader: ChainReader,
    *,
    allowed: tuple[int, ...] = (),
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> int:
    """One check of one watched address; returns the number of orders placed (0, 1 or 2)."""
    now = now or timezone.now()
    skip, check = WatchEvent.Kind.SKIP, WatchEvent.Kind.CHECK
    if rule.kind == WatchRule.Kind.THRESHOLD and not in_hours(rule, now):
        _event(rule, target, check, f"Outside the rule's hours ({rule.hour_from}-{rule.hour_to}).")
        return 0
    if not reader.configured:
        _event(rule, target, skip, "No chain node is configured (ENERGYDASH_TRON_API_URL).")
        return 0
    placed = 0
    if not target.activated:
        placed = _activate(rule, target, reader, allowed=allowed, client=client, now=now)
        if not target.activated:
            return placed
    if rule.kind == WatchRule.Kind.THRESHOLD:
        lacking = _lacking(rule, target, reader, now)
    else:
        lacking = _renewal(rule, target, now)
    if lacking is None:
        return placed
    return placed + _buy_energy(rule, target, lacking, allowed=allowed, client=client, now=now)


def _activate(
    rule: WatchRule,
    target: WatchAddress,
    reader: ChainReader,
    *,
    allowed: tuple[int, ...],
    client: httpx.Client | None,
    now: datetime,
) -> int:
    """Read whether the address is active (asked until it is: a TRON account stays active) and
    activate it when not. Sets target.activated when the chain says so."""
    skip, check = WatchEvent.Kind.SKIP, WatchEvent.Kind.CHECK
    account = reader.account(target.address)
    if not account.ok:
        _event(rule, target, skip, f"Could not read the account on chain: {account.message}")
        return 0
    placed = 0
    if account.value.activated:
        target.activated = True
        return 0
    if spent_today(rule, now) >= rule.daily_budget_sun:
        _event(rule, target, skip, "skipped: daily budget spent; the address is not active.")
        return 0
    key = _next_key(target, "activation")
    if key is None:
        return 0
    route = buy(
        key,
        target.address,
        Kind.ACTIVATION,
        None,
        period=rule.period,
        via=f"watch:{rule.pk}",
        client=client,
        accounts=allowed,
    )
    problem = route_problem(route, "activation")
    if route.order_id:
        placed = 1
        _event(
            rule,
            target,
            WatchEvent.Kind.ACTIVATION,
            problem or "Activation ordered: the address was not active on chain.",
            route=route,
            order_id=route.order_id,
        )
    else:
        _event(rule, target, skip, problem, route=route)
    if problem:
        return placed
    again = reader.account(target.address)
    if not (again.ok and again.value.activated):
        _event(rule, target, check, "Not active on chain yet; energy is bought once it is.")
        return placed
    target.activated = True
    return placed


def _lacking(
    rule: WatchRule, target: WatchAddress, reader: ChainReader, now: datetime
) -> int | None:
    """Read the energy, learn how fast the address uses it (next_read), and return what is
    lacking to keep the rule's energy plus a margin until the next read, or None."""
    resource = reader.account_resource(target.address)
    if not resource.ok:
        _event(rule, target, WatchEvent.Kind.SKIP, f"Could not read the energy: {resource.message}")
        return None
    available = resource.value.energy_available
    coming = _learn(rule, target, resource.value.energy_limit, available, now)
    target.limit_now = resource.value.energy_limit
    ends = _ending(rule, target.address, now, now + _horizon(rule, target))
    keep = rule.energy + target.peak_use
    recent = rule_orders(rule, target.address).filter(created__gte=now - ON_ITS_WAY)
    waiting, _ = on_its_way(recent)
    if waiting is not None:
        _event(
            rule,
            target,
            WatchEvent.Kind.SKIP,
            f"skipped: order {waiting.pk} awaits approval; nothing more is bought until it is "
            "decided.",
            energy_available=available,
        )
        return None
    lacking = keep - (available - ends) - coming
    if lacking <= 0 or (available >= rule.energy + target.peak_use and not ends):
        words = f"{available:,} energy available; at least {rule.energy:,} kept"
        if target.peak_use:
            words += f" (+{target.peak_use:,} for use between reads)"
        if coming:
            words += f"; {coming:,} bought is still on its way"
        _event(
            rule,
            target,
            WatchEvent.Kind.CHECK,
            words + f"; next read in {target.read_every} s.",
            energy_available=available,
        )
        return None
    # Short of energy (bought now, or skipped for the cap or the budget): read again at the
    # rule's interval at the latest, however idle the address was.
    target.read_every = min(target.read_every or rule.interval_seconds, rule.interval_seconds)
    target.lacking_words = (
        f"{available:,} available, {ends:,} of it ending before the next read, {coming:,} on its "
        f"way; {keep:,} kept"
    )
    return lacking


def _period_minutes(order: Order, rule: WatchRule) -> int:
    return PERIOD_MINUTES.get(order.period or rule.period, 60)


def _ending(rule: WatchRule, address: str, after: datetime, until: datetime) -> int:
    """Energy of the rule's rentals for `address` whose period ends in (after, until]: the
    rule's own orders (created + period), so this costs no chain request."""
    longest = max(PERIOD_MINUTES.values())
    rows = rule_orders(rule, address).filter(
        kind=Kind.ENERGY,
        status__in=RENTAL_STATUSES,
        created__gt=after - timedelta(minutes=longest),
    )
    total = 0
    for order in rows.only("created", "period", "energy"):
        end = order.created + timedelta(minutes=_period_minutes(order, rule))
        if after < end <= until:
            total += order.energy or 0
    return total


def _horizon(rule: WatchRule, target: WatchAddress) -> timedelta:
    """How far ahead a read must look: to the next read, plus the time a purchase takes."""
    return timedelta(seconds=(target.read_every or rule.interval_seconds) + LANDING_SECONDS)


def _learn(rule: WatchRule, target: WatchAddress, limit: int, available: int, now: datetime) -> int:
    """Update the address's use figures from this read; return the energy bought and not yet
    seen on chain (coming)."""
    ended = 0
    if target.last_read_at is not None:
        ended = _ending(rule, target.address, target.last_read_at, now)
    coming = 0
    if target.awaiting_energy:
        target.awaiting_limit -= ended
        landed = limit >= target.awaiting_limit
        if landed or target.awaiting_until is None or now >= target.awaiting_until:
            target.awaiting_energy = target.awaiting_limit = 0
            target.awaiting_until = None
        else:
            coming = int(target.awaiting_energy)
    used = 0
    if target.last_read_at is not None and target.last_level is not None:
        used = max(target.last_level - ended - coming - available, 0)
        hours = max((now - target.last_read_at).total_seconds(), 1) / 3600
        seen = int(used / hours)
        target.use_per_hour = (
            (target.use_per_hour + seen) // 2 if used else target.use_per_hour // 2
        )
        target.peak_use = max(used, target.peak_use * 9 // 10)
    target.used_since_read = used
    target.last_read_at = now
    target.last_level = available + coming
    target.read_every = next_read(rule, target, used, available + coming)
    return coming


def next_read(rule: WatchRule, target: WatchAddress, used: int, level: int) -> int:
    """Seconds to the address's next read. One that used nothing since the last read is read
    less often (the gap doubles, up to ENERGYDASH_WATCH_IDLE_STRETCH times the rule's interval);
    one that uses energy is read at the rule's interval, or sooner when at its pace it would
    reach the rule's energy before that (half the time it takes, at least
    ENERGYDASH_WATCH_MIN_READ_SECONDS)."""
    base = rule.interval_seconds
    floor = getattr(target, "budget_floor", 0)
    if not used:
        longest = base * max(int(settings.ENERGYDASH_WATCH_IDLE_STRETCH), 1)
        return max(min((target.read_every or base) * 2, longest), floor)
    seconds = base
    spare = level - rule.energy
    if target.use_per_hour > 0:
        reach = max(spare, 0) / target.use_per_hour * 3600
        seconds = min(base, int(reach / 2))
    return max(seconds, min(settings.ENERGYDASH_WATCH_MIN_READ_SECONDS, base), floor)


def budget_floor(watched: int) -> int:
    """The shortest gap between two reads of one address that keeps `watched` addresses within
    ENERGYDASH_WATCH_QPS_PERCENT of the chain's request budget (ENERGYDASH_TRON_API_QPS) at one
    request a read: the node has no call that reads many addresses at once. With 10,000
    addresses, 10 requests a second and 50%: 2,000 s. Small lists are not slowed (a few s)."""
    share = settings.ENERGYDASH_TRON_API_QPS * settings.ENERGYDASH_WATCH_QPS_PERCENT / 100
    return math.ceil(watched / max(share, 0.01))


def _save_schedule(rule: WatchRule, target: WatchAddress, now: datetime) -> None:
    every = target.read_every or rule.interval_seconds
    WatchAddress.objects.filter(pk=target.pk).update(
        next_check_at=now + timedelta(seconds=every),
        read_every=every,
        activated=target.activated,
        last_read_at=target.last_read_at,
        last_level=target.last_level,
        use_per_hour=target.use_per_hour,
        peak_use=target.peak_use,
        awaiting_energy=target.awaiting_energy,
        awaiting_limit=target.awaiting_limit,
        awaiting_until=target.awaiting_until,
    )


def _renewal(rule: WatchRule, target: WatchAddress, now: datetime) -> int | None:
    last = (
        rule_orders(rule, target.address)
        .filter(kind=Kind.ENERGY, status__in=RENTAL_STATUSES)
        .order_by("-created", "-pk")
        .first()
    )
    if last is not None:
        if last.status == Status.AWAITING_APPROVAL:
            _event(
                rule,
                target,
                WatchEvent.Kind.SKIP,
                f"skipped: order {last.pk} awaits approval; nothing more is bought until it is "
                "decided.",
            )
            return None
        minutes = PERIOD_MINUTES.get(last.period or rule.period, 60)
        expires = last.created + timedelta(minutes=minutes)
        renew_at = expires - timedelta(minutes=rule.renew_minutes or 0)
        if now < renew_at:
            _event(
                rule,
                target,
                WatchEvent.Kind.CHECK,
                f"The rental (order {last.pk}) runs until "
                f"{timezone.localtime(expires):%Y-%m-%d %H:%M}; renewed from "
                f"{timezone.localtime(renew_at):%H:%M}.",
            )
            return None
    return rule.energy


def _buy_energy(
    rule: WatchRule,
    target: WatchAddress,
    lacking: int,
    *,
    allowed: tuple[int, ...],
    client: httpx.Client | None,
    now: datetime,
) -> int:
    skip = WatchEvent.Kind.SKIP
    amount, _rounded = order_size(
        target.address, lacking, client, period=rule.period, accounts=allowed
    )
    rows = candidates(
        RouteRequest(
            receive_address=target.address, energy=amount, period=rule.period, accounts=allowed
        ),
        client=client,
    )
    eligible = [row for row in rows if row.eligible]
    if not eligible:
        why = rows[0].note or rows[0].reason if rows else "no enabled account is allowed"
        _event(rule, target, skip, f"skipped: no allowed account can take {amount:,} energy: {why}")
        return 0
    cheapest = min(row.price_sun or 0 for row in eligible)
    cap = rule.max_price_sun * amount
    if cheapest > cap:
        per = cheapest / amount
        _event(
            rule,
            target,
            skip,
            f"skipped: price above cap: the cheapest is {cheapest:,} sun for {amount:,} energy "
            f"({per:.1f} sun per energy), the cap is {rule.max_price_sun} sun per energy.",
        )
        started = WatchAddress.objects.filter(pk=target.pk, capped_since__isnull=True).update(
            capped_since=now
        )
        if started:  # one alert per episode
            words = (
                f"Watch rule {rule.name!r}: the price for {target.address} is above the cap "
                f"({per:.1f} > {rule.max_price_sun} sun per energy); nothing is bought until it "
                "falls."
            )
            logger.warning(words)
            _event(rule, target, WatchEvent.Kind.ALERT, words)
            hooks.watch_alert(f"Watch rule {rule.name}: price above the cap", words, cap)
        return 0
    WatchAddress.objects.filter(pk=target.pk).update(capped_since=None)
    left = rule.daily_budget_sun - spent_today(rule, now)
    if cheapest > left:
        _event(
            rule,
            target,
            skip,
            f"skipped: daily budget: {rule.daily_budget_sun - left:,} of "
            f"{rule.daily_budget_sun:,} sun spent today; {amount:,} energy costs {cheapest:,}.",
        )
        return 0
    key = _next_key(target, "energy")
    if key is None:
        return 0
    route = buy(
        key,
        target.address,
        Kind.ENERGY,
        amount,
        period=rule.period,
        via=f"watch:{rule.pk}",
        client=client,
        max_cost_sun=min(cap, left),
        accounts=allowed,
    )
    problem = route_problem(route, f"{amount:,} energy")
    if not route.order_id:
        _event(rule, target, skip, f"skipped: {problem}", route=route)
        return 0
    limit = getattr(target, "limit_now", None)
    if limit is not None:  # a threshold read: wait for the chain to show it
        target.awaiting_energy += amount
        target.awaiting_limit = limit + amount - amount // 100  # 1% for the stake rounding
        target.awaiting_until = now + ON_ITS_WAY
        target.last_level = (target.last_level or 0) + amount
    what = getattr(target, "lacking_words", "")
    _event(
        rule,
        target,
        WatchEvent.Kind.PURCHASE,
        problem
        or f"Bought {amount:,} energy ({lacking:,} lacking{': ' + what if what else ''}), "
        f"order {route.order_id}.",
        energy=amount,
        route=route,
        order_id=route.order_id,
    )
    return 1


FIELDS = (
    "name",
    "kind",
    "energy",
    "hour_from",
    "hour_to",
    "renew_minutes",
    "max_price_sun",
    "daily_budget_sun",
    "period",
    "enabled",
    "interval_seconds",
)
LIMITS = {  # field: (lowest, highest)
    "energy": (1, 100_000_000),
    "hour_from": (0, 23),
    "hour_to": (0, 23),
    "renew_minutes": (1, 43_200),
    "max_price_sun": (1, 100_000),
    "daily_budget_sun": (0, 10**15),
    "interval_seconds": (MIN_INTERVAL_SECONDS, 86_400),
}


def _whole(name: str, value: Any, optional: bool) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        raise WatchRefused(f"{name}: required")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WatchRefused(f"{name}: a whole number")
    text = str(value).strip()
    if not text.isdigit() or len(text) > 16:
        raise WatchRefused(f"{name}: a whole number, not {text[:20]!r}")
    number = int(text)
    low, high = LIMITS[name]
    if not low <= number <= high:
        raise WatchRefused(f"{name}: between {low:,} and {high:,}")
    return number


def _accounts(values: Any) -> list[Any]:
    from energydash.providers.models import ProviderAccount

    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = [v for v in re.split(r"[\s,;]+", values) if v]
    if not isinstance(values, list | tuple):
        raise WatchRefused("accounts: a list of account names or ids")
    found = []
    for value in values:
        text = str(value).strip()
        match = ProviderAccount.objects.filter(name=text).first()
        if match is None and re.fullmatch(r"[0-9a-fA-F-]{32,36}", text):
            match = ProviderAccount.objects.filter(code=text).first()
        if match is None and text.isdigit():
            match = ProviderAccount.objects.filter(pk=int(text)).first()
        if match is None:
            raise WatchRefused(f"accounts: no account {text[:40]!r}")
        found.append(match)
    return found


def save_rule(rule: WatchRule | None, data: dict[str, Any]) -> WatchRule:
    """Create (rule None) or update a rule from `data` (the API's or the console's fields, with
    `addresses` as a list or pasted text and `accounts` as names or ids). Every field is
    checked before anything is written; a refusal raises WatchRefused and changes nothing."""
    from django.db import transaction

    from energydash.providers.results import PERIODS

    current = {name: getattr(rule, name) for name in FIELDS} if rule is not None else {}
    values = {**current, **{k: v for k, v in data.items() if k in FIELDS}}
    name = str(values.get("name") or "").strip()
    if not name or len(name) > 80:
        raise WatchRefused("name: 1 to 80 characters")
    kind = values.get("kind") or WatchRule.Kind.THRESHOLD
    if kind not in WatchRule.Kind.values:
        raise WatchRefused(f"kind: one of {', '.join(WatchRule.Kind.values)}")
    period = values.get("period") or "1H"
    if period not in PERIODS:
        raise WatchRefused(f"period: one of {', '.join(PERIODS)}")
    enabled = values.get("enabled", True)
    if not isinstance(enabled, bool):
        raise WatchRefused("enabled: true or false")
    clean: dict[str, Any] = {"name": name, "kind": kind, "period": period, "enabled": enabled}
    clean["energy"] = _whole("energy", values.get("energy"), False)
    clean["max_price_sun"] = _whole("max_price_sun", values.get("max_price_sun"), False)
    clean["daily_budget_sun"] = _whole("daily_budget_sun", values.get("daily_budget_sun"), False)
    interval = values.get("interval_seconds")
    clean["interval_seconds"] = _whole(
        "interval_seconds", 300 if interval in (None, "") else interval, False
    )
    clean["hour_from"] = _whole("hour_from", values.get("hour_from"), True)
    clean["hour_to"] = _whole("hour_to", values.get("hour_to"), True)
    if (clean["hour_from"] is None) != (clean["hour_to"] is None):
        raise WatchRefused("hour_from and hour_to: both or neither")
    clean["renew_minutes"] = _whole("renew_minutes", values.get("renew_minutes"), True)
    if kind == WatchRule.Kind.RENEW and clean["renew_minutes"] is None:
        raise WatchRefused("renew_minutes: required for a renew rule")
    accounts = _accounts(data["accounts"]) if "accounts" in data else None
    addresses = None
    if "addresses" in data:
        given = data["addresses"]
        if isinstance(given, list | tuple):
            given = "\n".join(str(a) for a in given)
        addresses = parse_addresses(given)
    elif rule is None:
        addresses = []
    with transaction.atomic():
        if rule is None:
            rule = WatchRule.objects.create(**clean)
        else:
            for field, value in clean.items():
                setattr(rule, field, value)
            rule.save()
        if accounts is not None:
            rule.accounts.set(accounts)
        if addresses is not None:
            rule.addresses.exclude(address__in=addresses).delete()
            have = set(rule.addresses.values_list("address", flat=True))
            WatchAddress.objects.bulk_create(
                [WatchAddress(rule=rule, address=a) for a in addresses if a not in have]
            )
    return rule


def rule_json(rule: WatchRule, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": rule.pk,
        **{name: getattr(rule, name) for name in FIELDS},
        "accounts": [a.name for a in rule.accounts.order_by("name")],
        "addresses": list(rule.addresses.order_by("pk").values_list("address", flat=True)),
        "spent_today_sun": spent_today(rule, now),
        "created": rule.created,
    }


def event_json(event: WatchEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "address": event.address,
        "kind": event.kind,
        "reason": event.reason,
        "energy_available": event.energy_available,
        "energy": event.energy,
        "order": str(event.order.code) if event.order_id else None,
        "created": event.created,
    }

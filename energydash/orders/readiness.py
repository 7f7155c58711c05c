"""Ready to send: make a sender address able to send USDT now, without burning TRX for energy.

    check = ensure_ready("client-key", "T...", recipient="T...", via="cli")
    check.state  # "ready" or "not_ready", check.reason in words

Steps (README "Ready to send"): activation (the chain's getaccount; when not active, an
activation order routed to the cheapest provider offering it), the energy and bandwidth available
now (getaccountresource), the transfer's energy (triggerconstantcontract with a recipient, else
131,000, a transfer to an address that never held USDT) plus ENERGYDASH_READY_HEADROOM_PERCENT,
only the deficit bought through best-price routing (limits and approvals apply: an order awaiting
approval answers not_ready), then the chain read until the energy is there or the deadline passes.

Once per key: a second call with the key answers the first call's check. At most one check per
address works at a time (ReadyCheck's conditional unique row): a concurrent check for the same
address waits for it and then reads the chain again, so two calls buy at most one deficit.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from energydash.chain.reader import ChainReader
from energydash.lib.tron import format_trx, validate_address
from energydash.orders.models import Delivery, Kind, Order, ReadyCheck, Route, Status
from energydash.orders.routing import RouteRequest, body_hash, route_order

USDT_ENERGY_HOLDER = 65_000  # a transfer to an address that holds USDT
USDT_ENERGY_NEW = 131_000  # to one that never did, or an unknown recipient
POLL_SECONDS = 1.0


class ReadyRefused(ValueError):
    """The request cannot be taken (a bad address, amount or deadline); nothing was done."""


@dataclass
class ReadyAnswer:
    check: ReadyCheck
    same_body: bool  # False: the key came with another request; nothing was done
    done_here: bool  # False: the answer of an earlier call with this key (a replay)


def usdt_units(text: str | None) -> int | None:
    """'12.5' USDT as 12,500,000 units (6 decimals); None for None. Raises ReadyRefused."""
    if text is None or text == "":
        return None
    whole, _, frac = str(text).strip().partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 6 or len(whole) > 12:
        raise ReadyRefused(f"usdt: {str(text)[:40]!r} is not an amount of USDT (6 decimals)")
    return int(whole) * 1_000_000 + int(frac.ljust(6, "0") or 0)


def _key(key: str, part: str) -> str:
    return f"ready-{hashlib.sha256(key.encode()).hexdigest()[:40]}-{part}"


def ensure_ready(
    key: str,
    address: str,
    *,
    recipient: str = "",
    usdt: int | None = None,
    deadline_seconds: int | None = None,
    via: str,
    actor: Any = None,
    token: Any = None,
    client: httpx.Client | None = None,
    reader: ChainReader | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReadyAnswer:
    """Make `address` ready to send once per `key`; see the module's words."""
    try:
        address = validate_address(address)
        recipient = validate_address(recipient) if recipient else ""
    except Exception as exc:  # InvalidAddress, or not text
        raise ReadyRefused(f"not a valid TRON address: {exc}") from None
    deadline_seconds = (
        settings.ENERGYDASH_READY_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    )
    if not 0 <= deadline_seconds <= 600:
        raise ReadyRefused("deadline: between 0 and 600 seconds")
    if usdt is not None and usdt < 0:
        raise ReadyRefused("usdt: not negative")
    digest = body_hash({"address": address, "recipient": recipient, "usdt": usdt})
    key = _key(key, "check")
    ends = time.monotonic() + deadline_seconds
    while True:
        check, state = _open(key, digest, address, recipient, usdt, via, deadline_seconds)
        if state == "mine":
            break
        if state == "replay":
            if check.body_hash != digest:
                return ReadyAnswer(check, False, False)
            while check.state == ReadyCheck.State.WORKING and time.monotonic() < ends:
                sleep(POLL_SECONDS / 10)
                check.refresh_from_db()
            return ReadyAnswer(check, True, False)
        # Another check for this address is working: wait for it, then read the chain again.
        if time.monotonic() >= ends:
            check = _record_busy(key, digest, address, recipient, usdt, via)
            return ReadyAnswer(check, True, True)
        sleep(POLL_SECONDS / 10)
    reader = reader or ChainReader.from_settings(client=client)
    try:
        _work(check, reader, ends, via=via, actor=actor, token=token, client=client, sleep=sleep)
    except Exception:
        _finish(check, ReadyCheck.State.NOT_READY, "The check stopped on an error; see the log.")
        raise
    return ReadyAnswer(check, True, True)


def _open(
    key: str,
    digest: str,
    address: str,
    recipient: str,
    usdt: int | None,
    via: str,
    deadline_seconds: int,
) -> tuple[ReadyCheck, str]:
    """("mine", check) when this call now works on the address; ("replay", check) for the key's
    earlier check; ("busy", None) while another check works on the address."""
    existing = ReadyCheck.objects.filter(key=key).first()
    if existing is not None:
        return existing, "replay"
    now = timezone.now()
    # A check whose process died leaves its row working: once past its time it gives way.
    ReadyCheck.objects.filter(
        address=address, state=ReadyCheck.State.WORKING, working_until__lt=now
    ).update(
        state=ReadyCheck.State.NOT_READY,
        reason="The check was interrupted before it finished.",
        finished_at=now,
    )
    try:
        with transaction.atomic():
            check = ReadyCheck.objects.create(
                key=key,
                body_hash=digest,
                via=via,
                address=address,
                recipient=recipient,
                usdt_units=usdt,
                working_until=now + timedelta(seconds=deadline_seconds + 120),
            )
        return check, "mine"
    except IntegrityError:
        existing = ReadyCheck.objects.filter(key=key).first()
        if existing is not None:
            return existing, "replay"
        return None, "busy"  # type: ignore[return-value]


def _record_busy(
    key: str, digest: str, address: str, recipient: str, usdt: int | None, via: str
) -> ReadyCheck:
    try:
        with transaction.atomic():
            return ReadyCheck.objects.create(
                key=key,
                body_hash=digest,
                via=via,
                address=address,
                recipient=recipient,
                usdt_units=usdt,
                state=ReadyCheck.State.NOT_READY,
                reason="Another ready check for this address was still running at the deadline; "
                "nothing was bought by this one. Ask again.",
                finished_at=timezone.now(),
            )
    except IntegrityError:
        return ReadyCheck.objects.get(key=key)


def _finish(check: ReadyCheck, state: str, reason: str, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(check, name, value)
    check.state, check.reason, check.finished_at = state, reason, timezone.now()
    check.working_until = None
    check.save()


def _work(
    check: ReadyCheck,
    reader: ChainReader,
    ends: float,
    *,
    via: str,
    actor: Any,
    token: Any,
    client: httpx.Client | None,
    sleep: Callable[[float], None],
) -> None:
    not_ready = ReadyCheck.State.NOT_READY
    if not reader.configured:
        _finish(check, not_ready, "No chain node is configured (ENERGYDASH_TRON_API_URL).")
        return
    account = reader.account(check.address)
    if not account.ok:
        _finish(check, not_ready, f"Could not read the account on chain: {account.message}")
        return
    if not account.value.activated:
        route = _buy(check, Kind.ACTIVATION, None, via, actor, token, client)
        check.activation_route = route
        problem = _route_problem(route, "activation")
        if problem:
            _finish(check, not_ready, problem)
            return
        if not _wait(lambda: _activated(reader, check.address), ends, sleep):
            _finish(
                check,
                not_ready,
                f"Activation order {route.order_id} was placed but the address is not active on "
                "chain yet; ask again later.",
            )
            return
    estimate, how = _estimate(check, reader)
    needed = -(-estimate * (100 + settings.ENERGYDASH_READY_HEADROOM_PERCENT) // 100)
    check.energy_estimate, check.energy_needed = estimate, needed
    check.fee_limit_sun = estimate * settings.ENERGYDASH_READY_ENERGY_PRICE_SUN
    resource = reader.account_resource(check.address)
    if not resource.ok:
        _finish(check, not_ready, f"Could not read the address's energy: {resource.message}")
        return
    _note(check, resource.value)
    deficit = needed - check.energy_available
    waiting, coming = _on_its_way(check.address)
    if deficit > 0 and waiting is not None:
        _finish(
            check,
            not_ready,
            f"An earlier ready check's order for {waiting.energy:,} energy awaits approval by "
            f"another person (order {waiting.pk}); nothing more is bought until it is decided.",
        )
        return
    if deficit > 0:
        if deficit > coming:
            route = _buy(check, Kind.ENERGY, deficit - coming, via, actor, token, client)
            check.route = route
            problem = _route_problem(route, f"{deficit - coming:,} energy")
            if problem:
                _finish(check, not_ready, problem)
                return
            check.energy_bought = deficit - coming

        def arrived() -> bool:
            reading = reader.account_resource(check.address)
            if reading.ok:
                _note(check, reading.value)
            return reading.ok and check.energy_available >= needed

        if not _wait(arrived, ends, sleep):
            _finish(
                check,
                not_ready,
                f"{deficit:,} energy was bought ({_orders_words(check, coming)}) but the chain "
                f"shows {check.energy_available:,} of the {needed:,} needed by the deadline; ask "
                "again to wait longer (nothing more is bought while it is on its way).",
            )
            return
    words = (
        f"{check.energy_available:,} energy available for a transfer estimated at "
        f"{estimate:,} ({how}) plus {settings.ENERGYDASH_READY_HEADROOM_PERCENT}% headroom; "
        f"{check.bandwidth_available:,} bandwidth. Send with fee_limit "
        f"{format_trx(check.fee_limit_sun)} TRX."
    )
    if check.energy_bought:
        words = f"Bought {check.energy_bought:,} energy, verified on chain. " + words
    _finish(check, ReadyCheck.State.READY, words)


# An earlier check's order still on its way counts against the deficit for this long.
ON_ITS_WAY = timedelta(minutes=15)


def _on_its_way(address: str) -> tuple[Order | None, int]:
    """Orders bought by earlier ready checks for `address` that ended before the chain showed
    them: (one awaiting approval, or None; the energy of those accepted and not yet judged on
    chain). Counted so that asking again waits for them instead of buying the deficit twice."""
    since = timezone.now() - ON_ITS_WAY
    orders = Order.objects.filter(
        pk__in=ReadyCheck.objects.filter(
            address=address,
            state=ReadyCheck.State.NOT_READY,
            finished_at__gte=since,
            route__order__isnull=False,
        ).values("route__order")
    )
    waiting = orders.filter(status=Status.AWAITING_APPROVAL).order_by("pk").first()
    coming = orders.filter(
        Q(status__in=(Status.SUBMITTED, Status.DELEGATING, Status.UNKNOWN))
        | Q(status=Status.COMPLETED, delivery_status__in=("", Delivery.PENDING))
    )
    return waiting, sum(o.energy or 0 for o in coming)


def _orders_words(check: ReadyCheck, coming: int) -> str:
    parts = []
    if check.route is not None:
        parts.append(f"order {check.route.order_id}")
    if coming:
        parts.append(f"{coming:,} energy from earlier checks still on its way")
    return ", ".join(parts)


def _note(check: ReadyCheck, resource: Any) -> None:
    check.energy_available = resource.energy_available
    check.bandwidth_available = max(resource.net_limit - resource.net_used, 0) + max(
        resource.free_net_limit - resource.free_net_used, 0
    )


def _activated(reader: ChainReader, address: str) -> bool:
    reading = reader.account(address)
    return bool(reading.ok and reading.value.activated)


def _estimate(check: ReadyCheck, reader: ChainReader) -> tuple[int, str]:
    if not check.recipient:
        return USDT_ENERGY_NEW, "no recipient given: a transfer to a new USDT holder"
    reading = reader.estimate_transfer(check.address, check.recipient, check.usdt_units or 1)
    if reading.ok and reading.value.succeeded and reading.value.energy_used > 0:
        return reading.value.energy_used, "estimated on chain"
    return USDT_ENERGY_NEW, "the chain gave no estimate: a transfer to a new USDT holder"


def _buy(
    check: ReadyCheck,
    kind: str,
    energy: int | None,
    via: str,
    actor: Any,
    token: Any,
    client: httpx.Client | None,
) -> Route:
    request = RouteRequest(
        receive_address=check.address,
        energy=energy,
        period=settings.ENERGYDASH_READY_PERIOD if kind == Kind.ENERGY else "",
        kind=kind,
    )
    route, _ = route_order(
        _key(check.key, kind), request, via=via, actor=actor, token=token, client=client
    )
    return route


def _route_problem(route: Route, what: str) -> str:
    if route.status == Route.Status.PLACED:
        return ""
    if route.status == Route.Status.AWAITING:
        return (
            f"The order for {what} awaits approval by another person (order {route.order_id}); "
            "nothing was sent. Ask again once it is approved."
        )
    if route.status == Route.Status.UNKNOWN:
        return (
            f"The order for {what} has an unknown outcome (order {route.order_id}): it may have "
            "been charged and is being reconciled."
        )
    return f"No account could take the order for {what}: {route.problem}"


def _wait(done: Callable[[], bool], ends: float, sleep: Callable[[float], None]) -> bool:
    while True:
        if done():
            return True
        if time.monotonic() >= ends:
            return False
        sleep(POLL_SECONDS)

"""Ready to send: make a sender address able to send USDT now, without burning TRX for energy.

    answer = open_check("client-key", "T...", recipient="T...", via="api:x")  # records it
    queue_check(answer.check)  # a worker runs run_check(check.pk) (orders/tasks.py)
    ensure_ready(...)  # both in this process (the command)

Steps (README "Ready to send"): activation (the chain's getaccount; when not active, an
activation order routed to the cheapest provider offering it), the energy and bandwidth available
now (getaccountresource), the transfer's energy (triggerconstantcontract with a recipient, else
131,000, a transfer to an address that never held USDT) plus ENERGYDASH_READY_HEADROOM_PERCENT,
only the deficit bought through best-price routing (limits and approvals apply: an order awaiting
approval answers not_ready; a deficit below every provider's minimum is rounded up to the
smallest minimum), then the chain read until the energy is there or the deadline passes. The
recommended fee_limit is the estimate at the chain's getEnergyFee (getchainparameters), or at
ENERGYDASH_READY_ENERGY_PRICE_SUN when the node's parameters cannot be read or do not vet.

Once per key: a second call with the key answers the first call's check. At most one check per
address works at a time (ReadyCheck's conditional unique row): a check recorded while another
works on the address is `queued`, waits for it and then reads the chain again, so two calls buy
at most one deficit. A check is run once: the first worker to set its started_at runs it; a task
delivered twice finds it claimed.
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
from energydash.orders.candidates import candidates
from energydash.orders.models import Delivery, Kind, Order, ReadyCheck, Route, Status
from energydash.orders.routing import RouteRequest, body_hash, route_order
from energydash.orders.signals import send_ready_finished

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


def open_check(
    key: str,
    address: str,
    *,
    recipient: str = "",
    usdt: int | None = None,
    deadline_seconds: int | None = None,
    via: str,
    actor: Any = None,
    token: Any = None,
) -> ReadyAnswer:
    """Record the check for `key` without working on it (run_check does, on a worker).

    The check is `working` when no other check of the address is, else `queued` behind it.
    A key seen before answers its check (done_here False; same_body False for another body)."""
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
    existing = ReadyCheck.objects.filter(key=key).first()
    if existing is not None:
        return ReadyAnswer(existing, existing.body_hash == digest, False)
    _give_way(address)
    fields = {
        "key": key,
        "body_hash": digest,
        "via": via,
        "address": address,
        "recipient": recipient,
        "usdt_units": usdt,
        "deadline_seconds": deadline_seconds,
        "token": token,
        "actor": actor if getattr(actor, "pk", None) else None,
    }
    for state in (ReadyCheck.State.WORKING, ReadyCheck.State.QUEUED):
        try:
            with transaction.atomic():
                check = ReadyCheck.objects.create(
                    state=state, working_until=_working_until(deadline_seconds), **fields
                )
            return ReadyAnswer(check, True, True)
        except IntegrityError:
            existing = ReadyCheck.objects.filter(key=key).first()
            if existing is not None:
                return ReadyAnswer(existing, existing.body_hash == digest, False)
            # Another check of the address is working: this one queues behind it.
    raise AssertionError("a queued check has no unique constraint to break")  # pragma: no cover


def _working_until(deadline_seconds: int) -> Any:
    return timezone.now() + timedelta(seconds=deadline_seconds + 120)


def _give_way(address: str) -> None:
    """A check whose process died leaves its row working: once past its time it gives way."""
    now = timezone.now()
    ReadyCheck.objects.filter(
        address=address,
        state__in=(ReadyCheck.State.WORKING, ReadyCheck.State.QUEUED),
        working_until__lt=now,
    ).update(
        state=ReadyCheck.State.NOT_READY,
        reason="The check was interrupted before it finished; nothing more will be done by it.",
        finished_at=now,
        working_until=None,
    )


def run_check(
    check_id: int,
    *,
    client: httpx.Client | None = None,
    reader: ChainReader | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReadyCheck:
    """Work on a recorded check once: the first caller claims it (started_at), any later or
    concurrent caller (a retried task) finds it claimed and does nothing. A queued check waits
    for the address's working check to end, then reads the chain itself."""
    check = ReadyCheck.objects.filter(pk=check_id).first()
    if check is None:
        return None  # type: ignore[return-value]  # deleted: nothing to do
    claimed = ReadyCheck.objects.filter(
        pk=check_id,
        started_at__isnull=True,
        state__in=(ReadyCheck.State.WORKING, ReadyCheck.State.QUEUED),
    ).update(started_at=timezone.now(), working_until=_working_until(check.deadline_seconds))
    check.refresh_from_db()
    if not claimed:
        return check
    ends = time.monotonic() + check.deadline_seconds
    while check.state == ReadyCheck.State.QUEUED:
        _give_way(check.address)
        try:
            with transaction.atomic():
                ReadyCheck.objects.filter(pk=check_id, state=ReadyCheck.State.QUEUED).update(
                    state=ReadyCheck.State.WORKING
                )
        except IntegrityError:
            pass  # the address's other check still works
        check.refresh_from_db()
        if check.state == ReadyCheck.State.QUEUED and time.monotonic() >= ends:
            _finish(
                check,
                ReadyCheck.State.NOT_READY,
                "Another ready check for this address was still running at the deadline; "
                "nothing was bought by this one. Ask again.",
            )
        elif check.state == ReadyCheck.State.QUEUED:
            sleep(POLL_SECONDS / 10)
    if check.state == ReadyCheck.State.WORKING:
        reader = reader or ChainReader.from_settings(client=client)
        try:
            _work(check, reader, ends, client=client, sleep=sleep)
        except Exception:
            stopped = "The check stopped on an error; see the log."
            _finish(check, ReadyCheck.State.NOT_READY, stopped)
            send_ready_finished(check)
            raise
    send_ready_finished(check)
    return check


RUN_TASK = "energydash.orders.tasks.run_ready_check"


def queue_check(check: ReadyCheck) -> None:
    """Have a worker run the check (orders/tasks.py run_ready_check), after the commit."""
    from django_q.tasks import async_task

    def send() -> None:
        async_task(
            RUN_TASK,
            check.pk,
            task_name=f"ready check {check.pk}",
            # Waiting for a queued check, then the deadline, then the purchase's own calls.
            timeout=2 * check.deadline_seconds + 120,
        )

    transaction.on_commit(send)


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
    """Make `address` ready to send once per `key`, in this process (the command); see the
    module's words. A replay waits for its check to end, up to the deadline."""
    answer = open_check(
        key,
        address,
        recipient=recipient,
        usdt=usdt,
        deadline_seconds=deadline_seconds,
        via=via,
        actor=actor,
        token=token,
    )
    check = answer.check
    if not answer.same_body:
        return answer
    if answer.done_here:
        run_check(check.pk, client=client, reader=reader, sleep=sleep)
        check.refresh_from_db()
        return answer
    ends = time.monotonic() + check.deadline_seconds
    while not check.finished and time.monotonic() < ends:
        sleep(POLL_SECONDS / 10)
        check.refresh_from_db()
    return answer


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
        route = _buy(check, Kind.ACTIVATION, None, client)
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
    check.energy_fee_sun, fee_words = _energy_fee(reader)
    check.fee_limit_sun = estimate * check.energy_fee_sun
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
            amount, _rounded = _order_size(check.address, deficit - coming, client)
            route = _buy(check, Kind.ENERGY, amount, client)
            check.route = route
            problem = _route_problem(route, f"{amount:,} energy")
            if problem:
                _finish(check, not_ready, problem)
                return
            check.energy_bought = amount

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
        f"{format_trx(check.fee_limit_sun)} TRX ({fee_words})."
    )
    if check.energy_bought:
        bought = f"Bought {check.energy_bought:,} energy"
        if check.energy_bought > deficit - coming:
            bought += f" (the {deficit - coming:,} lacking, rounded up to the provider's minimum)"
        words = f"{bought}, verified on chain. " + words
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
    return on_its_way(orders)


def on_its_way(orders: Any) -> tuple[Order | None, int]:
    """Of `orders` (a queryset): one awaiting approval, or None; and the energy of those accepted
    and not yet judged on chain (still on its way)."""
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


def _energy_fee(reader: ChainReader) -> tuple[int, str]:
    """Sun per energy for the fee_limit: the chain's getEnergyFee, or the configured figure
    when the node's parameters cannot be read or do not vet."""
    reading = reader.chain_parameters()
    if reading.ok:
        fee = reading.value.energy_fee_sun
        return fee, f"{fee} sun per energy, the chain's getEnergyFee"
    fee = settings.ENERGYDASH_READY_ENERGY_PRICE_SUN
    return fee, (
        f"{fee} sun per energy, ENERGYDASH_READY_ENERGY_PRICE_SUN: the chain's parameters could "
        f"not be read ({reading.message})"
    )


def _order_size(address: str, lacking: int, client: httpx.Client | None) -> tuple[int, bool]:
    return order_size(address, lacking, client, period=settings.ENERGYDASH_READY_PERIOD)


def order_size(
    address: str,
    lacking: int,
    client: httpx.Client | None,
    *,
    period: str,
    accounts: tuple[int, ...] = (),
) -> tuple[int, bool]:
    """The energy to order for `lacking`: itself when an account takes it. Otherwise (below
    every minimum) the smallest minimum above it, as the providers' quotes for a full transfer
    (131,000) list them, or as their refusals name them. Also used by watch rules (watch.py)."""
    rows = candidates(
        RouteRequest(receive_address=address, energy=lacking, period=period, accounts=accounts),
        client=client,
    )
    if any(row.eligible for row in rows):
        return lacking, False
    minimums = {row.min_energy for row in rows if row.min_energy}
    probe = RouteRequest(
        receive_address=address,
        energy=max(lacking, USDT_ENERGY_NEW),
        period=period,
        accounts=accounts,
    )
    for row in candidates(probe, client=client):
        if row.eligible and row.quote is not None:
            minimums.add(row.quote.limits.min_energy or 0)
    above = [m for m in minimums if m > lacking]
    if not above:
        return lacking, False  # routing will say why nobody takes it
    return min(above), True


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


def _buy(check: ReadyCheck, kind: str, energy: int | None, client: httpx.Client | None) -> Route:
    return buy(
        _key(check.key, kind),
        check.address,
        kind,
        energy,
        period=settings.ENERGYDASH_READY_PERIOD,
        via=check.via,
        actor=check.actor,
        token=check.token,
        client=client,
    )


def buy(
    key: str,
    address: str,
    kind: str,
    energy: int | None,
    *,
    period: str,
    via: str,
    actor: Any = None,
    token: Any = None,
    client: httpx.Client | None = None,
    max_cost_sun: int | None = None,
    accounts: tuple[int, ...] = (),
) -> Route:
    """Buy `energy` (or an activation) for `address` once per key, through best-price routing
    (limits and approvals apply). Ready to send and watch rules (watch.py) both buy here."""
    request = RouteRequest(
        receive_address=address,
        energy=energy,
        period=period if kind == Kind.ENERGY else "",
        kind=kind,
        max_cost_sun=max_cost_sun,
        accounts=accounts,
    )
    route, _ = route_order(key, request, via=via, actor=actor, token=token, client=client)
    return route


def route_problem(route: Route, what: str) -> str:
    return _route_problem(route, what)


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

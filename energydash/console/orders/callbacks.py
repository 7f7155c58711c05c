"""Signed status callbacks from itrx: POST /callbacks/itrx/<account code>/.

Verified with the secret of the account the order was placed with; a bad signature gets 403 and
changes nothing. Idempotent under the provider's retries.

A callback carries no money figure, so a callback that says an order is final (40 done, 41
refunded/failed) is not taken as the order's final state: energydash first fetches the order
from itrx (query by serial) and applies that record, which carries the cost (`amount`) and any
refund (`refund_amount`) exactly as polling would. If that fetch fails, the order stays open
and is scheduled for polling now; it is never marked final without the provider's cost. The
callback is answered 200 either way (the poller finishes the job; itrx need not retry).

Every value in a callback is vetted like any provider answer: odd values (unknown statuses,
NaN/huge/negative amounts, over-long ids, junk transaction ids) send the order to review with
the raw body on its timeline and are answered 200; a body no code can read gets 400. Never 500.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from energydash.orders.models import FINAL, Order
from energydash.orders.provider_state import apply_state, flag_odd_answer
from energydash.orders.transitions import note, record_exchanges
from energydash.orders.vetting import (
    Vetted,
    raw_text,
    vet_energy,
    vet_raw,
    vet_raw_status,
    vet_ref,
    vet_status,
    vet_tx_hashes,
)
from energydash.providers import base
from energydash.providers.base import Adapter, CallbackEvent, CallbackRejected, OrderState
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")
LABEL = "callback:itrx"


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain")


@csrf_exempt
@login_not_required
@require_POST
def itrx_callback(request: HttpRequest, code: str) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code, provider="itrx")
    if account.credentials_problem:
        # Unverifiable now; 503 makes itrx retry (about an hour) while the secret is re-entered.
        logger.error("itrx callback for %s: %s", account.name, account.credentials_problem)
        return _text(account.credentials_problem, 503)
    adapter = adapter_for(account.credentials())
    try:
        return _handle(request, account, adapter)
    finally:
        adapter.close()


def _handle(request: HttpRequest, account: ProviderAccount, adapter: Adapter) -> HttpResponse:
    try:
        event = adapter.verify_callback(request.headers, request.body)
    except CallbackRejected as exc:
        logger.warning("itrx callback for %s refused: %s", account.name, exc.reason)
        return _text(exc.reason, exc.status_code)
    except Exception:  # values the adapter cannot read: refuse, change nothing
        logger.exception("itrx callback for %s could not be read", account.name)
        return _text("callback body could not be read", 400)

    order = _find(account, event)
    if order is None:
        # Not ours (placed elsewhere with the same key): acknowledge so itrx stops retrying.
        logger.info("itrx callback for an order not placed from here")
        return _text("ignored")

    vetted = _vet_event(order, event)
    if not vetted.ok:
        if order.status in FINAL:
            note(
                order,
                f"Callback ignored: {vetted.reason()}. Raw: {raw_text(event.raw)}",
                label=LABEL,
            )
        else:
            flag_odd_answer(
                order,
                vetted,
                event.raw,
                label=LABEL,
                lead=f"{_said(event)}.",
            )
        return _text("recorded for review")
    if event.status in base.FINAL_STATUSES and order.status not in FINAL:
        return _confirm_final(order, event, adapter)
    state = OrderState(
        provider_ref=event.provider_ref,
        reference=event.reference,
        status=event.status,
        raw_status=event.raw_status,
        cost_sun=None,
        energy_ordered=None,
        energy_delivered=event.energy_delivered,
        tx_hashes=event.tx_hashes,
        refund_sun=None,
        raw=event.raw,
    )
    if not apply_state(order, state, label=LABEL, message=f"{_said(event)}.", look_again=True):
        if not order.events.filter(actor_label=LABEL).exists():
            note(order, f"{_said(event)} (no change).", label=LABEL)
    return _text("ok")


def _find(account: ProviderAccount, event: CallbackEvent) -> Order | None:
    orders = Order.objects.select_related("account").filter(account=account)
    order = None
    if event.reference and len(event.reference) <= 40:
        order = orders.filter(reference=event.reference).first()
    if order is None and event.provider_ref and len(event.provider_ref) <= 100:
        order = orders.filter(provider_ref=event.provider_ref).first()
    return order


def _vet_event(order: Order, event: CallbackEvent) -> Vetted:
    vetted = Vetted()
    vet_ref(event.provider_ref, vetted, "itrx serial")
    vet_raw_status(event.raw_status, vetted)
    vet_status(event.status, event.raw_status, order.account.provider, vetted)
    vet_energy(event.energy_delivered, vetted)
    vet_tx_hashes(event.tx_hashes, vetted)
    vet_raw(event.raw, vetted, order.account.provider)
    return vetted


def _confirm_final(order: Order, event: CallbackEvent, adapter: Adapter) -> HttpResponse:
    """Fetch the order before marking it final, so its cost and refund are the provider's."""
    said = _said(event)
    adapter.exchanges.clear()
    try:
        state = adapter.get_order(
            provider_ref=order.provider_ref or event.provider_ref or None,
            reference=order.reference,
        )
    except Exception as exc:  # ProviderError or an unreadable answer: the poller finishes it
        if not isinstance(exc, base.ProviderError):
            logger.exception("fetching order %s after its callback failed", order.code)
        with transaction.atomic():  # the note and the next look: one commit
            record_exchanges(order, adapter.exchanges, label=LABEL)
            note(
                order,
                f"{said}; fetching the order to confirm its cost failed ({_short(exc)}), so it "
                "stays open and polling will finish it.",
                label=LABEL,
            )
            Order.objects.filter(pk=order.pk).update(next_poll_at=timezone.now())
        return _text("ok; will confirm by polling")
    record_exchanges(order, adapter.exchanges, label=LABEL)
    changed = apply_state(
        order, state, label=LABEL, message=f"{said}; confirmed by looking the order up."
    )
    order.refresh_from_db()
    if order.status not in FINAL and order.status != "needs_review":
        with transaction.atomic():  # the note and the next look: one commit
            note(
                order,
                f"{said}, but itrx's own record says it is still "
                f"{STATE_WORDS.get(state.status, 'open')}; polling goes on.",
                label=LABEL,
            )
            Order.objects.filter(pk=order.pk).update(next_poll_at=timezone.now())
    elif not changed and not order.events.filter(actor_label=LABEL).exists():
        note(order, f"{said} (no change).", label=LABEL)
    return _text("ok")


def _short(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, base.ProviderError) else type(exc).__name__
    return text[:300]


# What an itrx callback says, in words: its status code stays in the raw exchange on the timeline.
STATE_WORDS = {
    base.SUBMITTED: "submitted",
    base.DELEGATING: "delegating",
    base.COMPLETED: "done",
    base.FAILED: "failed",
    base.REFUNDED: "failed and refunded",
}


def _said(event: CallbackEvent) -> str:
    words = STATE_WORDS.get(event.status, "in a state energydash does not know")
    return f"Callback: itrx says the order is {words}"

"""Signed status callbacks from itrx: POST /callbacks/itrx/<account code>/.

Verified with the secret of the account the order was placed with; a bad or stale signature gets
401/403 and changes nothing. Idempotent under the provider's retries; answers 200 quickly (no
provider call happens here).
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from energydash.orders.models import Order
from energydash.orders.services import apply_state
from energydash.orders.transitions import note
from energydash.providers.base import CallbackRejected, OrderState
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")
LABEL = "callback:itrx"


@csrf_exempt
@login_not_required
@require_POST
def itrx_callback(request: HttpRequest, code: str) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code, provider="itrx")
    adapter = adapter_for(account.credentials())
    try:
        event = adapter.verify_callback(request.headers, request.body)
    except CallbackRejected as exc:
        logger.warning("itrx callback for %s refused: %s", account.name, exc.reason)
        return HttpResponse(exc.reason, status=exc.status_code, content_type="text/plain")
    finally:
        adapter.close()

    orders = Order.objects.select_related("account").filter(account=account)
    order = None
    if event.reference:
        order = orders.filter(reference=event.reference).first()
    if order is None and event.provider_ref:
        order = orders.filter(provider_ref=event.provider_ref).first()
    if order is None:
        # Not ours (placed elsewhere with the same key): acknowledge so itrx stops retrying.
        logger.info("itrx callback for unknown order serial=%s", event.provider_ref)
        return HttpResponse("ignored", content_type="text/plain")

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
    if not apply_state(
        order, state, label=LABEL, message=f"Callback: itrx status {event.raw_status}."
    ):
        if not order.events.filter(actor_label=LABEL).exists():
            note(order, f"Callback: itrx status {event.raw_status} (no change).", label=LABEL)
    return HttpResponse("ok", content_type="text/plain")

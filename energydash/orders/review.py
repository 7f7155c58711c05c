"""A person's decision on an order in needs_review: placed (with the provider's id) or not;
and an admin's reopening of a decision that was wrong.

Every action is one conditional UPDATE on the status the person saw (transition's `expected`),
so two people deciding at once, or a person and the poller, cannot both apply: the loser changes
nothing and is told so. Decisions rest on evidence (issue 19): "placed" looks the id up at the
provider first and applies what it has; "not placed" against evidence of a charge is an admin's
decision with a written reason, never an operator's click.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from django.utils import timezone

from energydash.core.models import AuditEvent
from energydash.core.roles import ADMIN, has_role
from energydash.lib.tron import format_trx, trx_to_sun
from energydash.orders import hooks
from energydash.orders.cost_check import check_charge
from energydash.orders.evidence import MAYBE_CHARGED
from energydash.orders.models import FINAL, Order, Status
from energydash.orders.provider_state import vet_state
from energydash.orders.transitions import record_exchanges, transition
from energydash.providers.base import OrderState, ProviderError
from energydash.providers.registry import adapter_for

REVIEW_DECISIONS = ("order.marked_placed", "order.marked_not_placed")


class ReviewRefused(Exception):
    """The decision is refused and nothing was changed; the message says why."""


@dataclass(frozen=True)
class Decision:
    done: bool  # False: someone else changed the order first (nothing was changed)
    found: str = ""  # what the provider has, in words

    def __bool__(self) -> bool:
        return self.done


def mark_placed(
    order: Order,
    user: Any,
    provider_ref: str,
    cost_trx: Decimal | None,
    comment: str,
    *,
    client: httpx.Client | None = None,
) -> Decision:
    """The provider has it: look the id up there first, then apply the provider's record.

    Refused (ReviewRefused, nothing changed) when the provider does not know the id, cannot be
    asked now, holds it for another of our orders, or answers with something unusable, and when
    another order already carries that id. A typed cost is used only when the provider states
    none (the provider's own figure wins).
    """
    provider_ref = (provider_ref or "").strip()
    name = order.account.get_provider_display()
    if not provider_ref:
        raise ReviewRefused("Enter the provider's order id, from its dashboard.")
    other = Order.objects.filter(account=order.account, provider_ref=provider_ref)
    other = other.exclude(pk=order.pk).first()
    if other is not None:
        raise ReviewRefused(
            f"{provider_ref} is already the provider's id of order {other.short_code}; "
            "nothing was changed."
        )
    state, adapter = _look_up(order, provider_ref, name, client)
    if state.reference and state.reference != order.reference:
        raise ReviewRefused(
            f"{name}'s order {provider_ref} carries our reference {state.reference}, not this "
            f"order's {order.reference}: it belongs to another order. Nothing was changed."
        )
    to_status, vetted = vet_state(order, state)
    if not vetted.ok:
        raise ReviewRefused(
            f"{name} has order {provider_ref}, but its answer is not usable: {vetted.reason()}. "
            "Nothing was changed."
        )
    found = _found_words(name, provider_ref, state, vetted.fields)
    fields: dict[str, Any] = {**vetted.fields, "provider_ref": provider_ref, "last_error": ""}
    if "cost_sun" not in fields and cost_trx is not None:
        fields["cost_sun"] = trx_to_sun(cost_trx)
    if order.submitted_at is None:
        fields["submitted_at"] = order.created  # the request left when the draft was saved
    to_status = to_status or Status.SUBMITTED
    if to_status not in FINAL:
        fields.update(next_poll_at=timezone.now(), poll_count=0)
    message = f"Marked as placed by {user.get_username()} (provider order {provider_ref}). {found}"
    done = transition(
        order,
        to_status,
        expected=Status.NEEDS_REVIEW,
        actor=user,
        message=_with(message, comment),
        **fields,
    )
    if done:
        record_exchanges(order, adapter.exchanges, actor=user)
        if order.cost_sun is not None:
            check_charge(order, label=f"review:{user.get_username()}"[:60])
        AuditEvent.record(
            "order.marked_placed",
            order,
            actor=user,
            details={
                "provider_ref": provider_ref,
                "cost_sun": fields.get("cost_sun"),
                "found": found,
                "comment": comment,
            },
        )
    return Decision(done, found)


def _look_up(
    order: Order, provider_ref: str, name: str, client: httpx.Client | None
) -> tuple[OrderState, Any]:
    try:
        adapter = adapter_for(order.account.credentials(), client)
    except Exception as exc:  # unreadable credentials, no adapter: cannot check, so refuse
        raise ReviewRefused(
            f"Could not ask {name} for {provider_ref} ({exc}); nothing was changed."
        ) from exc
    try:
        return adapter.get_order(provider_ref=provider_ref), adapter
    except ProviderError as exc:
        if exc.not_found:
            raise ReviewRefused(
                f"{name} has no order {provider_ref}: check the id on its dashboard. "
                "Nothing was changed."
            ) from exc
        raise ReviewRefused(
            f"Could not check {provider_ref} at {name} ({exc}); nothing was changed. "
            "Try again in a moment."
        ) from exc
    finally:
        adapter.close()


def _found_words(name: str, ref: str, state: OrderState, fields: dict[str, Any]) -> str:
    words = [f"{name} has order {ref}: {state.raw_status or state.status}"]
    if fields.get("cost_sun") is not None:
        words.append(f"charged {format_trx(fields['cost_sun'])} TRX")
    if fields.get("refund_sun"):
        words.append(f"refunded {format_trx(fields['refund_sun'])} TRX")
    if fields.get("energy_delivered") is not None:
        words.append(f"{fields['energy_delivered']:,} energy delivered")
    return ", ".join(words) + "."


def charge_signs(order: Order) -> list[str]:
    """Evidence, in words, that this order may have been charged (no provider call): the
    balance history (the same verdict reconciliation weighs) and a provider id on record."""
    signs = []
    facts = hooks.review_evidence(order)
    if facts.evidence.verdict == MAYBE_CHARGED:
        signs.append(facts.evidence.words)
    if order.provider_ref:
        signs.append(f"the provider gave this order an id ({order.provider_ref})")
    return signs


def mark_not_placed(order: Order, user: Any, comment: str) -> Decision:
    """Nothing reached the provider. Against evidence of a charge only an admin may say so,
    with a written reason (audited as the decision's `against_evidence`)."""
    comment = (comment or "").strip()
    signs = charge_signs(order)
    if signs and not has_role(user, ADMIN):
        raise ReviewRefused(
            f"Not placed is refused: {'; '.join(signs)}. Check the provider's dashboard; if "
            "the provider has the order, mark it placed with its id. Only an admin can mark it "
            "not placed against this evidence, with a written reason. Nothing was changed."
        )
    if signs and not comment:
        raise ReviewRefused(
            f"The evidence says it may have been charged ({'; '.join(signs)}): write why it was "
            "not placed. Nothing was changed."
        )
    who = user.get_username()
    if signs:
        message = f"Marked as not placed by {who} against the evidence ({'; '.join(signs)})."
    else:
        message = f"Marked as not placed by {who}."
    done = transition(
        order,
        Status.FAILED,
        expected=Status.NEEDS_REVIEW,
        actor=user,
        message=_with(message, comment),
        last_error="Not placed (decided on review).",
    )
    if done:
        details: dict[str, Any] = {"comment": comment}
        if signs:
            details["against_evidence"] = signs
        AuditEvent.record("order.marked_not_placed", order, actor=user, details=details)
    return Decision(done)


class ReopenRefused(Exception):
    """The order cannot be reopened by this user; the message says why."""


def can_reopen(order: Order, user: Any) -> bool:
    """Admins may reopen a decided order: a failed one (e.g. a wrong "not placed", by a person
    or by reconciliation) or one a person marked placed. Operators cannot."""
    return has_role(user, ADMIN) and reopenable(order)


def reopenable(order: Order) -> bool:
    if order.status == Status.FAILED:
        return True
    if order.status in (Status.DRAFT, Status.NEEDS_REVIEW):
        return False
    return AuditEvent.objects.filter(
        action="order.marked_placed", object_code=str(order.code)
    ).exists()


def reopen(order: Order, user: Any, reason: str) -> bool:
    """Send a wrongly decided order back to needs_review, so the usual review actions apply.

    Needs the admin role and a reason; audited and on the order's timeline. False when someone
    else changed the order first (nothing is changed then).
    """
    reason = (reason or "").strip()
    if not has_role(user, ADMIN):
        raise ReopenRefused("Only an admin can reopen a decided order.")
    if not reason:
        raise ReopenRefused("Give the reason for reopening this order.")
    if not reopenable(order):
        raise ReopenRefused(
            f"This order is {order.get_status_display().lower()}: there is no decision to reopen."
        )
    was = order.status
    done = transition(
        order,
        Status.NEEDS_REVIEW,
        expected=was,
        actor=user,
        message=f"Reopened for review by {user.get_username()} (was {was}): {reason}",
        last_error=f"Reopened for review: {reason}",
        finished_at=None,
        claimed_until=None,
    )
    if done:
        AuditEvent.record(
            "order.reopened", order, actor=user, details={"from_status": was, "reason": reason}
        )
    return done


def _with(message: str, comment: str) -> str:
    return f"{message} {comment.strip()}" if comment.strip() else message

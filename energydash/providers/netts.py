"""Netts adapter (providers.md section 4). Paid amounts and balance are TRX; prices sun/energy.

Auth is X-API-KEY plus X-Real-IP (the whitelisted egress IP), no signature. Netts has no client
reference on orders and no lookup by one, so an order whose answer was lost cannot be looked up:
it must go to a person for review. Our reference still goes out as X-Idempotency-Key (as a
public client does); Netts answers a repeated key with HTTP 208 and the first order. That is
used to recognise a duplicate, never relied on to make re-sending safe: nothing is re-sent.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx

from energydash.lib.tron import trx_to_sun
from energydash.providers.base import Adapter, EnergyOrder
from energydash.providers.credentials import NETTS
from energydash.providers.errors import REJECTED, UNAVAILABLE, UNKNOWN, ProviderError
from energydash.providers.results import (
    COMPLETED,
    DELEGATING,
    Balance,
    Limits,
    OrderState,
    PlacedOrder,
    Quote,
    deposit_address,
    to_int,
)

MIN_ENERGY = 61_000  # order1h documented range (4.2)
MAX_ENERGY = 5_000_000
SUCCESS = 10000
PRICING = "/apiv2/pricing"  # current (4.6)
PRICES = "/apiv2/prices"  # deprecated; read only when /pricing is unavailable
ALREADY_PLACED = 208  # a repeated X-Idempotency-Key: "already reported", the first order's reply
# Netts activates an unactivated recipient "at cost" inside paidTRX and publishes no price. At cost
# on TRON is the 1 TRX account-creation fee plus 0.1 TRX of burnt bandwidth; a quote that asks for
# activation counts it so limits are checked against the whole possible charge.
ACTIVATION_SUN = 1_100_000
UNAVAILABLE_CODES = {5001, 5002, 5003, 5004}


def _error_parts(data: Any) -> tuple[int | None, str]:
    """(code, message) from any Netts error shape: {"detail": "..."}, {"detail": {code, msg}},
    top-level {code, msg}, or {"status": "error", code, message}."""
    if not isinstance(data, dict):
        return None, ""
    detail = data.get("detail")
    if isinstance(detail, str):
        return None, detail
    source = detail if isinstance(detail, dict) else data
    message = source.get("msg") or source.get("message") or source.get("error") or ""
    return to_int(source.get("code")), str(message)


def _cost_sun(value: Any) -> int | None:
    return trx_to_sun(value) if value not in (None, "") else None


class NettsAdapter(Adapter):
    kind = NETTS
    periods = ("1H",)
    # Netts activates an unactivated recipient at cost whether or not activation was asked for
    # (4.2), so a quote counts activation unless the address is known to be active.
    activates_unasked = True
    activation_fee_sun = ACTIVATION_SUN  # what it charges when it activates a recipient
    no_lookup = "Netts cannot look up an order by our reference; it needs the Netts orderId"
    no_collection = (
        "Netts has no collection order; place a 1-hour energy order for the sending address"
    )
    no_activation_order = (
        "Netts has no separate activation order: activation rides on an energy order "
        "(Netts activates automatically at cost)"
    )
    no_activation_price = (
        "Netts publishes no activation price: it activates automatically inside an energy "
        "order and includes the fee in paidTRX"
    )
    no_callbacks = (
        "Netts webhook signatures are not documented (providers.md 4.8), so Netts callbacks "
        "are not accepted; its orders are polled"
    )

    def _headers(self) -> dict[str, str]:
        if not self.credentials.egress_ip:
            raise self._error(
                REJECTED,
                "Netts needs the whitelisted egress IP (sent as X-Real-IP); set it on the account",
            )
        return {
            "X-API-KEY": self._key(),
            "X-Real-IP": self.credentials.egress_ip,
        }

    def _get(self, path: str, params: dict[str, Any] | None = None) -> tuple[httpx.Response, Any]:
        return self._request("GET", path, params=params, headers=self._headers(), placing=False)

    def _fail(self, response: httpx.Response, data: Any, *, placing: bool) -> Exception:
        status = response.status_code
        code, message = _error_parts(data)
        message = message or f"Netts answered HTTP {status}"
        code_text = str(code) if code is not None else f"http {status}"
        common = {"code": code_text, "status": status}
        if status == 401 or code == 401:
            return self._auth_failed(status, message, code=code_text)
        if status in (400, 403) or code == 1004:
            return self._answer_error(REJECTED, message, **common)
        if code in UNAVAILABLE_CODES:
            # 5004: the upstream needs a bigger order; retrying the same order will not help.
            return self._answer_error(UNAVAILABLE, message, transient=code != 5004, **common)
        if data is None or status >= 429 or 200 <= status < 300:
            return self._http_failure(response, placing=placing, message=message, code=code_text)
        return self._answer_error(REJECTED, message, **common)

    # Operations ---------------------------------------------------------------------------------

    def balance(self) -> Balance:
        response, data = self._get("/apiv2/userinfo")
        ok = isinstance(data, dict) and data.get("status") == "success"
        stats = data.get("stats") if ok else None
        if response.status_code != 200 or not isinstance(stats, dict) or "balance" not in stats:
            raise self._fail(response, data, placing=False)
        try:
            user = data.get("user_info")
            return Balance(
                balance_sun=trx_to_sun(stats["balance"]),
                raw=data,
                deposit_address=deposit_address(
                    user.get("deposit_address") if isinstance(user, dict) else None
                ),
            )
        except ValueError:
            raise self._error(
                UNAVAILABLE,
                f"Netts balance is not a number: {stats['balance']!r}",
                code="bad balance",
            ) from None

    def _quote(self, energy: int, period: str, address: str, activate: bool) -> Quote:
        price_sun, limits, source, raw = self._price(energy)
        activation_sun = ACTIVATION_SUN if activate else None
        return Quote(
            provider=self.kind,
            energy=energy,
            period=period,
            total_sun=int(price_sun * energy) + (activation_sun or 0),
            unit_price_sun=price_sun,  # Netts quotes sun per energy exactly
            limits=limits,
            activation_sun=activation_sun,
            raw=raw,
            price_source=source,
        )

    def _price(self, energy: int) -> tuple[Decimal, Limits, str, dict]:
        """The current 1h price from /apiv2/pricing; from the deprecated /apiv2/prices only when
        /pricing is unavailable (gone, failing or without a current price), and then the source
        says so. A refusal of the key or IP is not "unavailable": it is raised as is."""
        try:
            price, limits, raw = self._pricing_price()
            return price, limits, PRICING, raw
        except ProviderError as exc:
            if exc.outcome == REJECTED and exc.http_status not in (404, 405, 410):
                raise
            reason = exc.message
        price, raw = self._prices_price(energy)
        limits = Limits(MIN_ENERGY, MAX_ENERGY, self.periods)
        return price, limits, f"{PRICES} (deprecated; {PRICING} unavailable: {reason})", raw

    def _prices_price(self, energy: int) -> tuple[Decimal, dict]:
        """Active period's price from the deprecated /apiv2/prices, by amount tier."""
        response, data = self._get(PRICES)
        periods = data.get("periods") if isinstance(data, dict) else None
        if response.status_code != 200 or not isinstance(periods, list):
            raise self._fail(response, data, placing=False)
        active = next((p for p in periods if isinstance(p, dict) and p.get("is_active")), None)
        tiers = active.get("prices") if active else None
        if not isinstance(tiers, dict) or not tiers:
            raise self._error(UNAVAILABLE, "Netts lists no active price period", code="no price")
        # Tiers by amount: exactly 131k (the common USDT figure) has its own; below 200k is
        # "less_than_200k", 200k and above "more_than_200k". A missing tier falls back to the
        # dearest listed one, so a quote never understates.
        if energy == 131_000:
            tier = "equal_131k"
        else:
            tier = "less_than_200k" if energy < 200_000 else "more_than_200k"
        prices = {k: v.get("price_sun") for k, v in tiers.items() if isinstance(v, dict)}
        chosen = prices.get(tier)
        if chosen is None:
            chosen = max(
                (p for p in prices.values() if p is not None), key=lambda p: Decimal(str(p))
            )
        return Decimal(str(chosen)), {"prices": data, "tier": tier}

    def _pricing_price(self) -> tuple[Decimal, Limits, dict]:
        """The current period's price (sun per energy) of energy_1h, and its amount range when
        listed (else the documented order1h range)."""
        response, data = self._get(PRICING, {"services": "energy_1h"})
        if response.status_code != 200:
            raise self._fail(response, data, placing=False)
        try:
            service = data["data"]["services"]["energy_1h"]
            current = next(p for p in service["periods"] if p.get("is_current"))
            price = Decimal(str(current["price"]))
        except (KeyError, TypeError, StopIteration, AttributeError, ArithmeticError):
            raise self._error(
                UNAVAILABLE, "Netts lists no current 1h price", code="no price"
            ) from None
        if not price.is_finite() or price <= 0:
            raise self._error(UNAVAILABLE, f"Netts lists a 1h price of {price}", code="no price")
        limits = Limits(
            to_int(service.get("min_amount")) or MIN_ENERGY,
            to_int(service.get("max_amount")) or MAX_ENERGY,
            self.periods,
        )
        return price, limits, {"pricing": data}

    def _place_energy(self, order: EnergyOrder) -> PlacedOrder:
        # Not sent: `activate` (Netts activates automatically, at cost, inside paidTRX) and
        # `callback_url` (webhooks are account-wide). `reference` goes as X-Idempotency-Key.
        energy = order.energy
        if not MIN_ENERGY <= energy <= MAX_ENERGY:
            raise self._error(
                REJECTED,
                f"Netts rents {MIN_ENERGY:,} to {MAX_ENERGY:,} energy; asked for {energy:,}",
            )
        body = json.dumps({"amount": energy, "receiveAddress": order.address}).encode()
        headers = {**self._headers(), "Content-Type": "application/json"}
        if order.reference:
            headers["X-Idempotency-Key"] = order.reference
        response, data = self._request(
            "POST", "/apiv2/order1h", content=body, headers=headers, placing=True
        )
        detail = data.get("detail") if isinstance(data, dict) else None
        if response.status_code == ALREADY_PLACED:
            return self._already_placed(detail)
        if 200 <= response.status_code < 300 and isinstance(detail, dict):
            if to_int(detail.get("code")) == SUCCESS and isinstance(detail.get("data"), dict):
                return self._placed(detail["data"])
            # An undocumented 2xx shape after an order request: it may have gone through.
            code, message = _error_parts(data)
            raise self._answer_error(
                UNKNOWN,
                message or "Netts answered without confirming the order",
                status=response.status_code,
                code=str(code) if code is not None else None,
            )
        # 500/5000 is "Internal server error occurred": it can come from a failure after the balance
        # was debited or a delegation started, so it is unknown (via _http_failure), not rejected.
        raise self._fail(response, data, placing=True)

    def _already_placed(self, detail: Any) -> PlacedOrder:
        """HTTP 208: this key was used before, so this request bought nothing new; the order
        is the first one, whose reply Netts repeats. Without its orderId it cannot be looked up
        (Netts has no lookup by our key), so the outcome is unknown: a person decides."""
        data = detail.get("data") if isinstance(detail, dict) else None
        if (
            isinstance(detail, dict)
            and to_int(detail.get("code")) == SUCCESS
            and isinstance(data, dict)
            and data.get("orderId")
        ):
            placed = self._placed(data)
            return replace(placed, raw_status=f"{SUCCESS} (208 already placed)")
        raise self._answer_error(
            UNKNOWN,
            "Netts says an order with this idempotency key was already placed (HTTP 208) but "
            "did not say which",
            status=ALREADY_PLACED,
            code="http 208",
        )

    def _placed(self, order: dict) -> PlacedOrder:
        order_id = str(order.get("orderId") or "")
        if not order_id:
            raise self._error(
                UNKNOWN,
                "Netts confirmed the order but gave no orderId",
                exchange=self.exchanges[-1],
            )
        tx_hash = str(order.get("hash") or "")
        paid = order.get("paidTRX")
        return PlacedOrder(
            provider_ref=order_id,
            # Same rule as order_check: delegated once there is a transaction hash.
            status=COMPLETED if tx_hash else DELEGATING,
            raw_status=str(SUCCESS),
            cost_sun=trx_to_sun(paid) if paid not in (None, "") else None,
            balance_after_sun=None,
            energy=to_int(order.get("energy")),
            tx_hashes=(tx_hash,) if tx_hash else (),
            raw=order,
        )

    def _get_order(self, provider_ref: str | None, reference: str | None) -> OrderState:
        response, data = self._get("/apiv2/order_check", {"order_id": provider_ref})
        if not isinstance(data, dict) or response.status_code != 200:
            raise self._fail(response, data, placing=False)
        if data.get("success") is not True:
            _, message = _error_parts(data)
            message = message or "Netts did not return the order"
            raise self._answer_error(
                REJECTED,
                message,
                status=response.status_code,
                code="success false",
                not_found="not found" in message.lower(),
            )
        order = data.get("order") if isinstance(data.get("order"), dict) else {}
        hashes = tuple(str(h) for h in order.get("tx_hashes") or [] if h)
        activation = data.get("activation") if isinstance(data.get("activation"), dict) else {}
        if activation.get("tx_hash"):
            hashes += (str(activation["tx_hash"]),)
        delegated = bool(order.get("tx_hashes"))
        energy = to_int(order.get("energy"))
        # order.cost is the energy alone; activation is listed apart (4.4), while the placing
        # answer's paidTRX includes it. The charge is their sum.
        cost = _cost_sun(order.get("cost"))
        activation_cost = _cost_sun(activation.get("cost"))
        if cost is not None and activation_cost is not None:
            cost += activation_cost
        return OrderState(
            provider_ref=str(order.get("id") or provider_ref),
            reference=None,
            # No status enum is documented; delegated iff there are delegation tx hashes.
            status=COMPLETED if delegated else DELEGATING,
            raw_status="confirmed" if delegated else "processing",
            cost_sun=cost,
            energy_ordered=energy,
            energy_delivered=energy if delegated else None,
            tx_hashes=hashes,
            refund_sun=None,
            raw=data,
        )

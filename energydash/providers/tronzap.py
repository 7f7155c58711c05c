"""TronZap adapter (providers.md section 3). Money arrives as TRX, as numbers or strings.

Every call is a POST with a JSON body; X-Signature = sha256(body + secret) over exactly the bytes
sent. The body's `code` decides success before the HTTP status does: TronZap reports some errors
with HTTP 200 and others with 4xx/5xx.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from energydash.lib.tron import SUN_PER_TRX, trx_to_sun
from energydash.providers.base import Adapter, EnergyOrder
from energydash.providers.credentials import TRONZAP
from energydash.providers.errors import REJECTED, UNAVAILABLE, UNKNOWN
from energydash.providers.results import (
    COMPLETED,
    DELEGATING,
    FAILED,
    REFUNDED,
    SUBMITTED,
    Balance,
    Limits,
    OrderState,
    PlacedOrder,
    Quote,
    deposit_address,
    to_int,
    unit_price,
)

DURATION = {"1H": 1}  # newest docs and the Java SDK: duration must be 1 (hour)
# "refunded" is in no SDK's enum yet; the console maps it so a refunded transaction is recorded as
# such (with its refund figure when TronZap gives one) rather than polled forever as unknown.
STATUS = {
    "new": SUBMITTED,
    "pending": DELEGATING,
    "success": COMPLETED,
    "failed": FAILED,
    "refunded": REFUNDED,
}
# Error codes of table 3.3 that mean "refused, nothing done". 35 and 500 are handled apart.
REFUSALS = {
    1: "authentication failed",
    2: "invalid service or parameters",
    5: "TronZap wallet not found (contact TronZap support)",
    6: "insufficient funds",
    10: "invalid TRON address",
    11: "energy amount out of range",
    12: "invalid duration",
    20: "transaction not found",
    21: "cannot stop subscription",
    24: "address not activated (order with activation)",
    25: "address already activated",
    30: "AML check not found",
    50: "invalid bandwidth amount",
}


def sign(secret: str, body: str) -> str:
    return hashlib.sha256((body + secret).encode()).hexdigest()


def _obj(value: Any) -> dict:
    """TronZap's PHP backend may send an empty object as []."""
    return value if isinstance(value, dict) else {}


def _sun(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return trx_to_sun(value)
    except ValueError:
        return None


def _energy(params: dict) -> int | None:
    """Energy from any params shape: amounts.energy, amount, or legacy energy_amount."""
    candidates = (
        _obj(params.get("amounts")).get("energy"),
        params.get("amount"),
        params.get("energy_amount"),
    )
    return next((to_int(v) for v in candidates if to_int(v) is not None), None)


def _refund(result: dict) -> int | None:
    """The refunded TRX as sun when TronZap states it (refund_amount, as itrx names it); None
    when it does not: the figure is then unknown, not assumed to be the whole cost."""
    return _sun(result.get("refund_amount"))


class TronZapAdapter(Adapter):
    kind = TRONZAP
    periods = ("1H",)
    supports_reference_lookup = True
    supports_activation_order = True
    no_lookup = "get_order needs the TronZap id or our reference"
    no_collection = "TronZap has no collection order; place an energy order for the sending address"
    no_callbacks = "TronZap sends no callbacks; its orders are polled"

    def _call(self, path: str, payload: dict[str, Any], *, placing: bool) -> dict:
        body = json.dumps(payload, separators=(",", ":"))  # "{}" for parameterless calls
        signature = sign(self._secret(), body)
        headers = {
            "Authorization": f"Bearer {self._key()}",
            "X-Signature": signature,
            "Content-Type": "application/json",
        }
        response, data = self._request(
            "POST",
            path,
            content=body.encode(),
            headers=headers,
            placing=placing,
            redact=(signature,),
        )
        status = response.status_code
        if isinstance(data, dict) and "code" in data:
            try:
                code = int(data["code"])
            except (TypeError, ValueError):
                code = -1
            if code == 0 and 200 <= status < 300:
                return _obj(data.get("result"))
            if code != 0:
                raise self._coded_error(code, data, status, placing)
        if status in (401, 403):
            raise self._auth_failed(status, hint="check the API token and secret")
        raise self._unexpected_reply(response, data, placing=placing)

    def _coded_error(self, code: int, data: dict, status: int, placing: bool) -> Exception:
        words = str(data.get("error") or REFUSALS.get(code) or "no reason given")
        key = data.get("key")
        if code == 1:
            # The console promises "authentication failed" (as for itrx and Netts); TronZap's
            # own words follow as the detail, its machine key stays in the raw exchange.
            words = f"authentication failed: {words}" if data.get("error") else REFUSALS[1]
        elif key and str(key) not in words:
            words = f"{words} [{key}]"
        request_id = data.get("request_id")
        if request_id:
            words = f"{words} (request_id {request_id})"
        common = {"code": str(code), "status": status}
        if code == 35:
            return self._answer_error(UNAVAILABLE, words, transient=True, **common)
        if code == 500 or (code not in REFUSALS and status >= 500):
            # An internal error after an order request may have happened after the charge.
            outcome = UNKNOWN if placing else UNAVAILABLE
            return self._answer_error(outcome, words, transient=True, **common)
        return self._answer_error(REJECTED, words, not_found=code == 20, **common)

    # Operations ---------------------------------------------------------------------------------

    def balance(self) -> Balance:
        result = self._call("/v1/balance", {}, placing=False)
        sun = _sun(result.get("balance"))
        if sun is None:
            raise self._error(
                UNAVAILABLE, "TronZap balance reply has no balance", code="no balance"
            )
        return Balance(
            balance_sun=sun, raw=result, deposit_address=deposit_address(result.get("address"))
        )

    def _services(self) -> tuple[Limits, Decimal | None, dict]:
        result = self._call("/v1/services", {}, placing=False)
        entries = [e for e in result.get("energy") or [] if isinstance(e, dict)]
        entry = next((e for e in entries if str(e.get("duration")) == "1"), {})
        minimum = entry.get("min_amount", entry.get("min_energy"))  # min_energy: deprecated alias
        maximum = entry.get("max_amount", entry.get("max_energy"))
        limits = Limits(
            min_energy=to_int(minimum),
            max_energy=to_int(maximum),
            periods=self.periods,
        )
        try:
            per_1000: Decimal | None = Decimal(str(entry["price"]))
        except (KeyError, ArithmeticError):
            per_1000 = None
        return limits, per_1000, result

    def _quote(self, energy: int, period: str, address: str, activate: bool) -> Quote:
        if address:
            # With an address the price comes from /v1/calculate; /v1/services is read for the
            # limits only, so it is kept a few minutes per account.
            limits, _per_1000, services = self._remembered("services", self._services)
            # /v1/calculate needs the receiving address (it adds the activation fee if needed).
            payload = {"address": address, "amount": energy, "duration": DURATION[period]}
            calc = self._call("/v1/calculate", payload, placing=False)
            total_sun = _sun(calc.get("total"))
            activation_sun = _sun(calc.get("activation_fee")) or 0
            if total_sun is None:
                raise self._error(
                    UNAVAILABLE, "TronZap calculate reply has no total", code="no total"
                )
            energy_sun = total_sun - activation_sun
            return Quote(
                provider=self.kind,
                energy=energy,
                period=period,
                total_sun=total_sun,
                unit_price_sun=unit_price(energy_sun, energy),
                limits=limits,
                activation_sun=activation_sun,
                raw={"calculate": calc, "services": services},
            )
        limits, per_1000, services = self._services()  # the price itself: never kept
        if per_1000 is None:
            raise self._error(UNAVAILABLE, "TronZap lists no 1-hour energy price", code="no price")
        # Without an address /v1/calculate cannot be called; /v1/services prices are TRX per
        # 1000 energy, so the unit price in sun is exact. Activation, when asked for, is priced
        # from the same reply (activate_address.price).
        unit = per_1000 * SUN_PER_TRX / 1000
        activation = _sun(_obj(services.get("activate_address")).get("price")) if activate else None
        if activate and activation is None:
            raise self._error(UNAVAILABLE, "TronZap lists no activation price", code="no price")
        return Quote(
            provider=self.kind,
            energy=energy,
            period=period,
            total_sun=int((unit * energy).to_integral_value()) + (activation or 0),
            unit_price_sun=unit,
            limits=limits,
            activation_sun=activation,
            raw={"services": services},
        )

    def activation_price(self, address: str | None = None) -> int:
        services = self._call("/v1/services", {}, placing=False)
        price = _sun(_obj(services.get("activate_address")).get("price"))
        if price is None:
            raise self._error(UNAVAILABLE, "TronZap lists no activation price", code="no price")
        return price

    def _place_energy(self, order: EnergyOrder) -> PlacedOrder:
        # TronZap has no callbacks (3.5): callback_url is not sent; the order is polled.
        # The body the official Python (1.6.0) and Java SDKs send: the energy as
        # params.amounts.energy, activate_address only when asked for. (The docs' fallbacks,
        # params.amount and the deprecated params.energy_amount, are sent by no SDK on their own.)
        params: dict[str, Any] = {
            "address": order.address,
            "amounts": {"energy": order.energy},
            "duration": DURATION[order.period],
        }
        if order.activate:
            params["activate_address"] = True
        return self._new({"service": "energy", "params": params}, order.reference)

    def activate_address(self, address: str, reference: str) -> PlacedOrder:
        address = self._check_order_args(address, None, None)
        return self._new({"service": "activate_address", "params": {"address": address}}, reference)

    def _new(self, payload: dict[str, Any], reference: str) -> PlacedOrder:
        if reference:
            payload = {**payload, "external_id": reference}  # last, as the SDKs add it
        result = self._call("/v1/transaction/new", payload, placing=True)
        if not result.get("id"):
            raise self._error(
                UNKNOWN,
                "TronZap answered code 0 but gave no transaction id",
                exchange=self.exchanges[-1],
            )
        raw_status = str(result.get("status") or "")
        return PlacedOrder(
            provider_ref=str(result["id"]),
            status=STATUS.get(raw_status, SUBMITTED),
            raw_status=raw_status,
            cost_sun=_sun(result.get("amount")),
            balance_after_sun=None,
            energy=_energy(_obj(result.get("params"))),
            tx_hashes=(str(result["hash"]),) if result.get("hash") else (),
            raw=result,
        )

    def _get_order(self, provider_ref: str | None, reference: str | None) -> OrderState:
        payload = {"id": provider_ref} if provider_ref else {"external_id": reference}
        result = self._call("/v1/transaction/check", payload, placing=False)
        raw_status = str(result.get("status") or "")
        status = STATUS.get(raw_status, SUBMITTED)
        energy = _energy(_obj(result.get("params")))
        return OrderState(
            provider_ref=str(result.get("id") or provider_ref or ""),
            reference=result.get("external_id") or reference,
            status=status,
            raw_status=raw_status,
            cost_sun=_sun(result.get("amount")),
            energy_ordered=energy,
            # Success comes only once delegated; TronZap gives no separate delivered figure.
            energy_delivered=energy if status == COMPLETED else None,
            tx_hashes=(str(result["hash"]),) if result.get("hash") else (),
            # A failed transaction TronZap had accepted may give back part or all of its cost.
            refund_sun=_refund(result) if status in (REFUNDED, FAILED) else None,
            raw=result,
        )

"""itrx.io adapter (providers.md section 2). Money is integer sun on the wire already.

GETs carry only API-KEY; POSTs are signed with HMAC-SHA256(secret, f"{ts}&{sorted compact JSON}")
and the body sent is exactly that JSON string.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from energydash.providers.base import Adapter, EnergyOrder, lookup_header
from energydash.providers.credentials import ITRX
from energydash.providers.errors import REJECTED, UNAVAILABLE, UNKNOWN, CallbackRejected
from energydash.providers.results import (
    COMPLETED,
    DELEGATING,
    FAILED,
    PERIODS,
    REFUNDED,
    SUBMITTED,
    Balance,
    CallbackEvent,
    Limits,
    OrderState,
    PlacedOrder,
    Quote,
    to_int,
    unit_price,
)

INDEX_DATA = "/api/v1/frontend/index-data"
PRICE = "/api/v1/frontend/order/price"  # not /order-price: every code sample uses this (2.6)
ORDER = "/api/v1/frontend/order"
COLLECT = "/api/v1/frontend/order/collect-manual"
QUERY = "/api/v1/frontend/order/query"  # not /order-query: the 2023 spelling (2.5)
SUMMARY = "/api/v1/frontend/userapi/summary"  # per-API-key usage (2.8)
SUMMARY_FIELDS = ("today_count", "today_sum_trx", "yesterday_count", "yesterday_sum_trx")

# Order query status (2.5). 10/20 are accepted-but-not-yet-delegating, so "submitted"; 30 is
# "delegation in preparation" per the table (the example comment calling 30 success is wrong:
# callbacks report success as 40). Unknown codes stay non-final so polling goes on.
STATUS = {
    0: FAILED,
    10: SUBMITTED,
    20: SUBMITTED,
    30: DELEGATING,
    31: DELEGATING,
    32: DELEGATING,
    40: COMPLETED,
    41: REFUNDED,
    43: FAILED,
}
ACTIVATION_SUN = 1_500_000  # active=1 on an order: "costs 1.5 TRX" (2.4)
# The callback page says 40 success, 41 failed; the query API names 41 "refund termination". The
# same order gets the same code from both, so 41 is a refund here too (the figure comes from a
# query: the callback carries none).
CALLBACK_STATUS = {40: COMPLETED, 41: REFUNDED}

# A callback's age is not checked. itrx retries a callback for about an hour (2.12: 15 s ... 1800 s)
# and re-sends the payload it first signed, so a correctly signed callback may be old; refusing it
# would lose the news. Replaying one is harmless: applying a callback is idempotent and a final
# order never moves again. The signature (HMAC with the account's secret) is what keeps forged
# callbacks out.


def canonical_body(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def sign(secret: str, timestamp: int | str, body: str) -> str:
    message = f"{timestamp}&{body}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class KeySummary:
    """GET userapi/summary: one API key's order count and sum (sun) per itrx day."""

    name: str
    today_count: int
    today_sum_trx: int
    yesterday_count: int
    yesterday_sum_trx: int
    raw: dict


class ItrxAdapter(Adapter):
    kind = ITRX
    periods = PERIODS
    supports_reference_lookup = True
    supports_collection = True
    supports_callbacks = True
    no_lookup = "get_order needs the itrx serial or our reference"
    no_activation_order = (
        "itrx has no separate activation order: pass activate=True on the energy order "
        "(active=1, 1.5 TRX)"
    )

    # HTTP ---------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        headers = {"API-KEY": self._key()}
        response, data = self._request("GET", path, params=params, headers=headers, placing=False)
        return self._parse(response, data, placing=False)

    def _post(self, path: str, params: dict[str, Any]) -> dict:
        body = canonical_body(params)
        timestamp = str(int(self._clock()))
        signature = sign(self._secret(), timestamp, body)
        headers = {
            "API-KEY": self._key(),
            "TIMESTAMP": timestamp,
            "SIGNATURE": signature,
            "Content-Type": "application/json",
        }
        response, data = self._request(
            "POST", path, content=body.encode(), headers=headers, placing=True, redact=(signature,)
        )
        return self._parse(response, data, placing=True)

    def _parse(self, response: httpx.Response, data: Any, *, placing: bool) -> dict:
        """The envelope (2.3): errno 0 in a JSON object is success; 400 explains itself."""
        status = response.status_code
        if status == 400 and isinstance(data, dict) and data:
            raise self._answer_error(REJECTED, _describe_400(data), status=400, code="http 400")
        if status in (401, 403):
            detail = data.get("detail") if isinstance(data, dict) else None
            raise self._auth_failed(status, detail, hint="check the API key")
        if 200 <= status < 300 and isinstance(data, dict):
            errno = data.get("errno", 0)
            if errno not in (0, "0"):
                message = str(data.get("message") or "no reason given")
                not_found = str(errno) == "404"
                code = f"errno {errno}"
                raise self._answer_error(
                    REJECTED, message, status=status, code=code, not_found=not_found
                )
            return data
        raise self._unexpected_reply(response, data, placing=placing, detail=f" ({status})")

    # Operations ---------------------------------------------------------------------------------

    def _index_data(self) -> dict:
        data = self._get(INDEX_DATA)
        if "balance" not in data:
            # A wrong key gets HTTP 200 with empty data rather than an error (2.3).
            raise self._answer_error(
                REJECTED,
                "authentication failed: itrx returned no account data for this API key",
                status=200,
                code="empty data",
            )
        return data

    def balance(self) -> Balance:
        data = self._index_data()
        return Balance(balance_sun=int(data["balance"]), raw=data)

    def _quote(self, energy: int, period: str, address: str, activate: bool) -> Quote:
        # `address` is the receiving address; itrx's `to_address` is the USDT transfer's
        # destination used to estimate energy when none is given, so it is not sent here.
        price = self._get(PRICE, {"period": period, "energy_amount": energy})
        # The index data is read for the order limits only: kept a few minutes per account.
        index = self._remembered("index-data", self._index_data)
        # total_price is "the TRX to pay"; the documented example exceeds price x energy x days by
        # about the small-order `addition`, so it is already included. Adding it again would
        # overstate the cost; `addition` stays visible in raw.
        total_sun = to_int(price.get("total_price"))
        if total_sun is None:
            raise self._error(
                UNAVAILABLE,
                "itrx price reply has no total_price",
                code="no total_price",
                exchange=self.exchanges[-1],
            )
        limits = Limits(
            min_energy=to_int(index.get("minimum_order_energy")),
            max_energy=to_int(index.get("maximum_order_energy")),
            periods=self.periods,
        )
        # active=1 costs 1.5 TRX when the address needs activating (2.4); itrx cannot tell us in
        # advance whether it will, so a quote with activation counts it: never understated.
        activation_sun = ACTIVATION_SUN if activate else None
        return Quote(
            provider=self.kind,
            energy=energy,
            period=period,
            total_sun=total_sun + (activation_sun or 0),
            unit_price_sun=unit_price(total_sun, energy),
            limits=limits,
            activation_sun=activation_sun,
            raw={"price": price, "index_data": index},
        )

    def _place_energy(self, order: EnergyOrder) -> PlacedOrder:
        params: dict[str, Any] = {
            "energy_amount": order.energy,
            "period": order.period,
            "receive_address": order.address,
        }
        if order.reference:
            params["out_trade_no"] = order.reference
        if order.activate:
            params["active"] = 1  # activates first if needed, for 1.5 TRX
        if order.callback_url:
            params["callback_url"] = order.callback_url
        return self._placed(self._post(ORDER, params))

    def place_collection_order(
        self,
        address: str,
        reference: str,
        to_address: str | None = None,
        scene: int = 0,
        callback_url: str | None = None,
    ) -> PlacedOrder:
        address = self._check_order_args(address, None, None)
        params: dict[str, Any] = {"scene": scene, "receive_address": address}
        if to_address:
            params["to_address"] = self._check_order_args(to_address, None, None)
        if reference:
            params["out_trade_no"] = reference
        if callback_url:
            params["callback_url"] = callback_url
        return self._placed(self._post(COLLECT, params))

    def _placed(self, data: dict) -> PlacedOrder:
        serial = str(data.get("serial") or "")
        if not serial:
            raise self._answer_error(
                UNKNOWN, "itrx answered errno 0 but gave no order serial", status=200
            )
        return PlacedOrder(
            provider_ref=serial,
            status=SUBMITTED,  # creation is not delegation (2.4): query or await the callback
            raw_status="errno 0",
            cost_sun=to_int(data.get("amount")),
            balance_after_sun=to_int(data.get("balance")),
            energy=None,
            tx_hashes=(),
            raw=data,
        )

    def activation_price(self, address: str | None = None) -> int:
        return ACTIVATION_SUN

    def summary(self) -> KeySummary:
        """This API key's usage (2.8): orders and sun for itrx's today and yesterday.

        Sums are in sun despite the `_trx` names. A figure that is missing, negative or not a
        number is refused (ProviderError) rather than compared as zero.
        """
        data = self._get(SUMMARY)
        figures = {name: to_int(data.get(name)) for name in SUMMARY_FIELDS}
        bad = [name for name, value in figures.items() if value is None or value < 0]
        if bad:
            raise self._answer_error(
                REJECTED,
                f"itrx sent an unreadable usage summary ({', '.join(bad)})",
                status=200,
                code="bad summary",
            )
        return KeySummary(name=str(data.get("name") or "")[:100], raw=data, **figures)  # type: ignore[arg-type]

    def _get_order(self, provider_ref: str | None, reference: str | None) -> OrderState:
        params = {"serial": provider_ref} if provider_ref else {"out_trade_no": reference}
        data = self._get(QUERY, params)
        raw_status = data.get("status")
        hashes = tuple(
            str(d["delegate_hash"])
            for d in data.get("details") or []
            if isinstance(d, dict) and d.get("delegate_hash")
        )
        return OrderState(
            provider_ref=str(data.get("order_no") or provider_ref or ""),
            reference=data.get("out_trade_no") or reference,
            status=STATUS.get(to_int(raw_status), SUBMITTED),  # type: ignore[arg-type]
            raw_status=str(raw_status),
            cost_sun=to_int(data.get("amount")),
            energy_ordered=to_int(data.get("energy_amount")),
            energy_delivered=to_int(data.get("pay_amount")),
            tx_hashes=hashes,
            refund_sun=to_int(data.get("refund_amount")),
            raw=data,
        )

    # Callback -----------------------------------------------------------------------------------

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> CallbackEvent:
        timestamp = lookup_header(headers, "TIMESTAMP")
        signature = lookup_header(headers, "SIGNATURE").lower()
        if not timestamp or not signature:
            raise CallbackRejected(401, "missing TIMESTAMP or SIGNATURE header")
        if not timestamp.isdigit():
            raise CallbackRejected(401, "TIMESTAMP is not a Unix time in seconds")
        # No age limit (see the note at the top): only the signature decides.
        secret = self._secret()
        if not secret:
            raise CallbackRejected(403, "no API secret stored for this account; cannot verify")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        form = _matching_form(secret, timestamp, signature, data, body)
        if form is None:
            raise CallbackRejected(403, "signature does not match")
        if not isinstance(data, dict):
            raise CallbackRejected(400, "signed body is not a JSON object")
        return _event(data, form)


def _matching_form(
    secret: str, timestamp: str, signature: str, data: Any, body: bytes
) -> str | None:
    """Which serialization itrx signed. The docs disagree (2.12): compact in every sample but
    Python's, which uses json.dumps defaults (", ", ": "). We also accept a signature over the raw
    body as received: if itrx posts exactly the string it signed (as clients must), that form
    survives float re-serialization differences (pay_amount). All three need the secret."""
    candidates: list[tuple[str, str]] = []
    if isinstance(data, dict):
        candidates.append(("compact", canonical_body(data)))
        candidates.append(("spaced", json.dumps(data, sort_keys=True)))
    candidates.append(("raw", body.decode("utf-8", "replace")))
    for form, text in candidates:
        if hmac.compare_digest(sign(secret, timestamp, text), signature):
            return form
    return None


def _event(data: dict, form: str) -> CallbackEvent:
    raw_status = data.get("status")
    hashes = tuple(
        str(data[key]) for key in ("txid", "active_hash", "bandwidth_hash") if data.get(key)
    )
    return CallbackEvent(
        provider_ref=str(data.get("serial") or ""),
        reference=str(data["out_trade_no"]) if data.get("out_trade_no") else None,
        status=CALLBACK_STATUS.get(to_int(raw_status), DELEGATING),  # type: ignore[arg-type]
        raw_status=str(raw_status),
        energy_delivered=to_int(data.get("pay_amount")),
        tx_hashes=hashes,
        raw=data,
        matched_form=form,
    )


def _describe_400(data: dict) -> str:
    """itrx 400: {"detail": "..."} first, else {field: [reasons]} (2.3)."""
    if "detail" in data:
        return str(data["detail"])
    parts = []
    for field, reasons in data.items():
        text = " ".join(str(r) for r in reasons) if isinstance(reasons, list) else str(reasons)
        parts.append(f"{field}: {text}")
    return "; ".join(parts)

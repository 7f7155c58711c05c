"""What the reader sends: the documented path and JSON body, the key in its header and nowhere
else (not in the recorded exchanges, the logs, the messages or the reader's repr)."""

from __future__ import annotations

import json
import logging

import pytest
import respx

from energydash.chain import abi
from energydash.chain.outcomes import INVALID, OK, REFUSED
from tests.chain.conftest import KEY, address, make_reader

ALICE = address("alice")
BOB = address("bob")
TXID = "ab" * 32


def ask(reader, method: str):
    return {
        "resource": lambda: reader.account_resource(ALICE),
        "account": lambda: reader.account(ALICE),
        "index": lambda: reader.delegation_index(ALICE),
        "delegated": lambda: reader.delegated_resources(BOB, ALICE),
        "txinfo": lambda: reader.transaction_info(TXID),
        "estimate": lambda: reader.estimate_transfer(ALICE, BOB, 1_000_000),
    }[method]()


EXPECTED = {
    "resource": ("/wallet/getaccountresource", {"address": ALICE, "visible": True}),
    "account": ("/wallet/getaccount", {"address": ALICE, "visible": True}),
    "index": ("/wallet/getdelegatedresourceaccountindexv2", {"value": ALICE, "visible": True}),
    "delegated": (
        "/wallet/getdelegatedresourcev2",
        {"fromAddress": BOB, "toAddress": ALICE, "visible": True},
    ),
    "txinfo": ("/wallet/gettransactioninfobyid", {"value": TXID}),
    "estimate": (
        "/wallet/triggerconstantcontract",
        {
            "owner_address": ALICE,
            "contract_address": abi.USDT_CONTRACT,
            "function_selector": "transfer(address,uint256)",
            "parameter": abi.address_word(BOB) + f"{1_000_000:064x}",
            "visible": True,
        },
    ),
}
ANSWERS = {
    "estimate": {"result": {"result": True}, "energy_used": 64_285},
    "txinfo": {"id": TXID, "blockNumber": 1, "blockTimeStamp": 1_750_000_000_000},
}


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_each_question_posts_its_documented_body_with_the_key_header(reader, node, method):
    path, body = EXPECTED[method]
    route = node.post(path).respond(json=ANSWERS.get(method, {}))
    reading = ask(reader, method)
    assert reading.outcome == OK, reading.message
    request = route.calls.last.request
    assert json.loads(request.content) == body
    assert request.headers["TRON-PRO-API-KEY"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert reading.calls == 1
    exchange = reading.exchanges[0]
    assert (exchange.method, exchange.url, exchange.status_code) == ("POST", path, 200)
    assert json.loads(exchange.request_body) == body


def test_without_a_key_no_key_header_is_sent(clock, node):
    route = node.post("/wallet/getaccount").respond(json={})
    make_reader(clock, key="").account(ALICE)
    assert "TRON-PRO-API-KEY" not in route.calls.last.request.headers


def test_the_key_never_reaches_exchanges_logs_messages_or_repr(reader, node, caplog):
    echo = {"Error": f"key {KEY} exceeds the frequency limit"}
    node.post("/wallet/getaccount").respond(403, json=echo)
    node.post("/wallet/getaccountresource").respond(200, json=echo)
    with caplog.at_level(logging.DEBUG):
        refused = reader.account_resource(ALICE)
        limited = reader.account(ALICE)
    assert refused.outcome == REFUSED
    texts = [caplog.text, repr(reader), str(refused), str(limited), refused.message]
    texts += [json.dumps(e.__dict__) for e in reader.exchanges]
    assert all(KEY not in text for text in texts)
    assert "[redacted]" in reader.exchanges[0].response_body


def test_an_invalid_address_is_not_asked(reader, node):
    reading = reader.account("TNotAnAddress")
    assert reading.outcome == INVALID
    assert "nothing was sent" in reading.message
    assert reading.calls == 0
    assert not node.calls


@pytest.mark.parametrize("txid", ["", "ab" * 31, "zz" * 32, None, 12])
def test_an_invalid_transaction_id_is_not_asked(reader, node, txid):
    assert reader.transaction_info(txid).outcome == INVALID
    assert not node.calls


@pytest.mark.parametrize("amount", [-1, 2**256, 1.5, True])
def test_an_amount_that_is_no_uint256_is_not_asked(reader, node, amount):
    assert reader.estimate_transfer(ALICE, BOB, amount).outcome == INVALID
    assert not node.calls


def test_the_transfer_parameter_matches_a_published_example():
    # The balanceOf example of a node provider's docs: the same 32-byte word for this address.
    word = abi.address_word("TZ4UXDV5ZhNW7fb2AMSbgfAEZ7hWsnYS2g")
    assert word == "000000000000000000000000fd49eda0f23ff7ec1d03b52c3a45991c24cd440e"
    assert (
        abi.address_bytes(abi.USDT_CONTRACT).hex() == "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"
    )
    assert abi.transfer_parameter(BOB, 2**256 - 1).endswith("f" * 64)


def test_a_base_url_with_a_path_keeps_it(clock):
    with respx.mock(base_url="http://127.0.0.1:8090/sandbox/chain") as router:
        route = router.post("/wallet/getaccount").respond(json={})
        reader = make_reader(clock)
        reader.node.base_url = "http://127.0.0.1:8090/sandbox/chain"
        assert reader.account(ALICE).ok
        assert route.called
        assert reader.exchanges[0].url == "/sandbox/chain/wallet/getaccount"


def test_no_redirect_is_followed(reader, node):
    node.post("/wallet/getaccount").respond(301, headers={"Location": "https://example.com/"})
    reading = reader.account(ALICE)
    assert reading.outcome == REFUSED
    assert "redirect" in reading.message

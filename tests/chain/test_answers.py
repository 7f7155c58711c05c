"""Answers in the documented shapes become typed values; odd answers become clear outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from energydash.chain.outcomes import OK, OUTCOMES, REFUSED, UNREADABLE
from tests.chain.conftest import address, make_reader

ALICE = address("alice")
BOB = address("bob")
CAROL = address("carol")
TXID = "0f" * 32

RESOURCE = {
    "freeNetLimit": 600,
    "NetLimit": 12,
    "NetUsed": 3,
    "EnergyLimit": 65_537,
    "EnergyUsed": 1_000,
    "TotalNetLimit": 43_200_000_000,
    "TotalNetWeight": 26_000_000_000,
    "TotalEnergyLimit": 180_000_000_000,
    "TotalEnergyWeight": 17_000_000_000,
    "tronPowerLimit": 0,
}


def test_account_resource_reads_the_documented_fields(reader, node):
    node.post("/wallet/getaccountresource").respond(json=RESOURCE)
    value = reader.account_resource(ALICE).value
    assert (value.energy_limit, value.energy_used, value.energy_available) == (
        65_537,
        1_000,
        64_537,
    )
    assert (value.net_limit, value.net_used, value.free_net_limit, value.free_net_used) == (
        12,
        3,
        600,
        0,
    )
    assert (value.total_energy_limit, value.total_energy_weight) == (
        180_000_000_000,
        17_000_000_000,
    )
    # 6,140 TRX staked at 180e9 / 17e9 energy per TRX: 65,011.76... energy, rounded down.
    assert value.energy_for(6_140_000_000) == 65_011


def test_an_empty_account_resource_is_all_zeros_without_a_ratio(reader, node):
    node.post("/wallet/getaccountresource").respond(json={})
    reading = reader.account_resource(ALICE)
    assert reading.ok
    assert reading.value.energy_limit == 0
    assert not reading.value.has_ratio
    assert reading.value.energy_for(10**9) is None


def test_getaccount_tells_activated_from_not(reader, node):
    route = node.post("/wallet/getaccount")
    route.respond(json={"address": ALICE, "balance": 2_500_000, "create_time": 1_600_000_000_000})
    account = reader.account(ALICE).value
    assert account.activated
    assert account.balance_sun == 2_500_000
    assert account.created_at == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)
    route.respond(json={})
    unknown = reader.account(ALICE)
    assert unknown.ok and not unknown.value.activated and unknown.value.balance_sun == 0
    route.respond(json={"address": ALICE, "create_time": 1_600_000_000_000})
    assert reader.account(ALICE).value.balance_sun == 0  # java-tron omits a zero balance


def test_the_delegation_index_lists_both_directions(reader, node):
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(
        json={"account": ALICE, "fromAccounts": [BOB, CAROL, BOB], "toAccounts": [CAROL]}
    )
    index = reader.delegation_index(ALICE).value
    assert index.from_accounts == (BOB, CAROL)
    assert index.to_accounts == (CAROL,)


def test_delegated_resources_in_sun_and_milliseconds(reader, node):
    entry = {
        "from": BOB,
        "to": ALICE,
        "frozen_balance_for_energy": 6_140_000_000,
        "expire_time_for_energy": 1_750_003_600_000,
    }
    node.post("/wallet/getdelegatedresourcev2").respond(json={"delegatedResource": [entry]})
    (found,) = reader.delegated_resources(BOB, ALICE).value
    assert (found.delegator, found.receiver, found.energy_sun) == (BOB, ALICE, 6_140_000_000)
    assert found.energy_expires_at == datetime.fromtimestamp(1_750_003_600, tz=UTC)
    assert (found.bandwidth_sun, found.bandwidth_expire_ms) == (0, 0)


def test_transaction_info_on_and_off_chain(reader, node):
    route = node.post("/wallet/gettransactioninfobyid")
    route.respond(
        json={
            "id": TXID,
            "blockNumber": 73_000_000,
            "blockTimeStamp": 1_750_000_002_000,
            "receipt": {"net_usage": 282, "result": "SUCCESS"},
        }
    )
    info = reader.transaction_info(TXID).value
    assert info.on_chain and info.block_number == 73_000_000
    assert info.receipt_result == "SUCCESS" and not info.failed
    route.respond(json={"id": TXID, "blockNumber": 5, "receipt": {"net_usage": 282}})
    assert reader.transaction_info(TXID).value.receipt_result is None  # a system contract
    route.respond(json={})
    missing = reader.transaction_info(TXID)
    assert missing.ok and not missing.value.on_chain


def test_a_transfer_estimate_and_a_would_be_revert(reader, node):
    route = node.post("/wallet/triggerconstantcontract")
    route.respond(
        json={"result": {"result": True}, "energy_used": 130_285, "energy_penalty": 65_000}
    )
    estimate = reader.estimate_transfer(ALICE, BOB, 1).value
    assert (estimate.energy_used, estimate.energy_penalty, estimate.succeeded) == (
        130_285,
        65_000,
        True,
    )
    route.respond(json={"result": {"code": "CONTRACT_VALIDATE_ERROR", "message": "524556455254"}})
    failed = reader.estimate_transfer(ALICE, BOB, 1).value
    assert not failed.succeeded
    assert failed.message == "REVERT"  # the node hex-encodes its words


ODD = [
    ('{"EnergyLimit": 18446744073709551616}', "beyond a 64-bit integer"),
    ('{"EnergyLimit": -5}', "negative"),
    ('{"EnergyLimit": "65000"}', "not a whole number"),
    ('{"EnergyLimit": 65000.0}', "not a whole number"),
    ('{"EnergyLimit": null}', "not a whole number"),
    ('{"EnergyLimit": true}', "not a whole number"),
    ('{"TotalEnergyWeight": 1e400}', "not a whole number"),
    ('{"TotalEnergyWeight": NaN}', "not a whole number"),
    ('{"EnergyLimit": [65000]}', "not a whole number"),
]


@pytest.mark.parametrize(("answer", "words"), ODD)
def test_odd_numbers_make_the_answer_unreadable(reader, node, answer, words):
    node.post("/wallet/getaccountresource").respond(content=answer.encode())
    reading = reader.account_resource(ALICE)
    assert reading.outcome == UNREADABLE
    assert reading.value is None
    assert words in reading.message


@pytest.mark.parametrize(
    "answer",
    [
        {"delegatedResource": [{"from": BOB, "to": ALICE, "frozen_balance_for_energy": 10**18}]},
        {"delegatedResource": [{"from": "41" + "00" * 20, "to": ALICE}]},
        {"delegatedResource": [{"from": CAROL, "to": ALICE, "frozen_balance_for_energy": 1}]},
        {"delegatedResource": [{"from": BOB, "to": ALICE, "expire_time_for_energy": 10**16}]},
        {"delegatedResource": {"from": BOB}},
        {"delegatedResource": ["x"]},
    ],
)
def test_delegations_that_do_not_fit_are_unreadable(reader, node, answer):
    node.post("/wallet/getdelegatedresourcev2").respond(json=answer)
    assert reader.delegated_resources(BOB, ALICE).outcome == UNREADABLE


def test_an_index_about_another_address_is_unreadable(reader, node):
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(
        json={"account": BOB, "fromAccounts": [CAROL]}
    )
    reading = reader.delegation_index(ALICE)
    assert reading.outcome == UNREADABLE
    assert "not " + ALICE in reading.message


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b"<html>502 Bad Gateway</html>", "text/html"),
        (200, b"", "application/json"),
        (200, b'{"EnergyLimit": 1', "application/json"),
    ],
)
def test_an_answer_that_is_not_json_is_unreadable(reader, node, status, body, content_type):
    node.post("/wallet/getaccountresource").respond(
        status, content=body, headers={"Content-Type": content_type}
    )
    reading = reader.account_resource(ALICE)
    assert reading.outcome == UNREADABLE
    assert "not JSON" in reading.message
    assert reading.exchanges[0].response_body == body.decode()


@pytest.mark.parametrize("answer", [[], "ok", 42, None])
def test_an_answer_that_is_no_object_is_unreadable(reader, node, answer):
    node.post("/wallet/getaccount").respond(json=answer)
    assert reader.account(ALICE).outcome == UNREADABLE


@pytest.mark.parametrize("status", [200, 400, 500])
def test_the_error_envelope_is_a_refusal_in_the_nodes_words(clock, node, status):
    node.post("/wallet/getaccount").respond(
        status, json={"Error": "class java.lang.IllegalArgumentException : Invalid address"}
    )
    reading = make_reader(clock, retries=0).account(ALICE)
    if status == 500:  # a server error is retried, then unavailable: not the node's refusal
        assert reading.outcome == "unavailable"
    else:
        assert reading.outcome == REFUSED
        assert "Invalid address" in reading.message


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from([ALICE, BOB, TXID]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "EnergyLimit",
                    "TotalEnergyWeight",
                    "address",
                    "balance",
                    "create_time",
                    "account",
                    "fromAccounts",
                    "delegatedResource",
                    "from",
                    "to",
                    "frozen_balance_for_energy",
                    "expire_time_for_energy",
                    "id",
                    "blockNumber",
                    "receipt",
                    "result",
                    "energy_used",
                    "Error",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answer=JSON)
def test_whatever_the_node_answers_every_question_ends_in_an_outcome(reader, node, answer):
    for path in (
        "/wallet/getaccountresource",
        "/wallet/getaccount",
        "/wallet/getdelegatedresourceaccountindexv2",
        "/wallet/getdelegatedresourcev2",
        "/wallet/gettransactioninfobyid",
        "/wallet/triggerconstantcontract",
    ):
        node.post(path).respond(json=answer)
    readings = [
        reader.account_resource(ALICE),
        reader.account(ALICE),
        reader.delegation_index(ALICE),
        reader.delegated_resources(BOB, ALICE),
        reader.transaction_info(TXID),
        reader.estimate_transfer(ALICE, BOB, 5),
    ]
    for reading in readings:
        assert reading.outcome in OUTCOMES
        assert (reading.value is not None) == (reading.outcome == OK)

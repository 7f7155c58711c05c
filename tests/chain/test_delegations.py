"""delegations_to: the index, then each delegator; energy at the network's ratio, in integers."""

from __future__ import annotations

import json
from fractions import Fraction

import httpx
from hypothesis import given
from hypothesis import strategies as st

from energydash.chain.answers import energy_from_stake
from energydash.chain.delegations import delegations_to
from energydash.chain.outcomes import NOT_VERIFIED, OK, UNAVAILABLE, UNREADABLE
from tests.chain.conftest import address

RECEIVER = address("receiver")
POOL = address("provider pool")
OTHER = address("someone else")
RATIO = {"TotalEnergyLimit": 180_000_000_000, "TotalEnergyWeight": 17_000_000_000}


def entry(delegator, sun, expire=1_750_003_600_000, **extra):
    return {
        "from": delegator,
        "to": RECEIVER,
        "frozen_balance_for_energy": sun,
        "expire_time_for_energy": expire,
        **extra,
    }


def per_delegator(answers):
    def respond(request):
        asked = json.loads(request.content)
        assert asked["toAddress"] == RECEIVER and asked["visible"] is True
        return httpx.Response(200, json=answers[asked["fromAddress"]])

    return respond


def test_it_lists_each_delegation_with_its_energy_and_counts_the_calls(reader, node):
    node.post("/wallet/getaccountresource").respond(json={"EnergyLimit": 130_023, **RATIO})
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(
        json={"account": RECEIVER, "fromAccounts": [POOL, OTHER]}
    )
    bandwidth_only = {
        "from": OTHER,
        "to": RECEIVER,
        "frozen_balance_for_bandwidth": 10**9,
        "expire_time_for_bandwidth": 1,
    }
    node.post("/wallet/getdelegatedresourcev2").mock(
        side_effect=per_delegator(
            {
                POOL: {"delegatedResource": [entry(POOL, 6_140_000_000)]},
                OTHER: {"delegatedResource": [entry(OTHER, 6_141_000_000, 0), bandwidth_only]},
            }
        )
    )
    reading = delegations_to(RECEIVER, reader)
    assert reading.outcome == OK, reading.message
    found = reading.value
    assert found.calls == reading.calls == 4  # resource + index + one per delegator
    assert [(d.delegator, d.staked_sun, d.energy) for d in found.delegations] == [
        (POOL, 6_140_000_000, 65_011),
        (OTHER, 6_141_000_000, 65_022),
    ]
    assert found.delegations[1].expires_at is None  # not locked
    assert found.staked_sun == 12_281_000_000
    assert found.energy == 130_034  # converted once, as the chain does (not 65,011 + 65,022)
    assert found.resource.energy_limit == 130_023
    assert found.from_delegator(POOL)[0].expires_at.year == 2025


def test_no_delegators_takes_one_call_the_index(reader, node):
    resources = node.post("/wallet/getaccountresource").respond(json=RATIO)
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(json={})
    reading = delegations_to(RECEIVER, reader)
    assert reading.ok and reading.value.delegations == () and reading.calls == 1
    assert reading.value.energy == 0
    assert not resources.called  # nobody delegates: the ratio is not needed


def test_without_a_ratio_the_energy_is_unknown_not_zero(reader, node):
    node.post("/wallet/getaccountresource").respond(json={})
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(json={"fromAccounts": [POOL]})
    node.post("/wallet/getdelegatedresourcev2").respond(
        json={"delegatedResource": [entry(POOL, 10**9)]}
    )
    reading = delegations_to(RECEIVER, reader)
    assert reading.value.delegations[0].energy is None
    assert reading.value.energy is None


def test_one_delegator_unreadable_fails_the_whole_reading(reader, node):
    node.post("/wallet/getaccountresource").respond(json=RATIO)
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(
        json={"fromAccounts": [POOL, OTHER]}
    )
    node.post("/wallet/getdelegatedresourcev2").mock(
        side_effect=per_delegator(
            {
                POOL: {"delegatedResource": [entry(POOL, 10**9)]},
                OTHER: {"delegatedResource": [entry(OTHER, "10")]},
            }
        )
    )
    reading = delegations_to(RECEIVER, reader)
    assert reading.outcome == UNREADABLE
    assert reading.value is None
    assert f"reading what {OTHER} delegates" in reading.message
    assert reading.calls == 4


def test_too_many_delegators_is_not_read_one_by_one(reader, node):
    node.post("/wallet/getaccountresource").respond(json=RATIO)
    many = [address(f"delegator {n}") for n in range(51)]
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(json={"fromAccounts": many})
    route = node.post("/wallet/getdelegatedresourcev2").respond(json={})
    reading = delegations_to(RECEIVER, reader)
    assert reading.outcome == UNAVAILABLE
    assert "51 addresses delegate" in reading.message
    assert not route.called


def test_a_failing_first_call_says_which_step(reader, node):
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(503)
    reading = delegations_to(RECEIVER, reader)
    assert reading.outcome == UNAVAILABLE
    assert reading.message.startswith("reading who delegates to the receiver: ")


def test_a_failing_resource_read_after_the_index_says_which_step(reader, node):
    node.post("/wallet/getdelegatedresourceaccountindexv2").respond(json={"fromAccounts": [POOL]})
    node.post("/wallet/getaccountresource").respond(503)
    reading = delegations_to(RECEIVER, reader)
    assert reading.outcome == UNAVAILABLE
    assert reading.message.startswith("reading the receiver's resources: ")


def test_not_configured_is_not_verified(settings, node):
    settings.ENERGYDASH_TRON_API_URL = ""
    reading = delegations_to(RECEIVER)
    assert reading.outcome == NOT_VERIFIED
    assert reading.words == "not verified"
    assert not node.calls


def test_energy_from_stake_is_integer_floor():
    assert energy_from_stake(1_000_000, 180_000_000_000, 17_000_000_000) == 10  # 10.588...
    assert energy_from_stake(17_000_000, 180_000_000_000, 17_000_000_000) == 180
    assert energy_from_stake(0, 180_000_000_000, 17_000_000_000) == 0


@given(
    frozen=st.integers(0, 10**17),
    limit=st.integers(0, 2**63 - 1),
    weight=st.integers(1, 2**63 - 1),
)
def test_energy_from_stake_matches_exact_arithmetic(frozen, limit, weight):
    exact = Fraction(frozen, 1_000_000) * Fraction(limit, weight)
    assert energy_from_stake(frozen, limit, weight) == int(exact)  # floor for non-negatives

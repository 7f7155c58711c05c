"""getchainparameters' getEnergyFee is vetted before a fee_limit rests on it."""

from __future__ import annotations

import pytest

from energydash.chain import vetting


def params(*entries):
    return {"chainParameter": list(entries)}


def test_the_energy_fee_is_read_from_the_chains_parameters():
    answer = vetting.chain_parameters(
        params({"key": "getAllowTvmTransferTrc10"}, {"key": "getEnergyFee", "value": 210})
    )
    assert answer.energy_fee_sun == 210


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (params({"key": "getEnergyFee", "value": 0}), "outside 1 to 10,000"),
        (params({"key": "getEnergyFee", "value": 10**6}), "outside 1 to 10,000"),
        (params({"key": "getEnergyFee", "value": "100"}), "is not a whole number"),
        (params({"key": "getEnergyFee"}), "has no value"),
        (params({"key": "getTransactionFee", "value": 1000}), "appears 0 times"),
        (
            params({"key": "getEnergyFee", "value": 100}, {"key": "getEnergyFee", "value": 420}),
            "appears 2 times",
        ),
        ({"chainParameter": "getEnergyFee=100"}, "is not a list"),
    ],
)
def test_an_energy_fee_that_does_not_fit_is_unreadable(data, why):
    with pytest.raises(vetting.Unreadable, match=why):
        vetting.chain_parameters(data)


def test_the_nodes_error_envelope_is_a_refusal():
    with pytest.raises(vetting.Refused):
        vetting.chain_parameters({"Error": "busy"})

"""The soak's chain goals (scripts/soak_chain.py): met only by figures that were measured."""

from __future__ import annotations

import pytest

from tests.test_setup_scripts import _soak_module


def chain(**over) -> dict:
    figures = {
        "latency_after_provider_done": {"p50": 2.1, "p99": 7.9, "orders": 120},
        "chain_calls_per_verified_order": {"median": 3, "max": 9},
        "rate_limited_answers": 0,
        "faulty_caught_percent": 100.0,
        "false_alarms_on_healthy": 0,
    }
    figures.update(over)
    return figures


@pytest.fixture
def soak_chain():
    return _soak_module().soak_chain


def test_measured_figures_within_the_targets_meet_every_goal(soak_chain):
    assert all(g["met"] for g in soak_chain.chain_goals(chain()).values())


@pytest.mark.parametrize(
    ("over", "unmet"),
    [
        ({"latency_after_provider_done": {"p50": 3.5, "p99": 7.0}}, "latency_p50_le_3s"),
        ({"latency_after_provider_done": {"p50": None, "p99": None}}, "latency_p99_le_9s"),
        ({"chain_calls_per_verified_order": {"median": None}}, "calls_median_le_3"),
        ({"rate_limited_answers": 1}, "no_rate_limited_answers"),
        ({"faulty_caught_percent": None}, "all_faulty_caught"),
        ({"faulty_caught_percent": 99.5}, "all_faulty_caught"),
        ({"false_alarms_on_healthy": 2}, "no_false_alarms"),
    ],
)
def test_a_missed_or_unmeasured_figure_is_an_unmet_goal(soak_chain, over, unmet):
    assert soak_chain.chain_goals(chain(**over))[unmet]["met"] is False


def test_every_fault_has_the_state_it_must_end_in(soak_chain):
    from energydash.sandbox.models import SandboxOrder

    assert set(soak_chain.EXPECTED) == {
        "",
        "taken_back",
        "never_landed",
        *SandboxOrder.CHAIN_FAULTS,
    }


def test_energy_taken_back_before_it_landed_must_end_missing_not_reclaimed(soak_chain):
    """A refund before the delegation's block undelegates it before it lands: the chain never
    showed it, so "missing" is the right state (the CI soak's one taken_back order "wrong")."""
    from datetime import UTC, datetime, timedelta

    lands = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert soak_chain.taken_back_fault([(lands, lands - timedelta(seconds=1))]) == "never_landed"
    assert soak_chain.taken_back_fault([(lands, lands)]) == "never_landed"
    assert soak_chain.taken_back_fault([]) == "never_landed"
    assert soak_chain.taken_back_fault([(lands, lands + timedelta(seconds=9))]) == "taken_back"
    assert soak_chain.EXPECTED["never_landed"] == "missing"
    assert soak_chain.EXPECTED["taken_back"] == "reclaimed_early"


def test_a_short_routing_phase_compares_its_first_quarter_with_its_last_third(soak_chain):
    """CI's 2-minute phase: the "last two minutes" would be the whole phase, first minute
    included, so no fall could show; a short phase compares its own first and last parts."""
    assert soak_chain.phase_windows(120) == (30, 80)
    assert soak_chain.phase_windows(600) == (60, 480)  # the 10-minute run: 1st min, last 2

"""The request budget: QPS per one-second window, shared by every process through the cache,
waiting (bounded) for the next window, and counting per process when the cache is down."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from django.core.cache import caches

from energydash.chain.budget import RequestBudget
from energydash.chain.outcomes import OK, UNAVAILABLE
from tests.chain.conftest import address, make_reader

ALICE = address("alice")


class BrokenCache:
    """A cache whose server is down (what Redis raises, Django does not wrap)."""

    def add(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    incr = add


def test_two_processes_sharing_the_cache_never_exceed_qps_in_a_window(clock):
    # Two budgets as two processes would hold them: separate objects, one shared cache.
    shared = caches["default"]
    web, worker = (
        RequestBudget(3, cache=shared, clock=clock, sleep=clock.sleep, max_wait=60)
        for _ in range(2)
    )
    granted: Counter[int] = Counter()
    for turn in range(40):
        budget = (web, worker)[turn % 2] if turn % 5 else worker  # uneven interleaving
        assert budget.acquire()
        granted[int(clock.now)] += 1
    assert max(granted.values()) == 3
    assert sum(granted.values()) == 40
    assert len(granted) == 14  # 40 requests at 3 a second: 14 windows
    assert all(0 < pause <= 1 for pause in clock.sleeps)


def test_a_budget_that_stays_used_up_gives_up_after_its_wait(clock):
    budget = RequestBudget(1, cache=caches["default"], clock=clock, sleep=clock.sleep, max_wait=0.5)
    clock.now = 100.25
    assert budget.acquire()
    assert not budget.acquire()  # the next window is 0.75 s away: more than the 0.5 s allowed
    assert clock.sleeps == []


def test_over_budget_the_reader_waits_for_the_next_second(clock, node):
    node.post("/wallet/getaccount").respond(json={})
    reader = make_reader(clock, qps=2)
    start = clock.now
    readings = [reader.account(ALICE) for _ in range(5)]
    assert all(r.ok for r in readings)
    assert clock.sleeps == [pytest.approx(1 - (start % 1)), pytest.approx(1.0)]


def test_a_reader_out_of_budget_sends_nothing_and_says_so(clock, node):
    route = node.post("/wallet/getaccount").respond(json={})
    reader = make_reader(clock, qps=1)
    reader.node.budget.max_wait = 0.1
    assert reader.account(ALICE).outcome == OK
    reading = reader.account(ALICE)
    assert reading.outcome == UNAVAILABLE
    assert "request budget (1 a second) is used up" in reading.message
    assert route.call_count == 1


def test_with_the_cache_down_it_counts_per_process_and_warns_once(clock, node, caplog):
    node.post("/wallet/getaccount").respond(json={})
    budget = RequestBudget(
        2, cache=BrokenCache(), clock=clock, sleep=clock.sleep, key_prefix="broken-test"
    )
    reader = make_reader(clock)
    reader.node.budget = budget
    with caplog.at_level(logging.WARNING, logger="energydash.chain"):
        readings = [reader.account(ALICE) for _ in range(5)]
    assert all(r.ok for r in readings)
    assert len(clock.sleeps) == 2  # 2 a second, counted in this process
    warnings = [r for r in caplog.records if "shared cache failed" in r.getMessage()]
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()


def test_the_cache_coming_back_is_noticed(clock, caplog):
    budget = RequestBudget(5, cache=BrokenCache(), clock=clock, sleep=clock.sleep)
    assert budget.acquire()
    budget._cache = caches["default"]
    with caplog.at_level(logging.WARNING, logger="energydash.chain"):
        assert budget.acquire()
    assert "works again" in caplog.text


def test_a_budget_needs_at_least_one_request_a_second():
    with pytest.raises(ValueError):
        RequestBudget(0)


@pytest.mark.parametrize("transit", [0.0, 0.1, 0.25])
def test_a_node_counting_by_arrival_never_sees_more_than_qps_in_its_second(clock, transit):
    """The node counts a request in the second it arrives, a little after we let it go: a
    request let go late in a second may land in the next. The budget counts such a request in
    both seconds, so the node's count never exceeds QPS (2 answers 429 were seen at the edge)."""
    budget = RequestBudget(10, cache=caches["default"], clock=clock, sleep=clock.sleep, max_wait=60)
    clock.now = 1000.0
    arrived: Counter[int] = Counter()
    for second in range(1000, 1020):
        # A burst at the end of one second, then another at the start of the next.
        for start in (second + 0.9, second + 1.0):
            clock.now = max(clock.now, start)
            for _ in range(10):
                assert budget.acquire()
                arrived[int(clock.now + transit)] += 1
                clock.now += 0.005
    assert max(arrived.values()) <= 10
    assert sum(arrived.values()) == 400


def test_a_margin_keeps_each_second_below_the_nodes_limit(clock):
    """The node counts when its handler runs, which on a busy server is late: requests let go
    in one second may be counted in the next. The budget lets only qps - margin go a second, so
    a late batch finds room under the node's limit."""
    budget = RequestBudget(
        10, cache=caches["default"], clock=clock, sleep=clock.sleep, max_wait=60, margin=2
    )
    clock.now = 2000.0
    granted: Counter[int] = Counter()
    for _ in range(80):
        assert budget.acquire()
        granted[int(clock.now)] += 1
        clock.now += 0.01
    assert max(granted.values()) == 8
    assert budget.limit == 8


def test_the_margin_never_leaves_less_than_one_request_a_second():
    assert RequestBudget(1, margin=5).limit == 1
    assert RequestBudget(10).limit == 10


def test_from_settings_the_reader_keeps_the_configured_margin(settings):
    from energydash.chain.reader import ChainReader

    settings.ENERGYDASH_TRON_API_QPS = 10
    settings.ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT = 20
    assert ChainReader.from_settings().node.budget.limit == 8


def test_chain_evidence_draws_on_its_own_share_and_never_starves_the_delivery_check(clock):
    """Reconciliation's chain evidence is one caller among several: it gets a share of the
    budget, so the delivery check always finds the rest."""
    from energydash.chain.budget import ShareOf

    whole = RequestBudget(10, cache=caches["default"], clock=clock, sleep=clock.sleep, max_wait=0)
    share = ShareOf(
        RequestBudget(
            4,
            cache=caches["default"],
            clock=clock,
            sleep=clock.sleep,
            max_wait=0,
            key_prefix="test-evidence",
        ),
        whole,
    )
    clock.now = 3000.0
    evidence = sum(share.acquire() for _ in range(20))
    delivery = sum(whole.acquire() for _ in range(20))
    assert (evidence, delivery) == (4, 6)
    clock.now = 3001.0
    assert sum(whole.acquire() for _ in range(10)) == 10
    assert not share.acquire()  # the whole budget is used: the share has nothing either
    assert share.qps == 4


def test_the_evidence_reader_draws_on_a_share_of_what_goes_a_second(settings):
    from energydash.chain.budget import ShareOf
    from energydash.chain.reader import ChainReader

    settings.ENERGYDASH_TRON_API_QPS = 10
    settings.ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT = 20
    settings.ENERGYDASH_CHAIN_EVIDENCE_QPS_PERCENT = 40
    budget = ChainReader.for_evidence().node.budget
    assert isinstance(budget, ShareOf)
    assert (budget.share.limit, budget.whole.limit) == (3, 8)  # 40% of the 8 that go

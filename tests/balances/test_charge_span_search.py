"""place_charges_in_span searches by bisection (a busy day at 1M orders has ~2,000 charges
and ~900 intervals): it must move exactly the charges the plain search over every interval
moved, to the same intervals, in the same order (sums and verdicts unchanged)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from energydash.balances.intervals import Interval, MovedCharge, place_charges_in_span

T0 = datetime(2026, 3, 10, tzinfo=UTC)


def reference(intervals: list[Interval], charges: list[tuple]) -> None:
    """The search as first written: every interval for every charge."""
    for pk, code, sent, submitted, amount in charges:
        holder = next((iv for iv in intervals if iv.started_at < submitted <= iv.ended_at), None)
        if holder is None:
            continue
        earlier = next(
            (
                iv
                for iv in intervals
                if sent < iv.ended_at <= holder.started_at
                and abs(iv.residual_sun + amount) <= iv.tolerance_sun
            ),
            None,
        )
        if earlier is None:
            continue
        short = str(code)[:8]
        earlier.charges_sun += amount
        earlier.charged_count += 1
        earlier.residual_sun += amount
        holder.charges_sun -= amount
        holder.charged_count -= 1
        holder.residual_sun -= amount
        earlier.moved_charges.append(MovedCharge(pk, short, amount, submitted, "charged"))
        holder.moved_charges.append(MovedCharge(pk, short, amount, submitted, "moved"))


def build(gaps: list[int], residuals: list[int], tolerance: int) -> list[Interval]:
    """Consecutive intervals (each starts where the previous one ended; a gap of 0 is two
    readings at the same instant)."""
    out, at = [], T0
    for n, (gap, residual) in enumerate(zip(gaps, residuals, strict=False)):
        end = at + timedelta(seconds=gap)
        out.append(
            Interval(
                start_id=n,
                started_at=at,
                start_balance_sun=0,
                end_id=n + 1,
                ended_at=end,
                end_balance_sun=0,
                end_source="refresh",
                charges_sun=0,
                charged_count=0,
                possible_sun=0,
                possible_count=0,
                refunds_sun=0,
                residual_sun=residual,
                tolerance_sun=tolerance,
            )
        )
        at = end
    return out


AMOUNTS = st.sampled_from([1_000_000, 3_575_000, 7_205_000])


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 4), min_size=0, max_size=25),
    residuals=st.lists(
        st.sampled_from([0, -1_000_000, -3_575_000, -7_205_000, -7_200_000, 5_000]),
        min_size=25,
        max_size=25,
    ),
    tolerance=st.sampled_from([0, 10_000]),
    raw=st.lists(
        st.tuples(st.integers(-2, 60), st.integers(0, 12), AMOUNTS), min_size=0, max_size=20
    ),
)
def test_bisected_search_moves_what_the_plain_search_moved(gaps, residuals, tolerance, raw):
    charges = [
        (n, f"code{n:04d}", T0 + timedelta(seconds=s), T0 + timedelta(seconds=s + d), amount)
        for n, (s, d, amount) in enumerate(raw)
    ]
    charges.sort(key=lambda c: (c[3], c[0]))  # as _spanning_charges orders them
    expected, got = build(gaps, residuals, tolerance), build(gaps, residuals, tolerance)
    reference(expected, charges)
    place_charges_in_span(got, charges)
    assert got == expected


def test_an_interval_ending_the_instant_the_request_left_is_not_in_its_span():
    """The span is (sent, submitted]: a reading taken the very instant the request left was
    read before the provider could charge, so the interval it closes never takes the charge."""
    ivs = build([5, 5, 5], [-7_205_000, -7_205_000, 7_205_000], 0)
    sent, submitted = T0 + timedelta(seconds=5), T0 + timedelta(seconds=12)
    expected, got = build([5, 5, 5], [-7_205_000, -7_205_000, 7_205_000], 0), ivs
    charge = [(1, "code0001", sent, submitted, 7_205_000)]
    reference(expected, charge)
    place_charges_in_span(got, charge)
    assert [iv.residual_sun for iv in got] == [-7_205_000, 0, 0]
    assert got == expected

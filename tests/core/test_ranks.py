"""The one nearest-rank percentile (energydash/lib/ranks.py) scorecards, delivery figures and the
soak share: it agrees with PostgreSQL's percentile_disc on the figures an operator reads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from energydash.lib.ranks import median, nearest_rank


def test_nearest_rank_is_the_first_value_at_or_above_the_fraction():
    twenty = list(range(1, 21))
    assert nearest_rank(twenty, 0.5) == 10
    assert nearest_rank(twenty, 0.95) == 19  # not 20: 0.95 x 20 is exactly 19
    assert nearest_rank(twenty, 0.99) == 20
    assert nearest_rank(twenty, 1) == 20
    assert nearest_rank([7.5], 0.5) == 7.5
    assert nearest_rank([3, 1, 2], 0.5) == 2  # unsorted input


def test_it_ranks_durations_too():
    spans = [timedelta(seconds=s) for s in (9, 1, 5)]
    assert nearest_rank(spans, 0.5) == timedelta(seconds=5)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert median([4, 1, 3, 2]) == 2.5
    assert median([3, 1, 2]) == 2


@pytest.mark.parametrize("bad", [0, -0.5, 1.01])
def test_a_fraction_outside_0_to_1_is_refused(bad):
    with pytest.raises(ValueError, match="fraction"):
        nearest_rank([1, 2], bad)


def test_nothing_to_rank_is_refused():
    with pytest.raises(ValueError, match="no values"):
        nearest_rank([], 0.5)
    with pytest.raises(ValueError, match="no values"):
        median([])

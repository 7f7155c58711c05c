from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from energydash.lib import charts

D = Decimal
START = datetime(2026, 3, 1, tzinfo=UTC)


def test_nice_ticks_cover_the_range_with_round_steps():
    assert charts.nice_ticks(0, 97) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(0, 1) == [D("0"), D("0.2"), D("0.4"), D("0.6"), D("0.8"), D("1")]
    assert charts.nice_ticks(13, 47) == [10, 20, 30, 40, 50]


def test_nice_ticks_are_exact_decimals():
    ticks = charts.nice_ticks(0, D("0.3"), 3)
    assert ticks == [D("0"), D("0.1"), D("0.2"), D("0.3")]
    assert [charts.format_number(t) for t in ticks] == ["0", "0.1", "0.2", "0.3"]


def test_nice_ticks_of_a_flat_series_include_zero():
    assert charts.nice_ticks(500, 500)[0] == 0
    assert charts.nice_ticks(500, 500)[-1] >= 500
    assert charts.nice_ticks(-40, -40)[0] <= -40
    assert charts.nice_ticks(-40, -40)[-1] == 0
    assert charts.nice_ticks(0, 0) == [D(0), D("0.2"), D("0.4"), D("0.6"), D("0.8"), D(1)]


def test_nice_ticks_handle_negative_and_reversed_ranges():
    assert charts.nice_ticks(30, -70) == [-80, -60, -40, -20, 0, 20, 40]
    assert all(str(t) != "-0" for t in charts.nice_ticks(-1, 1))


def test_nice_ticks_handle_huge_values_without_losing_precision():
    huge = 10**30 + 7
    ticks = charts.nice_ticks(0, huge)
    assert ticks[-1] >= huge
    assert len(ticks) <= 7
    assert charts.format_number(ticks[1]).replace(",", "").isdigit()


def test_nice_ticks_refuse_infinite_values():
    with pytest.raises(ValueError):
        charts.nice_ticks(0, float("inf"))


def test_value_ticks_of_an_empty_series_are_zero_to_one():
    assert charts.value_ticks([])[0] == 0
    assert charts.value_ticks([])[-1] == 1


def test_scale_maps_linearly_and_a_flat_domain_to_the_middle():
    assert charts.scale(5, (0, 10), (0.0, 100.0)) == 50.0
    assert charts.scale(0, (0, 10), (200.0, 10.0)) == 200.0  # SVG y grows downwards
    assert charts.scale(7, (7, 7), (0.0, 100.0)) == 50.0
    assert charts.scale(D("1e30"), (0, D("2e30")), (0.0, 10.0)) == 5.0


def test_time_ticks_are_local_midnights_for_long_ranges():
    tz = ZoneInfo("Asia/Shanghai")
    ticks = charts.time_ticks(START, START + timedelta(days=7), tz)
    assert ticks
    assert all(t.astimezone(tz).hour == 0 and t.astimezone(tz).minute == 0 for t in ticks)
    assert all(START <= t < START + timedelta(days=7) for t in ticks)
    assert len(ticks) <= 8


def test_time_ticks_are_whole_hours_for_a_day():
    ticks = charts.time_ticks(START + timedelta(minutes=10), START + timedelta(hours=24), UTC)
    assert [t.hour for t in ticks] == [3, 6, 9, 12, 15, 18, 21]  # not the end itself


def test_paths_of_no_points_are_empty_and_of_one_point_a_move():
    assert charts.line_path([]) == ""
    assert charts.step_path([]) == ""
    assert charts.line_path([(1, 2)]) == "M1.0 2.0"
    assert charts.step_path([(1, 2)]) == "M1.0 2.0"


def test_a_step_path_holds_the_value_until_the_next_point():
    assert charts.step_path([(0, 10), (5, 20), (9, 15)]) == "M0.0 10.0 H5.0 V20.0 H9.0 V15.0"
    assert charts.line_path([(0, 10), (5, 20)]) == "M0.0 10.0 L5.0 20.0"


def test_downsample_keeps_ends_and_extremes():
    points = [(i, 100) for i in range(1000)]
    points[500] = (500, -5)  # a dip
    points[700] = (700, 900)  # a peak
    thinned = charts.downsample(points, 50)
    assert len(thinned) <= 52
    assert thinned[0] == points[0] and thinned[-1] == points[-1]
    assert (500, -5) in thinned and (700, 900) in thinned
    assert [p[0] for p in thinned] == sorted(p[0] for p in thinned)
    assert charts.downsample(points[:10], 50) == points[:10]


def test_stack_puts_series_on_top_of_each_other_and_negatives_below_zero():
    stacked = charts.stack({"a": [1, 2], "b": [3, -4], "c": [5, -1]})
    assert stacked == {"a": [(0, 1), (0, 2)], "b": [(1, 4), (0, -4)], "c": [(4, 9), (-4, -5)]}
    assert charts.stack({}) == {}


def test_format_number_uses_separators_and_drops_trailing_zeros():
    assert charts.format_number(D("1234567.50")) == "1,234,567.5"
    assert charts.format_number(D("-3.005"), 2) == "-3.01"
    assert charts.format_number(40) == "40"


def test_a_line_chart_of_nothing_is_empty_but_has_axes():
    chart = charts.line_chart({}, START, START + timedelta(days=1), UTC)
    assert chart.empty
    assert chart.y_ticks and chart.x_ticks


def test_a_line_chart_of_one_point_places_it_inside_the_plot():
    chart = charts.line_chart(
        {"a": [(START, 5_000_000)]},
        START,
        START + timedelta(days=1),
        UTC,
        unit=1_000_000,
        step=True,
    )
    (marker,) = chart.lines[0].markers
    frame = chart.frame
    assert marker.x == frame.left
    assert frame.top <= marker.y <= frame.baseline
    assert [t.label for t in chart.y_ticks][-1] == "5"


def test_a_flat_line_is_drawn_above_the_baseline():
    points = [(START + timedelta(hours=h), 7) for h in range(5)]
    chart = charts.line_chart({"a": points}, START, START + timedelta(hours=4), UTC)
    ys = {m.y for m in chart.lines[0].markers}
    assert len(ys) == 1 and ys.pop() < chart.frame.baseline


def test_a_bar_chart_draws_one_rect_per_non_zero_segment():
    days = [START + timedelta(days=i) for i in range(3)]
    chart = charts.bar_chart(days, {"itrx": [1, 0, 2], "Netts": [3, 4, 0]}, UTC)
    assert len(chart.bars) == 4
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.series == "Netts"
    for bar in chart.bars:
        assert chart.frame.top - 0.01 <= bar.y <= chart.frame.baseline
        assert bar.y + bar.height <= chart.frame.baseline + 0.01


def test_stacked_bars_touch_each_other():
    chart = charts.bar_chart([START], {"a": [2], "b": [3]}, UTC)
    a, b = chart.bars
    assert a.y == pytest.approx(b.y + b.height)

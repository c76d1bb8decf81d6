"""Uptime arithmetic on windows built by hand: exact percentages, gaps, clipping, buckets."""

from __future__ import annotations

import pytest

from studio_status.hub.uptime import (
    Interval,
    StatusSpan,
    build_segments,
    merge_intervals,
    split_buckets,
    tally,
    uptime_percent,
)
from studio_status.protocol import HealthStatus
from studio_status.protocol.uptime import SpanState

H = 3600.0
HEALTHY, DEGRADED, DOWN, UNKNOWN = (
    HealthStatus.HEALTHY,
    HealthStatus.DEGRADED,
    HealthStatus.DOWN,
    HealthStatus.UNKNOWN,
)


def spans(*items: tuple[HealthStatus, float, float | None]) -> list[StatusSpan]:
    return [StatusSpan(s, a * H, None if b is None else b * H) for s, a, b in items]


def test_degraded_counts_with_its_weight() -> None:
    windows = spans((HEALTHY, 0, 6), (DEGRADED, 6, 8), (DOWN, 8, 9), (HEALTHY, 9, None))
    t = tally(build_segments(windows, 0, 10 * H))
    assert t.get(SpanState.HEALTHY) == 7 * H
    assert t.get(SpanState.DEGRADED) == 2 * H
    assert t.get(SpanState.DOWN) == 1 * H
    assert uptime_percent(t, 0.5) == pytest.approx(80.0)  # (7 + 0.5*2) / 10
    assert uptime_percent(t, 0.25) == pytest.approx(75.0)
    assert uptime_percent(t, 1.0) == pytest.approx(90.0)
    assert uptime_percent(t, 0.0) == pytest.approx(70.0)


def test_unknown_and_no_data_stay_out_of_the_denominator() -> None:
    # 2 h healthy, 1 h unknown, 1 h gap (hub not running), 1 h down, 1 h before any window
    windows = spans((HEALTHY, 1, 3), (UNKNOWN, 3, 4), (HEALTHY, 4, 5), (DOWN, 5, None))
    coverage = [Interval(0, 4 * H), Interval(5 * H, 10 * H)]
    segs = build_segments(windows, 0, 6 * H, coverage=coverage)
    assert [(s.state, s.start / H, s.end / H) for s in segs] == [
        (SpanState.NO_DATA, 0, 1),
        (SpanState.HEALTHY, 1, 3),
        (SpanState.UNKNOWN, 3, 4),
        (SpanState.NO_DATA, 4, 5),
        (SpanState.DOWN, 5, 6),
    ]
    t = tally(segs)
    assert uptime_percent(t, 0.5) == pytest.approx(100 * 2 / 3)
    wire = t.to_wire(6 * H)
    assert (wire.unknown, wire.no_data, wire.healthy, wire.down) == (H, 2 * H, 2 * H, H)


def test_windows_are_clipped_at_both_period_edges() -> None:
    windows = spans((DOWN, -5, 2), (HEALTHY, 2, None))
    segs = build_segments(windows, 0, 8 * H)
    assert [(s.state, s.start, s.end) for s in segs] == [
        (SpanState.DOWN, 0, 2 * H),
        (SpanState.HEALTHY, 2 * H, 8 * H),
    ]
    assert uptime_percent(tally(segs), 0.5) == pytest.approx(75.0)
    # a window that ended before the period and one that starts after it do not appear
    late = spans((DOWN, -5, -1), (HEALTHY, -1, 9), (DOWN, 9, None))
    assert [s.state for s in build_segments(late, 0, 8 * H)] == [SpanState.HEALTHY]


def test_maintenance_wins_and_is_left_out() -> None:
    windows = spans((HEALTHY, 0, 2), (DOWN, 2, 3), (HEALTHY, 3, None))
    segs = build_segments(windows, 0, 4 * H, maintenance=[Interval(1.5 * H, 3 * H)])
    assert [s.state for s in segs] == [
        SpanState.HEALTHY,
        SpanState.MAINTENANCE,
        SpanState.HEALTHY,
    ]
    t = tally(segs)
    assert t.get(SpanState.MAINTENANCE) == 1.5 * H
    assert uptime_percent(t, 0.5) == 100.0


def test_nothing_counted_is_none_not_zero_or_hundred() -> None:
    assert uptime_percent(tally(build_segments([], 0, H)), 0.5) is None
    only_unknown = spans((UNKNOWN, 0, None))
    assert uptime_percent(tally(build_segments(only_unknown, 0, H)), 0.5) is None


def test_buckets_add_up_to_the_tally() -> None:
    windows = spans((HEALTHY, 0, 0.3), (DOWN, 0.3, 1.75), (DEGRADED, 1.75, None))
    segs = build_segments(windows, 0.1 * H, 3.2 * H, coverage=[Interval(0, 2.5 * H)])
    whole = tally(segs)
    for res in (60, 3600, 86400):
        buckets = split_buckets(segs, res)
        assert all(b % res == 0 for b in buckets)
        for state in (SpanState.HEALTHY, SpanState.DOWN, SpanState.DEGRADED):
            assert sum(t.get(state) for t in buckets.values()) == pytest.approx(whole.get(state))
        assert all(t.get(SpanState.NO_DATA) == 0 for t in buckets.values())
        assert all(t.total <= res + 1e-9 for t in buckets.values())


def test_merge_intervals_joins_touching_and_overlapping() -> None:
    merged = merge_intervals([Interval(5, 6), Interval(0, 2), Interval(2, 3), Interval(1, 2.5)])
    assert merged == [Interval(0, 3), Interval(5, 6)]
    assert merge_intervals([Interval(1, 1)]) == []


def test_bucket_plan_takes_whole_days_from_daily_buckets() -> None:
    from studio_status.hub.uptime import DAY, bucket_plan

    start = 5 * DAY + 7 * 3600  # day 5, 07:00
    end = 35 * DAY + 13 * 3600 + 120  # day 35, 13:02 (a rolled-up watermark)
    plan = bucket_plan(start, end, 3600)
    assert plan == [(3600, start, 6 * DAY), (DAY, 6 * DAY, 35 * DAY), (3600, 35 * DAY, end)]
    # the ranges tile the period: nothing counted twice, nothing left out
    assert [lo for _, lo, _ in plan[1:]] == [hi for _, _, hi in plan[:-1]]
    # less than a whole day inside: the period's own resolution only
    assert bucket_plan(start, start + 20 * 3600, 3600) == [(3600, start, start + 20 * 3600)]
    # aligned edges leave no empty edge ranges; an empty period plans nothing
    assert bucket_plan(6 * DAY, 8 * DAY, 3600) == [(DAY, 6 * DAY, 8 * DAY)]
    assert bucket_plan(start, start, 60) == []
    # a day at minute resolution: whole hours inside, minutes only at the two edges
    day_start = 9 * DAY + 14 * 3600 + 23 * 60  # 14:23
    wm = day_start + DAY + 5 * 60  # 14:28 next day
    plan = bucket_plan(day_start, wm, 60)
    assert plan == [
        (60, day_start, 9 * DAY + 15 * 3600),
        (3600, 9 * DAY + 15 * 3600, 10 * DAY + 14 * 3600),
        (60, 10 * DAY + 14 * 3600, wm),
    ]

"""Exponential backoff with full jitter, on a seeded rng."""

from __future__ import annotations

import random

import pytest

from studio_status.backoff import EQUAL, Backoff, backoff_cap, backoff_delay


def test_delays_are_full_jitter_under_a_doubling_cap() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(1234))
    reference = random.Random(1234)
    caps = [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    for cap in caps:
        assert backoff.cap() == cap
        delay = backoff.next()
        assert delay == reference.uniform(0, cap)
        assert 0 <= delay <= cap
    assert backoff.attempts == len(caps)


def test_reset_starts_small_again() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(0))
    for _ in range(10):
        backoff.next()
    assert backoff.cap() == 60.0
    backoff.reset()
    assert backoff.cap() == 1.0
    assert backoff.next() <= 1.0


def test_many_attempts_do_not_overflow() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(0))
    backoff.attempts = 10_000
    assert backoff.cap() == 30.0
    assert 0 <= backoff.next() <= 30.0


def test_same_seed_same_sequence() -> None:
    a = Backoff(0.5, 30.0, random.Random(9))
    b = Backoff(0.5, 30.0, random.Random(9))
    assert [a.next() for _ in range(8)] == [b.next() for _ in range(8)]


def test_negative_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Backoff(-1.0, 30.0)


def test_equal_jitter_never_waits_less_than_half_the_cap() -> None:
    rng = random.Random(5)
    for attempt in range(12):
        cap = backoff_cap(attempt, 15.0, 1800.0)
        for _ in range(50):
            assert cap / 2 <= backoff_delay(attempt, 15.0, 1800.0, spread=EQUAL, rng=rng) <= cap


def test_the_counted_and_the_persisted_forms_agree() -> None:
    counted = Backoff(0.5, 30.0, random.Random(3), spread=EQUAL)
    reference = random.Random(3)
    for attempt in range(10):
        expected = backoff_delay(attempt, 0.5, 30.0, spread=EQUAL, rng=reference)
        assert counted.next() == expected


def test_spread_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="spread"):
        Backoff(1.0, 2.0, spread=1.5)

"""The statistics the performance benchmarks report (bench/lib.py): pure functions."""

from __future__ import annotations

import pytest

from bench.lib import latency_summary, median_over_rounds, median_ratios, percentile, ratio, rotated


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    samples = [4.0, 1.0, 3.0, 2.0]
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0
    assert percentile(samples, 50) == 2.5
    assert percentile(samples, 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary_in_milliseconds() -> None:
    summary = latency_summary([0.010, 0.020, 0.030, 0.040, 1.0])
    assert summary["p50_ms"] == 30.0
    assert summary["p95_ms"] == pytest.approx(808.0)
    assert summary["n"] == 5


def test_ratio_and_median_over_rounds() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(1.0, 3.0) == 0.333
    assert ratio(1.0, 0.0) is None
    rounds = [{"s": 3.0}, {"s": 1.0}, {"s": 10.0}]
    assert median_over_rounds(rounds, "s") == 3.0


def test_median_ratios_skip_undefined_rounds_and_rotation_gives_each_a_turn_first() -> None:
    per_round = [{"a/b": 0.9, "a/c": None}, {"a/b": 1.2, "a/c": 2.0}, {"a/b": 0.8, "a/c": 4.0}]
    assert median_ratios(per_round) == {"a/b": 0.9, "a/c": 3.0}
    names = ["app", "raw", "tutorial"]
    assert [rotated(names, n)[0] for n in range(4)] == ["app", "raw", "tutorial", "app"]
    assert rotated(names, 1) == ["raw", "tutorial", "app"]

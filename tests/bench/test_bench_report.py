"""The benchmark's verdicts: with several rounds each target is judged on its median over the rounds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import report


def measured(floor_rate: float, helpline_rate: float, p99: float) -> dict[str, Any]:
    return {
        "floor": {"max": {"msg_per_s": floor_rate}, "half": {"e2e_ms": {"p99": 3.0}}},
        "helpline": {"max": {"msg_per_s": helpline_rate}, "half": {"e2e_ms": {"p99": p99}}},
    }


def test_one_round_is_judged_on_its_own_figures() -> None:
    only = measured(1000, 450, 30.0)
    verdict = report.verdicts(only["floor"], only["helpline"], [only])
    assert (verdict["ratio"], verdict["ratio_verdict"]) == (0.45, "MISS")
    assert (verdict["helpline_half_p99_ms"], verdict["p99_verdict"]) == (30.0, "MISS")


def test_the_p99_of_several_rounds_is_their_median_not_the_shown_rounds() -> None:
    rounds = [measured(1000, 600, 9.0), measured(1000, 550, 80.0), measured(1000, 500, 12.0)]
    shown = report.median_round(rounds)
    assert shown is rounds[1]  # the median ratio, 0.55, with the stalled half phase
    verdict = report.verdicts(shown["floor"], shown["helpline"], rounds)
    assert (verdict["ratio"], verdict["ratio_verdict"]) == (0.55, "PASS")
    assert (verdict["helpline_half_p99_ms"], verdict["p99_verdict"]) == (12.0, "PASS")


def test_two_stalled_rounds_of_three_miss() -> None:
    rounds = [measured(1000, 600, 40.0), measured(1000, 550, 9.0), measured(1000, 500, 31.0)]
    shown = report.median_round(rounds)
    verdict = report.verdicts(shown["floor"], shown["helpline"], rounds)
    assert (verdict["helpline_half_p99_ms"], verdict["p99_verdict"]) == (31.0, "MISS")


def test_of_an_even_number_of_rounds_the_worse_middle_p99_counts() -> None:
    rounds = [measured(1000, 600, 9.0), measured(1000, 550, 30.0)]
    shown = report.median_round(rounds)
    verdict = report.verdicts(shown["floor"], shown["helpline"], rounds)
    assert (verdict["helpline_half_p99_ms"], verdict["p99_verdict"]) == (30.0, "MISS")

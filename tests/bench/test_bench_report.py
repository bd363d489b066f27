"""The benchmark's arithmetic and verdicts: CPU per message against the floor's (the median round's), and
the half-load latency judged in every round."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import lag, load, report


def system(
    rate: float, server_us: float, p99: float, most: float, db_us: float | None = None
) -> dict[str, Any]:
    """One system's result: its max phase ran 10 s at ``rate``, its server spending ``server_us`` per
    message (and PostgreSQL ``db_us``)."""
    completed = int(rate * 10)
    cpu_s = {
        "server": server_us * completed / 1e6,
        "database": None if db_us is None else db_us * completed / 1e6,
    }
    return {
        "max": {
            "msg_per_s": rate,
            "completed": completed,
            "duration_s": 10.0,
            "cpu_us_per_msg": load.per_message_us(cpu_s, completed),
        },
        "half": {"e2e_ms": {"p99": p99, "max": most}},
    }


def measured(helpline_us: float, p99: float, most: float = 20.0, floor_us: float = 100.0) -> dict[str, Any]:
    return {"floor": system(10_000, floor_us, 3.0, 8.0), "helpline": system(6_000, helpline_us, p99, most)}


def test_cpu_per_message_is_the_phase_cpu_over_its_messages() -> None:
    assert load.per_message_us({"server": 0.8, "database": None}, 10_000) == {
        "server": 80.0,
        "database": None,
        "total": 80.0,
    }
    assert load.per_message_us({"server": 0.8, "database": 0.4}, 10_000) == {
        "server": 80.0,
        "database": 40.0,
        "total": 120.0,
    }
    assert load.per_message_us({"server": 0.8}, 0)["total"] is None


def test_cpu_per_message_is_derived_from_percentages_in_older_results() -> None:
    older = {
        "max": {"completed": 60_000, "duration_s": 10.0, "server_cpu_pct": 98.4, "database_cpu_pct": 30.0}
    }
    assert report.cpu_per_message(older) == {"server": 164.0, "database": 50.0, "total": 214.0}


def test_one_round_is_judged_on_its_own_figures() -> None:
    only = measured(150.0, 9.0, 20.0)
    verdict = report.verdicts(only["floor"], only["helpline"], [only])
    assert (verdict["cpu_ratio"], verdict["cpu_verdict"]) == (1.5, "MISS")
    assert (verdict["ratio"], verdict["ratio_verdict"]) == (0.6, "PASS")
    assert (verdict["p99_verdict"], verdict["max_verdict"], verdict["latency_verdict"]) == ("PASS",) * 3


def test_on_postgresql_its_processes_count_with_the_server() -> None:
    only = {"floor": system(10_000, 100.0, 3.0, 8.0), "helpline": system(6_000, 90.0, 5.0, 9.0, db_us=60.0)}
    verdict = report.verdicts(only["floor"], only["helpline"], [only])
    assert verdict["cpu_us_per_msg"]["helpline"] == {"server": 90.0, "database": 60.0, "total": 150.0}
    assert (verdict["cpu_ratio"], verdict["cpu_verdict"]) == (1.5, "MISS")


def test_the_cpu_ratio_of_several_rounds_is_the_shown_rounds_median() -> None:
    rounds = [measured(130.0, 5.0), measured(145.0, 6.0), measured(138.0, 7.0)]
    shown = report.median_round(rounds)
    assert shown is rounds[2]
    verdict = report.verdicts(shown["floor"], shown["helpline"], rounds)
    assert (verdict["cpu_ratio"], verdict["cpu_verdict"]) == (1.38, "PASS")


def test_one_stalled_round_of_three_misses_the_latency_target() -> None:
    rounds = [measured(130.0, 5.0), measured(130.0, 34.0, 42.0), measured(130.0, 7.0)]
    shown = report.median_round(rounds)
    verdict = report.verdicts(shown["floor"], shown["helpline"], rounds)
    assert verdict["helpline_half_p99_ms_by_round"] == [5.0, 34.0, 7.0]
    assert verdict["helpline_half_p99_ms_median"] == 7.0
    assert (verdict["p99_verdict"], verdict["max_verdict"], verdict["latency_verdict"]) == ("MISS",) * 3


def test_one_message_over_25_ms_misses_even_with_a_good_p99() -> None:
    rounds = [measured(130.0, 5.0), measured(130.0, 6.0, 25.0), measured(130.0, 7.0, 25.1)]
    verdict = report.verdicts(rounds[0]["floor"], rounds[0]["helpline"], rounds)
    assert (verdict["p99_verdict"], verdict["max_verdict"], verdict["latency_verdict"]) == (
        "PASS",
        "MISS",
        "MISS",
    )


def test_a_round_without_figures_gives_no_pass() -> None:
    rounds = [measured(130.0, 5.0), {"floor": None, "helpline": None}]
    verdict = report.verdicts(rounds[0]["floor"], rounds[0]["helpline"], rounds)
    assert verdict["p99_verdict"] is None


def test_the_table_shows_every_rounds_latency_and_the_client_bound_phases() -> None:
    rounds = [measured(130.0, 5.0), measured(145.0, 6.0), measured(138.0, 7.0)]
    rounds[0]["floor"]["max"]["client_cpu_pct"] = 97.0
    rounds[1]["helpline"]["half"]["other_cpu_pct"] = 45.0
    shown = report.median_round(rounds)
    summary = {
        "settings": {
            "cpus": 2,
            "store": "sqlite",
            "interactions": 50,
            "agents": 5,
            "concurrency": 32,
            "duration": 10,
        },
        "floor": shown["floor"],
        "helpline": shown["helpline"],
        "rounds": report.round_figures(rounds),
        "verdicts": report.verdicts(shown["floor"], shown["helpline"], rounds),
    }
    table = report.table(summary)
    assert "5.0 / 6.0 / 7.0" in table
    assert "1.38x" in table
    assert summary["rounds"][0]["client_bound"] == ["floor max"]
    assert "client-bound phases over all rounds: floor max" in table
    assert "6.0 / 20.0 ms (others 45%)" in table  # a round the rest of the machine disturbed


def test_slow_messages_are_lined_up_with_the_stalls_they_met() -> None:
    profile = {
        "started_at": 100.0,
        "ended_at": 200.0,
        "threshold_ms": 4.0,
        "stalls": [
            {"at": 150.0, "ms": 30.0, "samples": {"0": 5}},
            {"at": 90.0, "ms": 80.0, "samples": {"1": 9}},  # before the half phase: not counted
        ],
        "stacks": {
            "0": ["asyncio/events.py:1 _run", "helpline/store/sqlite.py:10 _flush"],
            "1": ["x.py:1 f"],
        },
        "collections": [{"at": 160.0, "generation": 2, "ms": 12.0, "collected": 0}],
        "notes": [{"at": 170.0, "kind": "writer_held_off", "ms": 15.0, "detail": None}],
    }
    half = {
        "started_at": 140.0,
        "ended_at": 180.0,
        "slowest": [[149.99, 40.0], [159.995, 17.0], [169.999, 16.0], [175.0, 12.0], [176.0, 3.0]],
    }
    summary = lag.summarise(profile, half)
    assert summary["stalls"] == 1
    assert summary["top_stacks"][0]["samples"] == 5
    assert summary["top_stacks"][0]["stack"].startswith("helpline/store/sqlite.py:10 _flush")
    assert summary["gc"]["2"]["count"] == 1
    assert summary["slow_messages"] == 4
    assert summary["slow_messages_met"] == {
        "a loop stall >= 5 ms": 1,
        "a gen-2 collection >= 1 ms": 1,
        "writer_held_off": 1,
        "no stall seen": 3,
    }
    assert any("writer_held_off" in line for line in lag.lines(summary))

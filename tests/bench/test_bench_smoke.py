"""``python -m bench --quick`` runs end to end: both servers start, every message's frame arrives.

Only that it works is asserted here. How fast is the benchmark's business (its PASS/MISS), not a test's:
timings on a shared CI machine would make a flaky test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.timeout(150)
def test_quick_benchmark_completes_without_losing_frames() -> None:
    done = run_bench("bench", "--quick", "--json", timeout=140)
    assert done.stdout.strip(), f"no output; stderr:\n{done.stderr[-3000:]}"
    summary = json.loads(done.stdout)
    assert done.returncode == 0, json.dumps(summary, indent=2)[-4000:]
    assert "error" not in summary
    for system in ("floor", "helpline"):
        result = summary[system]
        assert result is not None, f"{system} was not measured"
        assert "fatal" not in result, result["fatal"]
        assert result["lost_frames"] == 0, result["error_samples"]
        assert result["http_errors"] == 0, result["error_samples"]
        assert result["socket_errors"] == []
        assert result["max"]["msg_per_s"] > 0
        assert result["half"]["completed"] > 0
        assert result["half"]["completed"] == result["half"]["sent"]
    assert summary["verdicts"]["ratio"] is not None


@pytest.mark.timeout(200)
def test_idle_socket_benchmark_measures_the_floor_and_both_helpline_sockets() -> None:
    done = run_bench(
        "bench.sockets", "--count", "40", "--events", "20", "--idle-seconds", "0.5", "--json", timeout=190
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    for system in ("floor", "helpline", "helpline_sdk"):
        assert results[system]["sockets"] == 40
        assert results[system]["rss_after_kb"] > 0
        assert isinstance(results[system]["kb_per_socket"], float)
        assert results[system]["dropped"] == 0
    for system in ("helpline", "helpline_sdk"):
        for phase in ("fanout_alone", "fanout_with_idle"):
            assert results[system][phase]["events"] == 20
            assert results[system][phase]["server_cpu_us_per_event"] > 0


def test_hub_benchmark_runs_and_idle_sockets_stay_out_of_the_way() -> None:
    done = run_bench("bench.hub", "--idle", "300", "--events", "300", "--repeats", "1", timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 5
    assert all(line.split()[-2].replace(".", "", 1).isdigit() for line in lines[1:])


@pytest.mark.timeout(120)
def test_writer_benchmark_measures_both_backends_and_the_floor() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "store"))
    from store_backends import postgres_base_url, require_postgres

    url = postgres_base_url()
    require_postgres(url)
    done = run_bench("bench.writer", "--messages", "300", "--database-url", url, "--json", timeout=110)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    for backend in ("floor", "sqlite", "postgresql"):
        assert summary[backend]["messages"] == 300
        assert summary[backend]["msg_per_s"] > 0
        assert summary[backend]["cpu_us_per_msg"] > 0
    assert summary["ratio"]["postgresql_over_sqlite"] > 0
    assert summary["ratio"]["sqlite_cpu_over_floor"] > 0

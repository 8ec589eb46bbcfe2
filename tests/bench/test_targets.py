"""``wsgate bench --check``: every target read from the run's document, missed when absent."""

from __future__ import annotations

import copy
from typing import Any

from wsgate.bench.capacity import CapacityPlan, instances_needed, per_member_ms
from wsgate.bench.targets import TARGETS, check

PASSING: dict[str, Any] = {
    "ratios": {"gateway_mock_vs_baseline_echo": 0.7, "chat_path_vs_store_bound": 0.9},
    "scenarios": {
        "full_default": {"msgs_per_s": 2000, "p99_ms": 80, "lost": 0},
        "chat_path": {"cpu_ms_per_message": {"service": 0.9}},
        "fanout_1000": {"p99_ms": 700},
        "push_wsgate_rtt10ms": {"pushes_per_s": 3800},
        "push_wsgate_one_by_one_rtt10ms": {"pushes_per_s": 86},
        "idle_10000": {"gateway_rss_bytes": 222 * 2**20},
    },
    "capacity": {"per_member_cpu_ms": 0.09, "lost": 0},
    "cold_start": {"authorizer": {"cpu_median_ms": 60, "median_ms": 150}},
}


def test_a_run_meeting_every_target_passes() -> None:
    verdicts = check(PASSING)
    assert len(verdicts) == len(TARGETS)
    assert [v.target.name for v in verdicts if not v.met] == []


def test_each_missed_or_missing_figure_fails_the_check() -> None:
    slow = copy.deepcopy(PASSING)
    slow["scenarios"]["chat_path"]["cpu_ms_per_message"]["service"] = 1.2
    del slow["scenarios"]["fanout_1000"]
    failed = {v.target.name for v in check(slow) if v.fails_check}
    assert failed == {
        "chat_path service CPU ms per message (room of one)",
        "fanout_1000 p99 ms",
    }


def test_the_authorizers_import_cpu_time_is_enforced() -> None:
    slow = copy.deepcopy(PASSING)
    slow["cold_start"]["authorizer"]["cpu_median_ms"] = 140
    (verdict,) = [v for v in check(slow) if not v.met]
    assert verdict.fails_check and "authorizer" in verdict.target.name
    assert [v for v in check({**PASSING, "cold_start": {"error": "no package"}}) if not v.met]


def test_instances_at_half_cpu_and_the_per_member_slope() -> None:
    plan = CapacityPlan(vcpus_per_instance=2, target_utilization=0.5)
    assert instances_needed(10_000, 1.0, plan) == 10  # 10 busy vCPUs / (2 x 0.5)
    assert instances_needed(1, 0.01, plan) == 1
    rows = {1: {"cpu_ms_per_message": 1.0}, 11: {"cpu_ms_per_message": 3.0}}
    assert per_member_ms(rows) == 0.2


def test_check_without_capacity_is_refused_before_anything_runs() -> None:
    """Two targets come from ``--capacity``: ``--check`` alone could only miss them, after
    minutes of measuring; it is refused at once with the flag to add."""
    from click.testing import CliRunner

    from wsgate.cli.bench import bench

    result = CliRunner().invoke(bench, ["--check", "--smoke"])
    assert result.exit_code == 2
    assert "add --capacity" in result.output

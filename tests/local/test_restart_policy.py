"""The restart arithmetic and the recording compaction: pure functions, no processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wsgate.local.recording import compact, compact_file, is_write
from wsgate.local.restart_policy import RestartBudget, RestartPolicy, describe_exit


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RestartPolicy(initial_delay_s=0.5, factor=2, max_delay_s=3, max_restarts=10)
    budget = RestartBudget(policy)
    delays = [budget.on_exit(uptime_s=1.0) for _ in range(5)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_stable_run_resets_the_backoff() -> None:
    policy = RestartPolicy(initial_delay_s=1, stable_after_s=30, max_restarts=3)
    budget = RestartBudget(policy)
    assert budget.on_exit(uptime_s=2) == 1
    assert budget.on_exit(uptime_s=2) == 2
    assert budget.on_exit(uptime_s=31) == 1, "30 s up counts as healthy: start over"
    assert budget.crashes == 1


def test_a_crash_loop_past_the_limit_gives_up() -> None:
    budget = RestartBudget(RestartPolicy(max_restarts=2, stable_after_s=30))
    assert budget.on_exit(uptime_s=0) is not None
    assert budget.on_exit(uptime_s=5) is not None
    assert budget.on_exit(uptime_s=5) is None


def test_zero_restarts_means_the_first_crash_stops() -> None:
    assert RestartBudget(RestartPolicy(max_restarts=0)).on_exit(uptime_s=100) is None


@pytest.mark.parametrize(
    ("returncode", "text"),
    [(-9, "killed by SIGKILL"), (-15, "killed by SIGTERM"), (3, "exit code 3"), (-99, "signal 99")],
)
def test_exit_is_described_as_code_or_signal(returncode: int, text: str) -> None:
    assert text in describe_exit(returncode)


def _entry(target: str | None, method: str = "POST", url: str = "http://h/") -> dict[str, object]:
    headers = {"X-Amz-Target": target} if target else {}
    return {"headers": headers, "method": method, "url": url, "body": "{}"}


@pytest.mark.parametrize(
    ("target", "write"),
    [
        ("DynamoDB_20120810.PutItem", True),
        ("DynamoDB_20120810.UpdateItem", True),
        ("DynamoDB_20120810.DeleteItem", True),
        ("DynamoDB_20120810.CreateTable", True),
        ("DynamoDB_20120810.BatchWriteItem", True),
        ("DynamoDB_20120810.GetItem", False),
        ("DynamoDB_20120810.Query", False),
        ("DynamoDB_20120810.Scan", False),
        ("DynamoDB_20120810.DescribeTable", False),
        ("DynamoDB_20120810.BatchGetItem", False),
        ("AmazonSSM.PutParameter", True),
        ("AmazonSSM.GetParameter", False),
        ("AmazonSSM.GetParameters", False),
    ],
)
def test_only_writes_are_kept(target: str, write: bool) -> None:
    assert is_write(_entry(target)) is write


def test_header_case_rest_methods_and_moto_api() -> None:
    assert not is_write({"headers": {"x-amz-target": "DynamoDB_20120810.GetItem"}})
    assert not is_write(_entry(None, "GET"))
    assert is_write(_entry(None, "POST"))
    assert not is_write(_entry(None, "POST", "http://127.0.0.1:1/moto-api/reset"))


def test_compaction_keeps_writes_in_order_and_drops_torn_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps(_entry("DynamoDB_20120810.PutItem") | {"body": "1"}) + "\n",
        json.dumps(_entry("DynamoDB_20120810.GetItem")) + "\n",
        "\n",
        json.dumps(_entry("DynamoDB_20120810.DeleteItem") | {"body": "2"}) + "\n",
        '{"headers": {"X-Amz-Target": "DynamoDB_20120810.PutIt',  # kill -9 mid-append
    ]
    assert [json.loads(line)["body"] for line in compact(lines)] == ["1", "2"]
    recording = tmp_path / "rec.jsonl"
    recording.write_text("".join(lines))
    assert compact_file(recording) == (5, 2)
    assert [json.loads(line)["body"] for line in recording.read_text().splitlines()] == ["1", "2"]
    assert compact_file(tmp_path / "missing.jsonl") == (0, 0)

"""The bench at tiny sizes, so it never rots. It asserts that every scenario ran and lost
nothing, never anything about speed (speed is measured by ``make bench``, not by tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_bench_smoke_run_writes_every_scenario(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "wsgate.cli", "bench", "--smoke", "--capacity"),
            *("--output", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    expected = {
        "baseline_echo",
        "baseline_fanout_5",
        "gateway_mock",
        "idle_20",
        "full_default",
        "chat_path",
        "chat_path_moto_direct",
        "fanout_5",
        "fanout_5_one_by_one",
        *(
            f"push_{client}_rtt{rtt}ms"
            for client in ("wsgate", "wsgate_one_by_one", "aiobotocore", "boto3_threads")
            for rtt in (0, 10)
        ),
    }
    assert set(results["scenarios"]) == expected
    for name, result in results["scenarios"].items():
        assert result["lost"] == 0, name
    assert results["scenarios"]["gateway_mock"]["count"] == 3 * 5
    assert results["machine"]["cores"] >= 1
    assert "gateway_mock_vs_baseline_echo" in results["ratios"]
    assert "push_wsgate_rtt10ms_vs_boto3_threads" in results["ratios"]
    assert (tmp_path / "latency.png").stat().st_size > 1000
    capacity = results["capacity"]
    assert set(capacity["rooms"]) == {"1", "10"} and capacity["lost"] == 0
    assert capacity["rooms"]["1"]["cpu_ms_per_message"] >= 0  # /proc ticks are 10 ms
    assert results["cold_start"]["authorizer"]["cpu_median_ms"] > 0
    assert results["cold_start"]["package"]["total_bytes"] > 0
    assert "baseline_echo" in done.stdout

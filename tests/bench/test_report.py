"""The bench's ratios: each figure against what it must be compared with, from one run."""

from __future__ import annotations

from typing import Any

import pytest

from wsgate.bench.push_clients import CLIENTS
from wsgate.bench.report import ratios

RTT = "rtt10ms"


def _scenarios() -> dict[str, dict[str, Any]]:
    scenarios: dict[str, dict[str, Any]] = {
        "baseline_echo": {"msgs_per_s": 1000.0},
        "gateway_mock": {"msgs_per_s": 700.0},
        "full_default": {"msgs_per_s": 500.0},
        "chat_path": {"msgs_per_s": 400.0, "store_bound_msgs_per_s": 800.0},
        "fanout_100": {"p50_ms": 10.0},
        "fanout_100_one_by_one": {"p50_ms": 40.0},
        "baseline_fanout_100": {"p50_ms": 5.0},
    }
    for rank, client in enumerate(CLIENTS, start=1):
        scenarios[f"push_{client}_{RTT}"] = {"pushes_per_s": 100.0 * rank}
    return scenarios


def test_every_ratio_from_one_run() -> None:
    scenarios = _scenarios()
    out = ratios(scenarios)
    assert out["gateway_mock_vs_baseline_echo"] == pytest.approx(0.7)
    assert out["full_default_vs_baseline_echo"] == pytest.approx(0.5)
    assert out["chat_path_vs_baseline_echo"] == pytest.approx(0.4)
    assert out["chat_path_vs_store_bound"] == pytest.approx(0.5)
    assert out["fanout_100_speedup_vs_one_by_one"] == pytest.approx(4.0)
    assert out["fanout_100_p50_vs_baseline_broadcast"] == pytest.approx(2.0)
    ours = scenarios[f"push_wsgate_{RTT}"]["pushes_per_s"]
    for other in CLIENTS:
        if other != "wsgate":
            expected = ours / scenarios[f"push_{other}_{RTT}"]["pushes_per_s"]
            assert out[f"push_wsgate_{RTT}_vs_{other}"] == pytest.approx(expected)
    aio = scenarios[f"push_aiobotocore_{RTT}"]["pushes_per_s"]
    threads = scenarios[f"push_boto3_threads_{RTT}"]["pushes_per_s"]
    assert out[f"push_aiobotocore_{RTT}_vs_boto3_threads"] == pytest.approx(aio / threads)


def test_a_missing_or_zero_figure_gives_no_ratio() -> None:
    scenarios = _scenarios()
    scenarios["baseline_echo"] = {"msgs_per_s": 0}
    del scenarios["fanout_100"]
    out = ratios(scenarios)
    assert not any(key.endswith("_vs_baseline_echo") for key in out)
    assert "fanout_100_speedup_vs_one_by_one" not in out
    assert "chat_path_vs_store_bound" in out

"""Latency statistics (milliseconds) for one scenario."""

from __future__ import annotations

import statistics
from typing import Any


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarize(latencies_ms: list[float]) -> dict[str, Any]:
    values = sorted(latencies_ms)
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50),
        "p90_ms": percentile(values, 90),
        "p99_ms": percentile(values, 99),
        "max_ms": values[-1] if values else float("nan"),
        "mean_ms": statistics.fmean(values) if values else float("nan"),
    }

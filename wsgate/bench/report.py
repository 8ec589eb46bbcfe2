"""The run's outputs: a table, a JSON file with every figure and the machine, and a PNG."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from wsgate.bench.push_clients import CLIENTS


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("websockets", "aiohttp", "sanic", "aiobotocore", "moto", "airspeed-ext"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
    }


def ratios(scenarios: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Every figure compared with what it must be compared with, from the same run."""
    return _path_ratios(scenarios) | _fanout_ratios(scenarios) | _push_ratios(scenarios)


def _path_ratios(scenarios: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each layer of the message path against the bare echo, and chat against its store."""
    out: dict[str, float] = {}

    def rate(name: str) -> float | None:
        value = scenarios.get(name, {}).get("msgs_per_s")
        return float(value) if value else None

    base = rate("baseline_echo")
    for name in ("gateway_mock", "full_default", "chat_path"):
        measured = rate(name)
        if base and measured:
            out[f"{name}_vs_baseline_echo"] = measured / base
    chat = scenarios.get("chat_path", {})
    if chat.get("store_bound_msgs_per_s"):
        out["chat_path_vs_store_bound"] = chat["msgs_per_s"] / chat["store_bound_msgs_per_s"]
    return out


def _fanout_ratios(scenarios: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Bounded fan-out against one-by-one sends and against the plain broadcast baseline."""
    out: dict[str, float] = {}
    for name, result in scenarios.items():
        if name.startswith("fanout_") and name.endswith("_one_by_one"):
            n = name.split("_")[1]
            bounded = scenarios.get(f"fanout_{n}", {}).get("p50_ms")
            if bounded:
                out[f"fanout_{n}_speedup_vs_one_by_one"] = result["p50_ms"] / bounded
        if name.startswith("fanout_") and not name.endswith("_one_by_one"):
            base_fan = scenarios.get(f"baseline_{name}", {}).get("p50_ms")
            if base_fan and result.get("p50_ms"):
                out[f"{name}_p50_vs_baseline_broadcast"] = result["p50_ms"] / base_fan
    return out


def _push_ratios(scenarios: dict[str, dict[str, Any]]) -> dict[str, float]:
    """wsgate's push client against the other clients, at each round-trip time measured."""
    out: dict[str, float] = {}
    for name, result in scenarios.items():
        if not name.startswith("push_wsgate_rtt"):
            continue
        rtt = name.removeprefix("push_wsgate_")
        for other in (client for client in CLIENTS if client != "wsgate"):
            rival = scenarios.get(f"push_{other}_{rtt}", {}).get("pushes_per_s")
            if rival:
                out[f"push_wsgate_{rtt}_vs_{other}"] = result["pushes_per_s"] / rival
        threads = scenarios.get(f"push_boto3_threads_{rtt}", {}).get("pushes_per_s")
        aio = scenarios.get(f"push_aiobotocore_{rtt}", {}).get("pushes_per_s")
        if threads and aio:
            out[f"push_aiobotocore_{rtt}_vs_boto3_threads"] = aio / threads
    return out


def table(scenarios: dict[str, dict[str, Any]]) -> str:
    header = (
        f"{'scenario':<28}{'rate/s':>10}"
        + "".join(f"{title:>9}" for title in ("p50 ms", "p90 ms", "p99 ms", "max ms"))
        + f"{'lost':>6}"
    )
    lines = [header, "-" * len(header)]
    for name, r in scenarios.items():
        rate = r.get("msgs_per_s") or r.get("connects_per_s") or r.get("pushes_per_s")
        rate_text = f"{rate:>10.0f}" if rate else f"{'':>10}"
        cells = "".join(
            f"{r[k]:>9.1f}" if isinstance(r.get(k), (int, float)) else f"{'':>9}"
            for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")
        )
        lines.append(f"{name:<28}{rate_text}{cells}{r.get('lost', 0):>6}")
        if "cpu_ms_per_message" in r:
            cpu = ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_ms_per_message"].items())
            lines.append(f"{'':<28}CPU ms per message: {cpu}")
        if "rss_per_connection_bytes" in r:
            lines.append(
                f"{'':<28}gateway RSS {r['gateway_rss_bytes'] / 2**20:.0f} MiB, "
                f"{r['rss_per_connection_bytes'] / 1024:.1f} KiB per connection"
            )
    return "\n".join(lines)


def document(scenarios: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """What ``results.json`` holds and ``wsgate bench --check`` reads."""
    return {"machine": machine(), "ratios": ratios(scenarios), "scenarios": scenarios, **extra}


def write(document: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    scenarios = document["scenarios"]
    json_path = directory / "results.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    png_path = directory / "latency.png"
    plot(scenarios, png_path)
    return json_path, png_path


def plot(scenarios: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    names = [n for n, r in scenarios.items() if r.get("latencies_ms") and "fanout" not in n]
    if names:
        left.boxplot([scenarios[n]["latencies_ms"] for n in names], showfliers=False)
        left.set_xticks(range(1, len(names) + 1), names, rotation=20, ha="right")
    left.set_yscale("log")
    left.set_ylabel("request/reply latency (ms, log scale)")
    left.set_title("latency per scenario (whiskers: 1.5 IQR)")
    for prefix, label in (
        ("fanout_", "wsgate (concurrency 64)"),
        ("baseline_fanout_", "bare websockets broadcast"),
    ):
        points = sorted(
            (int(n.removeprefix(prefix)), r["p50_ms"])
            for n, r in scenarios.items()
            if n.startswith(prefix) and n.removeprefix(prefix).isdigit()
        )
        if points:
            right.plot(*zip(*points, strict=True), marker="o", label=label)
    serial = [
        (int(n.split("_")[1]), r["p50_ms"])
        for n, r in scenarios.items()
        if n.endswith("_one_by_one")
    ]
    if serial:
        right.plot(*zip(*serial, strict=True), marker="x", linestyle="none", label="one by one")
    right.set_xlabel("room size N")
    right.set_ylabel("time until every member has it, p50 (ms)")
    right.set_title("fan-out time vs N")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)

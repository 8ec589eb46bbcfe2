"""The soak's targets as checks on its report, and the report as text for a terminal or docs.

Pure functions of the report dictionary, so each target is unit-tested on hand-made reports.
"""

from __future__ import annotations

from typing import Any

from wsgate.bench.soak_ledger import growth

UP_PHASES = ("steady", "service-up", "store-up", "pause-up")
"""Phases in which the service and its store are up: no message may be lost in them."""
MAX_GROWTH = 0.10
FD_SLACK = 2


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail}


def _growth_check(samples: dict[str, dict[str, dict[str, float]]]) -> dict[str, Any]:
    """Each process that ran throughout (same pid) against its first sample.

    Open fds get a slack of ``FD_SLACK``: moto holds about five, and one keep-alive socket that
    happens to be open at sampling time would be 20 %; a leak grows with the load instead.
    """
    worst, worst_text, failures = 0.0, "none", []
    start = samples.get("start", {})
    for later in ("end_of_steady", "after_faults"):
        for name, before in start.items():
            after = samples.get(later, {}).get(name)
            if after is None or after["pid"] != before["pid"]:
                continue  # restarted: a different process
            for metric in ("rss_mib", "fds"):
                rate = growth({metric: before[metric]}, {metric: after[metric]})[metric]
                text = f"{name} {metric} {before[metric]:g} -> {after[metric]:g} ({later})"
                slack = FD_SLACK if metric == "fds" else 0
                if after[metric] - before[metric] > max(MAX_GROWTH * before[metric], slack):
                    failures.append(text)
                if rate > worst:
                    worst, worst_text = rate, text
    detail = f"largest growth {worst:.1%}: {worst_text}"
    if failures:
        detail += "; over the limit: " + ", ".join(failures)
    return _check("RSS and open fds grow at most 10 %", not failures, detail)


def verdict(report: dict[str, Any]) -> list[dict[str, Any]]:
    phases: dict[str, dict[str, Any]] = report["phases"]
    lost_up = {p: phases[p]["lost"] for p in UP_PHASES if p in phases}
    sent_up = sum(phases[p]["sent"] for p in UP_PHASES if p in phases)
    slow = {p: row["pongs_over_1s"] + row["ping_timeouts"] for p, row in phases.items()}
    worst_pong = max(row.get("pong_ms", {}).get("max_ms", 0.0) for row in phases.values())
    leaks = report["leaks"]
    return [
        _check(
            "no message lost while the service is up",
            sent_up > 0 and not any(lost_up.values()),
            f"{sent_up} messages sent in {', '.join(lost_up)}; lost deliveries {lost_up}",
        ),
        _check(
            "every client stays connected through every fault",
            report["connected_until_stop"] == report["clients"],
            f"{report['connected_until_stop']} of {report['clients']}",
        ),
        _check(
            "the stack recovers from every fault",
            len(report["faults"]) == 3,
            "; ".join(f"{f['fault']}: {f['recovered_s']}s" for f in report["faults"]),
        ),
        _check(
            "no connection record left after everyone leaves and prune runs",
            leaks["records_after_prune"] == 0 and leaks["planted_stale_record_pruned"],
            f"{leaks['records_before_prune']} left by the clients before prune, "
            f"{leaks['records_after_prune']} after; the planted stale record was "
            f"{'' if leaks['planted_stale_record_pruned'] else 'NOT '}pruned",
        ),
        _growth_check(report["resources"]),
        _check(
            "every pong under 1 s",
            not any(slow.values()),
            f"slowest {worst_pong:.0f} ms; over 1 s or none by phase: {slow}",
        ),
    ]


def render(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [
        f"soak: {report['clients']} clients in rooms of {config['room_size']}, one message "
        f"per {config['send_interval_s']:g}s and one ping per {config['ping_interval_s']:g}s "
        f"each; steady {config['duration_s']:g}s; total {report['total_s']:g}s "
        f"(connect {report['connect_s']:g}s)",
        "",
        "| phase | sent | deliveries | lost | delivery p99 ms | pong p99/max ms | pongs >1s |"
        " errors seen by senders (count, wait p50 ms) | closes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in report["phases"].items():
        pong = row.get("pong_ms", {})
        errors = "; ".join(
            f"{text} ({e['count']}, {e['after_ms'].get('p50_ms', 0):.0f})"
            for text, e in row["errors"].items()
        )
        lines.append(
            f"| {name} | {row['sent']} | {row['delivered']}/{row['expected']} | {row['lost']} "
            f"| {row.get('delivery_ms', {}).get('p99_ms', '-')} "
            f"| {pong.get('p99_ms', '-')}/{pong.get('max_ms', '-')} "
            f"| {row['pongs_over_1s'] + row['ping_timeouts']} | {errors or '-'} "
            f"| {row['closes'] or '-'} |"
        )
    lines += ["", "| process | " + " | ".join(report["resources"]) + " |", "|---|---|---|---|"]
    names = {n for sample in report["resources"].values() for n in sample}
    for name in sorted(names):
        cells = []
        for sample in report["resources"].values():
            value = sample.get(name)
            cells.append(
                f"{value['rss_mib']:g} MiB, {value['fds']:g} fds (pid {value['pid']:g})"
                if value
                else "-"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "faults: "
        + "; ".join(f"{f['fault']} -> back in {f['recovered_s']}s" for f in report["faults"]),
    ]
    lines += ["", *report.get("supervision_lines", []), ""]
    for check in report.get("verdict", []):
        lines.append(f"{'PASS' if check['ok'] else 'FAIL'}  {check['check']}: {check['detail']}")
    return "\n".join(lines)

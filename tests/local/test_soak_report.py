"""The soak's bookkeeping and its verdict, on hand-made events and reports."""

from __future__ import annotations

import copy
from typing import Any

from wsgate.bench.soak_ledger import Ledger, growth, merge
from wsgate.bench.soak_verdict import render, verdict


def _ledger() -> Ledger:
    ledger = Ledger(room_sizes={"r1": 3})
    ledger.on_send("m1", "steady", "r1", at=10.0)
    ledger.on_send("m2", "service-down", "r1", at=20.0)
    for receiver in (0, 1, 2, 2):  # receiver 2 gets m1 twice: counted once
        ledger.on_message("m1", receiver, at=10.05)
    ledger.on_message("m2", 0, at=20.5)
    ledger.on_message("unknown", 0, at=21.0)
    ledger.on_error("service-down", "Internal server error", waited_s=0.002)
    ledger.on_pong("steady", 0.004)
    ledger.on_pong("service-down", 1.5)
    ledger.on_pong("service-down", None)
    ledger.on_close("service-down", "1001")
    return ledger


def test_deliveries_losses_pongs_and_errors_are_booked_per_phase() -> None:
    ledger = _ledger()
    assert len(ledger.delivery_ms["steady"]) == 3, "a duplicate is not a second delivery"
    report = ledger.report()
    steady, down = report["phases"]["steady"], report["phases"]["service-down"]
    assert (steady["sent"], steady["expected"], steady["delivered"], steady["lost"]) == (1, 3, 3, 0)
    assert (down["sent"], down["expected"], down["delivered"], down["lost"]) == (1, 3, 1, 2)
    assert steady["delivery_ms"]["max_ms"] == 50.0
    assert (down["pongs"], down["pongs_over_1s"], down["ping_timeouts"]) == (1, 1, 1)
    assert down["errors"]["Internal server error"]["count"] == 1
    assert down["errors"]["Internal server error"]["after_ms"]["p50_ms"] == 2.0
    assert down["closes"] == {"1001": 1}
    assert report["unexpected"] == 1


def test_reports_of_several_load_processes_add_up() -> None:
    one = _ledger().report()
    merged = merge([one, copy.deepcopy(one)])
    assert merged["phases"]["service-down"]["lost"] == 4
    assert merged["phases"]["service-down"]["errors"]["Internal server error"]["count"] == 2
    assert merged["phases"]["service-down"]["closes"] == {"1001": 2}
    assert merged["unexpected"] == 2


def test_growth_is_relative() -> None:
    assert growth({"rss": 100.0, "fds": 10}, {"rss": 111.0, "fds": 10}) == {"rss": 0.11, "fds": 0}


def _report() -> dict[str, Any]:
    report: dict[str, Any] = merge([_ledger().report()])
    sample = {"gateway": {"pid": 7, "rss_mib": 100.0, "fds": 50}}
    report.update(
        config={"room_size": 3, "send_interval_s": 1, "ping_interval_s": 1, "duration_s": 1},
        clients=3,
        connected_until_stop=3,
        faults=[{"fault": f, "recovered_s": 1.0} for f in ("a", "b", "c")],
        leaks={
            "records_before_prune": 0,
            "records_after_prune": 0,
            "planted_stale_record_pruned": True,
        },
        resources={"start": sample, "end_of_steady": copy.deepcopy(sample)},
        total_s=1,
        connect_s=1,
    )
    return report


def _failed(report: dict[str, Any]) -> set[str]:
    return {check["check"] for check in verdict(report) if not check["ok"]}


def test_losses_while_the_service_is_down_do_not_fail_the_soak() -> None:
    assert _failed(_report()) == {"every pong under 1 s"}


def test_each_target_fails_on_its_own() -> None:
    lost = _report()
    lost["phases"]["steady"]["lost"] = 1
    assert "no message lost while the service is up" in _failed(lost)
    dropped = _report()
    dropped["connected_until_stop"] = 2
    assert "every client stays connected through every fault" in _failed(dropped)
    leaked = _report()
    leaked["leaks"]["records_after_prune"] = 1
    assert "no connection record left after everyone leaves and prune runs" in _failed(leaked)
    unpruned = _report()
    unpruned["leaks"]["planted_stale_record_pruned"] = False
    assert "no connection record left after everyone leaves and prune runs" in _failed(unpruned)
    grown = _report()
    grown["resources"]["end_of_steady"]["gateway"]["rss_mib"] = 111.0
    assert "RSS and open fds grow at most 10 %" in _failed(grown)


def test_fds_get_a_slack_of_two_and_restarted_processes_are_not_compared() -> None:
    report = _report()
    report["resources"]["start"]["moto"] = {"pid": 8, "rss_mib": 50.0, "fds": 5}
    report["resources"]["end_of_steady"]["moto"] = {"pid": 8, "rss_mib": 50.0, "fds": 7}
    report["resources"]["after_faults"] = {"moto": {"pid": 9, "rss_mib": 90.0, "fds": 40}}
    assert "RSS and open fds grow at most 10 %" not in _failed(report)
    report["resources"]["end_of_steady"]["moto"]["fds"] = 8
    assert "RSS and open fds grow at most 10 %" in _failed(report)


def test_the_rendered_report_names_every_phase_and_check() -> None:
    report = _report()
    report["verdict"] = verdict(report)
    text = render(report)
    for phase in ("steady", "service-down"):
        assert f"| {phase} |" in text
    assert "FAIL  every pong under 1 s" in text
    assert "PASS  no message lost while the service is up" in text

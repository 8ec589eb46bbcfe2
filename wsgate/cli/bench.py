"""``wsgate bench``: run the benchmark scenarios; the logic lives in ``bench``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from wsgate.bench.scenarios import Results, Sizes


@click.command()
@click.option("--smoke", is_flag=True, help="Tiny sizes: checks the bench runs (seconds).")
@click.option("--large", is_flag=True, help="Also fan out to a room of 5,000.")
@click.option(
    "--capacity",
    is_flag=True,
    help="Also measure service CPU per chat message for rooms of 1-1,000 behind delaying "
    "proxies, and the instances an Auto Scaling Group needs.",
)
@click.option("--check", is_flag=True, help="Exit non-zero when an enforced target is missed.")
@click.option("--connections", type=int, default=100, show_default=True)
@click.option("--messages", type=int, default=100, show_default=True)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Directory for results.json and latency.png.",
)
def bench(
    smoke: bool,
    large: bool,
    capacity: bool,
    check: bool,
    connections: int,
    messages: int,
    output: Path,
) -> None:
    """Measure the gateway, the full path, fan-out and idle connections against a baseline."""
    import dataclasses

    from wsgate.bench.report import document, write
    from wsgate.bench.scenarios import Sizes

    if check and not capacity:
        raise click.UsageError(
            "--check holds the run to every target, and two of them are measured by --capacity: "
            "add --capacity (make bench does)"
        )
    sizes = Sizes.smoke() if smoke else Sizes(connections=connections, messages=messages)
    if large and not smoke:
        sizes = dataclasses.replace(sizes, fan_out=(*sizes.fan_out, 5000))
    results, extra = _measure(sizes, capacity=capacity, smoke=smoke)
    _print_figures(results.scenarios, extra)
    run_document = document(results.scenarios, **extra)
    json_path, png_path = write(run_document, output)
    click.echo(f"\nwrote {json_path} and {png_path}")
    if check:
        _check(run_document)


def _measure(sizes: Sizes, *, capacity: bool, smoke: bool) -> tuple[Results, dict[str, Any]]:
    """Every scenario in turn, then capacity (if asked) and the Lambda cold start."""
    from tqdm import tqdm

    from wsgate.bench import capacity as capacity_bench
    from wsgate.bench import cold_start
    from wsgate.bench.scenarios import SCENARIOS, Results

    results = Results()
    extra: dict[str, Any] = {}
    with tqdm(total=len(SCENARIOS) + 1 + capacity, unit="group", dynamic_ncols=True) as bar:

        def progress(step: str) -> None:
            bar.set_description(step)

        async def run() -> None:
            for scenario in SCENARIOS:
                await scenario(sizes, results, progress)
                bar.update()
            if capacity:
                plans = capacity_bench.CapacityPlan
                plan = plans.smoke() if smoke else plans()
                extra["capacity"] = await capacity_bench.measure(plan, progress)
                bar.update()
            progress("cold start")
            extra["cold_start"] = await asyncio.to_thread(cold_start.measure, 1 if smoke else 5)
            bar.update()

        asyncio.run(run())
    return results, extra


def _print_figures(scenarios: dict[str, Any], extra: dict[str, Any]) -> None:
    from wsgate.bench import capacity as capacity_bench
    from wsgate.bench import cold_start
    from wsgate.bench.report import ratios, table

    click.echo(table(scenarios))
    click.echo("")
    for name, value in ratios(scenarios).items():
        click.echo(f"{name:<48}{value:8.2f}")
    if "capacity" in extra:
        click.echo("\n" + capacity_bench.table(extra["capacity"]))
    click.echo("\n" + cold_start.summary(extra["cold_start"]))


def _check(run_document: dict[str, Any]) -> None:
    """Print every target's verdict; exit non-zero (one line) when an enforced one is missed."""
    from wsgate.bench.targets import check as check_targets

    verdicts = check_targets(run_document)
    click.echo("\ntargets:")
    for verdict in verdicts:
        click.echo("  " + verdict.line())
    missed = [v.target.name for v in verdicts if v.fails_check]
    if missed:
        raise click.ClickException(f"{len(missed)} target(s) missed: {', '.join(missed)}")

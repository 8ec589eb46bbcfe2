"""``wsgate bench``: run the benchmark scenarios; the logic lives in ``bench``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click


@click.command()
@click.option("--smoke", is_flag=True, help="Tiny sizes: checks the bench runs (seconds).")
@click.option("--large", is_flag=True, help="Also fan out to a room of 5,000.")
@click.option("--connections", type=int, default=100, show_default=True)
@click.option("--messages", type=int, default=100, show_default=True)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Directory for results.json and latency.png.",
)
def bench(smoke: bool, large: bool, connections: int, messages: int, output: Path) -> None:
    """Measure the gateway, the full path, fan-out and idle connections against a baseline."""
    import dataclasses

    from tqdm import tqdm

    from wsgate.bench.report import ratios, table, write
    from wsgate.bench.scenarios import SCENARIOS, Results, Sizes

    sizes = Sizes.smoke() if smoke else Sizes(connections=connections, messages=messages)
    if large and not smoke:
        sizes = dataclasses.replace(sizes, fan_out=(*sizes.fan_out, 5000))
    results = Results()
    with tqdm(total=len(SCENARIOS), unit="group", dynamic_ncols=True) as bar:

        def progress(step: str) -> None:
            bar.set_description(step)

        async def run() -> None:
            for scenario in SCENARIOS:
                await scenario(sizes, results, progress)
                bar.update()

        asyncio.run(run())
    click.echo(table(results.scenarios))
    click.echo("")
    for name, value in ratios(results.scenarios).items():
        click.echo(f"{name:<48}{value:8.2f}")
    json_path, png_path = write(results.scenarios, output)
    click.echo(f"\nwrote {json_path} and {png_path}")

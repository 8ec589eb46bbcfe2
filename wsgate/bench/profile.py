"""``python -m wsgate.bench.profile``: where the service's CPU goes on the chat path.

Starts the local stack as the bench does, runs the bench's chat-path load (``sendmessage`` in
rooms of one) and samples the service process with py-spy (``pip install py-spy``) while it
runs, then prints the functions holding the largest share of samples, inclusive and self.
A profile rather than a guess decides what to make faster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from wsgate.bench.processes import run_client
from wsgate.bench.scenarios import Sizes, _echo_spec, _start_stack


def shares(collapsed: str, top: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Inclusive and self shares per function from py-spy's collapsed (``raw``) output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [frame.split(" (")[0] for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    total = max(total, 1)
    return (
        [(name, n / total) for name, n in inclusive.most_common(top)],
        [(name, n / total) for name, n in own.most_common(top)],
    )


async def profile(seconds: float, connections: int, messages: int, top: int) -> str:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory() as directory:
        stack, info = await asyncio.to_thread(_start_stack, Path(directory), 64)
        try:
            sizes = Sizes(connections=connections, messages=messages)
            auth = {"Authorization": f"Bearer {info.tokens['bench']}"}
            setup = ['{"action":"joinroom","roomname":"solo-{i}"}']
            payload = json.dumps({"action": "sendmessage", "message": "hi"})
            spec = _echo_spec(info.websocket_url, sizes, payload, auth, setup)
            output = Path(directory) / "profile.txt"
            argv = [py_spy, "record", "--pid", str(info.pids["service"]), "--duration"]
            argv += [str(int(seconds)), "--format", "raw", "--output", str(output), "--nonblocking"]
            sampler: list[asyncio.subprocess.Process] = []

            async def start_sampling() -> None:  # idle samples are not recorded by default
                sampler.append(
                    await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL)
                )

            await run_client(spec, start_sampling)
            await sampler[0].wait()
            collapsed = output.read_text()
        finally:
            await asyncio.to_thread(stack.stop)
    inclusive, own = shares(collapsed, top)
    lines = ["inclusive share of the service's samples:"]
    lines += [f"  {share:6.1%}  {name}" for name, share in inclusive]
    lines += ["self share:"]
    lines += [f"  {share:6.1%}  {name}" for name, share in own]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--messages", type=int, default=60, help="per connection")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(asyncio.run(profile(args.seconds, args.connections, args.messages, args.top)))


if __name__ == "__main__":
    main()

"""``make wheelhouses``: download the locked wheels for this machine and for x86_64 instances.

The boot rehearsal and artifact tests then build artifacts from these directories with pip's
``--no-index``, so they run without a network; only this step (a make prerequisite) needs PyPI.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wsgate.artifact.lock import read_lock
from wsgate.artifact.target import Target, host_target, instance_target
from wsgate.artifact.wheelhouse import download

PREFETCH_DIR = Path(__file__).resolve().parents[2] / "build" / "wheelhouse"


def prefetch_targets() -> list[Target]:
    return [host_target(), instance_target("x86_64")]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else PREFETCH_DIR
    pins = read_lock()
    for target in prefetch_targets():
        destination = root / target.name
        destination.mkdir(parents=True, exist_ok=True)
        download(pins, target, destination)
        print(f"{destination}: {len(list(destination.glob('*.whl')))} wheels")


if __name__ == "__main__":
    main()

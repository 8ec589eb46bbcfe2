"""Run moto's server as its own process, bound to 127.0.0.1, with the request log silenced.

A separate process (rather than ``ThreadedMotoServer`` inside ``wsgate local``) gives moto its
own interpreter and GIL: it is the slowest part of the local stack (about 150 DynamoDB
operations/s per client), and it must not compete with anything else for the lock. werkzeug's
per-request log line costs more than the request itself, so it is turned off.

``--record FILE`` is how ``wsgate local --persist`` keeps the store: moto's recorder appends
every request to FILE (one JSON line each, written as the request arrives, so a ``kill -9``
loses at most the request in flight). On start the file is compacted to its writes
(:mod:`wsgate.local.recording`) and replayed with moto's own ``replay_recording`` into a
private server on an ephemeral port, *before* the real port is bound: nobody can write while
the replay runs, so no write is lost or reordered. Only then does recording resume.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from shared.names import ENV_MOTO_RECORDER_FILEPATH

RECORDING_FILE = "moto-recording.jsonl"
"""The recording's file name inside ``wsgate local``'s state directory."""


def replay(recording: Path) -> None:
    """Compact ``recording`` and replay it into this process's moto backends."""
    from moto.moto_api import recorder
    from moto.server import ThreadedMotoServer

    from wsgate.local.recording import compact_file

    started = time.monotonic()
    before, kept = compact_file(recording)
    if kept:
        private = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        private.start()
        host, port = private.get_host_and_port()
        try:
            recorder.replay_recording(target_host=f"http://{host}:{port}")
        finally:
            private.stop()
    print(
        f"replayed {kept} recorded writes ({before - kept} reads dropped) from {recording} "
        f"in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
        flush=True,
    )
    recorder.start_recording()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsgate.local.moto_process")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, help="Persist: record writes here, replay them.")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if args.record is not None:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        # moto reads the location once, when ``moto.moto_api`` is first imported: set it before.
        os.environ[ENV_MOTO_RECORDER_FILEPATH] = str(args.record.resolve())
        replay(args.record)

    from moto import server

    server.main(["--host", "127.0.0.1", "--port", str(args.port)])


if __name__ == "__main__":
    main()

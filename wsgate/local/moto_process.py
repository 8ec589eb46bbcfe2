"""Run moto's server as its own process, bound to 127.0.0.1, with the request log silenced.

A separate process (rather than ``ThreadedMotoServer`` inside ``wsgate local``) gives moto its
own interpreter and GIL: it is the slowest part of the local stack (about 150 DynamoDB
operations/s per client), and it must not compete with anything else for the lock. werkzeug's
per-request log line costs more than the request itself, so it is turned off.
"""

from __future__ import annotations

import argparse
import logging

from moto import server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsgate.local.moto_process")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server.main(["--host", "127.0.0.1", "--port", str(args.port)])


if __name__ == "__main__":
    main()

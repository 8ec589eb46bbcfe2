"""Keep moto's request recording to the requests that change state.

moto 5 persists nothing by itself; its one mechanism for carrying state across a restart is the
recorder (``MOTO_RECORDER_FILEPATH``, ``moto.moto_api.recorder``: every request appended as a
JSON line, replayed later; documented at
http://docs.getmoto.org/en/latest/docs/configuration/recorder/index.html, source
docs/docs/configuration/recorder/index.rst in github.com/getmoto/moto).
It records reads too, and a chat reads far more than it writes (each ``sendmessage`` is a GetItem
and a Query), so before each replay the log is compacted to the writes: reads change nothing,
and dropping them keeps the replay, and the file, proportional to what was written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

READ_PREFIXES = ("Get", "BatchGet", "Query", "Scan", "Describe", "List")
"""Operation names (DynamoDB, SSM and other JSON-protocol services) that only read."""


def operation(entry: dict[str, Any]) -> str | None:
    """The operation of a recorded JSON-protocol request (``X-Amz-Target: Service.Op``)."""
    headers = {key.lower(): value for key, value in (entry.get("headers") or {}).items()}
    target = headers.get("x-amz-target")
    if not target:
        return None
    return str(target).rsplit(".", 1)[-1]


def is_write(entry: dict[str, Any]) -> bool:
    """Whether replaying ``entry`` can change moto's state.

    Unknown shapes are kept: replaying a read costs a little time, dropping a write loses data.
    """
    url = str(entry.get("url", ""))
    if "/moto-api/" in url:
        return False
    name = operation(entry)
    if name is not None:
        return not name.startswith(READ_PREFIXES)
    return str(entry.get("method", "")).upper() not in {"GET", "HEAD", "OPTIONS"}


def compact(lines: Iterable[str]) -> Iterator[str]:
    """The lines of a recording that are writes, in order; blank or torn lines are dropped.

    A torn last line is what a ``kill -9`` in the middle of an append leaves behind.
    """
    for line in lines:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and is_write(entry):
            yield line if line.endswith("\n") else line + "\n"


def compact_file(path: Path) -> tuple[int, int]:
    """Rewrite ``path`` with only its writes (atomically); return (lines before, lines kept)."""
    if not path.exists():
        return 0, 0
    with path.open(encoding="utf-8", errors="replace") as source:
        lines = source.readlines()
    kept = list(compact(lines))
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_text("".join(kept), encoding="utf-8")
    partial.replace(path)
    return len(lines), len(kept)

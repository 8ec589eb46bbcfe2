"""The ``$connect`` authorizer's cold start: its import time and the size of what Chalice ships.

Every new connection waits for the authorizer; a cold Lambda first imports its handler module,
so the import time (a fresh interpreter each run, median of N) is the part of a cold start
the code controls. The package size is the tree ``chalice package`` would zip: the app, its
``chalicelib`` and vendored ``shared``, and every distribution its requirements pull in,
measured from this environment's installed files (the Lambda limit is 250 MB unzipped).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

CHALICE_DIR = Path(__file__).resolve().parents[2] / "chalice_app"
MODULES = ("chalice_app.app", "chalice_app.chalicelib.authorizer")
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_ms(module: str, runs: int = 5) -> dict[str, Any]:
    """Milliseconds to import ``module`` in a fresh interpreter, ``runs`` times."""
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            cwd=CHALICE_DIR.parent,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        samples.append(float(done.stdout.strip().splitlines()[-1]) * 1000)
    return {"median_ms": statistics.median(samples), "samples_ms": samples}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower()


def _closure(roots: list[str]) -> list[metadata.Distribution]:
    """Installed distributions the roots need, following requirements without extras."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = _name(todo.pop())
        if not name or name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python
        seen[name] = dist
        todo += [r for r in dist.requires or [] if "extra ==" not in r]
    return list(seen.values())


def _dist_bytes(dist: metadata.Distribution) -> int:
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file() and "__pycache__" not in path.parts:
            total += path.stat().st_size
    return total


def _tree_bytes(root: Path) -> int:
    return sum(
        p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".chalice" not in p.parts
    )


def package_size() -> dict[str, Any]:
    """Bytes (unzipped) of the app's own files and of each required distribution."""
    roots = [
        line
        for line in (CHALICE_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    dists = {d.metadata["Name"].lower(): _dist_bytes(d) for d in _closure(roots)}
    own = _tree_bytes(CHALICE_DIR / "chalicelib") + (CHALICE_DIR / "app.py").stat().st_size
    own += sum(_tree_bytes(p.resolve()) for p in (CHALICE_DIR / "vendor").iterdir() if p.is_dir())
    largest = sorted(dists.items(), key=lambda item: -item[1])[:5]
    return {
        "app_bytes": own,
        "dependency_bytes": sum(dists.values()),
        "total_bytes": own + sum(dists.values()),
        "largest": dict(largest),
        "distributions": sorted(dists),
    }


def measure(runs: int = 5) -> dict[str, Any]:
    return {
        "imports": {module: import_ms(module, runs) for module in MODULES},
        "package": package_size(),
    }


def summary(result: dict[str, Any]) -> str:
    lines = []
    for module, figures in result["imports"].items():
        lines.append(f"import {module}: median {figures['median_ms']:.0f} ms (fresh interpreter)")
    package = result["package"]
    largest = ", ".join(f"{name} {size / 2**20:.1f}" for name, size in package["largest"].items())
    lines.append(
        f"Chalice package (unzipped): {package['total_bytes'] / 2**20:.1f} MiB; app "
        f"{package['app_bytes'] / 1024:.0f} KiB; largest (MiB): {largest}"
    )
    return "\n".join(lines)

"""The ``$connect`` authorizer's cold start: its import time and the size of what Chalice ships.

Every new connection waits for the authorizer; a cold Lambda first imports the module its
handler string names, so that import (a fresh interpreter each run, median of N) is the part
of a cold start the code controls. Both figures come from the real artifact: ``chalice
package`` builds ``deployment.zip`` and ``sam.json`` (the handler strings Lambda gets), the zip
is unpacked, and each handler module is imported with ``python -I -S`` and the package
directory alone on ``sys.path``: the standard library and what the zip carries, nothing from
this development environment (whose ``cryptography`` pyjwt would otherwise import). The
Lambda runtime's own boto3 is absent too, which is fair because no handler imports it at
module level; the runtime's bootstrap has already imported part of the standard library
before the handler, so these figures are an upper bound of what Lambda spends.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHALICE_DIR = Path(__file__).resolve().parents[2] / "chalice_app"
AUTHORIZER_RESOURCE = "Authorizer"
"""``sam.json``'s logical id for Chalice's ``authorizer`` function (``to_cfn_resource_name``)."""
APP_PARTS = ("app.py", "chalicelib", "shared")
"""What the zip holds of the project's own code; everything else is a requirement or Chalice."""
PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
before = len(sys.modules)
started, cpu = time.perf_counter(), time.process_time()
__import__(sys.argv[2])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
loaded = len(sys.modules) - before
print(json.dumps({"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "modules": loaded}))
"""


class PackageError(RuntimeError):
    """``chalice package`` failed; the message carries the end of its output."""


@dataclass(frozen=True)
class Package:
    """An unpacked ``chalice package`` artifact."""

    zip_path: Path
    root: Path
    handlers: dict[str, str]
    """SAM logical id of each function -> the handler string Lambda gets."""


def sam_handlers(sam: dict[str, Any]) -> dict[str, str]:
    """Each function's handler string, by logical id, from ``chalice package``'s ``sam.json``."""
    return {
        logical_id: str(resource["Properties"]["Handler"])
        for logical_id, resource in sam.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def handler_module(handler: str) -> str:
    """``chalicelib.authorizer_handler.authorizer`` -> the module Lambda imports."""
    module, _, _ = handler.rpartition(".")
    return module


def build_package(workdir: Path) -> Package:
    """``chalice package`` into ``workdir``, unpacked; the first build downloads the Lambda
    requirements from PyPI (Chalice caches them in ``.chalice/deployments``)."""
    chalice = Path(sys.executable).with_name("chalice")
    out = workdir / "out"
    done = subprocess.run(
        [str(chalice), "package", str(out)],
        cwd=CHALICE_DIR,
        env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip()[-800:]
        raise PackageError(f"chalice package failed in {CHALICE_DIR}: {tail}")
    root = workdir / "package"
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(root)
    sam = json.loads((out / "sam.json").read_text())
    return Package(out / "deployment.zip", root, sam_handlers(sam))


def import_once(root: Path, module: str) -> dict[str, float]:
    """One fresh interpreter importing ``module`` from ``root`` alone: ms and modules loaded."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(root), module],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise PackageError(f"importing {module} from the package failed: {done.stderr[-800:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def import_times(root: Path, modules: list[str], runs: int) -> dict[str, dict[str, Any]]:
    """Median of ``runs`` fresh imports per module, interleaved so load spikes hit all alike."""
    samples: dict[str, list[dict[str, float]]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            samples[module].append(import_once(root, module))
    return {
        module: {
            "median_ms": statistics.median(s["ms"] for s in found),
            "samples_ms": [round(s["ms"], 2) for s in found],
            "cpu_median_ms": statistics.median(s["cpu_ms"] for s in found),
            "modules": int(statistics.median(s["modules"] for s in found)),
        }
        for module, found in samples.items()
    }


def package_size(zip_path: Path) -> dict[str, Any]:
    """Bytes of the artifact: zipped (Lambda's 50 MB upload limit), unzipped (its 250 MB one),
    the project's own code, and the five largest top-level entries unzipped."""
    with zipfile.ZipFile(zip_path) as archive:
        entries = [(info.filename, info.file_size) for info in archive.infolist()]
    by_top: Counter[str] = Counter()
    for name, size in entries:
        by_top[name.split("/", 1)[0]] += size
    return {
        "zip_bytes": zip_path.stat().st_size,
        "total_bytes": sum(by_top.values()),
        "app_bytes": sum(by_top[part] for part in APP_PARTS),
        "largest": dict(by_top.most_common(5)),
    }


def measure(runs: int = 5) -> dict[str, Any]:
    """The authorizer's import (and every other handler module's) and the package size; an
    ``error`` entry instead when the package cannot be built or imported."""
    with tempfile.TemporaryDirectory(prefix="wsgate-cold-start-") as workdir:
        try:
            package = build_package(Path(workdir))
            modules = sorted({handler_module(h) for h in package.handlers.values()})
            imports = import_times(package.root, modules, runs)
        except (PackageError, subprocess.TimeoutExpired) as error:
            return {"error": str(error)}
        authorizer = package.handlers[AUTHORIZER_RESOURCE]
        return {
            "python": sys.version.split()[0],
            "handlers": package.handlers,
            "authorizer": {"handler": authorizer} | imports[handler_module(authorizer)],
            "imports": imports,
            "package": package_size(package.zip_path),
        }


def summary(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"Lambda cold start not measured: {result['error']}"
    lines = []
    for module, figures in result["imports"].items():
        lines.append(
            f"import {module} (from the package): median {figures['median_ms']:.0f} ms wall, "
            f"{figures['cpu_median_ms']:.0f} ms CPU, {figures['modules']} modules"
        )
    authorizer = result["authorizer"]
    lines.append(
        f"$connect authorizer's cold import ({authorizer['handler']}): "
        f"{authorizer['cpu_median_ms']:.0f} ms CPU, {authorizer['median_ms']:.0f} ms wall"
    )
    package = result["package"]
    largest = ", ".join(f"{name} {size / 2**20:.1f}" for name, size in package["largest"].items())
    lines.append(
        f"Chalice package: {package['zip_bytes'] / 2**20:.1f} MiB zipped, "
        f"{package['total_bytes'] / 2**20:.1f} MiB unzipped; app "
        f"{package['app_bytes'] / 1024:.0f} KiB; largest unzipped (MiB): {largest}"
    )
    return "\n".join(lines)

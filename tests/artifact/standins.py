"""Stand-ins for the commands an instance's boot calls, written as scripts onto a PATH.

Each records its calls under the rehearsal's state directory; ``aws s3 cp`` copies from a local
"bucket" directory, ``aws cloudformation signal-resource`` records the signal, ``curl`` answers
IMDSv2 (and hands every other URL to the real curl), ``systemctl start`` launches the unit's
``ExecStart`` from the installed venv on 127.0.0.1, and ``useradd``/``dnf`` only record.
"""

from __future__ import annotations

import sys
from pathlib import Path

INSTANCE_ID = "i-0123456789abcdef0"
IMDS_TOKEN = "rehearsal-token"

_PRELUDE = f"""#!{sys.executable}
import json, os, re, shlex, shutil, subprocess, sys
STATE = os.environ["REHEARSAL_STATE"]
def record(name, args):
    with open(os.path.join(STATE, name + ".jsonl"), "a") as log:
        log.write(json.dumps(args) + "\\n")
"""

AWS = """
args = sys.argv[1:]
record("aws", args)
if args[:2] == ["s3", "cp"]:
    source, destination = [a for a in args[2:] if not a.startswith("--")]
    bucket, key = source.removeprefix("s3://").split("/", 1)
    stored = os.path.join(STATE, "s3", bucket, key)
    if not os.path.exists(stored):
        sys.exit(f"fatal error: An error occurred (404) when calling the HeadObject operation: "
                 f"Key \\"{key}\\" does not exist")
    shutil.copyfile(stored, destination)
elif args[:2] == ["cloudformation", "signal-resource"]:
    options = dict(zip(args[2::2], args[3::2]))
    record("signals", {k.removeprefix("--"): v for k, v in options.items()})
else:
    sys.exit(f"aws stand-in: {args} is not something the boot should call")
"""

CURL = f"""
args = sys.argv[1:]
url = next(a for a in args if a.startswith("http"))
if "169.254.169.254" not in url:
    os.execv("/usr/bin/curl", ["curl", *args])
record("imds", args)
if url.endswith("/latest/api/token") and "PUT" in args:
    print("{IMDS_TOKEN}", end="")
elif url.endswith("/meta-data/instance-id") and "X-aws-ec2-metadata-token: {IMDS_TOKEN}" in args:
    print("{INSTANCE_ID}", end="")
else:
    sys.exit(22)
"""

SYSTEMCTL = r"""
args = sys.argv[1:]
record("systemctl", args)
if args[0] == "daemon-reload":
    sys.exit(0)
if args[0] not in ("start", "restart") and args[:2] != ["enable", "--now"]:
    sys.exit(f"systemctl stand-in: {args} not expected")
root = os.environ["WSGATE_INSTALL_ROOT"]
unit_path = os.path.join(root, "etc/systemd/system", args[-1])
unit = dict(line.split("=", 1) for line in open(unit_path).read().splitlines()
            if "=" in line and not line.startswith("#"))
env = {"PATH": "/usr/bin:/bin", "HOME": STATE, "LANG": "C.UTF-8"}
for line in open(root + unit["EnvironmentFile"]).read().splitlines():
    if "=" in line:
        key, value = line.split("=", 1)
        env[key] = value
env["WSGATE_HOST"] = "127.0.0.1"
# What the instance profile and AWS's endpoints give a real instance: credentials and the
# Secrets Manager endpoint holding the integration secret (a moto server in the rehearsal).
env.update(json.loads(os.environ.get("REHEARSAL_AWS_ENV", "{}")))
# systemd's ${VAR} expansion from the EnvironmentFile; one worker to spare the shared machine.
argv = [re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], a)
        for a in shlex.split(unit["ExecStart"])]
argv[0] = root + argv[0]
argv += ["--workers", "1"]
log = open(os.path.join(STATE, "service.log"), "ab")
process = subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True,
                           cwd=STATE)
with open(os.path.join(STATE, "service.pid"), "w") as pid:
    pid.write(str(process.pid))
"""

RECORD_ONLY = """
record(os.path.basename(sys.argv[0]), sys.argv[1:])
"""

DNF = """
record("dnf", sys.argv[1:])
sys.exit("dnf stand-in: the rehearsal's Python is already installed")
"""


def install(bin_dir: Path) -> None:
    """Write every stand-in into ``bin_dir`` (put it first on PATH)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    scripts = {
        "aws": AWS,
        "curl": CURL,
        "systemctl": SYSTEMCTL,
        "useradd": RECORD_ONLY,
        "dnf": DNF,
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(_PRELUDE + body)
        path.chmod(0o755)

#!/bin/bash
# Installs the wsgate service from this unpacked artifact, starts it and waits for /health.
# Run by the instance's user data (user-data.sh) as root; exits non-zero on any failure, and
# the user data turns the exit status into the CloudFormation signal.
#
# Nothing is fetched from an index: the venv is created with the image's Python and every
# package comes from ./wheelhouse (pip --no-index). Every path written is under
# $WSGATE_INSTALL_ROOT (empty on an instance), so the boot rehearsal test can run it unprivileged.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=/dev/null
. "$here/runtime.env"
root="${WSGATE_INSTALL_ROOT:-}"
python="${WSGATE_IMAGE_PYTHON}"
port="${WSGATE_PORT:-8080}"
health_timeout="${WSGATE_HEALTH_TIMEOUT:-180}"
app="$root/opt/wsgate"
venv="$app/venv"
units="$root/etc/systemd/system"
conf="$root/etc/wsgate"

log() { echo "wsgate install: $*" >&2; }

if [ ! -x "$python" ] && [ -n "$WSGATE_IMAGE_PYTHON_PACKAGE" ]; then
    log "installing $WSGATE_IMAGE_PYTHON_PACKAGE from the image's repositories"
    dnf install -y -q "$WSGATE_IMAGE_PYTHON_PACKAGE"
fi
actual="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$actual" != "$WSGATE_PYTHON_VERSION" ]; then
    log "this artifact's wheels are for Python $WSGATE_PYTHON_VERSION, $python is $actual"
    exit 1
fi

id -u wsgate >/dev/null 2>&1 || useradd --system --home-dir /opt/wsgate --shell /sbin/nologin wsgate

mkdir -p "$app" "$units" "$conf"
rm -rf "$venv"
"$python" -m venv --without-pip "$venv"
wheels="$here/wheelhouse"
pip_wheel="$(ls "$wheels"/pip-*.whl)"
"$venv/bin/python" "$pip_wheel/pip" install --quiet --no-index --find-links "$wheels" pip
"$venv/bin/python" -m pip install --quiet --no-index --find-links "$wheels" "wsgate[service]"
"$venv/bin/python" -m pip check

# Read by systemd (as root) through EnvironmentFile=, so it can be root-only.
install -m 0600 /dev/null "$conf/wsgate.env"
cat > "$conf/wsgate.env" <<ENV
WSGATE_TABLE_NAME=${WSGATE_TABLE_NAME:?}
WSGATE_REGION=${WSGATE_REGION:?}
WSGATE_API_ID=${WSGATE_API_ID:?}
WSGATE_STAGE=${WSGATE_STAGE:?}
WSGATE_INTEGRATION_SECRET_ID=${WSGATE_INTEGRATION_SECRET_ID:?}
AWS_DEFAULT_REGION=${WSGATE_REGION}
WSGATE_HOST=0.0.0.0
WSGATE_PORT=${port}
ENV
install -m 0644 "$here/wsgate.service" "$units/wsgate.service"
systemctl daemon-reload
systemctl enable --now wsgate.service

log "waiting up to ${health_timeout}s for http://127.0.0.1:${port}/health"
"$venv/bin/python" - "$port" "$health_timeout" <<'PY'
import json, sys, time, urllib.request

port, timeout = int(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + timeout
last = "no answer"
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            if answer.status == 200 and json.load(answer).get("status") == "ok":
                sys.exit(0)
            last = f"HTTP {answer.status}"
    except Exception as error:  # not listening yet, or crashed: keep the reason for the log
        last = repr(error)
    time.sleep(1)
sys.exit(f"wsgate install: /health did not answer ok within {timeout:.0f}s ({last})")
PY
log "healthy"

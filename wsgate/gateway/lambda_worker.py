"""One Lambda execution environment: a process that imports a handler and runs invocations.

Started by ``wsgate.gateway.lambda_runtime`` as ``python -m wsgate.gateway.lambda_worker
--execute-api=GATEWAY_URL HANDLER [CODE_DIR...]``; it imports nothing of wsgate's own, so the
function's package (which may ship its own ``shared/``) is what its imports find. Requests
arrive as JSON lines on stdin; answers leave as JSON lines on the process's original stdout,
which is then pointed at stderr so that whatever the handler prints lands in the terminal, as
Lambda sends it to CloudWatch. Module state survives between invocations (a warm container);
the runtime kills the process when an invocation times out.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlsplit

Handler = Callable[[Any, Any], Any]


ENV_FUNCTION_ARN = "WSGATE_LAMBDA_FUNCTION_ARN"
"""The invoked function's ARN (``context.invoked_function_arn``), set by ``lambda_runtime``.
Named here, not in ``shared.names``: this module imports nothing of wsgate's own."""


class LambdaContext:
    """The context object of the Python runtime, as awslambdaric's ``LambdaContext`` builds it
    (aws/aws-lambda-python-runtime-interface-client ``awslambdaric/lambda_context.py``): the
    name, memory size and log names come from the environment, so ``memory_limit_in_mb`` is
    a string there too."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get(ENV_FUNCTION_ARN, "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler(spec: str) -> Handler:
    """``module.attribute`` (Lambda's ``Handler`` setting) -> the callable."""
    module_name, _, attribute = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {spec!r} must be MODULE.FUNCTION")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def _error(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """Lambda's error payload, and its log line with the traceback (the runtime's format)."""
    kind = error_type or type(error).__name__
    frames = traceback.format_tb(error.__traceback__)
    print(f"[ERROR] {kind}: {error}", file=sys.stderr)
    traceback.print_exception(error, file=sys.stderr)
    return {"errorMessage": str(error), "errorType": kind, "stackTrace": frames}


EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


def redirect_execute_api(local_base: str) -> None:
    """Send ``@connections`` calls for any API to the local gateway, whatever endpoint URL the
    code builds (Chalice builds ``https://{apiId}.execute-api.{region}.amazonaws.com/{stage}``
    and passes it explicitly, which no ``AWS_ENDPOINT_URL_*`` variable overrides). Only the
    host changes; the stage path and the SigV4 signature (made for the new host) stay."""
    try:
        import botocore.session
    except ImportError:  # the function does not use boto3
        return
    create_client = botocore.session.Session.create_client

    def local_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        url = kwargs.get("endpoint_url")
        if service_name == "apigatewaymanagementapi" and url:
            parts = urlsplit(url)
            if EXECUTE_API_HOST.match(parts.hostname or ""):
                kwargs["endpoint_url"] = local_base.rstrip("/") + parts.path
        return create_client(self, service_name, *args, **kwargs)

    # Patched on purpose (see above): every Session, including ones the function makes.
    botocore.session.Session.create_client = local_client  # type: ignore[method-assign]


def _exit_with_parent(parent: int) -> None:
    """A worker whose gateway died (even by SIGKILL) must not linger."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def serve(spec: str, requests: IO[str], answers: IO[str]) -> None:
    handler: Handler | None = None
    for line in requests:
        request = json.loads(line)
        context = LambdaContext(request["requestId"], int(request["deadlineMs"]))
        print(f"START RequestId: {context.aws_request_id} Version: $LATEST", file=sys.stderr)
        try:
            if handler is None:
                try:
                    handler = load_handler(spec)
                except Exception as error:
                    raise _ImportError(f"Unable to import module '{spec}': {error}") from error
            answer: dict[str, Any] = {"result": handler(request["event"], context)}
        except _ImportError as error:
            answer = {"error": _error(error, "Runtime.ImportModuleError")}
        except Exception as error:
            answer = {"error": _error(error)}
        print(f"END RequestId: {context.aws_request_id}", file=sys.stderr)
        try:
            text = json.dumps(answer)
        except (TypeError, ValueError) as error:
            text = json.dumps({"error": _error(error, "Runtime.MarshalError")})
        answers.write(text + "\n")
        answers.flush()


class _ImportError(Exception):
    """The handler cannot be imported; every invocation fails with it, as in Lambda."""


def main() -> None:
    option, spec, *code_dirs = sys.argv[1:]
    local = option.removeprefix("--execute-api=")
    for directory in reversed(code_dirs):
        sys.path.insert(0, directory)
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if local:
        redirect_execute_api(local)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    serve(spec, sys.stdin, answers)


if __name__ == "__main__":
    main()

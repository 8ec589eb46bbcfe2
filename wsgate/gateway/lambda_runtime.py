"""Running a template's Lambda functions locally: one worker process per warm container.

Each function runs in subprocesses (``wsgate.gateway.lambda_worker``), not in a thread of the
gateway, for three reasons a thread cannot meet: a function's environment variables are its
own (``os.environ`` is per process, and two functions may set the same name differently); a
timed-out invocation must really stop (a thread cannot be killed; Lambda tears the environment
down); and a handler that crashes, leaks or blocks cannot take the gateway's event loop with
it. Like Lambda, an idle worker is reused (module state stays warm) and a busy function gets
another worker for a concurrent invocation.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import sys
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared import names
from wsgate.gateway.ids import aws_id
from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS
from wsgate.gateway.lambda_worker import ENV_FUNCTION_ARN
from wsgate.local.aws_resources import LOCAL_CREDENTIALS

DEFAULT_TIMEOUT_S = 3.0
"""Lambda's default function timeout (CloudFormation ``Timeout``)."""
DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True)
class FunctionSpec:
    """What Lambda knows about a function: code, handler, environment, limits."""

    name: str
    arn: str
    handler: str
    """``module.attribute``, as Lambda's ``Handler`` setting."""
    code_dirs: tuple[str, ...]
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class Invocation:
    """One invocation's outcome: the function's result, or why there is none."""

    result: Any = None
    error: dict[str, Any] | None = None
    """Lambda's error payload (``errorType``, ``errorMessage``) when the function failed."""
    timed_out: bool = False
    """The function ran past its own timeout (Lambda stopped it)."""
    cut_off: bool = False
    """The caller stopped waiting first (API Gateway's integration timeout)."""


class UnknownFunctionError(LookupError):
    """No local code is known for a function ARN the template invokes."""


def function_environment(spec: FunctionSpec) -> dict[str, str]:
    """The worker's environment: the gateway's (its endpoints and local credentials), the
    variables Lambda itself sets, then the function's own, which win."""
    region = PSEUDO_PARAMETERS["AWS::Region"]
    env = dict(os.environ)
    for key, value in LOCAL_CREDENTIALS.items():
        env.setdefault(key, value)
    env |= {
        "AWS_REGION": env.get("AWS_REGION", region),
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", region),
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{aws_id()}",
        ENV_FUNCTION_ARN: spec.arn,
        "PYTHONUNBUFFERED": "1",
    }
    env |= dict(spec.environment)
    # `wsgate local` runs a copy of the stack under its own name (its table, its parameters)
    # while the Chalice config names the deployed stack: for that one name the gateway wins.
    if names.ENV_STACK_NAME in os.environ:
        env[names.ENV_STACK_NAME] = os.environ[names.ENV_STACK_NAME]
    return env


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process, generation: int = 0) -> None:
        self.process = process
        self.generation = generation
        """The runtime's code generation this worker imported (see ``LambdaRuntime.retire``)."""

    async def invoke(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            code = await self.process.wait()
            return {
                "error": {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request['requestId']} Error: Runtime exited "
                    f"with error: exit status {code}",
                }
            }
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


class LambdaRuntime:
    """Warm workers per function; invocations with Lambda's timeout and error semantics."""

    def __init__(self) -> None:
        self._idle: dict[str, list[_Worker]] = {}
        self._all: set[_Worker] = set()
        self.gateway_url: str | None = None
        """The local gateway's base URL: functions' ``@connections`` calls are sent there."""
        self.generation = 0
        """Bumped when the functions' code changed: older workers are not reused."""

    async def _worker(self, spec: FunctionSpec) -> _Worker:
        idle = self._idle.setdefault(spec.arn, [])
        while idle:
            worker = idle.pop()
            if worker.process.returncode is None:
                return worker
            self._all.discard(worker)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsgate.gateway.lambda_worker",
            f"--execute-api={self.gateway_url or ''}",
            spec.handler,
            *spec.code_dirs,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=function_environment(spec),
            cwd=spec.code_dirs[0] if spec.code_dirs else None,
        )
        worker = _Worker(process, self.generation)
        self._all.add(worker)
        return worker

    async def invoke(
        self, spec: FunctionSpec, event: Any, wait_s: float | None = None
    ) -> Invocation:
        """Run ``event`` through the function; ``wait_s`` is how long the caller waits."""
        request_id = aws_id()
        deadline_ms = int((time.time() + spec.timeout_s) * 1000)
        worker = await self._worker(spec)
        limit = spec.timeout_s if wait_s is None else min(spec.timeout_s, wait_s)
        request = {"requestId": request_id, "deadlineMs": deadline_ms, "event": event}
        try:
            async with asyncio.timeout(limit):
                answer = await worker.invoke(request)
        except TimeoutError:
            await self._discard(worker)
            if wait_s is not None and wait_s < spec.timeout_s:
                return Invocation(cut_off=True)
            print(
                f"{request_id} Task timed out after {spec.timeout_s:.2f} seconds",
                file=sys.stderr,
                flush=True,
            )
            return Invocation(timed_out=True)
        except BaseException:
            await self._discard(worker)
            raise
        if worker.process.returncode is None and worker.generation == self.generation:
            self._idle.setdefault(spec.arn, []).append(worker)
        else:
            await self._discard(worker)
        if "error" in answer:
            return Invocation(error=answer["error"])
        return Invocation(result=answer.get("result"))

    async def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        await worker.kill()

    async def retire(self) -> int:
        """The code changed: stop idle workers now, busy ones when their invocation ends, so
        the next invocation starts a worker that imports the new code; how many were idle."""
        self.generation += 1
        idle = [worker for workers in self._idle.values() for worker in workers]
        self._idle = {}
        for worker in idle:
            await self._discard(worker)
        return len(idle)

    async def close(self) -> None:
        """Stop every worker (the gateway is stopping)."""
        workers, self._all, self._idle = list(self._all), set(), {}
        for worker in workers:
            await worker.kill()

    def kill_now(self) -> None:
        """At interpreter exit, when no event loop is left to await the workers."""
        for worker in self._all:
            if worker.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()


_RUNTIMES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LambdaRuntime] = (
    weakref.WeakKeyDictionary()
)


def runtime() -> LambdaRuntime:
    """The runtime of the running event loop (its workers' pipes belong to that loop)."""
    loop = asyncio.get_running_loop()
    found = _RUNTIMES.get(loop)
    if found is None:
        found = _RUNTIMES[loop] = LambdaRuntime()
        atexit.register(found.kill_now)
    return found


async def close() -> None:
    """Stop the running loop's workers: the gateway is stopping."""
    found = _RUNTIMES.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()

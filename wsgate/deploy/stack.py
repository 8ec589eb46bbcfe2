"""The CloudFormation stack: a change set (create or update) executed and followed through its
events until the stack settles, or its deletion followed the same way.

Change sets rather than ``create_stack``/``update_stack``: one path for both, a no-op update is
an answer rather than an error, and the change set names what is about to change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from wsgate.deploy.errors import InterruptedDeployError, StackFailedError, StackStateError
from wsgate.deploy.plan import CAPABILITIES

STACK_TYPE = "AWS::CloudFormation::Stack"
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
NOT_UPDATABLE = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
"""What CloudFormation says about an empty change set (AWS: a FAILED change set whose reason is
the first; moto: a ValidationError with the second)."""

Progress = Callable[[str], None]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class TemplateSource:
    """Inline body, or the S3 URL of a template over CloudFormation's inline limit."""

    body: str | None = None
    url: str | None = None

    def request(self) -> dict[str, str]:
        return {"TemplateURL": self.url} if self.url else {"TemplateBody": self.body or ""}


@dataclass(frozen=True)
class StackResult:
    status: str
    changed: bool
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Waiter:
    """How often to look and how to wait; tests pass ``sleep`` that does not sleep."""

    progress: Progress
    sleep: Sleep
    poll_s: float = 5.0


def stack_status(cfn: Any, name: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: str(o["OutputValue"]) for o in described.get("Outputs") or []}


def format_event(event: Mapping[str, Any]) -> str:
    reason = event.get("ResourceStatusReason")
    return (
        f"  {event['Timestamp']:%H:%M:%S}  {event['ResourceStatus']:<20} "
        f"{event['LogicalResourceId']} ({event['ResourceType']})"
        + (f": {reason}" if reason else "")
    )


class EventStream:
    """The stack's events not yet seen, oldest first (the API pages newest first)."""

    def __init__(self, cfn: Any, stack_id: str) -> None:
        self.cfn = cfn
        self.stack_id = stack_id
        self.seen: set[str] = set()
        self.events: list[Mapping[str, Any]] = []

    def skip_existing(self) -> None:
        """Forget the history: only events of the operation about to start are reported."""
        for event in self._newest_first():
            self.seen.add(event["EventId"])

    def _newest_first(self) -> Iterator[Mapping[str, Any]]:
        paginator = self.cfn.get_paginator("describe_stack_events")
        for page in paginator.paginate(StackName=self.stack_id):
            for event in page["StackEvents"]:
                if event["EventId"] in self.seen:
                    return
                yield event

    def poll(self) -> list[Mapping[str, Any]]:
        new = list(self._newest_first())[::-1]
        self.seen.update(event["EventId"] for event in new)
        self.events.extend(new)
        return new


def follow(cfn: Any, stack: str, stream: EventStream, waiter: Waiter) -> str:
    """Stream events until the stack's own event reports a settled status; return it."""
    try:
        while True:
            for event in stream.poll():
                waiter.progress(format_event(event))
                status = str(event["ResourceStatus"])
                own = event["ResourceType"] == STACK_TYPE and event["LogicalResourceId"] == stack
                if own and not status.endswith("_IN_PROGRESS"):
                    return status
            waiter.sleep(waiter.poll_s)
    except KeyboardInterrupt:
        raise InterruptedDeployError(stack) from None


def failures(events: list[Mapping[str, Any]]) -> list[str]:
    """The failed resources of one operation, in order, with CloudFormation's reasons."""
    return [
        f"{e['LogicalResourceId']} {e['ResourceStatus']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if str(e["ResourceStatus"]).endswith("_FAILED") and e.get("ResourceStatusReason")
    ]


def _change_set_type(stack: str, status: str | None) -> str:
    if status is None or status == "REVIEW_IN_PROGRESS":
        return "CREATE"
    if status in NOT_UPDATABLE:
        raise StackStateError(
            f"stack {stack} is in {status} and cannot be updated: run wsgate destroy "
            "(or aws cloudformation delete-stack) and deploy again"
        )
    if status.endswith("_IN_PROGRESS"):
        raise StackStateError(f"stack {stack} is busy ({status}): wait for it to finish")
    return "UPDATE"


def _wait_for_change_set(cfn: Any, change_set: str, waiter: Waiter) -> Mapping[str, Any]:
    while True:
        described: Mapping[str, Any] = cfn.describe_change_set(ChangeSetName=change_set)
        if described["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            return described
        waiter.sleep(waiter.poll_s)


def deploy_stack(
    cfn: Any,
    stack: str,
    template: TemplateSource,
    parameters: Mapping[str, str],
    waiter: Waiter,
) -> StackResult:
    """Create or update ``stack``; raise :class:`StackFailedError` if it does not settle."""
    status = stack_status(cfn, stack)
    kind = _change_set_type(stack, status)
    name = f"wsgate-{secrets.token_hex(6)}"
    try:
        created = cfn.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            ChangeSetType=kind,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=list(CAPABILITIES),
            **template.request(),
        )
    except ClientError as error:
        if any(text in str(error) for text in NO_CHANGES):
            waiter.progress(f"stack {stack}: no changes")
            return StackResult(str(status), changed=False, outputs=_outputs(cfn, stack))
        raise
    described = _wait_for_change_set(cfn, created["Id"], waiter)
    if described["Status"] == "FAILED":
        reason = str(described.get("StatusReason", ""))
        if any(text in reason for text in NO_CHANGES):
            cfn.delete_change_set(ChangeSetName=created["Id"])
            waiter.progress(f"stack {stack}: no changes")
            return StackResult(str(status), changed=False, outputs=_outputs(cfn, stack))
        raise StackFailedError(stack, "a FAILED change set", [reason])
    for change in described.get("Changes", []):
        resource = change.get("ResourceChange", {})
        waiter.progress(
            f"  change: {resource.get('Action')} {resource.get('LogicalResourceId')} "
            f"({resource.get('ResourceType')})"
        )
    stream = EventStream(cfn, created["StackId"])
    stream.skip_existing()
    cfn.execute_change_set(ChangeSetName=created["Id"])
    final = follow(cfn, stack, stream, waiter)
    if final not in SUCCESS:
        raise StackFailedError(stack, final, failures(stream.events))
    return StackResult(final, changed=True, outputs=_outputs(cfn, stack))


def delete_stack(cfn: Any, stack: str, waiter: Waiter) -> bool:
    """Delete ``stack`` and wait; False if there was none."""
    try:
        stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    except ClientError as error:
        if "does not exist" in str(error):
            return False
        raise
    stream = EventStream(cfn, stack_id)
    stream.skip_existing()
    cfn.delete_stack(StackName=stack)
    final = follow(cfn, stack, stream, waiter)
    if final != "DELETE_COMPLETE":
        raise StackFailedError(stack, final, failures(stream.events))
    return True

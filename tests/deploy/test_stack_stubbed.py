"""CloudFormation answers moto does not give (rollbacks, AWS's empty change set, outputs after
a change set), played back with botocore's Stubber.

The shapes follow the CloudFormation API reference: a change set that cannot be created is
described with Status FAILED and the error in StatusReason
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html);
for an empty one that reason is "The submitted information didn't contain changes...", the
string other deploy tools match too. A failed create settles in ROLLBACK_COMPLETE, from which
the stack can only be deleted
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.deploy.conftest import Harness, write_chalice_config
from tests.support.moto import CREDENTIALS, REGION
from wsgate.deploy.config import DeployConfig
from wsgate.deploy.errors import InterruptedDeployError, StackFailedError, StackStateError
from wsgate.deploy.run import deploy
from wsgate.deploy.stack import TemplateSource, Waiter, deploy_stack

STACK = "wsgate"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/{STACK}/1"
CHANGE_SET = f"arn:aws:cloudformation:{REGION}:123456789012:changeSet/c/1"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture
def cfn() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudformation", region_name=REGION, **CREDENTIALS)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _event(n: int, logical: str, kind: str, status: str, reason: str = "") -> dict[str, Any]:
    event = {
        "StackId": STACK_ID,
        "EventId": f"e{n}",
        "StackName": STACK,
        "LogicalResourceId": logical,
        "ResourceType": kind,
        "Timestamp": NOW + datetime.timedelta(seconds=n),
        "ResourceStatus": status,
    }
    if reason:
        event["ResourceStatusReason"] = reason
    return event


STACK_TYPE = "AWS::CloudFormation::Stack"


def _stub_until_execute(stubber: Stubber, status: str | None) -> None:
    if status is None:
        stubber.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist"
        )
    else:
        stubber.add_response(
            "describe_stacks",
            {"Stacks": [{"StackName": STACK, "StackStatus": status, "CreationTime": NOW}]},
        )
    stubber.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID})


def _stub_created_change_set(stubber: Stubber) -> None:
    stubber.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "ServiceRole",
                        "ResourceType": "AWS::IAM::Role",
                    },
                }
            ],
        },
        {"ChangeSetName": CHANGE_SET},
    )
    stubber.add_response("describe_stack_events", {"StackEvents": []})  # no history yet
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})


def test_a_rolled_back_create_is_an_error_naming_the_failed_resources(
    harness: Harness, config: DeployConfig, cfn: tuple[Any, Stubber]
) -> None:
    client, stubber = cfn
    config = config.model_copy(update={"stack": STACK})
    assert harness.kit.chalice_config is not None
    write_chalice_config(harness.kit.chalice_config, config.names)
    _stub_until_execute(stubber, None)
    _stub_created_change_set(stubber)
    reason = 'Resource handler returned message: "Access denied for iam:CreateRole"'
    events = [
        _event(1, STACK, STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated"),
        _event(2, "ServiceRole", "AWS::IAM::Role", "CREATE_FAILED", reason),
        _event(3, STACK, STACK_TYPE, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed"),
    ]
    stubber.add_response("describe_stack_events", {"StackEvents": events[::-1]})
    stubber.add_response(
        "describe_stack_events",
        {"StackEvents": [_event(4, STACK, STACK_TYPE, "ROLLBACK_COMPLETE"), *events[::-1]]},
    )
    harness.kit.clients = dataclasses.replace(harness.kit.clients, cloudformation=client)
    with pytest.raises(StackFailedError) as caught:
        deploy(config, harness.kit)
    assert caught.value.status == "ROLLBACK_COMPLETE"
    assert caught.value.failures == [f"ServiceRole CREATE_FAILED: {reason}"]
    assert "ended in ROLLBACK_COMPLETE" in str(caught.value)
    assert "\n" not in str(caught.value)
    streamed = [line for line in harness.lines if "ServiceRole" in line]
    assert any("Add ServiceRole" in line for line in streamed)
    assert any("CREATE_FAILED" in line and "Access denied" in line for line in streamed)


def _waiter(lines: list[str]) -> Waiter:
    return Waiter(lines.append, lambda _: None, 0)


def test_an_empty_change_set_is_no_change_and_returns_the_outputs(
    cfn: tuple[Any, Stubber],
) -> None:
    client, stubber = cfn
    _stub_until_execute(stubber, "UPDATE_COMPLETE")
    stubber.add_response(
        "describe_change_set",
        {
            "Status": "FAILED",
            "StatusReason": "The submitted information didn't contain changes. Submit "
            "different information to create a change set.",
        },
    )
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    outputs = [{"OutputKey": "WebSocketUrl", "OutputValue": "wss://abc.example/prod"}]
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": NOW,
                    "Outputs": outputs,
                }
            ]
        },
    )
    lines: list[str] = []
    result = deploy_stack(client, STACK, TemplateSource(body="{}"), {}, _waiter(lines))
    assert not result.changed
    assert result.outputs == {"WebSocketUrl": "wss://abc.example/prod"}
    assert lines == [f"stack {STACK}: no changes"]


def test_an_update_streams_only_its_own_events_and_returns_outputs(
    cfn: tuple[Any, Stubber],
) -> None:
    client, stubber = cfn
    _stub_until_execute(stubber, "CREATE_COMPLETE")
    stubber.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": []})
    old = [_event(1, STACK, STACK_TYPE, "CREATE_COMPLETE")]
    stubber.add_response("describe_stack_events", {"StackEvents": old})
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": ANY})
    new = [
        _event(3, STACK, STACK_TYPE, "UPDATE_COMPLETE"),
        _event(2, STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
    ]
    stubber.add_response("describe_stack_events", {"StackEvents": [*new, *old]})
    outputs = [{"OutputKey": "DevApiKeyId", "OutputValue": "k123"}]
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": NOW,
                    "Outputs": outputs,
                }
            ]
        },
    )
    lines: list[str] = []
    result = deploy_stack(client, STACK, TemplateSource(url="https://b/t"), {}, _waiter(lines))
    assert result.changed and result.status == "UPDATE_COMPLETE"
    assert result.outputs == {"DevApiKeyId": "k123"}
    statuses = [line.split()[1] for line in lines]
    assert statuses == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]  # oldest first, no history


@pytest.mark.parametrize(
    ("status", "message"),
    [("ROLLBACK_COMPLETE", "run wsgate destroy"), ("UPDATE_IN_PROGRESS", "busy")],
)
def test_a_stack_that_cannot_be_updated_is_refused_before_any_change(
    cfn: tuple[Any, Stubber], status: str, message: str
) -> None:
    client, stubber = cfn
    stubber.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": STACK, "StackStatus": status, "CreationTime": NOW}]},
    )
    with pytest.raises(StackStateError, match=message):
        deploy_stack(client, STACK, TemplateSource(body="{}"), {}, _waiter([]))


def test_ctrl_c_while_waiting_says_cloudformation_carries_on(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    _stub_until_execute(stubber, None)
    stubber.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": []})
    stubber.add_response("describe_stack_events", {"StackEvents": []})
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": ANY})
    busy = [_event(1, STACK, STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated")]
    stubber.add_response("describe_stack_events", {"StackEvents": busy})

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    waiter = Waiter(lambda _: None, interrupted, 0)
    with pytest.raises(InterruptedDeployError, match="CloudFormation keeps working on stack"):
        deploy_stack(client, STACK, TemplateSource(body="{}"), {}, waiter)

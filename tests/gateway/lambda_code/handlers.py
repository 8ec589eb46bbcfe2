"""Plain Lambda handlers (no wsgate imports) that the local gateway runs from a template."""

import json
import os
import time
from pathlib import Path

COUNTER = {"invocations": 0}


def _record(event, name):
    directory = os.environ.get("EVENT_DIR")
    if directory:
        Path(directory, f"{name}.json").write_text(json.dumps(event))


def connect(event, context):
    _record(event, "connect")
    query = event.get("queryStringParameters") or {}
    if "reject" in query:
        return {"statusCode": int(query["reject"])}
    return {"statusCode": 200}


def disconnect(event, context):
    _record(event, "disconnect")
    return {"statusCode": 200}


def echo(event, context):
    COUNTER["invocations"] += 1
    _record(event, "echo")
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "body": event["body"],
                "warm": COUNTER["invocations"],
                "context": {
                    "aws_request_id": context.aws_request_id,
                    "function_name": context.function_name,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "invoked_function_arn": context.invoked_function_arn,
                    "remaining_ms": context.get_remaining_time_in_millis(),
                },
                "env": {k: os.environ.get(k) for k in ("GREETING", "AWS_REGION", "TABLE")},
            }
        ),
    }


def crash(event, context):
    raise ValueError("boom from the handler")


def slow(event, context):
    time.sleep(json.loads(event["body"])["sleep"])
    return {"statusCode": 200, "body": "late"}


def refuse(event, context):
    return {"statusCode": 404, "body": json.dumps({"not": "found"})}


def custom(event, context):
    """A non-proxy (AWS) integration: the event is what the request template rendered."""
    return {"got": event}


def put_and_count(event, context):
    """Writes to the table the template passes by ``Ref``, through boto3 as deployed."""
    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
    table.put_item(Item={"id": event["requestContext"]["messageId"]})
    return {
        "statusCode": 200,
        "body": json.dumps({"table": table.name, "count": table.scan()["Count"]}),
    }

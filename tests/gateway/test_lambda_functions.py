"""Which code a Lambda ARN runs (Chalice's naming rule and config), and proxy answers."""

from __future__ import annotations

import base64
import json

import pytest

from wsgate.gateway.lambda_functions import (
    CHALICE_DEFAULT_TIMEOUT_S,
    _environment,
    _merged,
    chalice_function,
    function_arn_of,
)
from wsgate.gateway.lambda_integration import proxy_answer
from wsgate.gateway.lambda_runtime import UnknownFunctionError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"


def test_a_route_function_is_found_by_chalices_name_with_its_stage_settings() -> None:
    spec = chalice_function(ARN.format("wsgate-prod-listrooms"))
    assert spec.handler == "chalice_app.chalicelib.lambda_routes.listrooms"
    assert spec.environment["WSGATE_STAGE"] == "prod"  # .chalice/config.json, stage "prod"
    assert "WSGATE_TOKEN_SECRET_PARAM" in spec.environment  # the global variables too
    assert spec.timeout_s == CHALICE_DEFAULT_TIMEOUT_S
    dev = chalice_function(ARN.format("wsgate-dev-authorizer"))
    assert dev.handler == "chalice_app.chalicelib.authorizer_handler.authorizer"  # a blueprint
    assert dev.environment["WSGATE_STAGE"] == "dev"


def test_an_unknown_function_names_the_apps_functions() -> None:
    with pytest.raises(UnknownFunctionError, match=r"wsgate-<stage>-listrooms"):
        chalice_function(ARN.format("other-prod-listrooms"))


def test_settings_merge_function_over_stage_over_global() -> None:
    config = {
        "lambda_timeout": 10,
        "environment_variables": {"A": "global", "B": "global"},
        "stages": {
            "prod": {
                "lambda_timeout": 20,
                "environment_variables": {"B": "stage"},
                "lambda_functions": {"f": {"lambda_timeout": 30, "environment_variables": {}}},
            }
        },
    }
    assert _merged(config, "prod", "f", "lambda_timeout") == 30
    assert _merged(config, "prod", "g", "lambda_timeout") == 20
    assert _merged(config, "dev", "f", "lambda_timeout") == 10
    assert _environment(config, "prod", "g") == {"A": "global", "B": "stage"}


def test_function_arn_from_an_integration_uri_or_bare() -> None:
    arn = ARN.format("f")
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    assert function_arn_of(uri) == arn
    assert function_arn_of(arn) == arn


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"statusCode": 201, "body": "x"}, (201, "x")),
        ({"body": "no status"}, (200, "no status")),
        ({"statusCode": 200, "body": {"obj": 1}}, (200, '{"obj": 1}')),
        (
            {"statusCode": 200, "body": base64.b64encode(b"bin").decode(), "isBase64Encoded": True},
            (200, "bin"),
        ),
        (None, (200, "")),
        (["a"], (200, json.dumps(["a"]))),
    ],
)
def test_proxy_answers(result: object, expected: tuple[int, str]) -> None:
    assert proxy_answer(result) == expected


def test_a_status_that_is_not_a_number_is_malformed() -> None:
    with pytest.raises(ValueError):
        proxy_answer({"statusCode": "two hundred"})

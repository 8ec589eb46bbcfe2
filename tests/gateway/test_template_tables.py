"""A YAML template (short-form tags) whose function uses a DynamoDB table it declares.

The table is created in the local store (moto's server, reached through
``AWS_ENDPOINT_URL_DYNAMODB``) under the name ``Ref`` gives it, so the function's boto3 calls
work unchanged. Short forms: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.gateway.conftest import GatewayFactory
from tests.support.moto import client, moto_server
from wsgate.gateway.intrinsics import Resolver, UnsupportedTemplateError
from wsgate.gateway.template_loader import load_api
from wsgate.gateway.template_yaml import read_template

CODE = Path(__file__).parent / "lambda_code"
TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
    Runtime: python3.12
Resources:
  Notes:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  Simple:
    Type: AWS::Serverless::SimpleTable
  Writer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: CODE
      Handler: handlers.put_and_count
      Environment:
        Variables:
          TABLE: !Ref Notes
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: !Sub "${AWS::StackName}-notes"
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  WriterIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub
        - arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn}/invocations
        - {Fn: !GetAtt Writer.Arn}
  WriterRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      RouteResponseSelectionExpression: $default
      Target: !Join [/, [integrations, !Ref WriterIntegration]]
  WriterRouteResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {ApiId: !Ref Api, RouteId: !Ref WriterRoute, RouteResponseKey: $default}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: dev}
"""


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_server() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        yield endpoint


def _write(tmp_path: Path, text: str = TEMPLATE) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text.replace("CODE", str(CODE)))
    return path


async def test_declared_table_is_created_and_ref_names_it(
    gateway: GatewayFactory, tmp_path: Path, dynamodb: str
) -> None:
    running = await gateway(_write(tmp_path))
    tables = client("dynamodb", dynamodb).list_tables()["TableNames"]
    declared = Resolver(read_template(_write(tmp_path)))
    assert {declared.physical_id("Notes"), declared.physical_id("Simple")} <= set(tables)
    async with connect(running.url) as ws:
        await ws.send("first")
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        await ws.send("second")
        second = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert first["table"] in tables
    assert (first["count"], second["count"]) == (1, 2)


def test_without_a_local_endpoint_no_table_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_api(_write(tmp_path))  # nothing reaches any DynamoDB
    assert config.routes["$default"].integration is not None


def test_a_function_in_another_language_is_refused_by_name(tmp_path: Path) -> None:
    text = TEMPLATE.replace("Runtime: python3.12", "Runtime: nodejs20.x")
    with pytest.raises(UnsupportedTemplateError, match=r"Writer: runtime nodejs20.x"):
        load_api(_write(tmp_path, text))


def test_neither_json_nor_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("Resources: [unclosed")
    with pytest.raises(UnsupportedTemplateError, match="neither JSON nor YAML"):
        load_api(path)

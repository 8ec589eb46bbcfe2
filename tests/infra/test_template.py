"""The synthesized template: cfn-lint clean, and the architecture the tutorial builds."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field

from infra.accepted_findings import CHECKOV
from infra.options import SynthOptions
from infra.template import synthesize
from shared.client_messages import ClientMessage
from shared.integration_models import MessageRequest
from shared.routes import ROUTES, Route

VARIANTS = {
    "vpc-link": SynthOptions(),
    "http": SynthOptions(
        integration="http", backend_url="http://chat.example.com:8080", connection_id_header=True
    ),
    "mock": SynthOptions(integration="mock"),
    "browser-keys": SynthOptions(api_key_source="authorizer", identity_source="querystring"),
}


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    return {name: synthesize(options) for name, options in VARIANTS.items()}


def test_cfn_lint_reports_nothing(templates: dict[str, Any], tmp_path: Path) -> None:
    paths = []
    for name, template in templates.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(template))
        paths.append(str(path))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


PROJECT = Path(__file__).resolve().parents[2]


def _checkov() -> str:
    local = PROJECT / ".tools" / "checkov" / "bin" / "checkov"
    found = str(local) if local.exists() else shutil.which("checkov")
    if found is None:
        pytest.skip("checkov is not installed: `make test` installs it into .tools/checkov")
    return found


def test_checkov_fails_nothing_and_every_skip_has_our_reason(
    templates: dict[str, Any], tmp_path: Path
) -> None:
    for name, template in templates.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(template))
    arguments = ["--framework", "cloudformation", "--skip-download", "-o", "json"]
    done = subprocess.run(
        [_checkov(), "-d", str(tmp_path), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    results = report["results"]
    failed = [(c["check_id"], c["resource"]) for c in results.get("failed_checks", [])]
    assert failed == [], failed
    assert report["summary"]["parsing_errors"] == 0
    skipped = {
        (c["check_id"], c["check_result"]["suppress_comment"])
        for c in results.get("skipped_checks", [])
    }
    assert skipped and skipped <= set(CHECKOV.items())


@pytest.mark.parametrize("variant", ["vpc-link", "http", "mock"])
def test_every_route_has_its_integration_template_and_model(
    templates: dict[str, Any], variant: str
) -> None:
    template = templates[variant]
    routes = {
        r["Properties"]["RouteKey"]: r
        for r in _of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    integrations = _of_type(template, "AWS::ApiGatewayV2::Integration")
    assert set(routes) == {r.key for r in ROUTES}
    for route in ROUTES:
        props = routes[route.key]["Properties"]
        target = props["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[target]["Properties"]
        template_text = integration["RequestTemplates"]["$default"]
        assert integration["TemplateSelectionExpression"] == "\\$default"
        if variant == "mock":
            assert integration["IntegrationType"] == "MOCK"
            assert json.loads(template_text) == {"statusCode": 200}
        else:
            assert integration["IntegrationMethod"] == route.method
            assert template_text == route.request_template
        if route.model_name:
            assert props["RequestModels"] == {route.key: route.model_name}
            assert props["ModelSelectionExpression"] == "$request.body.action"
    models = {
        m["Properties"]["Name"] for m in _of_type(template, "AWS::ApiGatewayV2::Model").values()
    }
    assert models == {r.model_name for r in ROUTES if r.model_name}


def test_vpc_link_integrations_use_the_stage_variable_and_nlb(templates: dict[str, Any]) -> None:
    template = templates["vpc-link"]
    for integration in _of_type(template, "AWS::ApiGatewayV2::Integration").values():
        props = integration["Properties"]
        assert props["ConnectionType"] == "VPC_LINK"
        # A plain string, not Fn::Sub: inside Fn::Sub it would have to be written ${!...}.
        assert props["ConnectionId"] == "${stageVariables.vpcLinkId}"
        parts = props["IntegrationUri"]["Fn::Join"][1]
        assert parts[1] == {"Fn::GetAtt": ["ServiceLoadBalancer", "DNSName"]}
    stage = template["Resources"]["ProdStage"]["Properties"]
    assert set(stage["StageVariables"]) == {"region", "tableName", "vpcLinkId"}


def test_authorizer_and_api_key_on_connect_only(templates: dict[str, Any]) -> None:
    for template in templates.values():
        for route in _of_type(template, "AWS::ApiGatewayV2::Route").values():
            props = route["Properties"]
            on_connect = props["RouteKey"] == "$connect"
            assert ("AuthorizerId" in props) is on_connect
            assert props.get("ApiKeyRequired", False) is on_connect


def test_api_key_source_and_identity_sources(templates: dict[str, Any]) -> None:
    api = templates["vpc-link"]["Resources"]["WebSocketApi"]["Properties"]
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert (
        "IdentitySource"
        not in templates["vpc-link"]["Resources"]["ConnectAuthorizer"]["Properties"]
    )
    browser = templates["browser-keys"]["Resources"]
    assert (
        browser["WebSocketApi"]["Properties"]["ApiKeySelectionExpression"]
        == "$context.authorizer.usageIdentifierKey"
    )
    assert browser["ConnectAuthorizer"]["Properties"]["IdentitySource"] == [
        "route.request.querystring.token"
    ]


def test_iam_statements_name_arns_and_no_open_ingress(templates: dict[str, Any]) -> None:
    template = templates["vpc-link"]
    role = template["Resources"]["ServiceRole"]["Properties"]
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            resources = statement["Resource"]
            assert resources and "*" not in resources, statement
    for kind in ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"):
        for resource in _of_type(template, kind).values():
            props = resource["Properties"]
            for rule in props.get("SecurityGroupIngress", [props]):
                assert "CidrIp" not in rule and "CidrIpv6" not in rule, rule
    launch = template["Resources"]["ServiceLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert launch["MetadataOptions"]["HttpTokens"] == "required"
    assert launch["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_stage_traps(templates: dict[str, Any]) -> None:
    for template in templates.values():
        stage = template["Resources"]["ProdStage"]
        settings = stage["Properties"]["DefaultRouteSettings"]
        assert "ThrottlingBurstLimit" in settings and "ThrottlingRateLimit" in settings
        assert "ApiGatewayAccount" in stage["DependsOn"]
        deployment = stage["Properties"]["DeploymentId"]["Ref"]
        routes = _of_type(template, "AWS::ApiGatewayV2::Route")
        assert set(template["Resources"][deployment]["DependsOn"]) == set(routes)


def test_deployment_id_changes_when_what_it_deploys_changes() -> None:
    def deployment(options: SynthOptions) -> str:
        return next(iter(_of_type(synthesize(options), "AWS::ApiGatewayV2::Deployment")))

    base = deployment(SynthOptions())
    assert deployment(SynthOptions()) == base  # stable for the same input
    assert deployment(SynthOptions(connection_id_header=True)) != base


class Shout(ClientMessage):
    """A test-only route: adding it to the table must add its resources."""

    action: Literal["shout"]
    text: str = Field(min_length=1)


def test_adding_a_route_adds_its_route_integration_and_model() -> None:
    extra = Route(
        key="shout",
        method="POST",
        path="/shout",
        integration_model=MessageRequest[Shout],
        client_model=Shout,
    )
    options = dataclasses.replace(SynthOptions(), routes=(*ROUTES, extra))
    resources = synthesize(options)["Resources"]
    assert resources["ShoutRoute"]["Properties"]["RouteKey"] == "shout"
    assert resources["ShoutIntegration"]["Properties"]["IntegrationMethod"] == "POST"
    assert resources["ShoutModel"]["Properties"]["Name"] == "Shout"


def test_table_matches_the_shared_definition(templates: dict[str, Any]) -> None:
    from shared.connections_table import create_table_request

    table = templates["vpc-link"]["Resources"]["ConnectionsTable"]["Properties"]
    expected = create_table_request("x")
    assert table["KeySchema"] == expected["KeySchema"]
    assert table["GlobalSecondaryIndexes"] == expected["GlobalSecondaryIndexes"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_synth_cli_writes_yaml_and_reads_chalice_output(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wsgate.cli.synth import synth

    out = tmp_path / "t.yaml"
    result = CliRunner().invoke(
        synth, ["--integration", "mock", "--format", "yaml", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "AWS::ApiGatewayV2::Api" in out.read_text()
    missing = CliRunner().invoke(synth, ["--from-chalice", "nowhere"])
    assert missing.exit_code == 1
    assert "chalice deploy --stage nowhere" in missing.output

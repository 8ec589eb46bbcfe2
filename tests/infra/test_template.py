"""The synthesized template: cfn-lint clean, and the architecture the tutorial builds."""

from __future__ import annotations

import dataclasses
import json
import re
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
from infra.websocket_api import logical_name
from shared.client_messages import ClientMessage
from shared.integration_models import MessageRequest
from shared.names import INTEGRATION_SECRET_STAGE_VARIABLE
from shared.routes import CONNECT, ROUTES, Route, lambda_routes

AUTHORIZER = "arn:aws:lambda:us-east-1:123456789012:function:wsgate-prod-authorizer"
OTHER_AUTHORIZER = "arn:aws:lambda:eu-west-1:123456789012:function:wsgate-dev-authorizer"
SECURED = SynthOptions(authorizer_arn=AUTHORIZER)
VARIANTS = {
    "vpc-link": SECURED,
    "http": SynthOptions(
        integration="http",
        backend_url="http://chat.example.com:8080",
        connection_id_header=True,
        authorizer_arn=AUTHORIZER,
    ),
    "mock": SynthOptions(integration="mock", open_connect=True),
    "browser-keys": SynthOptions(
        api_key_source="authorizer", identity_source="querystring", authorizer_arn=AUTHORIZER
    ),
    "lambda-arns-from-chalice": SynthOptions(
        authorizer_arn=AUTHORIZER,
        lambda_arns=tuple(
            (r.function_name, f"arn:aws:lambda:us-east-1:123456789012:function:x-{r.key}")
            for r in lambda_routes()
        ),
    ),
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
        if route.model_name:
            assert props["RequestModels"] == {route.key: route.model_name}
            assert props["ModelSelectionExpression"] == "$request.body.action"
        if route.backend == "lambda" and variant != "mock":
            assert integration["IntegrationType"] == "AWS_PROXY"  # tests/infra/test_lambda_routes
            continue
        template_text = integration["RequestTemplates"]["$default"]
        assert integration["TemplateSelectionExpression"] == "\\$default"
        if variant == "mock":
            assert integration["IntegrationType"] == "MOCK"
            assert json.loads(template_text) == {"statusCode": 200}
        else:
            assert integration["IntegrationMethod"] == route.method
            assert template_text == route.request_template
    models = {
        m["Properties"]["Name"] for m in _of_type(template, "AWS::ApiGatewayV2::Model").values()
    }
    assert models == {r.model_name for r in ROUTES if r.model_name}


def test_vpc_link_integrations_use_the_stage_variable_and_nlb(templates: dict[str, Any]) -> None:
    template = templates["vpc-link"]
    for integration in _of_type(template, "AWS::ApiGatewayV2::Integration").values():
        props = integration["Properties"]
        if props["IntegrationType"] == "AWS_PROXY":
            continue  # a backend="lambda" route
        assert props["ConnectionType"] == "VPC_LINK"
        # A plain string, not Fn::Sub: inside Fn::Sub it would have to be written ${!...}.
        assert props["ConnectionId"] == "${stageVariables.vpcLinkId}"
        parts = props["IntegrationUri"]["Fn::Join"][1]
        assert parts[1] == {"Fn::GetAtt": ["ServiceLoadBalancer", "DNSName"]}
    stage = template["Resources"]["Stage"]["Properties"]
    assert set(stage["StageVariables"]) == {
        "region",
        "tableName",
        "vpcLinkId",
        INTEGRATION_SECRET_STAGE_VARIABLE,
    }


def test_authorizer_and_api_key_on_connect_only(templates: dict[str, Any]) -> None:
    for name, template in templates.items():
        secured = name != "mock"
        for route in _of_type(template, "AWS::ApiGatewayV2::Route").values():
            props = route["Properties"]
            on_connect = props["RouteKey"] == "$connect"
            assert ("AuthorizerId" in props) is (on_connect and secured)
            assert props.get("ApiKeyRequired", False) is on_connect
            if on_connect:
                assert props["AuthorizationType"] == ("CUSTOM" if secured else "NONE")


def test_the_authorizer_arn_is_in_the_template_not_a_parameter(
    templates: dict[str, Any],
) -> None:
    template = templates["vpc-link"]
    assert "AuthorizerFunctionArn" not in template.get("Parameters", {})
    uri = template["Resources"]["ConnectAuthorizer"]["Properties"]["AuthorizerUri"]["Fn::Sub"]
    assert uri[1] == {"Function": AUTHORIZER}
    permission = template["Resources"]["AuthorizerInvokePermission"]["Properties"]
    assert permission["FunctionName"] == AUTHORIZER
    connect = template["Resources"]["ConnectRoute"]["Properties"]
    assert connect["AuthorizerId"] == {"Ref": "ConnectAuthorizer"}
    open_template = templates["mock"]["Resources"]
    assert "ConnectAuthorizer" not in open_template
    assert "AuthorizerInvokePermission" not in open_template


def test_synth_refuses_an_open_connect_unless_asked_by_name() -> None:
    from infra.options import MissingAuthorizerError

    with pytest.raises(MissingAuthorizerError, match="--insecure-no-authorizer"):
        SynthOptions()
    with pytest.raises(ValueError, match="choose one"):
        SynthOptions(authorizer_arn=AUTHORIZER, open_connect=True)
    with pytest.raises(ValueError, match="not a Lambda function ARN"):
        SynthOptions(authorizer_arn="wsgate-prod-authorizer")


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
        stage = template["Resources"]["Stage"]
        settings = stage["Properties"]["DefaultRouteSettings"]
        assert "ThrottlingBurstLimit" in settings and "ThrottlingRateLimit" in settings
        assert "ApiGatewayAccount" in stage["DependsOn"]
        deployment = stage["Properties"]["DeploymentId"]["Ref"]
        routes = _of_type(template, "AWS::ApiGatewayV2::Route")
        assert set(template["Resources"][deployment]["DependsOn"]) == set(routes)


def _deployment(template: dict[str, Any]) -> str:
    (logical_id,) = _of_type(template, "AWS::ApiGatewayV2::Deployment")
    return logical_id


def test_deployment_id_changes_when_what_it_deploys_changes() -> None:
    """Every choice that changes what the API does must yield a new Deployment; a stack
    update with the same logical id leaves the stage on its old snapshot (see the
    "deployment does not refresh" trap in the team's API Gateway reference notes)."""
    base = _deployment(synthesize(SECURED))
    assert _deployment(synthesize(SECURED)) == base  # stable for the same input
    changes = {
        "no authorizer": SynthOptions(open_connect=True),
        "another authorizer ARN": SynthOptions(authorizer_arn=OTHER_AUTHORIZER),
        "API key from the authorizer": dataclasses.replace(SECURED, api_key_source="authorizer"),
        "identity source": dataclasses.replace(SECURED, identity_source="header"),
        "request parameters": dataclasses.replace(SECURED, connection_id_header=True),
        "stage variables (no VPC link)": dataclasses.replace(
            SECURED, integration="http", backend_url="http://chat.example.com:8080"
        ),
        "templates": dataclasses.replace(SECURED, integration="mock"),
        "routes": dataclasses.replace(SECURED, routes=ROUTES[:-1]),
        # Only the Route resource changes here: its own properties must reach the hash.
        "a route's own property": dataclasses.replace(
            SECURED,
            routes=tuple(
                dataclasses.replace(r, api_key_required=False) if r.key == CONNECT else r
                for r in ROUTES
            ),
        ),
    }
    ids = {name: _deployment(synthesize(options)) for name, options in changes.items()}
    assert base not in ids.values(), ids
    assert len(set(ids.values())) == len(ids), ids


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["Ref"]} if set(value) == {"Ref"} else set()
        for key, inner in value.items():
            if key == "Fn::Sub" and isinstance(inner, str):
                found |= set(re.findall(r"\$\{([A-Za-z0-9:]+)\}", inner))
            elif key == "Fn::Sub":
                found |= set(re.findall(r"\$\{([A-Za-z0-9:]+)\}", inner[0])) - set(inner[1])
                found |= _refs(inner[1])
            else:
                found |= _refs(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_what_the_deployment_hashes_reads_no_parameter(
    templates: dict[str, Any], variant: str
) -> None:
    """A parameter's value is never part of the Deployment's logical id, so nothing the
    deployment snapshots (API, authorizer, routes, integrations, models) may read one."""
    template = templates[variant]
    parameters = set(template.get("Parameters", {}))
    snapshot_types = {
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::RouteResponse",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::IntegrationResponse",
        "AWS::ApiGatewayV2::Model",
    }
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in snapshot_types:
            assert not _refs(resource["Properties"]) & parameters, logical_id
            assert "Condition" not in resource, logical_id


def test_the_stage_deploys_the_deployment_that_depends_on_every_route(
    templates: dict[str, Any],
) -> None:
    for template in templates.values():
        deployment = _deployment(template)
        resources = template["Resources"]
        assert resources["Stage"]["Properties"]["DeploymentId"] == {"Ref": deployment}
        assert set(resources[deployment]["DependsOn"]) == set(
            _of_type(template, "AWS::ApiGatewayV2::Route")
        )


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
    options = dataclasses.replace(SECURED, routes=(*ROUTES, extra))
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


def test_synth_cli_writes_yaml_and_reads_chalice_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import infra.chalice_outputs
    from wsgate.cli.synth import synth

    out = tmp_path / "t.yaml"
    result = CliRunner().invoke(
        synth,
        ["--integration", "mock", "--insecure-no-authorizer", "--format", "yaml", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "AWS::ApiGatewayV2::Api" in out.read_text()
    monkeypatch.setattr(infra.chalice_outputs, "DEPLOYED_DIR", tmp_path / "deployed")
    missing = CliRunner().invoke(synth, ["--from-chalice", "nowhere"])
    assert missing.exit_code == 1
    assert "chalice deploy --stage nowhere" in missing.output
    record = {
        "resources": [
            {"name": "ops", "resource_type": "lambda_function", "lambda_arn": OTHER_AUTHORIZER},
            {"name": "authorizer", "resource_type": "lambda_function", "lambda_arn": AUTHORIZER},
            *(
                {"name": r.function_name, "resource_type": "lambda_function", "lambda_arn": arn}
                for r in lambda_routes()
                for arn in [AUTHORIZER.replace("authorizer", r.function_name)]
            ),
        ]
    }
    (tmp_path / "deployed").mkdir()
    (tmp_path / "deployed" / "prod.json").write_text(json.dumps(record))
    done = CliRunner().invoke(synth, ["--from-chalice", "prod", "-o", str(tmp_path / "t.json")])
    assert done.exit_code == 0, done.output
    written = json.loads((tmp_path / "t.json").read_text())
    assert written["Resources"]["AuthorizerInvokePermission"]["Properties"]["FunctionName"] == (
        AUTHORIZER
    )
    for route in lambda_routes():
        permission = written["Resources"][f"{logical_name(route)}InvokePermission"]
        assert permission["Properties"]["FunctionName"] == AUTHORIZER.replace(
            "authorizer", route.function_name
        )


def test_synth_cli_without_an_authorizer_fails_with_the_way_out() -> None:
    from click.testing import CliRunner

    from wsgate.cli.synth import synth

    refused = CliRunner().invoke(synth, [])
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    assert "--from-chalice" in refused.output and "--insecure-no-authorizer" in refused.output


def test_deployment_id_hashes_the_stage_variables_definitions() -> None:
    from troposphere import Ref

    from infra.websocket_api import deployment_id

    base = deployment_id([], {"region": Ref("AWS::Region")})
    assert deployment_id([], {"region": Ref("AWS::Region")}) == base
    assert deployment_id([], {"region": Ref("AWS::Region"), "vpcLinkId": Ref("Link")}) != base


def test_names_come_from_shared_names(templates: dict[str, Any]) -> None:
    """The table, the ops parameters and the endpoints are the forms ``shared.names`` gives the
    Lambdas and the service, so a rename there renames them here."""
    from shared.names import EXECUTE_API_ENDPOINT_SUB, WEBSOCKET_URL_SUB, StackNames

    names = StackNames.in_template("prod")
    resources = templates["vpc-link"]["Resources"]
    assert resources["ConnectionsTable"]["Properties"]["TableName"] == {"Fn::Sub": names.table}
    for title, name in (
        ("TableNameParameter", names.table_name_parameter),
        ("ConnectionsEndpointParameter", names.connections_endpoint_parameter),
        ("UsagePlanIdParameter", names.usage_plan_id_parameter),
    ):
        assert resources[title]["Properties"]["Name"] == {"Fn::Sub": name}
    endpoint = resources["ConnectionsEndpointParameter"]["Properties"]["Value"]["Fn::Sub"]
    assert endpoint == [
        EXECUTE_API_ENDPOINT_SUB,
        {"Api": {"Ref": "WebSocketApi"}, "Stage": {"Ref": "Stage"}},
    ]
    assert resources["WebSocketApi"]["Properties"]["Name"] == {"Fn::Sub": names.api}
    assert resources["UsagePlan"]["Properties"]["UsagePlanName"] == {"Fn::Sub": names.api}
    assert resources["DevApiKey"]["Properties"]["Name"] == {"Fn::Sub": names.dev_api_key}
    log_group = resources["AccessLogGroup"]["Properties"]["LogGroupName"]
    assert log_group == {"Fn::Sub": names.access_log_group}
    outputs = templates["vpc-link"]["Outputs"]
    assert outputs["WebSocketUrl"]["Value"]["Fn::Sub"][0] == WEBSOCKET_URL_SUB
    concrete = StackNames("chat-prod", "prod")
    assert concrete.table_name_parameter == "/chat-prod/prod/table-name"
    assert names.table_name_parameter == "/${AWS::StackName}/prod/table-name"

"""The fleet and network in the synthesized template: boot signals, least privilege, NAT per AZ.

AWS sources for what is asserted:
- CreationPolicy / WaitOnResourceSignals:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-creationpolicy.html
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatepolicy.html
- NLB security groups and PrivateLink (VPC link v1) traffic:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-nlb-for-vpclink-using-console.html
- ``execute-api:ManageConnections`` resource ARNs:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra import runtime, user_data
from infra.fleet import ARTIFACT_KEY_PATTERN, GROUP
from infra.options import SynthOptions
from infra.template import synthesize
from shared.names import (
    PARAM_ARTIFACT_BUCKET,
    PARAM_ARTIFACT_KEY,
    PARAM_INSTANCE_ARCHITECTURE,
    PARAM_INSTANCE_TYPE,
    PARAM_NAT_GATEWAYS,
    SERVICE_PORT,
)
from wsgate.artifact.build import artifact_name

AUTHORIZER = "arn:aws:lambda:us-east-1:123456789012:function:wsgate-prod-authorizer"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return synthesize(SynthOptions(authorizer_arn=AUTHORIZER))


def _statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    role = template["Resources"]["ServiceRole"]["Properties"]
    return {s["Sid"]: s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]}


def test_group_waits_for_one_signal_per_instance_on_create_and_update(
    template: dict[str, Any],
) -> None:
    group = template["Resources"][GROUP]
    signal = group["CreationPolicy"]["ResourceSignal"]
    assert signal["Count"] == {"Ref": "FleetDesiredSize"}
    assert signal["Timeout"].startswith("PT")
    rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["WaitOnResourceSignals"] is True
    assert rolling["PauseTime"] == signal["Timeout"]


def test_user_data_is_the_deploy_script_with_every_value_bound(template: dict[str, Any]) -> None:
    data = template["Resources"]["ServiceLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    text, variables = data["UserData"]["Fn::Base64"]["Fn::Sub"]
    names = user_data.placeholders(user_data.USER_DATA.read_text())
    declared = set(template["Parameters"]) | set(variables) | {"AWS::Region", "AWS::StackName"}
    assert names <= declared
    assert variables["SignalResource"] == GROUP
    assert variables["ServicePort"] == str(SERVICE_PORT)
    # Bash's own ${...} survive Fn::Sub only escaped; every unescaped ${X} is a known variable.
    unescaped = set(re.findall(r"\$\{([^!][^}]*)\}", text))
    assert unescaped == names
    assert "signal-resource" in text and "install.sh" in text


def test_instance_role_is_scoped_to_this_stack_api_stage_and_artifact(
    template: dict[str, Any],
) -> None:
    statements = _statements(template)
    assert statements["Artifact"]["Action"] == ["s3:GetObject"]
    assert statements["Artifact"]["Resource"] == [
        {
            "Fn::Sub": f"arn:${{AWS::Partition}}:s3:::${{{PARAM_ARTIFACT_BUCKET}}}/"
            f"${{{PARAM_ARTIFACT_KEY}}}"
        }
    ]
    assert statements["BootSignal"]["Action"] == ["cloudformation:SignalResource"]
    assert statements["BootSignal"]["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:"
            "stack/${AWS::StackName}/*"
        }
    ]
    push = statements["Push"]
    assert push["Action"] == ["execute-api:ManageConnections"]
    for resource in push["Resource"]:
        pattern, variables = resource["Fn::Sub"]
        assert pattern == (
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            "${Api}/${Stage}/POST/@connections/*"
        )
        assert variables == {"Api": {"Ref": "WebSocketApi"}, "Stage": "prod"}
    every = [r for s in statements.values() for r in s["Resource"]]
    assert "*" not in every


def test_nlb_admits_only_the_vpc_link_and_the_service_only_the_nlb(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    nlb = resources["ServiceLoadBalancer"]["Properties"]
    assert nlb["SecurityGroups"] == [{"Ref": "LoadBalancerSecurityGroup"}]
    assert nlb["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"
    nlb_group = resources["LoadBalancerSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in nlb_group
    ingress_resources = [
        r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    ]
    assert ingress_resources == [
        {
            "GroupId": {"Ref": "ServiceSecurityGroup"},
            "IpProtocol": "tcp",
            "FromPort": SERVICE_PORT,
            "ToPort": SERVICE_PORT,
            "SourceSecurityGroupId": {"Ref": "LoadBalancerSecurityGroup"},
            "Description": "NLB traffic and health checks",
        }
    ]
    [to_service] = nlb_group["SecurityGroupEgress"]
    assert to_service["DestinationSecurityGroupId"] == {"Ref": "ServiceSecurityGroup"}
    assert (to_service["FromPort"], to_service["ToPort"]) == (SERVICE_PORT, SERVICE_PORT)
    service = resources["ServiceSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in service
    assert [
        (r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in service["SecurityGroupEgress"]
    ] == [("tcp", 443, 443)]
    attributes = resources["ServiceTargetGroup"]["Properties"]["TargetGroupAttributes"]
    assert {"Key": "preserve_client_ip.enabled", "Value": "false"} in attributes


def test_nat_gateway_per_az_and_gateway_endpoints_on_the_private_tables(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    assert template["Parameters"][PARAM_NAT_GATEWAYS]["AllowedValues"] == [1, 2]
    assert resources["NatGateway1"]["Condition"] == "CreateVpc"
    assert resources["NatGateway2"]["Condition"] == "NatPerAz"
    assert resources["PrivateDefaultRoute1"]["Properties"]["NatGatewayId"] == {"Ref": "NatGateway1"}
    assert resources["PrivateDefaultRoute2"]["Properties"]["NatGatewayId"] == {
        "Fn::If": ["NatPerAz", {"Ref": "NatGateway2"}, {"Ref": "NatGateway1"}]
    }
    for n in (1, 2):
        association = resources[f"PrivateSubnet{n}Routes"]["Properties"]
        assert association["RouteTableId"] == {"Ref": f"PrivateRouteTable{n}"}
    tables = [{"Ref": "PrivateRouteTable1"}, {"Ref": "PrivateRouteTable2"}]
    for service in ("dynamodb", "s3"):
        endpoint = resources[f"{service.capitalize()}GatewayEndpoint"]["Properties"]
        assert endpoint["VpcEndpointType"] == "Gateway"
        assert endpoint["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}." + service}
        assert endpoint["RouteTableIds"] == tables


def test_architecture_picks_the_image_and_rules_refuse_the_other_instance_types(
    template: dict[str, Any],
) -> None:
    parameters = template["Parameters"]
    assert parameters[PARAM_INSTANCE_ARCHITECTURE]["AllowedValues"] == ["x86_64", "arm64"]
    assert parameters["ImageIdX8664"]["Default"] == runtime.SPECS["x86_64"].ami_parameter
    assert parameters["ImageIdArm64"]["Default"] == runtime.SPECS["arm64"].ami_parameter
    data = template["Resources"]["ServiceLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["ImageId"] == {
        "Fn::If": ["FleetIsArm64", {"Ref": "ImageIdArm64"}, {"Ref": "ImageIdX8664"}]
    }
    assert data["BlockDeviceMappings"][0]["DeviceName"] == runtime.ROOT_DEVICE
    for spec in runtime.SPECS.values():
        [rule] = [
            r
            for r in template["Rules"].values()
            if r["RuleCondition"]["Fn::Equals"][1] == spec.architecture
        ]
        allowed, value = rule["Assertions"][0]["Assert"]["Fn::Contains"]
        assert allowed == list(spec.instance_types)
        assert value == {"Ref": PARAM_INSTANCE_TYPE}


def test_artifact_key_parameter_accepts_what_wsgate_build_names() -> None:
    key = "artifacts/" + artifact_name("0.1.0", "ab" * 32)
    assert re.match(ARTIFACT_KEY_PATTERN, key)
    assert not re.match(ARTIFACT_KEY_PATTERN, "wsgate-0.1.0-py3-none-any.whl")

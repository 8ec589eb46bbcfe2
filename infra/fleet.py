"""The backend fleet: instance role, launch template, internal NLB, Auto Scaling Group, VPC link.

This replaces the tutorial's hand-made AMI: instances boot Ubuntu 22.04 from the public SSM
parameter and install the service artifact and the systemd unit from ``ec2_service/deploy``.
A new artifact key or template version rolls the fleet (``AutoScalingRollingUpdate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awacs import aws as iam_policy
from awacs import dynamodb as ddb
from awacs import execute_api, s3, ssm
from troposphere import (
    Base64,
    GetAtt,
    Join,
    Parameter,
    Ref,
    Sub,
    Template,
    apigateway,
    autoscaling,
    ec2,
    iam,
)
from troposphere import (
    elasticloadbalancingv2 as elb,
)
from troposphere.policies import AutoScalingRollingUpdate, UpdatePolicy

from infra.accepted_findings import suppressions
from infra.iam import assumed_by
from infra.integration_secret import SECRET_LOGICAL_ID, read_secret_statement
from infra.network import Network
from infra.options import SERVICE_PORT
from shared import names

UNIT_FILE = Path(__file__).resolve().parents[1] / "ec2_service" / "deploy" / "wsgate.service"
UBUNTU_AMI = "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"


@dataclass(frozen=True)
class Fleet:
    nlb: elb.LoadBalancer
    vpc_link: apigateway.VpcLink


def _user_data(unit: str, stage: str) -> Any:
    """Install the service from its S3 artifact, write its environment, start the unit."""
    script = "\n".join(
        [
            "#!/bin/bash",
            "set -euxo pipefail",
            "apt-get update -q && apt-get install -y -q python3-venv python3-pip awscli",
            "id wsgate || useradd --system --home /opt/wsgate --shell /usr/sbin/nologin wsgate",
            "mkdir -p /opt/wsgate /etc/wsgate",
            "aws s3 cp s3://${ArtifactBucket}/${ArtifactKey} /opt/wsgate/wsgate.whl",
            "python3 -m venv /opt/wsgate/venv",
            "/opt/wsgate/venv/bin/pip install -q /opt/wsgate/wsgate.whl",
            "cat > /etc/wsgate/wsgate.env <<'ENV'",
            f"{names.ENV_TABLE_NAME}=${{ConnectionsTable}}",
            f"{names.ENV_REGION}=${{AWS::Region}}",
            f"{names.ENV_API_ID}=${{WebSocketApi}}",
            f"{names.ENV_STAGE}={stage}",
            f"{names.ENV_INTEGRATION_SECRET_ID}=${{{SECRET_LOGICAL_ID}}}",
            "AWS_DEFAULT_REGION=${AWS::Region}",
            "ENV",
            "cat > /etc/systemd/system/wsgate.service <<'UNIT'",
            unit.replace("${", "${!").rstrip("\n"),
            "UNIT",
            "systemctl daemon-reload",
            "systemctl enable --now wsgate",
        ]
    )
    return Base64(Sub(script + "\n"))


def add_fleet(template: Template, network: Network, api: Any, table: Any, stage: Any) -> Fleet:
    specs: dict[str, dict[str, Any]] = {
        "InstanceType": {"Type": "String", "Default": "t3.micro"},
        "ImageId": {
            "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            "Default": UBUNTU_AMI,
        },
        "ArtifactBucket": {
            "Type": "String",
            "Default": "wsgate-artifacts",
            "Description": "S3 bucket holding the service wheel.",
        },
        "ArtifactKey": {
            "Type": "String",
            "Default": "wsgate-0.1.0-py3-none-any.whl",
            "Description": "A new key rolls the fleet.",
        },
        "FleetMinSize": {"Type": "Number", "Default": 1, "MinValue": 1},
        "FleetMaxSize": {"Type": "Number", "Default": 4, "MinValue": 1},
        "FleetDesiredSize": {"Type": "Number", "Default": 2, "MinValue": 1},
        "TargetCpuPercent": {"Type": "Number", "Default": 50, "MinValue": 10, "MaxValue": 90},
    }
    p = {name: template.add_parameter(Parameter(name, **spec)) for name, spec in specs.items()}
    security_group = template.add_resource(
        ec2.SecurityGroup(
            "ServiceSecurityGroup",
            GroupDescription="wsgate service: port 8080 from inside the VPC only (NLB), no SSH",
            VpcId=network.vpc_id,
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=SERVICE_PORT,
                    ToPort=SERVICE_PORT,
                    CidrIp=network.vpc_cidr,
                    Description="NLB traffic and health checks",
                )
            ],
        )
    )
    table_arn = GetAtt(table, "Arn")
    role = template.add_resource(
        iam.Role(
            "ServiceRole",
            AssumeRolePolicyDocument=assumed_by("ec2.amazonaws.com"),
            ManagedPolicyArns=[
                Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")
            ],
            Policies=[
                iam.Policy(
                    PolicyName="wsgate-service",
                    PolicyDocument=iam_policy.PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            iam_policy.Statement(
                                Sid="Connections",
                                Effect=iam_policy.Allow,
                                Action=[
                                    ddb.PutItem,
                                    ddb.GetItem,
                                    ddb.DeleteItem,
                                    ddb.UpdateItem,
                                    ddb.Query,
                                    ddb.DescribeTable,
                                ],
                                Resource=[table_arn, Join("", [table_arn, "/index/*"])],
                            ),
                            iam_policy.Statement(
                                Sid="Push",
                                Effect=iam_policy.Allow,
                                Action=[execute_api.ManageConnections],
                                Resource=[
                                    Sub(
                                        "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                        "${AWS::AccountId}:${Api}/${Stage}/*/@connections/*",
                                        Api=Ref(api),
                                        Stage=stage,
                                    )
                                ],
                            ),
                            read_secret_statement(),
                            iam_policy.Statement(
                                Sid="Artifact",
                                Effect=iam_policy.Allow,
                                Action=[s3.GetObject],
                                Resource=[
                                    Sub(
                                        "arn:${AWS::Partition}:s3:::${ArtifactBucket}/"
                                        "${ArtifactKey}"
                                    )
                                ],
                            ),
                            iam_policy.Statement(
                                Sid="OwnParameters",
                                Effect=iam_policy.Allow,
                                Action=[ssm.GetParameter, ssm.GetParameters],
                                Resource=[
                                    Sub(
                                        "arn:${AWS::Partition}:ssm:${AWS::Region}:"
                                        "${AWS::AccountId}:parameter/wsgate/${Stage}/*",
                                        Stage=stage,
                                    )
                                ],
                            ),
                        ],
                    ),
                )
            ],
        )
    )
    profile = template.add_resource(
        iam.InstanceProfile("ServiceInstanceProfile", Roles=[Ref(role)])
    )
    unit = UNIT_FILE.read_text()
    launch_template = template.add_resource(
        ec2.LaunchTemplate(
            "ServiceLaunchTemplate",
            LaunchTemplateData=ec2.LaunchTemplateData(
                ImageId=Ref(p["ImageId"]),
                InstanceType=Ref(p["InstanceType"]),
                IamInstanceProfile=ec2.IamInstanceProfile(Arn=GetAtt(profile, "Arn")),
                SecurityGroupIds=[Ref(security_group)],
                MetadataOptions=ec2.MetadataOptions(HttpTokens="required", HttpEndpoint="enabled"),
                BlockDeviceMappings=[
                    ec2.LaunchTemplateBlockDeviceMapping(
                        DeviceName="/dev/sda1",
                        Ebs=ec2.EBSBlockDevice(VolumeSize=16, VolumeType="gp3", Encrypted=True),
                    )
                ],
                UserData=_user_data(unit, stage),
            ),
        )
    )
    target_group = template.add_resource(
        elb.TargetGroup(
            "ServiceTargetGroup",
            Port=SERVICE_PORT,
            Protocol="TCP",
            VpcId=network.vpc_id,
            TargetType="instance",
            HealthCheckProtocol="HTTP",
            HealthCheckPath="/health",
            HealthCheckPort=str(SERVICE_PORT),
        )
    )
    nlb = template.add_resource(
        elb.LoadBalancer(
            "ServiceLoadBalancer",
            Type="network",
            Scheme="internal",
            Subnets=network.private_subnets,
            Metadata=suppressions(cfn_lint=("W1030",), checkov=("CKV_AWS_91",)),
        )
    )
    template.add_resource(
        elb.Listener(
            "ServiceListener",
            LoadBalancerArn=Ref(nlb),
            Port=SERVICE_PORT,
            Protocol="TCP",
            DefaultActions=[elb.Action(Type="forward", TargetGroupArn=Ref(target_group))],
        )
    )
    group = template.add_resource(
        autoscaling.AutoScalingGroup(
            "ServiceAutoScalingGroup",
            MinSize=Ref(p["FleetMinSize"]),
            MaxSize=Ref(p["FleetMaxSize"]),
            DesiredCapacity=Ref(p["FleetDesiredSize"]),
            VPCZoneIdentifier=network.private_subnets,
            LaunchTemplate=autoscaling.LaunchTemplateSpecification(
                LaunchTemplateId=Ref(launch_template),
                Version=GetAtt(launch_template, "LatestVersionNumber"),
            ),
            TargetGroupARNs=[Ref(target_group)],
            HealthCheckType="ELB",
            HealthCheckGracePeriod=300,
            Tags=autoscaling.Tags(Name="wsgate-service"),
            Metadata=suppressions(cfn_lint=("W1030",)),
            UpdatePolicy=UpdatePolicy(
                AutoScalingRollingUpdate=AutoScalingRollingUpdate(
                    MinInstancesInService=1, MaxBatchSize=1, PauseTime="PT5M"
                )
            ),
        )
    )
    template.add_resource(
        autoscaling.ScalingPolicy(
            "ServiceCpuScaling",
            AutoScalingGroupName=Ref(group),
            PolicyType="TargetTrackingScaling",
            TargetTrackingConfiguration=autoscaling.TargetTrackingConfiguration(
                PredefinedMetricSpecification=autoscaling.PredefinedMetricSpecification(
                    PredefinedMetricType="ASGAverageCPUUtilization"
                ),
                TargetValue=Ref(p["TargetCpuPercent"]),
            ),
        )
    )
    vpc_link = template.add_resource(
        apigateway.VpcLink(
            "VpcLink",
            Name=Sub("${AWS::StackName}-vpc-link"),
            TargetArns=[Ref(nlb)],
        )
    )
    return Fleet(nlb=nlb, vpc_link=vpc_link)

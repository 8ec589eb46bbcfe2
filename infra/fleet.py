"""The backend fleet: security groups, launch template, internal NLB, Auto Scaling Group, VPC link.

Instances boot Amazon Linux 2023 (``infra/runtime.py``: image, Python, architecture), fetch
the service artifact ``wsgate build`` made (``ArtifactBucket``/``ArtifactKey``) and run its
install script through ``ec2_service/deploy/user-data.sh``, which signals CloudFormation only
once ``/health`` answers. The group's CreationPolicy and rolling UpdatePolicy wait for those
signals, so a fleet that never serves fails the stack instead of reporting success.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import (
    Base64,
    Equals,
    GetAtt,
    If,
    Parameter,
    Ref,
    Sub,
    Template,
    apigateway,
    autoscaling,
    ec2,
    iam,
)
from troposphere import elasticloadbalancingv2 as elb
from troposphere.policies import (
    AutoScalingRollingUpdate,
    CreationPolicy,
    ResourceSignal,
    UpdatePolicy,
)

from infra import runtime, user_data
from infra.accepted_findings import suppressions
from infra.fleet_role import add_service_role
from infra.integration_secret import SECRET_LOGICAL_ID
from infra.network import Network
from shared.names import (
    ARTIFACT_KEY_PREFIX,
    ARTIFACT_NAME,
    PARAM_ARTIFACT_BUCKET,
    PARAM_ARTIFACT_KEY,
    PARAM_INSTANCE_ARCHITECTURE,
    PARAM_INSTANCE_TYPE,
    SERVICE_PORT,
)

GROUP = "ServiceAutoScalingGroup"
"""The logical id instances signal (``aws cloudformation signal-resource``)."""
IS_ARM64 = "FleetIsArm64"
SIGNAL_TIMEOUT = "PT15M"
"""How long CloudFormation waits for an instance's boot signal (dnf + pip + start + health)."""
ARTIFACT_KEY_PATTERN = rf"^{ARTIFACT_KEY_PREFIX}{ARTIFACT_NAME}-[^/]+-[0-9a-f]{{12}}\.tar\.gz$"


@dataclass(frozen=True)
class Fleet:
    nlb: elb.LoadBalancer
    vpc_link: apigateway.VpcLink


def _parameters(template: Template) -> dict[str, Parameter]:
    instance_types = [t for spec in runtime.SPECS.values() for t in spec.instance_types]
    specs: dict[str, dict[str, Any]] = {
        PARAM_INSTANCE_ARCHITECTURE: {
            "Type": "String",
            "Default": runtime.DEFAULT_ARCHITECTURE,
            "AllowedValues": list(runtime.ARCHITECTURES),
            "Description": "arm64 runs Graviton instance types; the artifact must match.",
        },
        PARAM_INSTANCE_TYPE: {
            "Type": "String",
            "Default": runtime.DEFAULT_INSTANCE_TYPE,
            "AllowedValues": instance_types,
            "Description": "Must belong to InstanceArchitecture (checked by a template Rule).",
        },
        **{
            _image_parameter(spec.architecture): {
                "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                "Default": spec.ami_parameter,
                "Description": f"Amazon Linux 2023 AMI for {spec.architecture} instances.",
            }
            for spec in runtime.SPECS.values()
        },
        PARAM_ARTIFACT_BUCKET: {
            "Type": "String",
            "MinLength": 3,
            "Description": "S3 bucket holding the service artifact (wsgate build).",
        },
        PARAM_ARTIFACT_KEY: {
            "Type": "String",
            "AllowedPattern": ARTIFACT_KEY_PATTERN,
            "Description": "artifacts/wsgate-service-<version>-<sha12>.tar.gz; a new key rolls "
            "the fleet.",
        },
        "FleetMinSize": {"Type": "Number", "Default": 1, "MinValue": 1},
        "FleetMaxSize": {"Type": "Number", "Default": 4, "MinValue": 1},
        "FleetDesiredSize": {"Type": "Number", "Default": 2, "MinValue": 1},
        "TargetCpuPercent": {"Type": "Number", "Default": 50, "MinValue": 10, "MaxValue": 90},
    }
    return {name: template.add_parameter(Parameter(name, **spec)) for name, spec in specs.items()}


def _image_parameter(architecture: str) -> str:
    return "ImageId" + "".join(part.capitalize() for part in architecture.split("_"))


def _architecture_rules(template: Template, parameters: dict[str, Parameter]) -> Any:
    """A Rule per architecture refusing the other one's instance types (before any resource is
    created), and the image id picked by the architecture."""
    architecture = Ref(parameters[PARAM_INSTANCE_ARCHITECTURE])
    for spec in runtime.SPECS.values():
        template.add_rule(
            f"InstanceTypeMatches{_image_parameter(spec.architecture)[len('ImageId') :]}",
            {
                "RuleCondition": Equals(architecture, spec.architecture),
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Contains": [
                                list(spec.instance_types),
                                Ref(parameters[PARAM_INSTANCE_TYPE]),
                            ]
                        },
                        "AssertDescription": f"{spec.architecture} needs one of "
                        + ", ".join(spec.instance_types),
                    }
                ],
            },
        )
    template.add_condition(IS_ARM64, Equals(architecture, "arm64"))
    return If(
        IS_ARM64,
        Ref(parameters[_image_parameter("arm64")]),
        Ref(parameters[_image_parameter("x86_64")]),
    )


def _security_groups(template: Template, network: Network) -> tuple[Any, Any]:
    """NLB group: no inbound rule at all, and PrivateLink traffic (the VPC link v1, API
    Gateway's only way in) exempt from inbound rules, so nothing else in the VPC can reach the
    NLB; outbound only to the service group. Service group: inbound only from the NLB group on
    the service port (traffic and health checks), outbound 443 only."""
    service = template.add_resource(
        ec2.SecurityGroup(
            "ServiceSecurityGroup",
            GroupDescription="wsgate service: service port from the NLB only; HTTPS out",
            VpcId=network.vpc_id,
            # DynamoDB (gateway endpoint), S3 (artifact, AL2023 repositories),
            # execute-api (@connections), CloudFormation (boot signal), SSM: all HTTPS. DNS,
            # IMDS and time sync go to link-local AWS resolvers that security groups never
            # filter (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html).
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    CidrIp="0.0.0.0/0",
                    Description="HTTPS to AWS APIs (via the endpoints or NAT)",
                )
            ],
        )
    )
    nlb = template.add_resource(
        ec2.SecurityGroup(
            "LoadBalancerSecurityGroup",
            GroupDescription="wsgate NLB: reached through the VPC link only; to the service",
            VpcId=network.vpc_id,
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=SERVICE_PORT,
                    ToPort=SERVICE_PORT,
                    DestinationSecurityGroupId=Ref(service),
                    Description="traffic and health checks to the service",
                )
            ],
        )
    )
    template.add_resource(
        ec2.SecurityGroupIngress(
            "ServiceIngressFromLoadBalancer",
            GroupId=Ref(service),
            IpProtocol="tcp",
            FromPort=SERVICE_PORT,
            ToPort=SERVICE_PORT,
            SourceSecurityGroupId=Ref(nlb),
            Description="NLB traffic and health checks",
        )
    )
    return service, nlb


def _launch_template(
    template: Template,
    parameters: dict[str, Parameter],
    image: Any,
    security_group: Any,
    profile: Any,
    table: Any,
    api: Any,
    stage: str,
) -> Any:
    script = Sub(
        user_data.to_sub(user_data.USER_DATA.read_text()),
        ConnectionsTable=Ref(table),
        ServicePort=str(SERVICE_PORT),
        SignalResource=GROUP,
        WebSocketApi=Ref(api),
        StageName=stage,
        IntegrationSecret=Ref(SECRET_LOGICAL_ID),
    )
    return template.add_resource(
        ec2.LaunchTemplate(
            "ServiceLaunchTemplate",
            LaunchTemplateData=ec2.LaunchTemplateData(
                ImageId=image,
                InstanceType=Ref(parameters[PARAM_INSTANCE_TYPE]),
                IamInstanceProfile=ec2.IamInstanceProfile(Arn=GetAtt(profile, "Arn")),
                SecurityGroupIds=[Ref(security_group)],
                MetadataOptions=ec2.MetadataOptions(HttpTokens="required", HttpEndpoint="enabled"),
                BlockDeviceMappings=[
                    ec2.LaunchTemplateBlockDeviceMapping(
                        DeviceName=runtime.ROOT_DEVICE,
                        Ebs=ec2.EBSBlockDevice(VolumeSize=16, VolumeType="gp3", Encrypted=True),
                    )
                ],
                UserData=Base64(script),
            ),
        )
    )


def _group(
    template: Template,
    parameters: dict[str, Parameter],
    network: Network,
    launch_template: Any,
    target_group: Any,
) -> Any:
    desired = Ref(parameters["FleetDesiredSize"])
    return template.add_resource(
        autoscaling.AutoScalingGroup(
            GROUP,
            MinSize=Ref(parameters["FleetMinSize"]),
            MaxSize=Ref(parameters["FleetMaxSize"]),
            DesiredCapacity=desired,
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
            CreationPolicy=CreationPolicy(
                ResourceSignal=ResourceSignal(Count=desired, Timeout=SIGNAL_TIMEOUT)
            ),
            UpdatePolicy=UpdatePolicy(
                AutoScalingRollingUpdate=AutoScalingRollingUpdate(
                    MinInstancesInService=1,
                    MaxBatchSize=1,
                    PauseTime=SIGNAL_TIMEOUT,
                    WaitOnResourceSignals=True,
                    # Replacing instances must not race the group's own health replacement.
                    SuspendProcesses=[
                        "HealthCheck",
                        "ReplaceUnhealthy",
                        "AZRebalance",
                        "AlarmNotification",
                        "ScheduledActions",
                    ],
                )
            ),
        )
    )


def _load_balancer(template: Template, network: Network, security_group: Any) -> tuple[Any, Any]:
    """The internal NLB the VPC link targets, its TCP listener and the target group."""
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
            # The NLB's own address as the source, so the service group's "from the NLB group"
            # rule is the whole story.
            TargetGroupAttributes=[
                elb.TargetGroupAttribute(Key="preserve_client_ip.enabled", Value="false")
            ],
        )
    )
    nlb = template.add_resource(
        elb.LoadBalancer(
            "ServiceLoadBalancer",
            Type="network",
            Scheme="internal",
            Subnets=network.private_subnets,
            SecurityGroups=[Ref(security_group)],
            # VPC links v1 reach the NLB over PrivateLink; AWS asks for inbound rules not to be
            # evaluated on that traffic, which with no inbound rule leaves it the only way in:
            # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-nlb-for-vpclink-using-console.html
            # https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
            EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic="off",
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
    return nlb, target_group


def add_fleet(template: Template, network: Network, api: Any, table: Any, stage: str) -> Fleet:
    p = _parameters(template)
    image = _architecture_rules(template, p)
    service_group, nlb_group = _security_groups(template, network)
    role = add_service_role(template, api, table, stage)
    profile = template.add_resource(
        iam.InstanceProfile("ServiceInstanceProfile", Roles=[Ref(role)])
    )
    launch_template = _launch_template(
        template, p, image, service_group, profile, table, api, stage
    )
    nlb, target_group = _load_balancer(template, network, nlb_group)
    group = _group(template, p, network, launch_template, target_group)
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

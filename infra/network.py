"""The network (the tutorial's Terraform): a new VPC, or an existing one given by parameters.

New VPC: 10.0.0.0/16 with DNS, two public subnets (NAT gateways, internet gateway) and two
private subnets (the fleet and the internal NLB) in two availability zones. Each private subnet
has its own route table: its default route goes to the NAT gateway of its own AZ when
``NatGateways`` is 2 (an AZ outage then takes down only that AZ's egress), or to the one shared
NAT gateway when it is 1 (cheaper). Gateway endpoints for DynamoDB and S3 sit on both tables,
so table traffic, the artifact download and AL2023's package repositories (served from S3)
bypass NAT: https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import (
    And,
    Condition,
    Equals,
    GetAtt,
    GetAZs,
    If,
    Parameter,
    Ref,
    Select,
    Sub,
    Tags,
    Template,
    ec2,
)

from shared.names import PARAM_NAT_GATEWAYS

CREATE_VPC = "CreateVpc"
NAT_PER_AZ = "NatPerAz"
AZ_COUNT = 2
GATEWAY_ENDPOINTS = ("dynamodb", "s3")


@dataclass(frozen=True)
class Network:
    """What the rest of the template needs from the network, whichever way it was made."""

    vpc_id: Any
    vpc_cidr: Any
    private_subnets: list[Any]


def add_network(template: Template) -> Network:
    vpc_param = template.add_parameter(
        Parameter(
            "VpcId",
            Type="String",
            Default="",
            Description="An existing VPC to deploy into; empty creates a new 10.0.0.0/16 VPC.",
        )
    )
    cidr_param = template.add_parameter(
        Parameter(
            "VpcCidr",
            Type="String",
            Default="10.0.0.0/16",
            AllowedPattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$",
            Description="CIDR of the (new or existing) VPC.",
        )
    )
    subnet_params = [
        template.add_parameter(
            Parameter(
                f"PrivateSubnet{n}Id",
                Type="String",
                Default="",
                Description=f"Existing VPC only: private subnet {n} (NAT egress, two AZs).",
            )
        )
        for n in (1, 2)
    ]
    template.add_condition(CREATE_VPC, Equals(Ref(vpc_param), ""))
    vpc = _NewVpc(template, cidr_param)
    public_subnets, attachment = vpc.public_side()
    nats = _nat_gateways(template, public_subnets, attachment)
    private_subnets = []
    private_tables = []
    for index, param in enumerate(subnet_params):
        table, created = vpc.private_subnet(index, nats)
        private_tables.append(Ref(table))
        private_subnets.append(If(CREATE_VPC, Ref(created), Ref(param)))
    vpc.gateway_endpoints(private_tables)
    return Network(
        vpc_id=If(CREATE_VPC, Ref(vpc.vpc), Ref(vpc_param)),
        vpc_cidr=Ref(cidr_param),
        private_subnets=private_subnets,
    )


class _NewVpc:
    """The resources of a new VPC (all under the ``CreateVpc`` condition)."""

    def __init__(self, template: Template, cidr_param: Parameter) -> None:
        self.template = template
        self.cidr_param = cidr_param
        self.vpc = self.new(
            ec2.VPC(
                "Vpc",
                CidrBlock=Ref(cidr_param),
                EnableDnsSupport=True,
                EnableDnsHostnames=True,
                Tags=Tags(Name="wsgate"),
            )
        )

    def new(self, resource: Any) -> Any:
        resource.Condition = CREATE_VPC
        return self.template.add_resource(resource)

    def subnet(self, kind: str, index: int, cidr_index: int, route_table: Any) -> Any:
        """Subnet ``{Kind}Subnet{n}`` in AZ ``index``, associated with ``route_table``."""
        name = f"{kind.capitalize()}Subnet{index + 1}"
        created = self.new(
            ec2.Subnet(
                name,
                VpcId=Ref(self.vpc),
                CidrBlock=Select(cidr_index, _cidrs(self.cidr_param)),
                AvailabilityZone=Select(index, GetAZs("")),
                Tags=Tags(Name=f"wsgate-{kind}-{index + 1}"),
            )
        )
        self.new(
            ec2.SubnetRouteTableAssociation(
                f"{name}Routes", SubnetId=Ref(created), RouteTableId=Ref(route_table)
            )
        )
        return created

    def public_side(self) -> tuple[list[Any], str]:
        """Internet gateway, public route table and subnets; and the attachment's logical id
        (the NAT addresses must wait for it)."""
        igw = self.new(ec2.InternetGateway("InternetGateway"))
        attachment = self.new(
            ec2.VPCGatewayAttachment(
                "GatewayAttachment", VpcId=Ref(self.vpc), InternetGatewayId=Ref(igw)
            )
        )
        table = self.new(ec2.RouteTable("PublicRouteTable", VpcId=Ref(self.vpc)))
        self.new(
            ec2.Route(
                "PublicDefaultRoute",
                RouteTableId=Ref(table),
                DestinationCidrBlock="0.0.0.0/0",
                GatewayId=Ref(igw),
                DependsOn=attachment.title,
            )
        )
        subnets = [self.subnet("public", index, index, table) for index in range(AZ_COUNT)]
        return subnets, attachment.title

    def private_subnet(self, index: int, nats: list[Any]) -> tuple[Any, Any]:
        """Private subnet ``index`` with its own route table, whose default route is its AZ's
        NAT gateway (or the shared first one)."""
        table = self.new(ec2.RouteTable(f"PrivateRouteTable{index + 1}", VpcId=Ref(self.vpc)))
        nat = nats[0] if index == 0 else If(NAT_PER_AZ, nats[index], nats[0])
        self.new(
            ec2.Route(
                f"PrivateDefaultRoute{index + 1}",
                RouteTableId=Ref(table),
                DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId=nat,
            )
        )
        return table, self.subnet("private", index, index + AZ_COUNT, table)

    def gateway_endpoints(self, route_tables: list[Any]) -> None:
        for service in GATEWAY_ENDPOINTS:
            self.new(
                ec2.VPCEndpoint(
                    f"{service.capitalize()}GatewayEndpoint",
                    VpcId=Ref(self.vpc),
                    ServiceName=Sub("com.amazonaws.${AWS::Region}." + service),
                    VpcEndpointType="Gateway",
                    RouteTableIds=route_tables,
                )
            )


def _nat_gateways(template: Template, public_subnets: list[Any], attachment: str) -> list[Any]:
    """NAT gateway 1 always (new VPC); the others only with ``NatGateways`` = 2 (one per AZ)."""
    count = template.add_parameter(
        Parameter(
            PARAM_NAT_GATEWAYS,
            Type="Number",
            Default=AZ_COUNT,
            AllowedValues=[1, AZ_COUNT],
            Description=f"New VPC only: {AZ_COUNT} = one NAT gateway per AZ (no cross-AZ "
            "egress dependency), 1 = one shared NAT gateway (cheaper).",
        )
    )
    template.add_condition(
        NAT_PER_AZ, And(Condition(CREATE_VPC), Equals(Ref(count), str(AZ_COUNT)))
    )
    nats = []
    for index, public_subnet in enumerate(public_subnets):
        condition = CREATE_VPC if index == 0 else NAT_PER_AZ
        ip = ec2.EIP(f"NatIp{index + 1}", Domain="vpc", DependsOn=attachment)
        ip.Condition = condition
        template.add_resource(ip)
        nat = ec2.NatGateway(
            f"NatGateway{index + 1}",
            AllocationId=GetAtt(ip, "AllocationId"),
            SubnetId=Ref(public_subnet),
        )
        nat.Condition = condition
        nats.append(Ref(template.add_resource(nat)))
    return nats


def _cidrs(cidr_param: Parameter) -> Any:
    """Four /24-sized slices of the VPC CIDR (``Fn::Cidr`` with 8 host bits)."""
    from troposphere import Cidr

    return Cidr(Ref(cidr_param), 4, 8)

"""The network (the tutorial's Terraform): a new VPC, or an existing one given by parameters.

New VPC: 10.0.0.0/16 with DNS, two public subnets (NAT gateway, internet gateway) and two
private subnets (the fleet and the internal NLB) in two availability zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import (
    Equals,
    GetAtt,
    GetAZs,
    If,
    Parameter,
    Ref,
    Select,
    Tags,
    Template,
    ec2,
)

CREATE_VPC = "CreateVpc"


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
            Description="CIDR of the (new or existing) VPC; the service port is open to it only.",
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

    def new(resource: Any) -> Any:
        resource.Condition = CREATE_VPC
        return template.add_resource(resource)

    vpc = new(
        ec2.VPC(
            "Vpc",
            CidrBlock=Ref(cidr_param),
            EnableDnsSupport=True,
            EnableDnsHostnames=True,
            Tags=Tags(Name="wsgate"),
        )
    )
    igw = new(ec2.InternetGateway("InternetGateway"))
    attachment = new(
        ec2.VPCGatewayAttachment("GatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw))
    )
    public_table = new(ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc)))
    public_route = ec2.Route(
        "PublicDefaultRoute",
        RouteTableId=Ref(public_table),
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=Ref(igw),
        DependsOn=attachment.title,
    )
    new(public_route)

    def subnet(kind: str, index: int, cidr_index: int, route_table: Any) -> Any:
        """Subnet ``{Kind}Subnet{n}`` in AZ ``index``, associated with ``route_table``."""
        name = f"{kind.capitalize()}Subnet{index + 1}"
        created = new(
            ec2.Subnet(
                name,
                VpcId=Ref(vpc),
                CidrBlock=Select(cidr_index, _cidrs(cidr_param)),
                AvailabilityZone=Select(index, GetAZs("")),
                Tags=Tags(Name=f"wsgate-{kind}-{index + 1}"),
            )
        )
        new(
            ec2.SubnetRouteTableAssociation(
                f"{name}Routes", SubnetId=Ref(created), RouteTableId=Ref(route_table)
            )
        )
        return created

    public_subnets = [subnet("public", index, index, public_table) for index in (0, 1)]
    nat_ip = new(ec2.EIP("NatIp", Domain="vpc", DependsOn=attachment.title))
    nat = new(
        ec2.NatGateway(
            "NatGateway",
            AllocationId=GetAtt(nat_ip, "AllocationId"),
            SubnetId=Ref(public_subnets[0]),
        )
    )
    private_table = new(ec2.RouteTable("PrivateRouteTable", VpcId=Ref(vpc)))
    new(
        ec2.Route(
            "PrivateDefaultRoute",
            RouteTableId=Ref(private_table),
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=Ref(nat),
        )
    )
    private_subnets = [
        If(CREATE_VPC, Ref(subnet("private", index, index + 2, private_table)), Ref(param))
        for index, param in enumerate(subnet_params)
    ]
    return Network(
        vpc_id=If(CREATE_VPC, Ref(vpc), Ref(vpc_param)),
        vpc_cidr=Ref(cidr_param),
        private_subnets=private_subnets,
    )


def _cidrs(cidr_param: Parameter) -> Any:
    """Four /24-sized slices of the VPC CIDR (``Fn::Cidr`` with 8 host bits)."""
    from troposphere import Cidr

    return Cidr(Ref(cidr_param), 4, 8)

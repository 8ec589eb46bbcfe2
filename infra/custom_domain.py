"""Optional custom domain: ACM certificate (DNS-validated), domain name, API mapping, alias."""

from __future__ import annotations

from typing import Any

from troposphere import Equals, GetAtt, Not, Parameter, Ref, Template, apigatewayv2, route53
from troposphere import certificatemanager as acm

HAS_DOMAIN = "HasCustomDomain"


def add_custom_domain(template: Template, api: Any, stage: Any) -> None:
    domain = template.add_parameter(
        Parameter(
            "DomainName",
            Type="String",
            Default="",
            Description="e.g. ws.example.com; empty: no custom domain.",
        )
    )
    zone = template.add_parameter(
        Parameter(
            "HostedZoneId",
            Type="String",
            Default="",
            Description="Route 53 hosted zone of DomainName (certificate + alias).",
        )
    )
    mapping_key = template.add_parameter(
        Parameter(
            "ApiMappingKey",
            Type="String",
            Default="chat",
            Description="Path under the domain: wss://<domain>/<key>.",
        )
    )
    template.add_condition(HAS_DOMAIN, Not(Equals(Ref(domain), "")))
    certificate = template.add_resource(
        acm.Certificate(
            "DomainCertificate",
            Condition=HAS_DOMAIN,
            DomainName=Ref(domain),
            ValidationMethod="DNS",
            DomainValidationOptions=[
                acm.DomainValidationOption(DomainName=Ref(domain), HostedZoneId=Ref(zone))
            ],
        )
    )
    name = template.add_resource(
        apigatewayv2.DomainName(
            "CustomDomain",
            Condition=HAS_DOMAIN,
            DomainName=Ref(domain),
            DomainNameConfigurations=[
                apigatewayv2.DomainNameConfiguration(
                    CertificateArn=Ref(certificate),
                    EndpointType="REGIONAL",
                    SecurityPolicy="TLS_1_2",
                )
            ],
        )
    )
    template.add_resource(
        apigatewayv2.ApiMapping(
            "CustomDomainMapping",
            Condition=HAS_DOMAIN,
            ApiId=Ref(api),
            DomainName=Ref(name),
            Stage=Ref(stage),
            ApiMappingKey=Ref(mapping_key),
        )
    )
    template.add_resource(
        route53.RecordSetType(
            "CustomDomainAlias",
            Condition=HAS_DOMAIN,
            HostedZoneId=Ref(zone),
            Name=Ref(domain),
            Type="A",
            AliasTarget=route53.AliasTarget(
                DNSName=GetAtt(name, "RegionalDomainName"),
                HostedZoneId=GetAtt(name, "RegionalHostedZoneId"),
            ),
        )
    )

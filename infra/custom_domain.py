"""Optional custom domain: ACM certificate (DNS-validated), domain name, API mapping, alias."""

from __future__ import annotations

from typing import Any

from troposphere import Equals, GetAtt, Not, Parameter, Ref, Template, apigatewayv2, route53
from troposphere import certificatemanager as acm

HAS_DOMAIN = "HasCustomDomain"


def add_custom_domain(template: Template, api: Any, stage: Any) -> None:
    domain, zone, mapping_key = _add_domain_parameters(template)
    template.add_condition(HAS_DOMAIN, Not(Equals(Ref(domain), "")))
    name = _add_domain_name(template, domain, zone)
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


def _add_domain_parameters(template: Template) -> tuple[Parameter, Parameter, Parameter]:
    """DomainName, HostedZoneId and ApiMappingKey: an empty DomainName leaves the domain out."""
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
    return domain, zone, mapping_key


def _add_domain_name(
    template: Template, domain: Parameter, zone: Parameter
) -> apigatewayv2.DomainName:
    """The regional domain name, with the certificate it serves validated through the zone."""
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
    return template.add_resource(
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

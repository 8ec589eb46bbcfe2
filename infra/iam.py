"""IAM pieces shared by the template's roles (awacs policy documents)."""

from __future__ import annotations

from awacs import aws as iam_policy

API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
"""API Gateway's service principal: it invokes the Lambdas and writes the stage's logs."""


def assumed_by(service: str) -> iam_policy.PolicyDocument:
    """The trust policy letting ``service`` (e.g. ``ec2.amazonaws.com``) assume a role."""
    return iam_policy.PolicyDocument(
        Version="2012-10-17",
        Statement=[
            iam_policy.Statement(
                Effect=iam_policy.Allow,
                Action=[iam_policy.Action("sts", "AssumeRole")],
                Principal=iam_policy.Principal("Service", [service]),
            )
        ],
    )

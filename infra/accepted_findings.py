"""Every linter finding the templates accept, each with its reason, in one place.

``wsgate synth`` output must be clean under cfn-lint and checkov. Where a rule does not fit
this architecture, the resource carries a suppression in its ``Metadata`` (the form both tools
read), and the reason lives here, next to every other one, so a reviewer reads them together.
"""

from __future__ import annotations

from typing import Any

CFN_LINT: dict[str, str] = {
    "W1030": (
        "the subnet parameters default to '' (meaning 'create a new VPC'), which cfn-lint checks "
        "against the subnet-id pattern; Fn::If only reads them when a VPC id is given"
    ),
}

CHECKOV: dict[str, str] = {
    "CKV_AWS_91": (
        "NLB access logs are only written for TLS listeners; this internal NLB has one TCP "
        "listener (API Gateway's VPC link to port 8080), so there is nothing to log"
    ),
    "CKV_AWS_119": (
        "the table is encrypted at rest with the AWS-owned DynamoDB key (SSE on); it holds "
        "connection ids, user ids and room names, no secrets, and a customer-managed key "
        "would add a key policy and a monthly charge for no reader it keeps out"
    ),
    "CKV_AWS_149": (
        "the integration secret is encrypted with the account's aws/secretsmanager key; only "
        "the instance role and CloudFormation read it, so a customer-managed key adds a key "
        "policy and a monthly charge for no reader it keeps out"
    ),
    "CKV2_AWS_57": (
        "the integration secret rotates by hand (rotate, then update the stack, which "
        "re-resolves the stage variable's dynamic reference); the service accepts the current "
        "and previous versions, and a rotation Lambda cannot redeploy the stage on its own"
    ),
    "CKV_AWS_158": (
        "CloudWatch Logs encrypts every log group at rest; the access log format writes "
        "request ids, connection ids, routes, status and source IP, never tokens or bodies, "
        "so a customer-managed KMS key is not required"
    ),
}


def suppressions(
    *, cfn_lint: tuple[str, ...] = (), checkov: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A resource ``Metadata`` that suppresses the named findings with their reasons."""
    unknown = [i for i in cfn_lint if i not in CFN_LINT] + [i for i in checkov if i not in CHECKOV]
    if unknown:
        raise KeyError(f"no reason recorded in infra/accepted_findings.py for {unknown}")
    metadata: dict[str, Any] = {}
    if cfn_lint:
        metadata["cfn-lint"] = {"config": {"ignore_checks": list(cfn_lint)}}
    if checkov:
        metadata["checkov"] = {"skip": [{"id": i, "comment": CHECKOV[i]} for i in checkov]}
    return metadata

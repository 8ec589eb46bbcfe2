"""What the local store must hold before anything reads it, and again after moto restarts.

The connections table, the stack's SSM parameters (token secret, table name, ``@connections``
endpoint, usage plan id), the per-user API keys' usage plan and the integration secret: the
same things ``wsgate deploy`` leaves in an account, created in moto (or the DynamoDB you chose).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared import names
from wsgate.local.aws_resources import AwsTarget, ensure_connections_table, put_parameters
from wsgate.local.stack_facts import TemplateFacts
from wsgate.local.stack_options import STACK_NAME
from wsgate.local.tokens import KeyIssuer, local_user_keys

TOKEN_SECRET_PARAMETER = names.StackNames(STACK_NAME).token_secret_parameter
"""Where the local authorizer, ``wsgate token`` and the ops code read the token secret."""
INTEGRATION_SECRET_NAME = names.StackNames(STACK_NAME).integration_secret


@dataclass
class StoreSetup:
    """Provisions the store; :meth:`provision` is idempotent, so a restarted moto gets it too."""

    dynamodb: AwsTarget
    ssm: AwsTarget
    facts: TemplateFacts
    template: Path
    template_parameters: dict[str, str]
    gateway_port: int
    token_secret: str
    integration_secret: str
    issuer: list[KeyIssuer] = field(default_factory=list)
    """The current per-user key issuer: a new moto has a new usage plan, so it is replaced."""

    def ssm_parameters(self) -> dict[str, str]:
        stack = names.StackNames(STACK_NAME, self.facts.stage)
        return {
            TOKEN_SECRET_PARAMETER: self.token_secret,
            stack.table_name_parameter: self.facts.table_name,
            stack.connections_endpoint_parameter: (
                f"http://127.0.0.1:{self.gateway_port}/{stack.stage}"
            ),
        }

    def provision(self) -> None:
        ensure_connections_table(self.dynamodb, self.facts.table_name)
        issue_key, plan_id = local_user_keys(
            self.template, self.template_parameters, STACK_NAME, self.ssm.client("apigateway")
        )
        self.issuer[:] = [issue_key]
        plan_parameter = names.StackNames(STACK_NAME, self.facts.stage).usage_plan_id_parameter
        put_parameters(
            self.ssm,
            self.ssm_parameters() | {plan_parameter: plan_id},
            secure={TOKEN_SECRET_PARAMETER},
        )
        _put_secret(self.ssm, INTEGRATION_SECRET_NAME, self.integration_secret)

    def issue_key(self, user: str) -> str:
        return self.issuer[0](user)


def _put_secret(target: AwsTarget, name: str, value: str) -> None:
    """Create or overwrite the secret in moto's Secrets Manager, as the stack creates it."""
    client = target.client("secretsmanager")
    try:
        client.create_secret(Name=name, SecretString=value)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=value)

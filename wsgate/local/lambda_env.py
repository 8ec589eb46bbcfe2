"""The environment a Chalice function of the local stack runs with, built in one place.

The gateway's Lambda workers (the authorizer, the ``backend="lambda"`` routes) and
``wsgate invoke`` (the ops function, in-process) must see the same stack the deployed functions
see: the stack's name, so they find its SSM parameters, and moto's endpoints in botocore's
``AWS_ENDPOINT_URL_<SERVICE ID>`` variables, so boto3 reaches moto exactly as it reaches AWS.
"""

from __future__ import annotations

from shared import names
from wsgate.local.aws_resources import LOCAL_CREDENTIALS

MOTO_SERVICES = ("SSM", "API_GATEWAY")
"""Services reached at moto's server (with Secrets Manager; DynamoDB may be elsewhere)."""


def lambda_environment(
    *,
    region: str,
    moto_url: str,
    dynamodb_url: str | None,
    stack_name: str,
    token_secret_parameter: str,
) -> dict[str, str]:
    """Credentials moto accepts, its endpoints, and the names through which code finds the stack.

    ``dynamodb_url`` is None when the stack uses real DynamoDB (``--dynamodb-endpoint aws``):
    boto3 then resolves AWS's endpoint itself.
    """
    env = LOCAL_CREDENTIALS | {
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        names.ENV_TOKEN_SECRET_PARAM: token_secret_parameter,
        names.ENV_GATEWAY_API_KEYS_ENDPOINT: moto_url,
        names.ENV_STACK_NAME: stack_name,
    }
    env |= {f"AWS_ENDPOINT_URL_{service}": moto_url for service in MOTO_SERVICES}
    env[names.ENV_SECRETS_MANAGER_ENDPOINT] = moto_url
    if dynamodb_url is not None:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
    return env

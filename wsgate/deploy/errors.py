"""What can stop a deployment, each with a one-line message saying what to do about it.

The CLI prints ``str(error)`` and exits 1: a user mistake never ends in a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class DeployError(Exception):
    """Base of every error ``wsgate deploy``/``destroy`` reports without a traceback."""


class ConfigError(DeployError):
    """``[tool.wsgate]``, a flag or the AWS profile/region is wrong or missing."""


class NoRegionError(ConfigError):
    """No region anywhere the AWS CLI would look (a dry run shows a placeholder instead)."""


class CredentialsError(DeployError):
    """No usable AWS credentials."""


class BucketError(DeployError):
    """The artifact bucket cannot be created or used."""


class ChaliceError(DeployError):
    """``chalice deploy``/``chalice delete`` failed; its last output lines are in the message."""


class StackStateError(DeployError):
    """The stack is in a state from which this operation cannot start."""


class StackFailedError(DeployError):
    """The stack operation ended in a failure or rollback state."""

    def __init__(self, stack: str, status: str, failures: Sequence[str]) -> None:
        self.stack = stack
        self.status = status
        self.failures = list(failures)
        reasons = "; ".join(self.failures) or "no failed resource event was recorded"
        super().__init__(
            f"stack {stack} ended in {status}: {reasons} "
            f"(all events: aws cloudformation describe-stack-events --stack-name {stack})"
        )


class InterruptedDeployError(DeployError):
    """Ctrl+C while CloudFormation works: the operation carries on without us."""

    def __init__(self, stack: str) -> None:
        super().__init__(
            f"interrupted: CloudFormation keeps working on stack {stack}; follow it with "
            f"'aws cloudformation describe-stack-events --stack-name {stack}' or run the "
            "command again once it has finished"
        )

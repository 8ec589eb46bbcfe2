"""Read what ``chalice deploy`` recorded, so its ARNs never have to be copied by hand."""

from __future__ import annotations

import json
from pathlib import Path

DEPLOYED_DIR = Path(__file__).resolve().parents[1] / "chalice_app" / ".chalice" / "deployed"


class ChaliceNotDeployedError(RuntimeError):
    """``chalice deploy`` has not been run for the stage (or did not create the function)."""


def authorizer_arn(stage: str, deployed_dir: Path = DEPLOYED_DIR) -> str:
    path = deployed_dir / f"{stage}.json"
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise ChaliceNotDeployedError(
            f"{path} not found: run 'cd chalice_app && chalice deploy --stage {stage}' first"
        ) from None
    for resource in record.get("resources", []):
        if resource.get("resource_type") == "lambda_function" and resource.get("name", "").endswith(
            "authorizer"
        ):
            return str(resource["lambda_arn"])
    raise ChaliceNotDeployedError(f"{path} records no 'authorizer' Lambda function")

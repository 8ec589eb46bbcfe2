"""Read what ``chalice deploy`` recorded, so its ARNs never have to be copied by hand."""

from __future__ import annotations

import json
from pathlib import Path

CHALICE_DIR = Path(__file__).resolve().parents[1] / "chalice_app"
DEPLOYED_DIR = CHALICE_DIR / ".chalice" / "deployed"
AUTHORIZER_FUNCTION = "authorizer"
"""The name ``chalice_app/app.py`` gives the ``$connect`` authorizer (``lambda_function``)."""


class ChaliceNotDeployedError(RuntimeError):
    """``chalice deploy`` has not been run for the stage (or did not create the function)."""


def deployed_record_path(stage: str, deployed_dir: Path | None = None) -> Path:
    """Where ``chalice deploy --stage STAGE`` records what it created."""
    return (deployed_dir or DEPLOYED_DIR) / f"{stage}.json"


def authorizer_arn(stage: str, deployed_dir: Path | None = None) -> str:
    return function_arns(stage, (AUTHORIZER_FUNCTION,), deployed_dir)[AUTHORIZER_FUNCTION]


def function_arns(
    stage: str, functions: tuple[str, ...], deployed_dir: Path | None = None
) -> dict[str, str]:
    """The ARN of each named Chalice function (``@lambda_function(name=...)``) of the stage."""
    path = deployed_record_path(stage, deployed_dir)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise ChaliceNotDeployedError(
            f"{path} not found: run 'cd chalice_app && chalice deploy --stage {stage}' first"
        ) from None
    except json.JSONDecodeError as error:
        raise ChaliceNotDeployedError(
            f"{path} is not JSON ({error}): run 'chalice deploy --stage {stage}' again"
        ) from None
    found = {
        str(resource.get("name")): str(resource["lambda_arn"])
        for resource in record.get("resources", [])
        if resource.get("resource_type") == "lambda_function" and "lambda_arn" in resource
    }
    missing = [name for name in functions if name not in found]
    if missing:
        raise ChaliceNotDeployedError(
            f"{path} records no Lambda function {', '.join(repr(m) for m in missing)}: run "
            f"'chalice deploy --stage {stage}' again after adding it to chalice_app"
        )
    return {name: found[name] for name in functions}

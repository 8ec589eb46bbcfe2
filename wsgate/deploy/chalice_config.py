"""Does ``chalice_app/.chalice/config.json`` deploy Lambdas that will find this stack?

The authorizer reads the token secret named by its environment, and the ops Lambda finds the
stack by its name; both are set per Chalice stage in config.json. A stage configured for
another stack deploys cleanly and then rejects every ``$connect``, so the mismatch is found
before anything is created.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.chalice_outputs import CHALICE_DIR
from shared.names import DEFAULT_STACK_NAME, ENV_STACK_NAME, ENV_TOKEN_SECRET_PARAM, StackNames

CHALICE_CONFIG = CHALICE_DIR / ".chalice" / "config.json"


def stage_environment(config: dict[str, Any], stage: str) -> dict[str, str] | None:
    """The stage's environment variables as Chalice merges them; None if no such stage."""
    stages = config.get("stages", {})
    if stage not in stages:
        return None
    stage_env = stages[stage].get("environment_variables", {})
    return {**config.get("environment_variables", {}), **stage_env}


def chalice_config_problems(names: StackNames, path: Path | None = None) -> list[str]:
    """One actionable sentence per disagreement (empty: the Lambdas will find the stack)."""
    path = path or CHALICE_CONFIG
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        return [f"cannot read {path}: {error}"]
    env = stage_environment(config, names.stage)
    if env is None:
        return [f'{path} has no stage {names.stage!r}: add it under "stages"']
    problems = []
    stack = env.get(ENV_STACK_NAME)
    # Unset, the Lambdas fall back to the default stack's names (shared.names).
    lambda_names = StackNames(stack or DEFAULT_STACK_NAME, names.stage)
    secret = env.get(ENV_TOKEN_SECRET_PARAM) or lambda_names.token_secret_parameter
    if secret != names.token_secret_parameter:
        problems.append(
            f"{path} stage {names.stage!r} reads the token secret from {secret} but stack "
            f"{names.stack} keeps it in {names.token_secret_parameter}: set "
            f"{ENV_TOKEN_SECRET_PARAM} there"
        )
    if stack is not None and stack != names.stack:
        problems.append(
            f"{path} stage {names.stage!r} sets {ENV_STACK_NAME}={stack}, not {names.stack}: "
            "its ops Lambda would look for another stack"
        )
    return problems

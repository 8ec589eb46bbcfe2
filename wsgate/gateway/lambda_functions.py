"""Which local code a template's Lambda ARN runs, with which environment and limits.

A synthesized wsgate template names its functions by ARN only (Chalice deploys them). Chalice
names every function ``<app_name>-<stage>-<name>``, so the ARN's function name identifies the
Chalice app's ``@lambda_function(name=...)`` and the stage whose settings apply
(``.chalice/config.json``: ``environment_variables``, ``lambda_timeout``,
``lambda_memory_size``, global, then per stage, then per function, as Chalice merges them).
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shared.names import ENV_CHALICE_APP
from wsgate.gateway.lambda_runtime import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    FunctionSpec,
    UnknownFunctionError,
)

DEFAULT_CHALICE_APP = "chalice_app.app:app"
CHALICE_DEFAULT_TIMEOUT_S = 60
"""Chalice's ``lambda_timeout`` when the config sets none."""
CHALICE_DEFAULT_MEMORY_MB = 128


def function_arn_of(uri: str) -> str:
    """The function ARN in an ``IntegrationUri`` (``.../functions/ARN/invocations``) or bare."""
    if "/functions/" in uri:
        return uri.split("/functions/", 1)[1].removesuffix("/invocations")
    return uri


def function_name_of(arn: str) -> str:
    """``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`` -> ``NAME``."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[5] == "function":
        return parts[6]
    return arn


def _merged(config: Mapping[str, Any], stage: str, function: str, key: str) -> Any:
    """A Chalice setting: the function's, else the stage's, else the global one."""
    stage_config = config.get("stages", {}).get(stage, {})
    for scope in (stage_config.get("lambda_functions", {}).get(function, {}), stage_config):
        if key in scope:
            return scope[key]
    return config.get(key)


def _environment(config: Mapping[str, Any], stage: str, function: str) -> dict[str, str]:
    stage_config = config.get("stages", {}).get(stage, {})
    env: dict[str, str] = {}
    for scope in (
        config,
        stage_config,
        stage_config.get("lambda_functions", {}).get(function, {}),
    ):
        env |= {k: str(v) for k, v in scope.get("environment_variables", {}).items()}
    return env


def chalice_function(arn: str, app_spec: str | None = None) -> FunctionSpec:
    """The Chalice function ``arn`` names, or :class:`UnknownFunctionError` saying why not."""
    app_spec = app_spec or os.environ.get(ENV_CHALICE_APP, DEFAULT_CHALICE_APP)
    module_name, _, attribute = app_spec.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app")
    app_file = Path(str(module.__file__)).resolve()
    root = app_file.parents[module_name.count(".")]
    config_path = app_file.parent / ".chalice" / "config.json"
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    name = function_name_of(arn)
    for function in app.pure_lambda_functions:
        prefix, suffix = f"{app.app_name}-", f"-{function.name}"
        stage = name.removeprefix(prefix).removesuffix(suffix)
        if not (name.startswith(prefix) and name.endswith(suffix) and stage):
            continue
        handler = str(function.handler_string)
        if handler.startswith("app."):  # Chalice's name for app.py; here it is a package
            handler = f"{module_name}.{handler.removeprefix('app.')}"
        timeout = _merged(config, stage, function.name, "lambda_timeout")
        memory = _merged(config, stage, function.name, "lambda_memory_size")
        return FunctionSpec(
            name=name,
            arn=arn,
            handler=handler,
            code_dirs=(str(root),),
            environment=_environment(config, stage, function.name),
            timeout_s=float(timeout or CHALICE_DEFAULT_TIMEOUT_S),
            memory_mb=int(memory or CHALICE_DEFAULT_MEMORY_MB),
        )
    known = sorted(f"{app.app_name}-<stage>-{f.name}" for f in app.pure_lambda_functions)
    raise UnknownFunctionError(
        f"function {name!r} is neither declared in the template nor a function of the Chalice "
        f"app {app_spec} (its functions: {', '.join(known)}); set {ENV_CHALICE_APP} to another "
        "app, or declare the function in the template"
    )


def resolve_function(arn: str, declared: Mapping[str, FunctionSpec]) -> FunctionSpec:
    """A function the template declares (by ARN), else one of the Chalice app's."""
    if arn in declared:
        return declared[arn]
    return chalice_function(arn)


LAMBDA_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


class TemplateFunctionError(ValueError):
    """A function the template declares cannot run locally; the message says which and why."""


def _code_dir(location: Any, base_dir: Path, logical_id: str) -> str:
    """A local directory (``aws cloudformation package`` / SAM style) or a zip, extracted once."""
    if not isinstance(location, str):
        raise TemplateFunctionError(
            f"{logical_id}: code must be a local path (directory or .zip) to run locally, "
            f"got {location!r}"
        )
    path = (base_dir / location).resolve()
    if path.is_dir():
        return str(path)
    if path.is_file() and zipfile.is_zipfile(path):
        target = Path(tempfile.mkdtemp(prefix=f"wsgate-{logical_id}-"))
        with zipfile.ZipFile(path) as archive:
            archive.extractall(target)
        return str(target)
    raise TemplateFunctionError(f"{logical_id}: code location {path} is not a directory or zip")


def declared_functions(
    resources: Mapping[str, Any],
    props: Callable[[str], dict[str, Any]],
    arns: Callable[[str], tuple[str, ...]],
    base_dir: Path,
    globals_: Mapping[str, Any] | None = None,
) -> dict[str, FunctionSpec]:
    """The Python functions a template declares, keyed by every ARN form that may name them
    (``Fn::GetAtt X.Arn``, ``Ref X``, the ``function:NAME`` ARN)."""
    found: dict[str, FunctionSpec] = {}
    defaults = dict((globals_ or {}).get("Function", {}))
    for logical_id, resource in resources.items():
        kind = resource.get("Type")
        if kind not in LAMBDA_FUNCTION_TYPES:
            continue
        p = props(logical_id)
        if kind == "AWS::Serverless::Function":
            p = defaults | p
        runtime = str(p.get("Runtime", "python3"))
        if not runtime.startswith("python"):
            raise TemplateFunctionError(f"{logical_id}: runtime {runtime} cannot run locally")
        location = p.get("CodeUri") if kind == "AWS::Serverless::Function" else p.get("Code")
        names = arns(logical_id)
        spec = FunctionSpec(
            name=names[0].split(":")[-1],
            arn=names[0],
            handler=str(p["Handler"]),
            code_dirs=(_code_dir(location, base_dir, logical_id),),
            environment={
                k: str(v) for k, v in p.get("Environment", {}).get("Variables", {}).items()
            },
            timeout_s=float(p.get("Timeout", DEFAULT_TIMEOUT_S)),
            memory_mb=int(p.get("MemorySize", DEFAULT_MEMORY_MB)),
        )
        for arn in names:
            found[arn] = spec
    return found

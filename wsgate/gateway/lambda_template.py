"""What a template declares for its Lambda integrations: functions and their tables.

Kept out of ``template_loader`` (which reads the API itself): a SAM or packaged CloudFormation
project brings its own functions (``AWS::Serverless::Function``, ``AWS::Lambda::Function``)
and tables, and the gateway runs the former and creates the latter locally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wsgate.gateway.intrinsics import Resolver, UnsupportedTemplateError
from wsgate.gateway.lambda_functions import (
    LAMBDA_FUNCTION_TYPES,
    TemplateFunctionError,
    declared_functions,
)
from wsgate.gateway.lambda_runtime import FunctionSpec
from wsgate.gateway.lambda_tables import TABLE_TYPES, TableCreationError, create_declared_tables


def function_names(resolver: Resolver, logical_id: str) -> tuple[str, ...]:
    """Every value a template may use to name the function (first: its Lambda ARN): the ARN
    from ``FunctionName`` or ``Ref``, ``Fn::GetAtt X.Arn``, and ``Ref`` itself."""
    props = resolver.resources[logical_id].get("Properties", {})
    physical = resolver.physical_id(logical_id)
    name = str(resolver.resolve(props.get("FunctionName", physical), logical_id))
    pseudo = resolver.pseudo
    arn = (
        f"arn:{pseudo['AWS::Partition']}:lambda:{pseudo['AWS::Region']}:"
        f"{pseudo['AWS::AccountId']}:function:{name}"
    )
    return (arn, resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]}, logical_id), physical)


def load_template_functions(
    resolver: Resolver,
    by_type: Mapping[str, list[str]],
    props: Callable[[str], dict[str, Any]],
    base_dir: Path,
) -> dict[str, FunctionSpec]:
    """The template's functions by every name it may call them, its tables created locally."""
    active = {
        lid: resolver.resources[lid]
        for kind in LAMBDA_FUNCTION_TYPES
        for lid in by_type.get(kind, [])
    }
    if not active:
        return {}
    try:
        functions = declared_functions(
            active,
            props,
            lambda lid: function_names(resolver, lid),
            base_dir,
            resolver.template.get("Globals"),
        )
    except (TemplateFunctionError, KeyError) as error:
        raise UnsupportedTemplateError("Resources", "Lambda function", str(error)) from None
    tables = {lid: kind for kind in TABLE_TYPES for lid in by_type.get(kind, [])}
    try:
        create_declared_tables(tables, props, resolver.physical_id)
    except TableCreationError as error:
        raise UnsupportedTemplateError("Resources", "DynamoDB table", str(error)) from None
    return functions

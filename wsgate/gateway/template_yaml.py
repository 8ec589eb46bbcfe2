"""Read a CloudFormation or SAM template from JSON or YAML (with the short ``!Ref`` tags).

The short forms are turned into their JSON spellings (``!GetAtt A.B`` -> ``{"Fn::GetAtt":
["A", "B"]}``, ``!Ref X`` -> ``{"Ref": "X"}``), so the resolver sees one shape whatever the
file's format: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from wsgate.gateway.intrinsics import UnsupportedTemplateError


class _CfnLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus CloudFormation's ``!Tag`` short forms."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_form)


def read_template(path: Path) -> dict[str, Any]:
    """The template at ``path`` as plain data; a clear error when it is neither format."""
    text = path.read_text()
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        try:
            document = yaml.load(text, Loader=_CfnLoader)
        except yaml.YAMLError as error:
            raise UnsupportedTemplateError(
                str(path), "<file>", f"neither JSON nor YAML: {error}"
            ) from None
    if not isinstance(document, dict):
        raise UnsupportedTemplateError(str(path), "<file>", "is not a template (no mapping)")
    return document

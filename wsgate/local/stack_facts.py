"""Facts the local stack reads from the synthesized template: the stage and the table name.

Read through the local gateway's own loader, so they are what the gateway will serve (the
table name is the template's ``${AWS::StackName}-connections`` resolved for the local stack).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wsgate.gateway.intrinsics import PSEUDO_PARAMETERS
from wsgate.gateway.template_loader import load_api


@dataclass(frozen=True)
class TemplateFacts:
    stage: str
    table_name: str
    api_id: str
    """The id the local gateway gives the API (``$context.apiId``): the service checks it."""


def read_template_facts(
    template: Path, parameters: Mapping[str, str], stack_name: str
) -> TemplateFacts:
    api = load_api(
        template,
        parameters=parameters,
        pseudo={**PSEUDO_PARAMETERS, "AWS::StackName": stack_name},
    )
    return TemplateFacts(
        stage=api.stage.name, table_name=api.stage.variables["tableName"], api_id=api.api_id
    )

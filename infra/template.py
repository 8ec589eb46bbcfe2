"""Assemble the whole template: table, WebSocket API, fleet (VPC-link mode), stage, usage
plan, ops parameters, custom domain and outputs."""

from __future__ import annotations

import json
from typing import Any

from troposphere import GetAtt, Output, Ref, Sub, Template

from infra.custom_domain import HAS_DOMAIN, add_custom_domain
from infra.fleet import add_fleet
from infra.network import add_network
from infra.options import SynthOptions
from infra.stage import add_stage
from infra.table import add_ops_parameters, add_table
from infra.usage_plan import add_usage_plan
from infra.websocket_api import add_api, deployment_id
from shared.names import EXECUTE_API_ENDPOINT_SUB, OUTPUT_WEBSOCKET_URL, WEBSOCKET_URL_SUB


def build_template(options: SynthOptions | None = None) -> Template:
    options = options or SynthOptions()
    template = Template(
        Description=f"wsgate: WebSocket API ({options.integration} integrations) "
        "for the chat in shared/routes.py"
    )
    template.set_version("2010-09-09")
    table = add_table(template)
    ws = add_api(template, options)
    stage_variables: dict[str, Any] = {"region": Ref("AWS::Region"), "tableName": Ref(table)}
    fleet = None
    if options.needs_fleet:
        network = add_network(template)
        fleet = add_fleet(template, network, ws.api, table, options.stage_name)
        stage_variables["vpcLinkId"] = Ref(fleet.vpc_link)
    stage = add_stage(
        template,
        ws.api,
        ws.routes,
        deployment_id(ws.deployment_inputs, stage_variables),
        stage_variables,
        options.stage_name,
    )
    plan = add_usage_plan(template, ws.api, stage)
    endpoint_names = {"Api": Ref(ws.api), "Stage": Ref(stage)}
    connections_url = Sub(EXECUTE_API_ENDPOINT_SUB, **endpoint_names)
    add_ops_parameters(template, options.stage_name, table, connections_url, plan)
    add_custom_domain(template, ws.api, stage)

    outputs = [
        Output(OUTPUT_WEBSOCKET_URL, Value=Sub(WEBSOCKET_URL_SUB, **endpoint_names)),
        Output(
            "ConnectionsUrl",
            Value=Sub(EXECUTE_API_ENDPOINT_SUB + "/@connections", **endpoint_names),
        ),
        Output("ApiId", Value=Ref(ws.api)),
        Output("StageName", Value=Ref(stage)),
        Output("TableName", Value=Ref(table)),
        Output("UsagePlanId", Value=Ref(plan)),
        Output(
            "CustomDomainUrl",
            Condition=HAS_DOMAIN,
            Value=Sub("wss://${DomainName}/${ApiMappingKey}"),
        ),
    ]
    if fleet is not None:
        outputs.append(Output("NlbDnsName", Value=GetAtt(fleet.nlb, "DNSName")))
    template.add_output(outputs)
    return template


def synthesize(options: SynthOptions | None = None) -> dict[str, Any]:
    """The template as plain JSON data (what ``wsgate synth`` writes)."""
    result: dict[str, Any] = json.loads(build_template(options).to_json())
    return result

"""Read a CloudFormation template into the typed description of one WebSocket API.

Only the API Gateway resources matter here; everything else (VPC, NLB, IAM, DynamoDB...) is
ignored, except where a reference into it must be resolved. What the gateway cannot emulate is
refused up front with :class:`UnsupportedTemplateError`, naming the resource and property.
The description's types live in ``api_config``; they are re-exported here, where callers have
always found them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wsgate.gateway.api_config import (
    QUOTA_PERIODS,
    Authorizer,
    Integration,
    IntegrationResponse,
    Route,
    Stage,
    Throttle,
    UsagePlan,
    WebSocketApiConfig,
)
from wsgate.gateway.ids import api_id as make_api_id
from wsgate.gateway.intrinsics import Resolver, UnsupportedTemplateError
from wsgate.gateway.lambda_functions import function_arn_of, resolve_function
from wsgate.gateway.lambda_runtime import FunctionSpec, UnknownFunctionError
from wsgate.gateway.lambda_template import load_template_functions
from wsgate.gateway.template_yaml import read_template

__all__ = [
    "QUOTA_PERIODS",
    "Authorizer",
    "Integration",
    "IntegrationResponse",
    "Route",
    "Stage",
    "Throttle",
    "UsagePlan",
    "WebSocketApiConfig",
    "load_api",
    "rewrite_uri",
]

LAMBDA_INTEGRATIONS = {"AWS_PROXY", "AWS"}
"""Lambda proxy and Lambda custom integrations, run by ``wsgate.gateway.lambda_runtime``."""
SUPPORTED_INTEGRATIONS = {"HTTP", "HTTP_PROXY", "MOCK"} | LAMBDA_INTEGRATIONS
DEFAULT_TIMEOUT_MS = 29_000


def _throttle(settings: Mapping[str, Any] | None) -> Throttle | None:
    if not settings:
        return None
    # An unset value is 0 in AWS, which refuses everything: reproduce that trap faithfully.
    return Throttle(
        burst=int(settings.get("ThrottlingBurstLimit", 0)),
        rate=float(settings.get("ThrottlingRateLimit", 0)),
    )


def rewrite_uri(uri: str, backend: str | None) -> str:
    """Keep the path (and query) of ``uri``; take scheme, host and port from ``backend``."""
    if not backend:
        return uri
    parts = urlsplit(uri)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return backend.rstrip("/") + path


class _Loader:
    def __init__(self, resolver: Resolver, backend: str | None) -> None:
        self.r = resolver
        self.backend = backend
        self.functions: dict[str, FunctionSpec] = {}
        """Functions the template itself declares, by ARN."""
        self.by_type: dict[str, list[str]] = {}
        for logical_id, resource in resolver.resources.items():
            if resolver.active(logical_id):
                self.by_type.setdefault(resource.get("Type", ""), []).append(logical_id)

    def props(self, logical_id: str) -> dict[str, Any]:
        raw = self.r.resources[logical_id].get("Properties", {})
        resolved: dict[str, Any] = self.r.resolve(raw, logical_id)
        return resolved

    def of(self, kind: str) -> list[str]:
        return self.by_type.get(kind, [])

    def ref_target(self, value: Any) -> str | None:
        """The logical id a raw ``{"Ref": X}`` (or ``integrations/X`` join) points at."""
        if isinstance(value, dict) and "Ref" in value:
            return str(value["Ref"])
        if isinstance(value, dict) and "Fn::If" in value:
            condition, when_true, when_false = value["Fn::If"]
            return self.ref_target(when_true if self.r.condition(condition) else when_false)
        if isinstance(value, dict) and "Fn::Join" in value:
            for part in value["Fn::Join"][1]:
                found = self.ref_target(part)
                if found:
                    return found
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            for logical_id in self.r.resources:
                if "${" + logical_id + "}" in text:
                    return logical_id
        return None

    def integration(self, logical_id: str) -> Integration:
        props = self.props(logical_id)
        kind = props.get("IntegrationType", "")
        if kind not in SUPPORTED_INTEGRATIONS:
            raise UnsupportedTemplateError(
                logical_id,
                "IntegrationType",
                f"{kind!r} is not emulated locally (supported: {sorted(SUPPORTED_INTEGRATIONS)})",
            )
        uri = props.get("IntegrationUri")
        function = None
        if kind in LAMBDA_INTEGRATIONS:
            function = self.function(logical_id, uri)
        elif kind != "MOCK":
            if not uri:
                raise UnsupportedTemplateError(logical_id, "IntegrationUri", "is required")
            uri = rewrite_uri(str(uri), self.backend)
        timeout_ms = int(props.get("TimeoutInMillis", DEFAULT_TIMEOUT_MS))
        responses = {}
        for response_id in self.of("AWS::ApiGatewayV2::IntegrationResponse"):
            raw = self.r.resources[response_id]["Properties"]
            if self.ref_target(raw.get("IntegrationId")) == logical_id:
                rp = self.props(response_id)
                responses[str(rp["IntegrationResponseKey"])] = IntegrationResponse(
                    templates=dict(rp.get("ResponseTemplates", {})),
                    template_selection=rp.get("TemplateSelectionExpression"),
                )
        return Integration(
            logical_id=logical_id,
            type=kind,
            method=str(props.get("IntegrationMethod", "POST")),
            uri=uri,
            request_templates=dict(props.get("RequestTemplates", {})),
            template_selection=props.get("TemplateSelectionExpression"),
            request_parameters=dict(props.get("RequestParameters", {})),
            timeout_s=timeout_ms / 1000,
            responses=responses,
            function=function,
        )

    def function(self, logical_id: str, uri: Any) -> FunctionSpec:
        """The local code behind a Lambda integration's URI (see ``lambda_functions``)."""
        if not isinstance(uri, str) or (":lambda:" not in uri and uri not in self.functions):
            raise UnsupportedTemplateError(
                logical_id, "IntegrationUri", f"{uri!r} is not a Lambda function (ARN or URI)"
            )
        try:
            return resolve_function(function_arn_of(uri), self.functions)
        except UnknownFunctionError as error:
            raise UnsupportedTemplateError(logical_id, "IntegrationUri", str(error)) from None

    def load(self, api_logical_id: str) -> WebSocketApiConfig:
        api = self.props(api_logical_id)
        if api.get("ProtocolType") != "WEBSOCKET":
            raise UnsupportedTemplateError(api_logical_id, "ProtocolType", "must be WEBSOCKET")
        authorizers = self._authorizers(api_logical_id)
        routes = self._routes(api_logical_id, authorizers)
        models = self._models(api_logical_id, routes)
        api_keys = {lid: self._key_value(lid) for lid in self.of("AWS::ApiGateway::ApiKey")}
        return WebSocketApiConfig(
            api_id=make_api_id(api_logical_id + self.r.pseudo["AWS::StackName"]),
            name=str(api.get("Name", api_logical_id)),
            route_selection=str(api.get("RouteSelectionExpression", "$request.body.action")),
            api_key_selection=api.get("ApiKeySelectionExpression"),
            routes=routes,
            models=models,
            authorizers=authorizers,
            stage=self._stage(api_logical_id),
            usage_plans=self._usage_plans(api_logical_id, api_keys),
            mapping_keys=self._mapping_keys(api_logical_id),
            api_keys=api_keys,
        )

    def _for_api(self, kind: str, api_logical_id: str) -> list[str]:
        """Resources of ``kind`` whose ``ApiId`` points at the API (a template may hold more)."""
        return [
            lid
            for lid in self.of(kind)
            if self.ref_target(self.r.resources[lid].get("Properties", {}).get("ApiId"))
            == api_logical_id
        ]

    def _authorizers(self, api_logical_id: str) -> dict[str, Authorizer]:
        authorizers = {}
        for lid in self._for_api("AWS::ApiGatewayV2::Authorizer", api_logical_id):
            props = self.props(lid)
            if props.get("AuthorizerType") != "REQUEST":
                raise UnsupportedTemplateError(lid, "AuthorizerType", "only REQUEST is emulated")
            uri = str(props["AuthorizerUri"])
            arn = uri.split("/functions/", 1)[-1].removesuffix("/invocations")
            authorizers[lid] = Authorizer(lid, list(props.get("IdentitySource", [])), arn)
        return authorizers

    def _routes(
        self, api_logical_id: str, authorizers: Mapping[str, Authorizer]
    ) -> dict[str, Route]:
        with_response = set()
        for lid in self._for_api("AWS::ApiGatewayV2::RouteResponse", api_logical_id):
            target = self.ref_target(self.r.resources[lid]["Properties"].get("RouteId"))
            if target:
                with_response.add(target)
        routes = {}
        for lid in self._for_api("AWS::ApiGatewayV2::Route", api_logical_id):
            route = self._route(lid, authorizers, two_way_capable=lid in with_response)
            routes[route.key] = route
        return routes

    def _route(
        self, lid: str, authorizers: Mapping[str, Authorizer], *, two_way_capable: bool
    ) -> Route:
        """One route; it is two-way only if it has a selection expression and a RouteResponse."""
        raw = self.r.resources[lid]["Properties"]
        props = self.props(lid)
        target = self.ref_target(raw.get("Target"))
        key = str(props["RouteKey"])
        return Route(
            key=key,
            integration=self.integration(target) if target else None,
            authorizer=self._route_authorizer(lid, props, raw, authorizers),
            api_key_required=bool(props.get("ApiKeyRequired", False)),
            model_selection=props.get("ModelSelectionExpression"),
            request_models=dict(props.get("RequestModels", {})),
            two_way=bool(props.get("RouteResponseSelectionExpression")) and two_way_capable,
        )

    def _route_authorizer(
        self,
        lid: str,
        props: Mapping[str, Any],
        raw: Mapping[str, Any],
        authorizers: Mapping[str, Authorizer],
    ) -> str | None:
        """The logical id of the route's CUSTOM authorizer, None for NONE; others are refused."""
        if props.get("AuthorizationType") == "CUSTOM":
            authorizer = self.ref_target(raw.get("AuthorizerId"))
            if authorizer not in authorizers:
                raise UnsupportedTemplateError(lid, "AuthorizerId", "no such authorizer")
            return authorizer
        if props.get("AuthorizationType") not in (None, "NONE"):
            raise UnsupportedTemplateError(
                lid, "AuthorizationType", f"{props['AuthorizationType']} is not emulated"
            )
        return None

    def _models(
        self, api_logical_id: str, routes: Mapping[str, Route]
    ) -> dict[str, dict[str, Any]]:
        """The API's models by name; a route naming an undeclared model is refused."""
        models = {}
        for lid in self._for_api("AWS::ApiGatewayV2::Model", api_logical_id):
            props = self.props(lid)
            schema = props["Schema"]
            models[str(props["Name"])] = json.loads(schema) if isinstance(schema, str) else schema
        for route in routes.values():
            for model_name in route.request_models.values():
                if model_name not in models:
                    raise UnsupportedTemplateError(
                        route.key, "RequestModels", f"names model {model_name!r}, not declared"
                    )
        return models

    def _stage(self, api_logical_id: str) -> Stage:
        stages = self._for_api("AWS::ApiGatewayV2::Stage", api_logical_id)
        if len(stages) != 1:
            raise UnsupportedTemplateError(
                api_logical_id, "Stage", f"exactly one stage is emulated, found {len(stages)}"
            )
        sp = self.props(stages[0])
        default_settings = sp.get("DefaultRouteSettings", {})
        return Stage(
            name=str(sp["StageName"]),
            variables={k: str(v) for k, v in sp.get("StageVariables", {}).items()},
            default_throttle=_throttle(default_settings),
            route_throttles={
                k: t for k, v in sp.get("RouteSettings", {}).items() if (t := _throttle(v))
            },
            logging_level=str(default_settings.get("LoggingLevel", "OFF")),
            access_log_format=sp.get("AccessLogSettings", {}).get("Format"),
        )

    def _usage_plans(self, api_logical_id: str, api_keys: Mapping[str, str]) -> list[UsagePlan]:
        """The usage plans that list one of the API's stages (``ApiStages``)."""
        plans = []
        for lid in self.of("AWS::ApiGateway::UsagePlan"):
            stages_raw = self.r.resources[lid]["Properties"].get("ApiStages", [])
            if any(self.ref_target(s.get("ApiId")) == api_logical_id for s in stages_raw):
                plans.append(self._usage_plan(lid, self._plan_members(lid, api_keys)))
        return plans

    def _plan_members(self, plan_lid: str, api_keys: Mapping[str, str]) -> frozenset[str]:
        """The key values a plan's ``UsagePlanKey`` resources attach to it."""
        members = set()
        for key_link in self.of("AWS::ApiGateway::UsagePlanKey"):
            link = self.r.resources[key_link]["Properties"]
            if self.ref_target(link.get("UsagePlanId")) == plan_lid:
                key_id = self.ref_target(link.get("KeyId"))
                if key_id is not None and key_id in api_keys:
                    members.add(api_keys[key_id])
        return frozenset(members)

    def _usage_plan(self, lid: str, members: frozenset[str]) -> UsagePlan:
        props = self.props(lid)
        throttle = props.get("Throttle")
        quota = props.get("Quota", {})
        if quota.get("Period", "MONTH") not in QUOTA_PERIODS:
            raise UnsupportedTemplateError(lid, "Quota.Period", "must be DAY, WEEK or MONTH")
        return UsagePlan(
            name=str(props.get("UsagePlanName", lid)),
            throttle=Throttle(int(throttle["BurstLimit"]), float(throttle["RateLimit"]))
            if throttle
            else None,
            quota_limit=int(quota["Limit"]) if "Limit" in quota else None,
            quota_period=quota.get("Period"),
            quota_offset=int(quota.get("Offset", 0)),
            key_values=members,
        )

    def _mapping_keys(self, api_logical_id: str) -> list[str]:
        """The custom domain's base paths for the API (``ApiMappingKey``); each serves it too."""
        mapping_keys = []
        for lid in self.of("AWS::ApiGatewayV2::ApiMapping"):
            raw = self.r.resources[lid]["Properties"]
            if self.ref_target(raw.get("ApiId")) == api_logical_id:
                mapping_key = self.props(lid).get("ApiMappingKey")
                if mapping_key:
                    mapping_keys.append(str(mapping_key))
        return mapping_keys

    def _key_value(self, logical_id: str) -> str:
        value = self.props(logical_id).get("Value")
        if value:
            return str(value)
        # AWS generates a value; locally, a stable one derived from the key's logical id.
        import hashlib

        return hashlib.sha256(f"wsgate-local-{logical_id}".encode()).hexdigest()[:40]


def load_api(
    template: Mapping[str, Any] | Path | str,
    *,
    parameters: Mapping[str, str] | None = None,
    backend: str | None = None,
    pseudo: Mapping[str, str] | None = None,
) -> WebSocketApiConfig:
    """The one WebSocket API declared in ``template`` (a path or parsed JSON)."""
    base_dir = Path.cwd()
    document: Mapping[str, Any]
    if isinstance(template, (Path, str)):
        path = Path(template)
        base_dir = path.resolve().parent
        document = read_template(path)
    else:
        document = template
    resolver = Resolver(document, dict(parameters or {}))
    if pseudo:
        resolver.pseudo = {**resolver.pseudo, **pseudo}
    loader = _Loader(resolver, backend)
    loader.functions = load_template_functions(resolver, loader.by_type, loader.props, base_dir)
    apis = loader.of("AWS::ApiGatewayV2::Api")
    if len(apis) != 1:
        raise UnsupportedTemplateError(
            "Resources", "AWS::ApiGatewayV2::Api", f"exactly one API is emulated, found {len(apis)}"
        )
    return loader.load(apis[0])

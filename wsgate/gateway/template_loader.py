"""Read a CloudFormation template into the typed description of one WebSocket API.

Only the API Gateway resources matter here; everything else (VPC, NLB, IAM, DynamoDB...) is
ignored, except where a reference into it must be resolved. What the gateway cannot emulate is
refused up front with :class:`UnsupportedTemplateError`, naming the resource and property.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wsgate.gateway.ids import api_id as make_api_id
from wsgate.gateway.intrinsics import Resolver, UnsupportedTemplateError
from wsgate.gateway.lambda_functions import function_arn_of, resolve_function
from wsgate.gateway.lambda_runtime import FunctionSpec, UnknownFunctionError
from wsgate.gateway.lambda_template import load_template_functions
from wsgate.gateway.template_yaml import read_template

LAMBDA_INTEGRATIONS = {"AWS_PROXY", "AWS"}
"""Lambda proxy and Lambda custom integrations, run by ``wsgate.gateway.lambda_runtime``."""
SUPPORTED_INTEGRATIONS = {"HTTP", "HTTP_PROXY", "MOCK"} | LAMBDA_INTEGRATIONS
DEFAULT_TIMEOUT_MS = 29_000


@dataclass(frozen=True)
class IntegrationResponse:
    templates: dict[str, str]
    template_selection: str | None


@dataclass(frozen=True)
class Integration:
    logical_id: str
    type: str
    method: str
    uri: str | None
    """Rewritten to the local backend (scheme, host and port replaced; path kept)."""
    request_templates: dict[str, str]
    template_selection: str | None
    request_parameters: dict[str, str]
    timeout_s: float
    responses: dict[str, IntegrationResponse] = field(default_factory=dict)
    function: FunctionSpec | None = None
    """The Lambda function of an ``AWS_PROXY`` / ``AWS`` integration."""


@dataclass(frozen=True)
class Route:
    key: str
    integration: Integration | None
    authorizer: str | None
    api_key_required: bool
    model_selection: str | None
    request_models: dict[str, str]
    two_way: bool


@dataclass(frozen=True)
class Authorizer:
    logical_id: str
    identity_sources: list[str]
    function_arn: str


@dataclass(frozen=True)
class Throttle:
    burst: int
    rate: float


@dataclass(frozen=True)
class Stage:
    name: str
    variables: dict[str, str]
    default_throttle: Throttle | None
    route_throttles: dict[str, Throttle]
    logging_level: str
    access_log_format: str | None


QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")


@dataclass(frozen=True)
class UsagePlan:
    name: str
    throttle: Throttle | None
    quota_limit: int | None
    quota_period: str | None
    quota_offset: int
    key_values: frozenset[str]


@dataclass(frozen=True)
class WebSocketApiConfig:
    api_id: str
    name: str
    route_selection: str
    api_key_selection: str | None
    routes: dict[str, Route]
    models: dict[str, dict[str, Any]]
    authorizers: dict[str, Authorizer]
    stage: Stage
    usage_plans: list[UsagePlan]
    mapping_keys: list[str]
    api_keys: dict[str, str] = field(default_factory=dict)
    """Logical id -> value, for printing the development key."""


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

        def for_api(kind: str) -> list[str]:
            return [
                lid
                for lid in self.of(kind)
                if self.ref_target(self.r.resources[lid].get("Properties", {}).get("ApiId"))
                == api_logical_id
            ]

        authorizers = {}
        for lid in for_api("AWS::ApiGatewayV2::Authorizer"):
            props = self.props(lid)
            if props.get("AuthorizerType") != "REQUEST":
                raise UnsupportedTemplateError(lid, "AuthorizerType", "only REQUEST is emulated")
            uri = str(props["AuthorizerUri"])
            arn = uri.split("/functions/", 1)[-1].removesuffix("/invocations")
            authorizers[lid] = Authorizer(lid, list(props.get("IdentitySource", [])), arn)

        routes_with_response = set()
        for lid in for_api("AWS::ApiGatewayV2::RouteResponse"):
            target = self.ref_target(self.r.resources[lid]["Properties"].get("RouteId"))
            if target:
                routes_with_response.add(target)

        routes = {}
        for lid in for_api("AWS::ApiGatewayV2::Route"):
            raw = self.r.resources[lid]["Properties"]
            props = self.props(lid)
            target = self.ref_target(raw.get("Target"))
            authorizer = None
            if props.get("AuthorizationType") == "CUSTOM":
                authorizer = self.ref_target(raw.get("AuthorizerId"))
                if authorizer not in authorizers:
                    raise UnsupportedTemplateError(lid, "AuthorizerId", "no such authorizer")
            elif props.get("AuthorizationType") not in (None, "NONE"):
                raise UnsupportedTemplateError(
                    lid, "AuthorizationType", f"{props['AuthorizationType']} is not emulated"
                )
            key = str(props["RouteKey"])
            routes[key] = Route(
                key=key,
                integration=self.integration(target) if target else None,
                authorizer=authorizer,
                api_key_required=bool(props.get("ApiKeyRequired", False)),
                model_selection=props.get("ModelSelectionExpression"),
                request_models=dict(props.get("RequestModels", {})),
                two_way=bool(props.get("RouteResponseSelectionExpression"))
                and lid in routes_with_response,
            )

        models = {}
        for lid in for_api("AWS::ApiGatewayV2::Model"):
            props = self.props(lid)
            schema = props["Schema"]
            models[str(props["Name"])] = json.loads(schema) if isinstance(schema, str) else schema

        for route in routes.values():
            for model_name in route.request_models.values():
                if model_name not in models:
                    raise UnsupportedTemplateError(
                        route.key, "RequestModels", f"names model {model_name!r}, not declared"
                    )

        stages = for_api("AWS::ApiGatewayV2::Stage")
        if len(stages) != 1:
            raise UnsupportedTemplateError(
                api_logical_id, "Stage", f"exactly one stage is emulated, found {len(stages)}"
            )
        sp = self.props(stages[0])
        default_settings = sp.get("DefaultRouteSettings", {})
        stage = Stage(
            name=str(sp["StageName"]),
            variables={k: str(v) for k, v in sp.get("StageVariables", {}).items()},
            default_throttle=_throttle(default_settings),
            route_throttles={
                k: t for k, v in sp.get("RouteSettings", {}).items() if (t := _throttle(v))
            },
            logging_level=str(default_settings.get("LoggingLevel", "OFF")),
            access_log_format=sp.get("AccessLogSettings", {}).get("Format"),
        )

        api_keys = {lid: self._key_value(lid) for lid in self.of("AWS::ApiGateway::ApiKey")}
        plans = []
        for lid in self.of("AWS::ApiGateway::UsagePlan"):
            raw = self.r.resources[lid]["Properties"]
            stages_raw = raw.get("ApiStages", [])
            if not any(self.ref_target(s.get("ApiId")) == api_logical_id for s in stages_raw):
                continue
            props = self.props(lid)
            members = set()
            for key_link in self.of("AWS::ApiGateway::UsagePlanKey"):
                link = self.r.resources[key_link]["Properties"]
                if self.ref_target(link.get("UsagePlanId")) == lid:
                    key_id = self.ref_target(link.get("KeyId"))
                    if key_id in api_keys:
                        members.add(api_keys[key_id])
            throttle = props.get("Throttle")
            quota = props.get("Quota", {})
            if quota.get("Period", "MONTH") not in QUOTA_PERIODS:
                raise UnsupportedTemplateError(lid, "Quota.Period", "must be DAY, WEEK or MONTH")
            plans.append(
                UsagePlan(
                    name=str(props.get("UsagePlanName", lid)),
                    throttle=Throttle(int(throttle["BurstLimit"]), float(throttle["RateLimit"]))
                    if throttle
                    else None,
                    quota_limit=int(quota["Limit"]) if "Limit" in quota else None,
                    quota_period=quota.get("Period"),
                    quota_offset=int(quota.get("Offset", 0)),
                    key_values=frozenset(members),
                )
            )

        mapping_keys = []
        for lid in self.of("AWS::ApiGatewayV2::ApiMapping"):
            raw = self.r.resources[lid]["Properties"]
            if self.ref_target(raw.get("ApiId")) == api_logical_id:
                mapping_key = self.props(lid).get("ApiMappingKey")
                if mapping_key:
                    mapping_keys.append(str(mapping_key))

        return WebSocketApiConfig(
            api_id=make_api_id(api_logical_id + self.r.pseudo["AWS::StackName"]),
            name=str(api.get("Name", api_logical_id)),
            route_selection=str(api.get("RouteSelectionExpression", "$request.body.action")),
            api_key_selection=api.get("ApiKeySelectionExpression"),
            routes=routes,
            models=models,
            authorizers=authorizers,
            stage=stage,
            usage_plans=plans,
            mapping_keys=mapping_keys,
            api_keys=api_keys,
        )

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

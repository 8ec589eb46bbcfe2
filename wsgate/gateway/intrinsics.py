"""Resolve the CloudFormation intrinsics a wsgate template uses, as CloudFormation would.

Resolution is lazy: only the properties the gateway reads are resolved, so resources it ignores
(VPC, NLB, IAM...) may use any intrinsic. A reference the gateway cannot give a local meaning
raises :class:`UnsupportedTemplateError` naming the resource and property.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()
"""``{"Ref": "AWS::NoValue"}``: the property is removed."""

PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "wsgate-local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/wsgate-local/local",
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class UnsupportedTemplateError(ValueError):
    """The template asks for something the local gateway cannot emulate."""

    def __init__(self, resource: str, prop: str, why: str) -> None:
        super().__init__(f"{resource}.{prop}: {why}")
        self.resource = resource
        self.prop = prop


@dataclass
class Resolver:
    """Parameters (with overrides), conditions and resources of one template."""

    template: Mapping[str, Any]
    overrides: Mapping[str, str] = field(default_factory=dict)
    pseudo: Mapping[str, str] = field(default_factory=lambda: dict(PSEUDO_PARAMETERS))
    _conditions: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters", {})
        unknown = sorted(set(self.overrides) - set(declared))
        if unknown:
            raise UnsupportedTemplateError(
                "Parameters", unknown[0], f"no such parameter (declared: {sorted(declared)})"
            )

    @property
    def resources(self) -> Mapping[str, Any]:
        resources: Mapping[str, Any] = self.template.get("Resources", {})
        return resources

    def parameter(self, name: str, where: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        declared = self.template.get("Parameters", {})
        if name not in declared:
            if name in self.resources:
                return self.physical_id(name)
            raise UnsupportedTemplateError(where, "Ref", f"unknown parameter or resource {name}")
        if name in self.overrides:
            value: Any = self.overrides[name]
        elif "Default" in declared[name]:
            value = declared[name]["Default"]
        else:
            raise UnsupportedTemplateError(
                "Parameters", name, "has no Default: pass it with --param Name=Value"
            )
        if (
            str(declared[name].get("Type", "")).startswith("List<")
            or declared[name].get("Type") == "CommaDelimitedList"
        ):
            return [v.strip() for v in str(value).split(",")]
        return value if isinstance(value, str) else str(value)

    def physical_id(self, logical_id: str) -> str:
        """What ``Ref`` returns for a resource: its declared name where CloudFormation uses it,
        else a deterministic AWS-looking id."""
        resource = self.resources[logical_id]
        kind = resource.get("Type", "")
        props = resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table" and "TableName" in props:
            return str(self.resolve(props["TableName"], f"{logical_id}.TableName"))
        if kind == "AWS::ApiGatewayV2::Stage":
            return str(self.resolve(props["StageName"], f"{logical_id}.StageName"))
        if kind == "AWS::ApiGateway::ApiKey":
            return "key" + hashlib.sha256(logical_id.encode()).hexdigest()[:7]
        return hashlib.sha256(logical_id.encode()).hexdigest()[:10]

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            declared = self.template.get("Conditions", {})
            if name not in declared:
                raise UnsupportedTemplateError("Conditions", name, "is not declared")
            self._conditions[name] = bool(self.resolve(declared[name], f"Conditions.{name}"))
        return self._conditions[name]

    def active(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def resolve(self, value: Any, where: str) -> Any:
        """``value`` with every intrinsic replaced; ``NO_VALUE`` entries removed."""
        if isinstance(value, list):
            items = [self.resolve(item, where) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return NO_VALUE if arg == "AWS::NoValue" else self.parameter(arg, where)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key, arg, where)
        resolved = {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, name: str, arg: Any, where: str) -> Any:
        function = _FUNCTIONS.get(name)
        if function is None:
            raise UnsupportedTemplateError(where, name, "this intrinsic function is not supported")
        return function(self, arg, where)

    def _join(self, arg: Any, where: str) -> str:
        separator, items = arg
        return str(separator).join(str(v) for v in self.resolve(items, where))

    def _if(self, arg: Any, where: str) -> Any:
        condition, when_true, when_false = arg
        return self.resolve(when_true if self.condition(condition) else when_false, where)

    def _equals(self, arg: Any, where: str) -> bool:
        left, right = (self.resolve(v, where) for v in arg)
        return str(left) == str(right)

    def _not(self, arg: Any, where: str) -> bool:
        return not self.resolve(arg[0], where)

    def _and(self, arg: Any, where: str) -> bool:
        return all(self.resolve(v, where) for v in arg)

    def _or(self, arg: Any, where: str) -> bool:
        return any(self.resolve(v, where) for v in arg)

    def _select(self, arg: Any, where: str) -> Any:
        index, items = arg
        return self.resolve(items, where)[int(self.resolve(index, where))]

    def _split(self, arg: Any, where: str) -> list[str]:
        separator, text = arg
        return str(self.resolve(text, where)).split(separator)

    def _get_azs(self, arg: Any, where: str) -> list[str]:
        region = self.pseudo["AWS::Region"]
        return [f"{region}a", f"{region}b", f"{region}c"]

    def _get_att_function(self, arg: Any, where: str) -> str:
        logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return self._get_att(str(logical_id), str(attribute), where)

    def _get_att(self, logical_id: str, attribute: str, where: str) -> str:
        if logical_id not in self.resources:
            raise UnsupportedTemplateError(where, "Fn::GetAtt", f"unknown resource {logical_id}")
        # Attributes of resources that do not exist locally: plausible, deterministic values.
        digest = hashlib.sha256(f"{logical_id}.{attribute}".encode()).hexdigest()[:12]
        if attribute == "DNSName":
            return f"{logical_id.lower()}-{digest}.elb.{self.pseudo['AWS::Region']}.amazonaws.com"
        if attribute == "Arn":
            return f"arn:aws:local:{self.pseudo['AWS::Region']}:123456789012:{logical_id}"
        return digest

    def _sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, list):
            text, variables = arg
            variables = {k: self.resolve(v, where) for k, v in variables.items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is the escape for a literal ${...}
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                logical_id, attribute = name.split(".", 1)
                return self._get_att(logical_id, attribute, where)
            return str(self.parameter(name, where))

        return _SUB_VARIABLE.sub(replace, str(text))


_FUNCTIONS: dict[str, Callable[[Resolver, Any, str], Any]] = {
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::If": Resolver._if,
    "Fn::Equals": Resolver._equals,
    "Fn::Not": Resolver._not,
    "Fn::And": Resolver._and,
    "Fn::Or": Resolver._or,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::GetAZs": Resolver._get_azs,
    "Fn::GetAtt": Resolver._get_att_function,
}
"""The intrinsic functions the local gateway evaluates; any other is refused by name."""

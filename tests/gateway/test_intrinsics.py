"""Each intrinsic function the local gateway evaluates, and the refusal of the others.

Semantics: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

from typing import Any

import pytest

from wsgate.gateway.intrinsics import Resolver, UnsupportedTemplateError

TEMPLATE: dict[str, Any] = {
    "Parameters": {"Name": {"Type": "String", "Default": "d"}},
    "Conditions": {"Yes": {"Fn::Equals": ["a", "a"]}},
    "Resources": {"Balancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"}},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Fn::Sub": ["${X}-${Name}", {"X": "x"}]}, "x-n"),
        ({"Fn::Join": [",", ["a", {"Ref": "Name"}]]}, "a,n"),
        ({"Fn::If": ["Yes", "t", "f"]}, "t"),
        ({"Fn::Equals": [{"Ref": "Name"}, "n"]}, True),
        ({"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}, True),
        ({"Fn::And": [{"Fn::Equals": ["a", "a"]}, {"Fn::Equals": ["a", "b"]}]}, False),
        ({"Fn::Or": [{"Fn::Equals": ["a", "a"]}, {"Fn::Equals": ["a", "b"]}]}, True),
        ({"Fn::Select": [2, ["a", "b", "c"]]}, "c"),
        ({"Fn::Split": ["/", "a/b"]}, ["a", "b"]),
        ({"Fn::GetAZs": ""}, ["us-east-1a", "us-east-1b", "us-east-1c"]),
    ],
)
def test_each_intrinsic(expression: dict[str, Any], expected: Any) -> None:
    assert Resolver(TEMPLATE, {"Name": "n"}).resolve(expression, "x") == expected


def test_get_att_in_both_forms_is_deterministic() -> None:
    resolver = Resolver(TEMPLATE, {})
    listed = resolver.resolve({"Fn::GetAtt": ["Balancer", "DNSName"]}, "x")
    dotted = resolver.resolve({"Fn::GetAtt": "Balancer.DNSName"}, "x")
    assert listed == dotted
    assert listed.startswith("balancer-") and listed.endswith(".elb.us-east-1.amazonaws.com")


@pytest.mark.parametrize("name", ["Fn::Base64", "Fn::ImportValue", "Fn::FindInMap"])
def test_other_functions_are_refused_by_name(name: str) -> None:
    with pytest.raises(UnsupportedTemplateError, match=name):
        Resolver(TEMPLATE, {}).resolve({name: "anything"}, "Resources.X")

"""``$input.path(...)`` results answer the Java methods mapping templates call on them.

The mapping-template reference's example is ``$input.path('$.pets').size()``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html,
``$input.path(x)``); JSONPath there is Jayway's, where an indefinite path (wildcard, filter,
deep scan) yields a list even for one match.
"""

from __future__ import annotations

import json

import pytest

from wsgate.gateway.vtl import render

BODY = json.dumps(
    {"pets": [{"n": 1}, {"n": 2}], "one": [{"n": 7}], "empty": [], "o": {"a": 1, "b": 2}}
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$input.path('$.pets').size()", "2"),
        ("$input.path('$.pets').count()", "2"),
        ("$input.path('$.pets[*].n').size()", "2"),
        ("$input.path('$.one[*].n').size()", "1"),
        ("$input.path('$..n').size()", "3"),
        ("$input.path('$.o').size()", "2"),
        ("$input.path('$').size()", "4"),
        ("#if($input.path('$.empty').isEmpty())none#end", "none"),
        ("$input.path('$.pets').get(1).n", "2"),
        ("#foreach($p in $input.path('$.pets'))$p.n;#end", "1;2;"),
        ("$util.parseJson('[1,2,3]').size()", "3"),
        ("$input.json('$.one[*].n')", "[7]"),
    ],
)
def test_java_methods_on_input_path(template: str, expected: str) -> None:
    assert render(template, context={}, body=BODY) == expected

"""A small IAM policy evaluator for identity policies: enough to prove what a policy allows.

It implements the parts of AWS's evaluation logic our policies use: an explicit ``Deny`` wins,
otherwise some ``Allow`` statement must match the action (case-insensitive, ``*``/``?``
wildcards), the resource (case-sensitive, wildcards match across ``:`` and ``/``) and every
condition (``StringEquals``/``StringLike``; a missing context key fails the condition).
Anything else in a policy (``NotAction``, other operators) is refused loudly rather than
guessed at. Rules from
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html and
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

SUPPORTED_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}
OPERATORS = {"StringEquals", "StringLike"}


class UnsupportedPolicy(ValueError):
    """The policy uses an element this evaluator does not implement."""


@lru_cache(maxsize=1024)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob]
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


def glob_match(glob: str, value: str, *, ignore_case: bool = False) -> bool:
    return _pattern(glob, ignore_case).fullmatch(value) is not None


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in conditions.items():
        if operator not in OPERATORS:
            raise UnsupportedPolicy(f"condition operator {operator}")
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "StringEquals":
                ok = actual in _as_list(expected)
            else:
                ok = any(glob_match(glob, actual) for glob in _as_list(expected))
            if not ok:
                return False
    return True


def statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = [dict(s) for s in _as_list_of_dicts(policy["Statement"])]
    for statement in found:
        unknown = set(statement) - SUPPORTED_KEYS
        if unknown:
            raise UnsupportedPolicy(f"statement elements {sorted(unknown)}")
    return found


def _as_list_of_dicts(value: Any) -> list[Mapping[str, Any]]:
    return [value] if isinstance(value, Mapping) else list(value)


def _matches(
    statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]
) -> bool:
    return (
        any(glob_match(a, action, ignore_case=True) for a in _as_list(statement["Action"]))
        and any(glob_match(r, resource) for r in _as_list(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), context)
    )


def allowed(
    policy: Mapping[str, Any],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Whether ``policy`` alone lets a principal do ``action`` on ``resource``."""
    context = context or {}
    verdict = False
    for statement in statements(policy):
        if _matches(statement, action, resource, context):
            if statement["Effect"] == "Deny":
                return False
            verdict = True
    return verdict

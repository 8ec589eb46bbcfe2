"""``--param Key=Value`` for the commands that load a template (``gateway``, ``local``).

Values are checked against the template's own ``Parameters`` declarations, as CloudFormation
checks them before creating anything: the name must be declared, and the value must satisfy
its ``Type`` (``Number``, ``List<Number>``, ``CommaDelimitedList``, ``String``...),
``AllowedValues``, ``AllowedPattern`` (a whole-value match), ``MinLength``/``MaxLength`` and
``MinValue``/``MaxValue``
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html).
The constraints live in the template only; nothing here repeats them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import click


def parse_parameters(values: tuple[str, ...]) -> dict[str, str]:
    """Template parameter overrides; a later ``--param`` for the same key wins."""
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected Key=Value, got {value!r}", param_hint="--param")
        result[key] = rest
    return result


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _type_problem(kind: str, value: str) -> str | None:
    if kind == "Number" and _number(value) is None:
        return "must be a number"
    if kind == "List<Number>" and any(_number(item) is None for item in value.split(",")):
        return "must be comma-separated numbers"
    return None


def _length_problem(spec: Mapping[str, Any], value: str) -> str | None:
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"must be at least {spec['MinLength']} characters (got {len(value)})"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"must be at most {spec['MaxLength']} characters (got {len(value)})"
    return None


def _range_problem(spec: Mapping[str, Any], value: str) -> str | None:
    number = _number(value)
    if number is None:
        return None
    if "MinValue" in spec and number < float(spec["MinValue"]):
        return f"must be at least {spec['MinValue']}"
    if "MaxValue" in spec and number > float(spec["MaxValue"]):
        return f"must be at most {spec['MaxValue']}"
    return None


def parameter_problem(spec: Mapping[str, Any], value: str) -> str | None:
    """What is wrong with ``value`` for a parameter declared as ``spec``, or None."""
    problem = _type_problem(str(spec.get("Type", "String")), value)
    allowed = spec.get("AllowedValues")
    if problem is None and allowed is not None and value not in [str(a) for a in allowed]:
        problem = f"must be one of {', '.join(str(a) for a in allowed)}"
    pattern = spec.get("AllowedPattern")
    if problem is None and pattern is not None and not re.fullmatch(str(pattern), value):
        problem = str(spec.get("ConstraintDescription") or f"must match {pattern}")
    problem = problem or _length_problem(spec, value) or _range_problem(spec, value)
    if problem is not None and "ConstraintDescription" in spec and pattern is None:
        problem += f" ({spec['ConstraintDescription']})"
    return problem


def check_parameters(
    template: Mapping[str, Any], values: Mapping[str, str], flags: Mapping[str, str] | None = None
) -> None:
    """Refuse undeclared names and values the template's constraints reject.

    ``flags`` names the option a parameter came from when it is not ``--param`` (``local``'s
    ``--api-key`` fills ``DevApiKeyValue``), so the message names what the user typed.
    """
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    flags = flags or {}
    for name, value in values.items():
        flag = flags.get(name, "--param")
        if name not in declared:
            raise click.BadParameter(
                f"the template declares no parameter {name!r}; "
                f"its parameters are {', '.join(sorted(declared))}",
                param_hint=flag,
            )
        problem = parameter_problem(declared[name], value)
        if problem is not None:
            # A flag's value may be a key or secret: only a --param is echoed back.
            shown = f"{value!r} for " if flag == "--param" else ""
            raise click.BadParameter(f"{shown}{name}: {problem}", param_hint=flag)

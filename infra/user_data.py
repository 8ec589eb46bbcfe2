"""The instance user data, kept as a runnable bash file (``ec2_service/deploy/user-data.sh``).

Its template values are written ``@@Name@@`` so the file stays plain bash: :func:`to_sub` turns
it into an ``Fn::Sub`` string for the launch template, :func:`render` fills it in directly for
the boot rehearsal test. Both start from the same text, so the test runs what instances run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

USER_DATA = Path(__file__).resolve().parents[1] / "ec2_service" / "deploy" / "user-data.sh"
PLACEHOLDER = re.compile(r"@@([A-Za-z0-9:]+)@@")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def render(text: str, values: Mapping[str, str]) -> str:
    """The script with every ``@@Name@@`` replaced by ``values[Name]``."""
    missing = sorted(placeholders(text) - set(values))
    if missing:
        raise KeyError(f"user data needs values for {missing}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def to_sub(text: str) -> str:
    """The script as an ``Fn::Sub`` string: bash's own ``${x}`` become ``${!x}`` (Sub's escape
    for a literal ``${x}``), and each ``@@Name@@`` becomes the Sub variable ``${Name}``."""
    return PLACEHOLDER.sub(lambda m: "${" + m.group(1) + "}", text.replace("${", "${!"))

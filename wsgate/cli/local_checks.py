"""``wsgate local``'s flags, checked before anything starts (no moto left behind a bad flag).

Template parameters are checked against the template ``wsgate local`` serves, synthesized the
same way (:func:`wsgate.local.reload_synth.local_synth_options`); the token secret against the
minimum the token code enforces; seed users against the user-id rule of the whole stack.
"""

from __future__ import annotations

from collections.abc import Mapping

import click

from chalice_app.chalicelib.tokens import MIN_SECRET_BYTES
from wsgate.cli.template_parameters import check_parameters
from wsgate.cli.validation import check_user_id

API_KEY_PARAMETER = "DevApiKeyValue"
"""The template parameter ``--api-key`` fills (the usage plan's development key)."""


def check_local_flags(
    *,
    api_key: str | None,
    token_secret: str | None,
    users: tuple[str, ...],
    parameters: Mapping[str, str],
    api_key_source: str,
) -> None:
    """Raise a one-line usage error for the first flag the stack would fail on."""
    from infra.template import synthesize
    from wsgate.local.reload_synth import local_synth_options
    from wsgate.local.stack_options import LOCAL_AUTHORIZER_ARN

    for user in users:
        check_user_id(user, "--seed-users")
    if token_secret is not None and len(token_secret.encode()) < MIN_SECRET_BYTES:
        raise click.BadParameter(
            f"the token secret must be at least {MIN_SECRET_BYTES} bytes (got "
            f"{len(token_secret.encode())}); omit it to have one generated",
            param_hint="--token-secret",
        )
    values = dict(parameters)
    flags = {}
    if api_key is not None:
        values[API_KEY_PARAMETER] = api_key
        flags[API_KEY_PARAMETER] = "--api-key"
    template = synthesize(local_synth_options(api_key_source, LOCAL_AUTHORIZER_ARN))
    check_parameters(template, values, flags)

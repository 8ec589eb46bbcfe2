"""``wsgate token``: mint a development token; the logic lives in ``chalice_app.chalicelib``."""

from __future__ import annotations

import click

from chalice_app.chalicelib.tokens import MAX_LIFETIME_S
from wsgate.cli.validation import check_user_id


def _user_api_key(user: str) -> str:
    """The user's own API key in the stage's usage plan, issued by the ops code on first use
    (the stack is found through its SSM parameters, as the ops Lambda finds it)."""
    from chalice_app.chalicelib import ops

    answer = ops.run({"action": "issue_api_key", "user": user})
    if "error" in answer:
        raise click.ClickException(f"could not issue an API key for {user}: {answer['error']}")
    return str(answer["value"])


@click.command()
@click.option(
    "--user",
    required=True,
    callback=lambda _ctx, _param, value: check_user_id(value),
    help="User id (the token's sub): 1-32 letters, digits, '_' or '-'.",
)
@click.option("--name", default=None, help="Display name (default: the user id).")
@click.option(
    "--ttl",
    type=click.IntRange(1, MAX_LIFETIME_S),
    default=3600,
    show_default=True,
    help="Seconds of validity (at most a day).",
)
@click.option("--api-key", default=None, help="API key for browsers (usageIdentifierKey).")
@click.option(
    "--user-api-key",
    is_flag=True,
    help="Issue (or reuse) the user's own API key in the usage plan and put it in the token.",
)
@click.option(
    "--secret",
    envvar="WSGATE_TOKEN_SECRET",
    default=None,
    help="Signing secret (default: read the SSM parameter, as the authorizer does).",
)
def token(
    user: str,
    name: str | None,
    ttl: int,
    api_key: str | None,
    user_api_key: bool,
    secret: str | None,
) -> None:
    """Print a signed token for USER that the $connect authorizer accepts."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalice_app.chalicelib.secret_parameter import get_secret, secret_parameter_name
    from chalice_app.chalicelib.tokens import mint_token

    if api_key and user_api_key:
        raise click.UsageError("pass --api-key or --user-api-key, not both")
    if secret is None:
        try:
            secret = get_secret()
        except (BotoCoreError, ClientError) as error:
            raise click.ClickException(
                f"could not read the token secret from SSM parameter "
                f"{secret_parameter_name()}: {error}. Pass --secret or set WSGATE_TOKEN_SECRET."
            ) from None
    if user_api_key:
        api_key = _user_api_key(user)
    try:
        click.echo(mint_token(secret, user, name=name, ttl_s=ttl, api_key=api_key))
    except ValueError as error:
        raise click.ClickException(str(error)) from None

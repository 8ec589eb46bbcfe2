"""``wsgate token``: mint a development token; the logic lives in ``chalice_app.chalicelib``."""

from __future__ import annotations

import click


@click.command()
@click.option("--user", required=True, help="User id (the token's sub).")
@click.option("--name", default=None, help="Display name (default: the user id).")
@click.option("--ttl", type=int, default=3600, show_default=True, help="Seconds of validity.")
@click.option("--api-key", default=None, help="API key for browsers (usageIdentifierKey).")
@click.option(
    "--secret",
    envvar="WSGATE_TOKEN_SECRET",
    default=None,
    help="Signing secret (default: read the SSM parameter, as the authorizer does).",
)
def token(user: str, name: str | None, ttl: int, api_key: str | None, secret: str | None) -> None:
    """Print a signed token for USER that the $connect authorizer accepts."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalice_app.chalicelib.secret_parameter import get_secret, secret_parameter_name
    from chalice_app.chalicelib.tokens import mint_token

    if secret is None:
        try:
            secret = get_secret()
        except (BotoCoreError, ClientError) as error:
            raise click.ClickException(
                f"could not read the token secret from SSM parameter "
                f"{secret_parameter_name()}: {error}. Pass --secret or set WSGATE_TOKEN_SECRET."
            ) from None
    try:
        click.echo(mint_token(secret, user, name=name, ttl_s=ttl, api_key=api_key))
    except ValueError as error:
        raise click.ClickException(str(error)) from None

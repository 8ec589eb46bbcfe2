"""``wsgate token``: a development token for the running local stack, or for AWS.

With a ``wsgate local`` running in this folder (found by ``wsgate.local.state``) the token comes
from that stack's ``/dev/token``, so it carries the user's own API key and the stack accepts it.
With ``--remote`` or ``--secret``, or when no local stack runs, it is signed with the secret in
the account's SSM parameter, as the authorizer reads it (``chalice_app.chalicelib.tokens``).
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from chalice_app.chalicelib.tokens import MAX_LIFETIME_S
from shared.names import ENV_TOKEN_SECRET
from wsgate.cli.validation import check_user_id
from wsgate.local.state import StackState

REMOTE_ONLY = ("name", "ttl", "api_key", "user_api_key")
"""Options a local stack does not take: it mints with its own lifetime and the user's key."""


def _user_api_key(user: str) -> str:
    """The user's own API key in the stage's usage plan, issued by the ops code on first use
    (the stack is found through its SSM parameters, as the ops Lambda finds it)."""
    from chalice_app.chalicelib import ops

    answer = ops.run({"action": "issue_api_key", "user": user})
    if "error" in answer:
        raise click.ClickException(f"could not issue an API key for {user}: {answer['error']}")
    return str(answer["value"])


def _local_stack(stack: str | None, state_dir: str | None) -> StackState | None:
    """The local stack to mint for: the one named, else the only one running here, else None."""
    from pathlib import Path

    from wsgate.local.state import StackStateError, find_stack, running_stacks

    try:
        if stack is None and state_dir is None and not running_stacks():
            return None
        return find_stack(stack, Path(state_dir) if state_dir else None)
    except StackStateError as error:
        raise click.ClickException(str(error).replace("--name", "--stack")) from None


def _local_token(ctx: click.Context, local: StackState, user: str, wscat: bool) -> None:
    from wsgate.local.interactive_client import ClientError, mint_token

    given = [p for p in REMOTE_ONLY if ctx.get_parameter_source(p) != ParameterSource.DEFAULT]
    if given:
        flags = ", ".join("--" + p.replace("_", "-") for p in given)
        raise click.UsageError(
            f"{flags} apply to AWS tokens (--remote); the local stack {local.name!r} mints "
            "its own, with the user's API key and its --token-ttl"
        )
    try:
        token = mint_token(local.console_url, user)
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    command = local.wscat_command(token)
    if wscat:
        click.echo(command)
    else:
        click.echo(token)
        click.echo(f"connect with: {command}", err=True)


def _remote_token(
    user: str,
    name: str | None,
    ttl: int,
    api_key: str | None,
    user_api_key: bool,
    secret: str | None,
) -> str:
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
                f"no local stack is running here and the token secret could not be read from "
                f"SSM parameter {secret_parameter_name()}: {error}. Start `wsgate local`, or "
                f"pass --secret (or set {ENV_TOKEN_SECRET}) for a deployed stack."
            ) from None
    if user_api_key:
        api_key = _user_api_key(user)
    try:
        return mint_token(secret, user, name=name, ttl_s=ttl, api_key=api_key)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@click.command()
@click.option(
    "--user",
    required=True,
    callback=lambda _ctx, _param, value: check_user_id(value),
    help="User id (the token's sub): 1-32 letters, digits, '_' or '-'.",
)
@click.option("--name", default=None, help="Display name (default: the user id). AWS only.")
@click.option(
    "--ttl",
    type=click.IntRange(1, MAX_LIFETIME_S),
    default=3600,
    show_default=True,
    help="Seconds of validity (at most a day). AWS only.",
)
@click.option(
    "--api-key", default=None, help="API key for browsers (usageIdentifierKey). AWS only."
)
@click.option(
    "--user-api-key",
    is_flag=True,
    help="Issue (or reuse) the user's own API key in the usage plan and put it in the token. "
    "AWS only (a local stack always does).",
)
@click.option(
    "--secret",
    envvar=ENV_TOKEN_SECRET,
    default=None,
    help="Signing secret for a deployed stack (default: read the SSM parameter, as the "
    "authorizer does). Implies --remote.",
)
@click.option("--remote", is_flag=True, help="Mint for AWS even if a local stack runs here.")
@click.option("--stack", help="Which local stack, when several run here (`wsgate local --name`).")
@click.option("--state-dir", help="The local stack's state directory (`wsgate local --state-dir`).")
@click.option(
    "--wscat",
    is_flag=True,
    help="Print the whole wscat command for the local stack instead of the bare token.",
)
@click.pass_context
def token(
    ctx: click.Context,
    user: str,
    name: str | None,
    ttl: int,
    api_key: str | None,
    user_api_key: bool,
    secret: str | None,
    remote: bool,
    stack: str | None,
    state_dir: str | None,
    wscat: bool,
) -> None:
    """Print a signed token for USER that the $connect authorizer accepts.

    \b
    With `wsgate local` running here: a token that stack accepts (the user's own API key in
    it), on stdout; the ready-to-paste wscat command goes to stderr, or to stdout with --wscat:
      TOKEN=$(wsgate token --user bob)        # scripts
      eval "$(wsgate token --user bob --wscat)"   # or paste what it prints
    With --remote or --secret (or no local stack): signed with the deployed stack's secret.
    """
    local = None if remote or secret is not None else _local_stack(stack, state_dir)
    if local is not None:
        _local_token(ctx, local, user, wscat)
        return
    if wscat:
        raise click.UsageError("--wscat needs a running local stack (it knows the URL and key)")
    click.echo(_remote_token(user, name, ttl, api_key, user_api_key, secret))

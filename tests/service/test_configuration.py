"""The service takes its table and push endpoint from its configuration, never from a body."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ec2_service.backends import push_endpoint
from ec2_service.settings import (
    ServiceSettings,
    SettingsError,
    load_settings,
    service_env_names,
)
from shared import names
from tests.service.conftest import API_ID, SECRET, Service, running, settings_for


class RecordingListener:
    """A TCP server on 127.0.0.1 that only counts who connects to it."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def listener() -> AsyncIterator[RecordingListener]:
    recorder = RecordingListener()
    await recorder.start()
    yield recorder
    await recorder.stop()


@pytest.fixture
async def aws_service(dynamodb_endpoint: str, table_name: str) -> AsyncIterator[Service]:
    """The service as deployed: no endpoint override, pushes would go to execute-api."""
    settings = settings_for(table_name, dynamodb_endpoint)
    async with running(settings) as (url, app), aiohttp.ClientSession() as http:
        yield Service(url, http, None, table_name, app)  # type: ignore[arg-type]


async def test_no_body_field_moves_the_push_or_the_table(
    aws_service: Service, listener: RecordingListener
) -> None:
    """Attacker api ids, 20 other api ids and 20 other tables: each is refused with 400, nothing
    connects to another host, and the process keeps its one store and one push client."""
    backends = aws_service.app.ctx.backends
    store, push = await backends.store(), await backends.push()
    attacks: list[dict[str, Any]] = [
        {"apiId": "attacker.example/x?"},
        {"apiId": f"127.0.0.1:{listener.port}/x?"},
        {"region": f"127.0.0.1:{listener.port}/x?"},
        {"stage": f"x@127.0.0.1:{listener.port}"},
        {"tableName": "other/../table"},
    ]
    attacks += [{"apiId": f"{i:010d}"} for i in range(20)]
    attacks += [{"tableName": f"victim-table-{i}"} for i in range(20)]
    for fields in attacks:
        for method, path, extra in (
            ("POST", "/default", {"body": "x"}),
            ("POST", "/joinroom", {"payload": {"action": "joinroom", "roomname": "r"}}),
        ):
            body = aws_service.body("victim=", **extra, **fields)
            status, answer = await aws_service.call(method, path, body)
            assert status == 400, (fields, answer)
            (field,) = fields
            assert [e["loc"] for e in answer["errors"]] == [field]
    assert listener.connections == 0
    assert backends.clients_opened == 2  # one store, one push client, for the process' life
    assert (await backends.store(), await backends.push()) == (store, push)
    # The configured values still work.
    status, _ = await aws_service.call("DELETE", "/disconnect", aws_service.body("victim="))
    assert status == 200


def test_push_endpoint_follows_the_configured_partition() -> None:
    def endpoint(region: str) -> str:
        return push_endpoint(
            ServiceSettings(api_id=API_ID, region=region, stage="live", integration_secret=SECRET)
        )

    assert endpoint("us-east-1") == f"https://{API_ID}.execute-api.us-east-1.amazonaws.com/live"
    assert endpoint("cn-north-1") == (
        f"https://{API_ID}.execute-api.cn-north-1.amazonaws.com.cn/live"
    )
    assert endpoint("us-gov-west-1") == (
        f"https://{API_ID}.execute-api.us-gov-west-1.amazonaws.com/live"
    )


def _environ(**extra: str) -> dict[str, str]:
    return {names.ENV_API_ID: API_ID, names.ENV_INTEGRATION_SECRET: SECRET, **extra}


def test_pydantic_settings_ignores_a_misspelt_variable_so_the_service_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Why :func:`load_settings` checks the names itself: ``extra="forbid"`` does not apply to
    environment variables, only to values passed to the model."""
    for key, value in _environ(WSGATE_TABEL_NAME="typo").items():
        monkeypatch.setenv(key, value)
    assert ServiceSettings().table_name != "typo"  # silently ignored by pydantic-settings
    with pytest.raises(SettingsError, match="unknown setting WSGATE_TABEL_NAME"):
        load_settings()


def test_settings_come_from_the_names_in_shared_names() -> None:
    settings = load_settings(
        _environ(
            **{
                names.ENV_TABLE_NAME: "t-1",
                names.ENV_STAGE: "live",
                names.ENV_REGION: "cn-north-1",
                names.ENV_FANOUT_CONCURRENCY: "7",
                names.ENV_TOKEN_SECRET: "read by the CLI, not the service: not a typo",
            }
        )
    )
    assert (settings.table_name, settings.stage, settings.region) == ("t-1", "live", "cn-north-1")
    assert settings.fanout_concurrency == 7


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (names.ENV_API_ID, "attacker.example/x?", "not a valid API id"),
        (names.ENV_REGION, "mars-1", "not a valid region"),
        (names.ENV_TABLE_NAME, "a b", "not a valid DynamoDB table name"),
        (names.ENV_STAGE, "pr od", "not a valid stage name"),
        (names.ENV_FANOUT_CONCURRENCY, "0", "greater than or equal to 1"),
    ],
)
def test_invalid_settings_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_environ(**{variable: value}))
    assert variable in str(caught.value) and message in str(caught.value)


def test_no_secret_no_service() -> None:
    with pytest.raises(SettingsError, match=names.ENV_INTEGRATION_SECRET_ID):
        load_settings({names.ENV_API_ID: API_ID})


def test_the_service_refuses_to_start_with_a_misspelt_variable() -> None:
    """One line naming the variable, not a traceback, and a non-zero exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(names.ENV_PREFIX)}
    env |= _environ(WSGATE_FANOUT_CONCURENCY="8")
    result = subprocess.run(
        [sys.executable, "-m", "ec2_service", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "wsgate service: unknown setting WSGATE_FANOUT_CONCURENCY: the service reads "
        + ", ".join(sorted(service_env_names()))
    ]

"""docs/deploy.md shows only commands and flags that exist, and a configuration that loads."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import click
import pytest

from wsgate.cli.main import COMMANDS
from wsgate.deploy.config import load_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SEPARATORS = re.compile(r"\n|&&|\|\||;|\||\$\(|\(|\)|`")
"""Where a shell command may start: a new line, after ``&&``, a pipe, inside ``$(...)``."""
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def _blocks(language: set[str]) -> list[str]:
    return [body for lang, body in FENCE.findall(DOC.read_text()) if lang in language]


def _invocations() -> list[list[str]]:
    """Each ``wsgate`` command in a command position (after ``VAR=value`` prefixes)."""
    found = []
    for block in _blocks({"bash", "sh", "text", ""}):
        for segment in SEPARATORS.split(block.replace("\\\n", " ")):
            words = segment.split()
            while words and ASSIGNMENT.match(words[0]):
                words.pop(0)
            if words[:1] == ["wsgate"]:
                found.append(shlex.split(" ".join(words[1:]), comments=True))
    return found


def _command(name: str) -> click.Command:
    module, attribute = COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command


def test_the_doc_shows_the_commands_it_documents() -> None:
    shown = {words[0] for words in _invocations()}
    assert {"deploy", "destroy", "synth", "token"} <= shown


@pytest.mark.parametrize("words", _invocations(), ids=" ".join)
def test_every_wsgate_command_in_the_doc_exists_with_its_flags(words: list[str]) -> None:
    name, *arguments = words
    assert name in COMMANDS, f"docs/deploy.md shows 'wsgate {name}', which does not exist"
    command = _command(name)
    options = {
        opt: param
        for param in command.params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
    }
    for argument in arguments:
        if argument.startswith("-"):
            flag = argument.split("=", 1)[0]
            assert flag in options, f"'wsgate {name}' has no {flag} (docs/deploy.md)"


def test_the_configuration_example_loads(tmp_path: Path) -> None:
    (example,) = [block for block in _blocks({"toml"}) if "[tool.wsgate]" in block]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(example)
    config = load_config(pyproject, {})
    assert (config.stack, config.architecture) == ("chat-prod", "arm64")
    assert config.parameters == {"FleetDesiredSize": "1"}

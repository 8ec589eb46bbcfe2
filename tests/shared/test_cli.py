"""The ``wsgate`` entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from wsgate.cli.main import COMMANDS, main


def test_help_lists_every_subcommand_with_one_line() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name, (_, short) in COMMANDS.items():
        assert f"{name}" in result.output and short in result.output
    assert {"schemas", "serve", "token", "synth", "gateway", "local", "bench"} <= set(COMMANDS)


def test_schemas_command_writes_draft04_models(tmp_path: Path) -> None:
    # Run the installed console script, as a user would.
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "wsgate.cli", "schemas", "-o", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SendMessage.json" in done.stdout
    schema = json.loads((out / "SendMessage.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"

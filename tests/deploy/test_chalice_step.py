"""The real Chalice runner, driven against a stand-in executable that behaves like the CLI
(prints progress, exits non-zero on failure)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from wsgate.deploy.chalice_step import ChaliceCli, aws_environment
from wsgate.deploy.errors import ChaliceError

SCRIPT = """#!/bin/sh
echo "args: $*"
echo "cwd: $(pwd)"
echo "region: $AWS_REGION profile: $AWS_PROFILE"
if [ "$3" = "broken" ]; then
  echo "Creating deployment package."
  echo "AccessDenied: no iam:PassRole" >&2
  exit 2
fi
exit 0
"""


@pytest.fixture
def chalice(tmp_path: Path) -> Path:
    path = tmp_path / "chalice"
    path.write_text(SCRIPT)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_deploy_runs_in_the_project_with_the_profile_and_region(
    chalice: Path, tmp_path: Path
) -> None:
    lines: list[str] = []
    runner = ChaliceCli(lines.append, project_dir=tmp_path, executable=str(chalice))
    runner.deploy("prod", aws_environment("work", "eu-west-1"))
    assert lines == [
        "  chalice: args: deploy --stage prod",
        f"  chalice: cwd: {tmp_path}",
        "  chalice: region: eu-west-1 profile: work",
    ]
    runner.delete("prod", aws_environment(None, "eu-west-1"))
    assert lines[3] == "  chalice: args: delete --stage prod"


def test_a_failing_chalice_is_one_line_with_its_last_output(chalice: Path, tmp_path: Path) -> None:
    runner = ChaliceCli(lambda _: None, project_dir=tmp_path, executable=str(chalice))
    with pytest.raises(ChaliceError) as caught:
        runner.deploy("broken", aws_environment(None, "eu-west-1"))
    message = str(caught.value)
    assert message.startswith("'chalice deploy --stage broken' failed (exit 2): ")
    assert "AccessDenied: no iam:PassRole" in message and "\n" not in message

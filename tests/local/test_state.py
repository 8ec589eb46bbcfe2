"""Finding the running local stack among the state directories of this folder."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from wsgate.local.state import (
    StackStateError,
    ensure_unused,
    find_stack,
    running_stacks,
    stack_dir,
    state_dir_for,
)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _write_stack(root: Path, name: str, gateway_pid: int) -> Path:
    path = root / name
    path.mkdir(parents=True)
    facts = {
        "websocketUrl": f"ws://127.0.0.1:1/{name}",
        "consoleUrl": "http://127.0.0.1:2/",
        "apiKey": "k",
        "pids": {"gateway": gateway_pid},
    }
    (path / "local.json").write_text(json.dumps(facts))
    return path


def test_no_stack_says_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(StackStateError, match="start one with `wsgate local`"):
        find_stack(root=tmp_path / ".wsgate")


def test_the_only_running_stack_is_found_without_a_name(tmp_path: Path) -> None:
    _write_stack(tmp_path, "a", os.getpid())
    _write_stack(tmp_path, "crashed", _dead_pid())  # its local.json outlived a kill -9
    assert find_stack(root=tmp_path).name == "a"
    assert [s.name for s in running_stacks(tmp_path)] == ["a"]


def test_several_running_stacks_need_a_name(tmp_path: Path) -> None:
    _write_stack(tmp_path, "a", os.getpid())
    _write_stack(tmp_path, "b", os.getpid())
    with pytest.raises(StackStateError, match=r"2 local stacks are running here \(a, b\): pass"):
        find_stack(root=tmp_path)
    assert find_stack("b", root=tmp_path).websocket_url == "ws://127.0.0.1:1/b"
    with pytest.raises(StackStateError, match=r"no local stack named 'c'.*running: a, b"):
        find_stack("c", root=tmp_path)


def test_an_explicit_state_dir_is_used_as_is(tmp_path: Path) -> None:
    path = _write_stack(tmp_path, "elsewhere", os.getpid())
    assert find_stack(state_dir=path).path == path
    with pytest.raises(StackStateError, match="--state-dir"):
        find_stack(state_dir=tmp_path / "nothing")
    assert stack_dir(state_dir=tmp_path / "nothing") == tmp_path / "nothing"


def test_a_running_stack_s_directory_is_not_reused(tmp_path: Path) -> None:
    path = _write_stack(tmp_path, "a", os.getpid())
    with pytest.raises(StackStateError, match=r"already running in .* another --name"):
        ensure_unused(path)
    ensure_unused(_write_stack(tmp_path, "gone", _dead_pid()))


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden", "x" * 64])
def test_names_are_plain_directory_names(name: str) -> None:
    with pytest.raises(StackStateError, match="letters, digits"):
        state_dir_for(name)

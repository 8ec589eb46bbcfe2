"""The pure parts of ``wsgate local --reload``: which steps a change needs, and error lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from wsgate.local.reload_plan import (
    PACKAGE_PLANS,
    WATCHED_SUFFIXES,
    ReloadPlan,
    describe,
    plan_for,
    watched_dirs,
)
from wsgate.local.reload_service import error_summary, standby_argv
from wsgate.local.reload_standby import ERROR_PREFIX, WARM_MODULES, failure_line

ROOT = Path("/work/project")


def test_a_service_change_restarts_the_service_only() -> None:
    plan = plan_for([ROOT / "ec2_service" / "handlers.py"], ROOT)
    assert plan == ReloadPlan(restart_service=True, changed=("ec2_service/handlers.py",))


def test_a_shared_change_needs_every_step() -> None:
    """Routes and models feed the template (gateway) and the service alike."""
    plan = plan_for([ROOT / "shared" / "client_messages.py"], ROOT)
    assert plan.synthesize and plan.reload_gateway and plan.reimport_code
    assert plan.restart_service


def test_an_infra_change_reloads_the_template_not_the_code() -> None:
    plan = plan_for([ROOT / "infra" / "template.py"], ROOT)
    assert (plan.synthesize, plan.reload_gateway) == (True, True)
    assert (plan.reimport_code, plan.restart_service) == (False, False)


def test_a_lambda_change_reimports_code_in_the_gateway_without_a_new_template() -> None:
    for changed in ("app.py", ".chalice/config.json", "chalicelib/authorizer.py"):
        plan = plan_for([ROOT / "chalice_app" / changed], ROOT)
        assert (plan.reload_gateway, plan.reimport_code) == (True, True), changed
        assert (plan.synthesize, plan.restart_service) == (False, False), changed


@pytest.mark.parametrize(
    "path",
    [
        "tests/local/test_reload.py",  # not a package the stack runs
        "wsgate/gateway/server.py",  # the tools themselves: restart wsgate local
        "README.md",
        "shared/__pycache__/routes.cpython-311.pyc",
        "ec2_service/.handlers.py.swp",
        "ec2_service/notes.txt",
        "shared",  # the directory event itself
    ],
)
def test_changes_that_run_nowhere_plan_nothing(path: str) -> None:
    assert plan_for([ROOT / path], ROOT).empty


def test_paths_outside_the_root_are_ignored() -> None:
    assert plan_for([Path("/elsewhere/ec2_service/app.py")], ROOT).empty


def test_a_batch_merges_the_steps_and_lists_each_file_once() -> None:
    plan = plan_for(
        [
            ROOT / "infra" / "template.py",
            ROOT / "ec2_service" / "app.py",
            ROOT / "ec2_service" / "app.py",
        ],
        ROOT,
    )
    assert plan.synthesize and plan.reload_gateway and plan.restart_service
    assert not plan.reimport_code
    assert plan.changed == ("ec2_service/app.py", "infra/template.py")
    assert describe(plan) == "ec2_service/app.py (+1 more)"


def test_every_package_rule_is_reachable_and_plans_something() -> None:
    for package, expected in PACKAGE_PLANS.items():
        assert not expected.empty, package
        for suffix in WATCHED_SUFFIXES:
            plan = plan_for([ROOT / package / f"module{suffix}"], ROOT)
            assert plan.merge(ReloadPlan()) == plan
            assert plan == expected.merge(ReloadPlan(changed=(f"{package}/module{suffix}",)))


def test_watched_dirs_are_the_packages_that_exist(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "infra").mkdir()
    (tmp_path / "docs").mkdir()
    assert sorted(p.name for p in watched_dirs(tmp_path)) == ["infra", "shared"]


def test_the_standby_runs_the_module_and_its_arguments() -> None:
    argv = [sys.executable, "-m", "ec2_service", "--port", "8080", "--fd", "5"]
    assert standby_argv(argv) == [
        sys.executable,
        "-m",
        "wsgate.local.reload_standby",
        "ec2_service",
        "--port",
        "8080",
        "--fd",
        "5",
    ]


def test_error_lines_prefer_the_standby_summary_and_fall_back_to_the_traceback() -> None:
    log = (
        '{"path":"/default","status":200}\n'
        "--- wsgate local preparing a new service ---\n"
        "Traceback (most recent call last):\n"
        '  File "/p/ec2_service/handlers.py", line 12\n'
        "SyntaxError: '(' was never closed\n"
    )
    assert error_summary(log) == "SyntaxError: '(' was never closed (ec2_service/handlers.py:12)"
    assert error_summary(log + f"{ERROR_PREFIX} NameError: x (a/b.py:3)\n") == (
        "NameError: x (a/b.py:3)"
    )
    assert error_summary("--- wsgate local preparing a new service ---\n") == "no output"


def test_failure_line_names_the_project_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "pkg" / "mod.py"
    broken.parent.mkdir()
    broken.write_text("x = 1\ny = (\n")
    try:
        compile(broken.read_text(), str(broken), "exec")
    except SyntaxError as error:
        assert failure_line(error) == "SyntaxError: '(' was never closed (pkg/mod.py:2)"
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError as error:
        line = failure_line(error)
        assert line.startswith("KeyError: 'missing' (local/test_reload_plan.py:")
    assert failure_line(SystemExit("wsgate service: bad setting")) == "wsgate service: bad setting"


@pytest.mark.parametrize("module", list(WARM_MODULES))
def test_the_standby_loads_its_libraries_and_no_project_code(module: str) -> None:
    """What the standby loads before SIGUSR1 is its libraries, never the code a reload
    replaces."""
    probe = (
        "import sys\n"
        "from wsgate.local.reload_standby import warm_up\n"
        "before = set(sys.modules)\n"
        f"warm_up({module!r})\n"
        "loaded = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(loaded & {'shared', 'ec2_service', 'chalice_app', 'infra'}))\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    project, libraries = result.stdout.splitlines()
    assert project == "[]"
    # The libraries loaded are what makes the standby warm.
    assert set(WARM_MODULES[module]) <= set(ast.literal_eval(libraries))
    assert all(name.split(".")[0] not in PACKAGE_PLANS for name in WARM_MODULES[module])

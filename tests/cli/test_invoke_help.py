"""The ops actions' payloads are documented from ``shared/ops_actions.py``: ``wsgate invoke
--help`` is generated from the models, and README's ``wsgate invoke`` section must name every
action and field they declare."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from wsgate.cli.main import main
from wsgate.cli.ops_help import action_name, example_payload, ops_models

README = Path(__file__).resolve().parents[2] / "README.md"


def test_help_lists_each_action_with_its_payload() -> None:
    result = CliRunner().invoke(main, ["invoke", "--help"])
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())
    for model in ops_models():
        assert example_payload(model) in help_text
        for field in model.model_fields:
            assert f'"{field}' in help_text, (model.__name__, field)


def test_required_and_optional_fields_are_marked() -> None:
    payloads = {action_name(model): example_payload(model) for model in ops_models()}
    assert '"message":STRING' in payloads["broadcast"]
    assert '"room?":' in payloads["broadcast"]
    assert '"connectionId":STRING' in payloads["kick"]
    assert '"startDate?":DATE' in payloads["usage"]


def test_readme_names_every_action_and_field() -> None:
    text = README.read_text()
    start = text.index("## `wsgate invoke`")
    invoke_section = text[start : text.index("\n## ", start + 1)]
    for model in ops_models():
        assert f"`{action_name(model)}`" in invoke_section, action_name(model)
        for field in set(model.model_fields) - {"action"}:
            assert f"`{field}`" in invoke_section, (action_name(model), field)

"""The cold-start bench: handler strings from ``sam.json``, imports isolated from this
environment, sizes read from the zip, and a failed build reported rather than raised."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from wsgate.bench import cold_start


def test_handlers_come_from_the_sam_functions_only() -> None:
    sam = {
        "Resources": {
            "Authorizer": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Handler": "chalicelib.authorizer_handler.authorizer"},
            },
            "AuthorizerRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Ops": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.ops"}},
        }
    }
    handlers = cold_start.sam_handlers(sam)
    assert handlers == {"Authorizer": "chalicelib.authorizer_handler.authorizer", "Ops": "app.ops"}
    assert cold_start.handler_module(handlers["Authorizer"]) == "chalicelib.authorizer_handler"
    assert cold_start.handler_module("app.ops") == "app"


def test_imports_see_the_package_and_the_standard_library_only(tmp_path: Path) -> None:
    (tmp_path / "light.py").write_text("import json\n")
    (tmp_path / "needs_site_packages.py").write_text("import pydantic\n")
    times = cold_start.import_times(tmp_path, ["light"], runs=2)
    assert len(times["light"]["samples_ms"]) == 2 and times["light"]["cpu_median_ms"] >= 0
    assert times["light"]["modules"] >= 1
    # pydantic is installed here, but not in the package: Lambda would not find it either.
    with pytest.raises(cold_start.PackageError, match="needs_site_packages"):
        cold_start.import_once(tmp_path, "needs_site_packages")


def test_package_size_groups_the_zip_by_top_level_entry(tmp_path: Path) -> None:
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "x" * 10)
        archive.writestr("chalicelib/a.py", "x" * 20)
        archive.writestr("shared/names.py", "x" * 30)
        archive.writestr("botocore/data.json", "x" * 1000)
    size = cold_start.package_size(path)
    assert size["total_bytes"] == 1060 and size["app_bytes"] == 60
    assert next(iter(size["largest"])) == "botocore"
    assert size["zip_bytes"] == path.stat().st_size


def test_a_failed_build_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cold_start, "CHALICE_DIR", tmp_path)  # no Chalice project here
    result = cold_start.measure(runs=1)
    assert "chalice package failed" in result["error"]
    assert "not measured" in cold_start.summary(result)


def test_the_authorizer_is_measured_from_its_own_handler_module() -> None:
    """The real artifact: the authorizer's cold import loads far fewer modules than ``app``."""
    result = cold_start.measure(runs=1)
    assert "error" not in result, result
    authorizer = result["authorizer"]
    assert result["handlers"]["Authorizer"] == authorizer["handler"]
    assert not authorizer["handler"].startswith("app.")
    assert authorizer["modules"] < result["imports"]["app"]["modules"]
    assert result["package"]["app_bytes"] < result["package"]["total_bytes"]
    assert "authorizer" in cold_start.summary(result)

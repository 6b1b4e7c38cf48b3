"""template.yaml lints clean, is least-privilege, and agrees with openapi.yaml and the handler."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fn_support import REPO, load_event

TEMPLATE = REPO / "template.yaml"
OPENAPI = REPO / "openapi.yaml"


def _walk(node: Any, path: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def test_cfn_lint_passes():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, cfnlint.runner; sys.exit(cfnlint.runner.main())", str(TEMPLATE)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _sam() -> str | None:
    local = REPO / ".venv-sam" / "bin" / "sam"
    return str(local) if local.exists() else shutil.which("sam")


@pytest.mark.skipif(_sam() is None, reason="SAM CLI not installed (.ci/run installs it into .venv-sam)")
def test_sam_validate_lint_passes():
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [_sam(), "validate", "--lint", "--template-file", str(TEMPLATE), "--region", "us-east-1"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "is a valid SAM Template" in out.stdout + out.stderr


def test_policies_are_least_privilege():
    from infra.template import load_template

    template = load_template(TEMPLATE)
    for path, key, value in _walk(template["Resources"]):
        if key == "Resource":
            values = value if isinstance(value, list) else [value]
            assert "*" not in values, f"wildcard resource at {path}"
        if key == "Action":
            values = value if isinstance(value, list) else [value]
            for action in values:
                assert isinstance(action, str) and not action.endswith(":*") and action != "*", f"{action} at {path}"
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            policies = resource["Properties"].get("Policies", [])
            text = json.dumps(policies)
            assert "FullAccess" not in text and "S3CrudPolicy" not in text, name


def test_bucket_notifications_never_match_results():
    from infra.template import stack_spec

    spec = stack_spec()
    assert spec.rules, "the template declares no bucket notifications"
    suffixes = {rule.suffix for rule in spec.rules}
    assert {".png", ".jpg", ".jpeg"} <= suffixes
    results = spec.function_env["OCR_RESULTS_PREFIX"]
    for rule in spec.rules:
        assert rule.prefix == spec.function_env["OCR_UPLOADS_PREFIX"]
        assert not results.startswith(rule.prefix) and not rule.prefix.startswith(results)
        assert rule.suffix != ".json"
    assert spec.max_receive_count >= 2
    assert spec.visibility_timeout >= 6 * 90  # six times the object function's timeout


def _openapi_routes() -> set[tuple[str, str]]:
    doc = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def test_openapi_matches_template_routes():
    from infra.template import stack_spec

    assert _openapi_routes() == set(stack_spec().http_routes)


def test_handler_serves_every_documented_route(engine, context):
    from ocr_service.handlers import http_api

    for method, path in sorted(_openapi_routes()):
        if method == "GET":
            event = load_event("http_get.json", path=path)
        else:
            name = "http_post_ocr_batch.json" if path.endswith("batch") else "http_post_ocr.json"
            event = load_event(name, content_type="text/plain", body="")
        status = http_api.handler(event, context)["statusCode"]
        assert status != 404, (method, path)


def test_documented_error_codes_cover_the_code():
    from ocr_service import errors
    from ocr_service.handlers import requests

    doc = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    documented = set(doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"])
    classes = [c for m in (errors, requests) for _, c in inspect.getmembers(m, inspect.isclass)]
    codes = {c.code for c in classes if issubclass(c, errors.OcrError) and c.__module__ in (errors.__name__, requests.__name__)}
    codes -= {"ocr_error", "config_error"}  # the abstract base, and a deployment error never sent
    assert codes <= documented, codes - documented


def test_sample_events_for_sam_local_invoke_are_valid():
    events = sorted((REPO / "events").glob("*.json"))
    assert {p.name for p in events} >= {"s3_put.json", "sqs_s3_notification.json", "http_post_ocr.json", "http_get_health.json"}
    for path in events:
        json.loads(path.read_text(encoding="utf-8"))


def test_template_handlers_exist():
    from infra.template import load_template

    template = load_template(TEMPLATE)
    code_uri = Path(REPO / template["Globals"]["Function"]["CodeUri"])
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        module, func = resource["Properties"]["Handler"].rsplit(".", 1)
        assert (code_uri / (module.replace(".", "/") + ".py")).is_file()


@pytest.mark.slow
@pytest.mark.skipif(_sam() is None, reason="SAM CLI not installed")
def test_sam_build_builds_layers_and_functions(tmp_path):
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    out = subprocess.run(
        [_sam(), "build", "--build-dir", str(tmp_path / "build"), "--build-in-source"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    built = tmp_path / "build"
    assert (built / "DependenciesLayer" / "python" / "onnxruntime").is_dir()
    assert list((built / "ModelLayer" / "models").glob("*.onnx"))
    assert (built / "HttpOcrFunction" / "ocr_service" / "handlers" / "http_api.py").is_file()


def test_readme_commands_and_ci_entry_point_agree():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["python3 -m pip install -e '.[aws,dev]' && python3 -m infra.demo", "bash infra/test.sh"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash infra/test.sh" in ci
    assert os.access(REPO / ".ci" / "run", os.X_OK)
    assert "pytest -q" in (REPO / "infra" / "test.sh").read_text(encoding="utf-8")

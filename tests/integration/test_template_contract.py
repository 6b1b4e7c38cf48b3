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

from support.lambda_events import REPO, load_event

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
    # Deny statements (the bucket's refusal of non-TLS requests) take away: "s3:*" there is right.
    denies = [path[: -len("Effect")] for path, key, value in _walk(template["Resources"])
              if key == "Effect" and value == "Deny"]
    for path, key, value in _walk(template["Resources"]):
        if any(path.startswith(d) for d in denies):
            continue
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


def test_bucket_notifications_cover_every_decoder_format_within_s3_limits():
    """One rule per suffix: every suffix the decoder reads (.gif too) and the documents (.pdf;
    .tif / .tiff of several pages), upper-case only as extras."""
    from infra.template import stack_spec
    from ocr_engine.cli import IMAGE_SUFFIXES
    from ocr_service.handlers.objects import DOCUMENT_SUFFIXES

    suffixes = [rule.suffix for rule in stack_spec().rules]
    assert len(suffixes) == len(set(suffixes)) <= 100, suffixes  # S3: at most 100 configurations per bucket
    assert set(IMAGE_SUFFIXES) <= set(suffixes), set(IMAGE_SUFFIXES) - set(suffixes)
    assert set(DOCUMENT_SUFFIXES) <= set(suffixes), set(DOCUMENT_SUFFIXES) - set(suffixes)
    assert {s.lower() for s in suffixes} == set(IMAGE_SUFFIXES) | set(DOCUMENT_SUFFIXES)
    assert {".gif", ".GIF", ".png", ".PNG", ".jpg", ".JPG", ".pdf", ".PDF"} <= set(suffixes)


def test_object_function_fans_out_through_its_own_queue():
    """Range tasks: the queue's URL in the object function's environment, SendMessage on that
    queue only, the settings read it, and the parts left behind expire."""
    from infra.template import load_template, stack_spec
    from ocr_service.settings import Settings

    template = load_template(TEMPLATE)
    function = template["Resources"]["ObjectOcrFunction"]["Properties"]
    variables = function["Environment"]["Variables"]
    assert variables["OCR_QUEUE_URL"] == {"Ref": "ImagesQueue"}
    assert Settings.from_env({"OCR_QUEUE_URL": "https://sqs/q"}).queue_url == "https://sqs/q"
    assert stack_spec().queue_url_env == "OCR_QUEUE_URL"
    statements = [s for policy in function["Policies"] for s in policy["Statement"]]
    sends = [s for s in statements if "sqs:SendMessage" in json.dumps(s["Action"])]
    assert len(sends) == 1 and sends[0]["Resource"] == {"Fn::GetAtt": ["ImagesQueue", "Arn"]}
    assert "OCR_QUEUE_URL" not in template["Globals"]["Function"]["Environment"]["Variables"]  # not the HTTP one's
    rules = template["Resources"]["ImagesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    parts = next(r for r in rules if r["Id"] == "ExpireDocumentParts")
    assert parts["Prefix"] == {"Fn::Sub": "${ResultsPrefix}_parts/"} and parts["ExpirationInDays"] >= 1
    # the function's own variables survive the SAM transform beside the Globals
    out = _sam_transform()["Resources"]["ObjectOcrFunction"]["Properties"]["Environment"]["Variables"]
    assert out["OCR_QUEUE_URL"] == {"Ref": "ImagesQueue"} and "OCR_RESULTS_PREFIX" in out


def test_readme_and_openapi_list_the_same_formats_as_the_template():
    import re

    from infra.template import stack_spec
    from ocr_engine.cli import IMAGE_SUFFIXES

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"Upload images under `uploads/` \(`([^`]*)`\)", readme)
    assert listed, "README's S3 trigger section lists no suffixes"
    assert listed.group(1).split() == [rule.suffix for rule in stack_spec().rules]
    row = next(line for line in readme.splitlines() if line.startswith("| 415 |"))
    mime = {".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}
    formats = {mime.get(s, s[1:]) for s in IMAGE_SUFFIXES}
    assert formats == {"jpeg", "png", "bmp", "tiff", "webp", "gif"}
    for name in formats:
        assert name.lower() in row.lower(), (name, row)
    doc = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    content = doc["paths"]["/ocr"]["post"]["requestBody"]["content"]
    assert {c.split("/", 1)[1] for c in content if c.startswith("image/")} == formats
    assert "GIF" in doc["components"]["responses"]["UnsupportedType"]["description"]


def _sam_transform() -> dict[str, Any]:
    """The template as CloudFormation sees it after the SAM transform (local code URIs faked)."""
    from samtranslator.translator.transform import transform

    from infra.template import load_template

    template = load_template(TEMPLATE)
    template["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
    for resource in template["Resources"].values():
        if "ContentUri" in resource.get("Properties", {}):
            resource["Properties"]["ContentUri"] = "s3://bucket/layer.zip"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    old = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        return transform(template, {}, NoManagedPolicies())
    finally:
        if old is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = old


def test_every_other_request_reaches_the_http_function_via_the_default_route():
    """Unknown paths and methods get the function's error shape, not API Gateway's 404."""
    from infra.template import stack_spec

    assert stack_spec().http_default_route
    out = _sam_transform()
    body = out["Resources"]["OcrHttpApi"]["Properties"]["Body"]
    default = body["paths"]["/$default"]["x-amazon-apigateway-any-method"]
    integration = default["x-amazon-apigateway-integration"]
    assert "HttpOcrFunction" in json.dumps(integration["uri"]) and integration["payloadFormatVersion"] == "2.0"
    permissions = [r["Properties"] for r in out["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    # API Gateway may invoke the function for any route of the API (the $default one included)
    assert any(
        p["FunctionName"] == {"Ref": "HttpOcrFunction"} and p["SourceArn"]["Fn::Sub"][0].endswith("${__ApiId__}/${__Stage__}/*")
        for p in permissions
    ), permissions


def test_handler_route_table_matches_openapi():
    from ocr_service.handlers import http_api

    table = {(method, path) for path, methods in http_api.ROUTE_METHODS.items() for method in methods}
    assert table == _openapi_routes()
    doc = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert "405" in operation["responses"], (method, path)


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
        assert status not in (404, 405), (method, path)


def test_documented_error_codes_cover_the_code():
    from ocr_engine import errors
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
    assert list((built / "EngineLayer" / "python" / "ocr_engine" / "weights").glob("*.onnx"))
    assert (built / "HttpOcrFunction" / "ocr_service" / "handlers" / "http_api.py").is_file()


def test_readme_commands_and_ci_entry_point_agree():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -q -r requirements/demo.txt && .venv/bin/python -m infra.demo",
        "bash infra/test.sh",
    ]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash infra/test.sh" in ci and "venv" in ci and "mktemp -d" in ci
    assert os.access(REPO / ".ci" / "run", os.X_OK)
    assert "pytest -q" in (REPO / "infra" / "test.sh").read_text(encoding="utf-8")


def test_hardening_survives_the_sam_transform():
    """What CloudFormation gets: the poller cap, the HTTP reservation, the alarm's actions."""
    out = _sam_transform()["Resources"]
    mappings = [r["Properties"] for r in out.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert len(mappings) == 1 and mappings[0]["FunctionName"] == {"Ref": "ObjectOcrFunction"}
    assert mappings[0]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "ObjectPollerConcurrency"}}
    reserved = out["HttpOcrFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == {"Fn::If": ["ReserveHttpConcurrency", {"Ref": "HttpFunctionConcurrency"}, {"Ref": "AWS::NoValue"}]}
    alarm = out["DeadLetterAlarm"]["Properties"]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [
        {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}]
    assert out["ImagesBucketPolicy"]["Properties"]["Bucket"] == {"Ref": "ImagesBucket"}


def test_readme_deployment_section_names_every_template_parameter():
    from infra.template import load_template

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deploying to AWS", 1)[1].split("\n## ", 1)[0]
    parameters = load_template(TEMPLATE)["Parameters"]
    assert parameters
    missing = [name for name in parameters if f"`{name}`" not in section]
    assert missing == [], f"README's deployment section does not mention {missing}"

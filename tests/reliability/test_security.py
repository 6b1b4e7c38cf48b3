"""Security: least privilege, private encrypted storage, no secrets, size limits, no path
traversal from S3 keys, and a web page that shows hostile text as text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.hostile_corpus import CANARY
from support.reliability import REPO, http_event, s3_event, s3_record, sqs_event, sqs_message

XSS = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from infra.template import load_template

    return load_template(REPO / "template.yaml")


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in _listify(function["Properties"].get("Policies") or []):
        if isinstance(policy, dict) and "Statement" in policy:
            out.extend(_listify(policy["Statement"]))
    return out


def _text(value: Any) -> str:
    """A CloudFormation value (``!Sub``, ``!GetAtt``, ``!Ref``...) as comparable text."""
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0]
        if fn == "Fn::GetAtt":
            return "${" + ".".join(_listify(arg)) + "}"
        if fn == "Ref":
            return "${" + arg + "}"
    return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------- IAM
def test_functions_use_only_inline_scoped_statements(template: dict[str, Any]) -> None:
    functions = _resources(template, "AWS::Serverless::Function")
    assert functions
    for name, fn in functions.items():
        for policy in _listify(fn["Properties"].get("Policies") or []):
            # No managed policy by name (AmazonS3FullAccess...) and no SAM policy template
            # (S3CrudPolicy grants the whole bucket): only statements we can check here.
            assert isinstance(policy, dict) and "Statement" in policy, (name, policy)
        assert "Role" not in fn["Properties"], f"{name}: an external role cannot be checked"


def test_no_wildcard_actions_or_resources(template: dict[str, Any]) -> None:
    for name, fn in _resources(template, "AWS::Serverless::Function").items():
        for st in _statements(fn):
            assert st.get("Effect") == "Allow", (name, st)
            assert "NotAction" not in st and "NotResource" not in st, (name, st)
            for action in _listify(st["Action"]):
                assert "*" not in action, f"{name}: wildcard action {action}"
            for resource in _listify(st["Resource"]):
                text = _text(resource)
                assert text not in ("*", "arn:aws:s3:::*"), f"{name}: resource {text}"
                if text.endswith("*"):
                    # Object wildcards only below a prefix parameter, never the whole bucket.
                    assert re.search(r"/\$\{(UploadsPrefix|ResultsPrefix)\}\*$", text), f"{name}: {text}"


def _allowed(template: dict[str, Any], function: str) -> set[tuple[str, str]]:
    fn = template["Resources"][function]
    return {(a, _text(r)) for st in _statements(fn) for a in _listify(st["Action"]) for r in _listify(st["Resource"])}


def test_object_function_permissions_are_exactly_what_the_handler_calls(template: dict[str, Any]) -> None:
    allowed = _allowed(template, "ObjectOcrFunction")
    uploads, results = "${ImagesBucket.Arn}/${UploadsPrefix}*", "${ImagesBucket.Arn}/${ResultsPrefix}*"
    needed = {
        ("s3:GetObject", uploads), ("s3:GetObjectVersion", uploads),  # read the upload (a version)
        ("s3:GetObject", results),  # HeadObject of an existing record (idempotency check)
        ("s3:PutObject", results), ("s3:DeleteObject", results),  # write / replace records
        ("s3:ListBucket", "${ImagesBucket.Arn}"),  # HeadObject of a missing record answers 404
        ("sqs:SendMessage", "${ImagesQueue.Arn}"),  # a long document's page ranges, fanned out
    }
    assert needed <= allowed
    extra = allowed - needed
    assert not extra, f"permissions the handler never uses: {sorted(extra)}"
    writes = {r for a, r in allowed if a in ("s3:PutObject", "s3:DeleteObject")}
    assert writes == {results}, "the function may write only under the results prefix"


def test_http_function_has_no_data_access(template: dict[str, Any]) -> None:
    assert _allowed(template, "HttpOcrFunction") == set()


# ---------------------------------------------------------------- storage
def test_buckets_are_private_encrypted_and_owner_enforced(template: dict[str, Any]) -> None:
    buckets = _resources(template, "AWS::S3::Bucket")
    assert buckets
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert sse["SSEAlgorithm"] in ("AES256", "aws:kms", "aws:kms:dsse"), name
        block = props["PublicAccessBlockConfiguration"]
        assert all(block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                              "RestrictPublicBuckets")), name
        assert "AccessControl" not in props, name
        assert props["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced", name
        assert "WebsiteConfiguration" not in props, name
    for name, policy in _resources(template, "AWS::S3::BucketPolicy").items():
        for st in _listify(policy["Properties"]["PolicyDocument"]["Statement"]):
            if st.get("Effect") == "Allow":
                assert st.get("Principal") not in ("*", {"AWS": "*"}), f"{name} is public"


def test_queues_are_encrypted_and_only_the_bucket_may_send(template: dict[str, Any]) -> None:
    queues = _resources(template, "AWS::SQS::Queue")
    assert len(queues) >= 2, f"expected the work queue and its dead-letter queue, found {sorted(queues)}"
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name
    policies = _resources(template, "AWS::SQS::QueuePolicy")
    assert policies, "no queue policy: the bucket could not send its notifications"
    for name, policy in policies.items():
        statements = _listify(policy["Properties"]["PolicyDocument"]["Statement"])
        assert statements, name
        for st in statements:
            assert st["Principal"] == {"Service": "s3.amazonaws.com"}, name
            assert _listify(st["Action"]) == ["sqs:SendMessage"], name
            assert "aws:SourceArn" in json.dumps(st["Condition"]) and "aws:SourceAccount" in json.dumps(st["Condition"])


def test_results_never_match_the_upload_notifications(template: dict[str, Any]) -> None:
    """Every record the function writes falls outside every notification filter (no loop)."""
    from infra.template import stack_spec
    from ocr_service.keys import error_key, result_key

    spec = stack_spec(REPO / "template.yaml")
    params = template["Parameters"]
    uploads, results = params["UploadsPrefix"]["Default"], params["ResultsPrefix"]["Default"]
    assert not results.startswith(uploads) and not uploads.startswith(results)
    assert spec.rules, "the template has no upload notification rules"
    for rule in spec.rules:
        # a short key (mirrored record) and one near S3's 1024-byte limit (record under _long-keys/)
        for stem in ("photo", "照" * 330):
            key = f"{uploads}{stem}{rule.suffix}"
            assert key.startswith(rule.prefix) and key.endswith(rule.suffix)  # the rule does fire for uploads
            for written in (result_key(key, results), error_key(key, results)):
                assert not (written.startswith(rule.prefix) and written.endswith(rule.suffix)), (rule, written)
                assert written.startswith(results) and len(written.encode("utf-8")) <= 1024


# ---------------------------------------------------------------- secrets
SECRET_PATTERNS = [
    re.compile(rb"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),  # AWS access key id
    re.compile(rb"-----BEGIN (RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY-----"),
    re.compile(rb"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}"),
    re.compile(rb"gh[pousr]_[A-Za-z0-9]{36}"),  # GitHub tokens
    re.compile(rb"xox[baprs]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(rb"(?i)(password|passwd|secret|token)\s*[=:]\s*['\"][^'\"\s]{12,}['\"]"),
]


def test_no_secrets_in_tracked_files() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    checked = 0
    hits = []
    for name in filter(None, files):
        path = REPO / name.decode()
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary
        checked += 1
        for pattern in SECRET_PATTERNS:
            for match in pattern.finditer(data):
                hits.append(f"{name.decode()}: {match.group(0)[:40]!r}")
    assert checked > 50
    assert hits == []


def test_secret_scanner_finds_a_planted_key() -> None:
    planted = b"aws_access_key_id = AKIA" + b"ABCDEFGHIJKLMNOP" + b"\naws_secret_access_key = " + b"a" * 40
    assert any(p.search(planted) for p in SECRET_PATTERNS[:1]) and SECRET_PATTERNS[2].search(planted)


# ---------------------------------------------------------------- size limits before decoding
class RecordingEngine:
    def __init__(self, text: str = "ok") -> None:
        self.calls = 0
        self.text = text

    def model_info(self) -> dict[str, Any]:
        return {"name": "fake", "version": "0"}

    def run(self, data: bytes, direction: str | None = None) -> Any:
        from ocr_engine.schema import Line, ModelInfo, OcrResult

        self.calls += 1
        return OcrResult(width=10, height=10, lines=[Line(self.text, 0.9, [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0], [0.0, 9.0]])],
                         model=ModelInfo("fake", "0"), timings_ms={"total": 0.1})


@pytest.fixture
def recording_engine() -> Any:
    from ocr_service.handlers import runtime

    previous = runtime._engine
    engine = RecordingEngine(XSS)
    runtime.set_engine(engine)
    yield engine
    runtime.set_engine(previous)


def test_request_size_limit_is_enforced_before_any_decoding(recording_engine: Any, context: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_service.handlers import http_api, requests

    parsed: list[int] = []
    real_json, real_multipart = requests._from_json, requests._from_multipart
    monkeypatch.setattr(requests, "_from_json", lambda body, **kw: parsed.append(len(body)) or real_json(body, **kw))
    monkeypatch.setattr(requests, "_from_multipart", lambda ct, body: parsed.append(len(body)) or real_multipart(ct, body))
    big = b"\x89PNG\r\n\x1a\n" + bytes(http_api.SETTINGS.max_request_bytes)
    for ctype, body in (("image/png", big), ("application/json", b'{"image": "' + b"A" * len(big) + b'"}'),
                        ("multipart/form-data; boundary=x", b"--x\r\n" + big)):
        response = http_api.handler(http_event("POST", "/ocr", body, content_type=ctype), context)
        assert response["statusCode"] == 413, ctype
    assert recording_engine.calls == 0 and parsed == []


def test_local_gateway_refuses_oversized_events_before_the_function_runs() -> None:
    from infra.gateway import LocalGateway

    calls: list[Any] = []
    gw = LocalGateway(lambda event, ctx: calls.append(event) or {"statusCode": 200, "body": ""},
                      [("POST", "/ocr")], "127.0.0.1", 0)
    try:
        status, _, body = gw.invoke("POST", "/ocr", [("Content-Type", "image/png")], bytes(5 * 1024 * 1024), "127.0.0.1")
        assert status == 413 and calls == []  # base64 makes 5 MB into a > 6 MB event
        status, _, _ = gw.invoke("POST", "/ocr", [("Content-Type", "image/png")], CANARY(), "127.0.0.1")
        assert status == 200 and len(calls) == 1
    finally:
        gw._server.server_close()


# ---------------------------------------------------------------- S3 keys are never local paths
TRAVERSAL_KEYS = ["uploads/../../../../etc/passwd-evil.png", "uploads/..%2F..%2Fevil.png", "uploads//abs/evil.png",
                  "uploads/~/.ssh/evil.png", "uploads/C:\\Windows\\evil.png", "uploads/\x00nul-evil.png"]


def test_s3_keys_never_reach_the_local_filesystem(use_real_engine: Any, context: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    opened: list[str] = []
    active = {"on": False}

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if active["on"] and event in ("open", "os.remove", "os.rename", "os.mkdir", "shutil.copyfile"):
            opened.append(f"{event}:{args[0]!r}")

    sys.addaudithook(audit)  # cannot be removed; inert outside this test
    with mock_aws():
        from ocr_service.handlers import object_state, objects
        from ocr_service.s3_store import S3Store

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="traversal")
        monkeypatch.setattr(object_state, "store", S3Store(s3, 20 * 2**20))
        events = []
        for key in TRAVERSAL_KEYS:
            s3.put_object(Bucket="traversal", Key=key, Body=CANARY())
            events.append(sqs_message(s3_event(s3_record("traversal", key, etag=s3.head_object(
                Bucket="traversal", Key=key)["ETag"].strip('"')))))
        active["on"] = True
        try:
            out = objects.handler(sqs_event(*events), context)
        finally:
            active["on"] = False
        assert out == {"batchItemFailures": []}
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="traversal")["Contents"]}
        for key in TRAVERSAL_KEYS:
            assert f"results/{key}.json" in keys  # stored verbatim, inside the results prefix
    assert [o for o in opened if "evil" in o or "passwd" in o or "results/" in o] == []


# ---------------------------------------------------------------- the web page
def test_page_script_uses_no_html_sinks() -> None:
    page = (REPO / "functions" / "ocr" / "ocr_service" / "web" / "index.html").read_text(encoding="utf-8")
    script = page[page.index("<script>"):]
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setTimeout(\"", "setTimeout('", ".html(", "srcdoc"):
        assert sink not in script, sink
    assert "textContent" in script


def test_page_and_json_headers_forbid_script_injection(recording_engine: Any, context: Any) -> None:
    from ocr_service.handlers import http_api

    page = http_api.handler(http_event("GET", "/"), context)
    csp = page["headers"]["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "script-src" in csp and "http:" not in csp and "*" not in csp
    assert page["headers"]["X-Content-Type-Options"] == "nosniff"
    response = http_api.handler(http_event("POST", "/ocr", CANARY(), content_type="image/png"), context)
    assert response["headers"]["Content-Type"].startswith("application/json")
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    assert json.loads(response["body"])["data"][0]["text"] == XSS  # data, returned as JSON, never as HTML
    missing = http_api.handler(http_event("GET", "/<script>alert(1)</script>"), context)
    assert missing["statusCode"] == 404 and missing["headers"]["Content-Type"].startswith("application/json")


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def test_page_renders_hostile_text_and_names_as_text_in_a_browser(tmp_path: Path) -> None:
    """Recognised text, error messages and file names full of markup stay text in Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium")
    from ocr_service.handlers.http_api import INDEX_HTML, PAGE_HEADERS

    line = {"text": XSS, "confidence": 0.9, "box": [[0, 0], [9, 0], [9, 9], [0, 9]]}
    batch = {"success": True, "count": 2, "failed": 1, "results": [
        {"index": 0, "name": XSS, "success": True, "data": [line], "text": XSS + "\n</pre><b>bold</b>"},
        {"index": 1, "name": "x", "success": False, "error": {"code": "<i>c</i>", "message": XSS, "status": 422}},
    ]}

    def serve(route: Any) -> None:
        url = route.request.url.split("?", 1)[0]  # the page adds ?direction=
        if url.endswith("/ocr/batch"):
            route.fulfill(status=200, content_type="application/json", body=json.dumps(batch))
        else:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=INDEX_HTML, headers=PAGE_HEADERS)

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--headless=new"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", serve)
            page.goto("http://ocr.test/")
            page.set_input_files("#file-input", files=[
                {"name": XSS + ".png", "mimeType": "image/png", "buffer": CANARY()},
                {"name": "two.png", "mimeType": "image/png", "buffer": CANARY()},
            ])
            page.click("#submit-button")
            page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
            cards = page.query_selector_all("section.result")
            assert cards[0].query_selector("h2").inner_text() == XSS + ".png"
            assert cards[0].query_selector("td.text").inner_text() == XSS
            assert XSS in cards[1].query_selector(".item-error").inner_text()
            assert page.query_selector("section.result img, section.result script, section.result b, "
                                       "section.result i") is None
            assert page.title() != "pwned" and errors == []
        finally:
            browser.close()


# ---------------------------------------------------------------- template hardening
def _resolver(template: dict[str, Any], **overrides: Any) -> Any:
    """The local resolver of the template, with ``AWS::NoValue`` as ``None``."""
    from infra.template import Resolver

    return Resolver(template, {"AWS::NoValue": None, **overrides}, refs={"AlarmTopic": "arn:aws:sns:created"})


def test_dead_letter_alarm_notifies_a_topic_given_or_created(template: dict[str, Any]) -> None:
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    assert "DeadLetterAlarm" in alarms
    params = template["Parameters"]
    assert params["AlarmTopicArn"]["Default"] == ""
    pattern = re.compile(params["AlarmTopicArn"]["AllowedPattern"])
    existing = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"
    assert pattern.fullmatch("") and pattern.fullmatch(existing) and not pattern.fullmatch("ops-alerts")
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic" and topic["Condition"] == "CreateAlarmTopic"
    for name, alarm in alarms.items():
        for key in ("AlarmActions", "OKActions"):
            actions = alarm["Properties"].get(key)
            assert actions, f"{name} has no {key}"
            # No ARN given: the topic the stack creates; an ARN given: that topic, and none is created.
            assert _resolver(template).resolve(actions) == ["arn:aws:sns:created"], (name, key)
            assert _resolver(template, AlarmTopicArn=existing).resolve(actions) == [existing], (name, key)
    assert _resolver(template).condition("CreateAlarmTopic")
    assert not _resolver(template, AlarmTopicArn=existing).condition("CreateAlarmTopic")
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "SubscribeAlarmEmail" and subscription["Properties"]["Protocol"] == "email"


def test_every_bucket_refuses_requests_without_tls(template: dict[str, Any]) -> None:
    buckets = _resources(template, "AWS::S3::Bucket")
    assert buckets
    policies = _resources(template, "AWS::S3::BucketPolicy")
    for name in buckets:
        attached = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": name}]
        assert len(attached) == 1, f"{name}: expected one bucket policy, found {len(attached)}"
        statements = _listify(attached[0]["Properties"]["PolicyDocument"]["Statement"])
        denies = [st for st in statements if st.get("Effect") == "Deny"
                  and str(st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"]
        assert denies, f"{name}: no statement denies aws:SecureTransport false"
        for st in denies:
            assert st["Principal"] in ("*", {"AWS": "*"}), st  # everyone, the account itself included
            assert _listify(st["Action"]) == ["s3:*"], st
            resources = {_text(r) for r in _listify(st["Resource"])}
            assert resources == {f"${{{name}.Arn}}", f"${{{name}.Arn}}/*"}, resources  # bucket and objects
        tls = [st for st in statements if st.get("Effect") == "Deny" and "s3:TlsVersion" in json.dumps(st)]
        assert tls and float(tls[0]["Condition"]["NumericLessThan"]["s3:TlsVersion"]) == 1.2


def test_reserved_concurrency_caps_http_and_fits_the_default_account_limit(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    resolver = _resolver(template)
    http = resources["HttpOcrFunction"]["Properties"]
    assert "ReservedConcurrentExecutions" in http, "HTTP traffic could take the whole pool from the uploads"
    http_reserved = resolver.resolve(http["ReservedConcurrentExecutions"])
    assert isinstance(http_reserved, int) and 1 <= http_reserved <= 200, http_reserved
    # 0 turns the reservation off (accounts with a concurrency limit under 100 + the reservation)
    assert _resolver(template, HttpFunctionConcurrency=0).resolve(http["ReservedConcurrentExecutions"]) is None
    object_props = resources["ObjectOcrFunction"]["Properties"]
    object_reserved = resolver.resolve(object_props["ReservedConcurrentExecutions"]) or 0
    # Lambda keeps at least 100 of the account's (default 1000) concurrency unreserved.
    assert http_reserved + object_reserved <= 1000 - 100
    sqs = [e["Properties"] for e in object_props["Events"].values() if e["Type"] == "SQS"]
    assert len(sqs) == 1
    poller = resolver.resolve(sqs[0]["ScalingConfig"]["MaximumConcurrency"])
    assert isinstance(poller, int) and 2 <= poller <= 1000, poller  # the range Lambda accepts
    if object_reserved:
        assert poller <= object_reserved  # else the poller's invocations are throttled into the DLQ


def test_every_bucket_aborts_incomplete_multipart_uploads(template: dict[str, Any]) -> None:
    buckets = _resources(template, "AWS::S3::Bucket")
    assert buckets
    for name, bucket in buckets.items():
        rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        abort = [r for r in rules if r.get("Status") == "Enabled" and "AbortIncompleteMultipartUpload" in r]
        assert abort, f"{name}: incomplete multipart uploads are kept (and billed) forever"
        assert 1 <= abort[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 7
        assert not abort[0].get("Prefix") and not abort[0].get("Filter"), "the rule must cover the whole bucket"


class _InlineElements:
    """The text of each inline ``<script>`` / ``<style>``, and what a hash cannot allow."""

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.unhashable: list[str] = []  # src= scripts, style= and on*= attributes
        outer = self

        class Parser(HTMLParser):
            current: list[str] | None = None

            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                names = {k for k, _ in attrs}
                outer.unhashable += [f"<{tag} {k}>" for k in names if k == "style" or k.startswith("on")]
                if tag == "script" and "src" in names:
                    outer.unhashable.append("<script src>")
                if tag in ("script", "style"):
                    self.current = []

            def handle_data(self, data: str) -> None:
                if self.current is not None:
                    self.current.append(data)

            def handle_endtag(self, tag: str) -> None:
                if tag in ("script", "style") and self.current is not None:
                    (outer.scripts if tag == "script" else outer.styles).append("".join(self.current))
                    self.current = None

        parser = Parser(convert_charrefs=False)
        parser.feed(html)
        parser.close()


def _sha256_source(text: str) -> str:
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _csp_directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, *sources = part.split()
        out[name] = sources
    return out


def test_page_csp_allows_exactly_the_served_inline_script_and_style_by_hash(recording_engine: Any,
                                                                           context: Any) -> None:
    from ocr_service.handlers import http_api

    page = http_api.handler(http_event("GET", "/"), context)
    inline = _InlineElements(page["body"])
    assert inline.scripts and inline.styles, "the served page has no inline script or style"
    assert inline.unhashable == []  # would need 'unsafe-inline' / 'unsafe-hashes'
    csp = _csp_directives(page["headers"]["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-hashes'" not in csp["script-src"]
    assert sorted(csp["script-src"]) == sorted(_sha256_source(s) for s in inline.scripts)
    assert "'unsafe-inline'" not in csp["style-src"]
    assert sorted(csp["style-src"]) == sorted(_sha256_source(s) for s in inline.styles)
    assert csp["default-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]


def test_page_runs_under_its_csp_and_an_edited_script_would_not(tmp_path: Path) -> None:
    """Chromium runs the hashed script and applies the hashed style; a stale hash is refused."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium")
    from ocr_service.handlers.http_api import INDEX_HTML, PAGE_HEADERS

    line = {"text": "ok", "confidence": 0.9, "box": [[0, 0], [9, 0], [9, 9], [0, 9]]}
    batch = {"success": True, "count": 2, "failed": 0, "results": [
        {"index": i, "name": f"{i}.png", "success": True, "data": [line], "text": "ok"} for i in range(2)]}
    stale = {**PAGE_HEADERS, "Content-Security-Policy": re.sub(
        r"'sha256-[^']+'", _sha256_source("edited"), PAGE_HEADERS["Content-Security-Policy"])}

    def load(page: Any, headers: dict[str, str]) -> list[str]:
        console: list[str] = []
        page.on("console", lambda msg: console.append(msg.text))

        def serve(route: Any) -> None:
            if route.request.url.split("?", 1)[0].endswith("/ocr/batch"):
                route.fulfill(status=200, content_type="application/json", body=json.dumps(batch))
            else:
                route.fulfill(status=200, content_type="text/html; charset=utf-8", body=INDEX_HTML, headers=headers)

        page.route("**/*", serve)
        page.goto("http://ocr.test/")
        return console

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--headless=new"])
        try:
            page = browser.new_page()
            console = load(page, PAGE_HEADERS)
            header_bg = "() => getComputedStyle(document.querySelector('header')).backgroundColor"
            assert page.evaluate(header_bg) == "rgb(29, 35, 48)"  # the <style> applied
            page.set_input_files("#file-input", files=[
                {"name": f"{i}.png", "mimeType": "image/png", "buffer": CANARY()} for i in range(2)])
            page.click("#submit-button")
            page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)  # the <script> ran
            assert len(page.query_selector_all("section.result")) == 2
            assert [m for m in console if "Content Security Policy" in m] == []

            control = browser.new_page()
            refused = load(control, stale)
            # Chromium's wording: "Executing inline script violates ..." (older: "Refused to execute").
            blocked = (re.compile(r"(Executing|Refused to execute) inline script"),
                       re.compile(r"(Applying|Refused to apply) inline style"))
            for _ in range(50):  # the reports arrive asynchronously
                if all(any(b.search(m) for m in refused) for b in blocked):
                    break
                control.wait_for_timeout(100)
            for b in blocked:
                assert any(b.search(m) for m in refused), (b.pattern, refused)
            assert control.evaluate(header_bg) != "rgb(29, 35, 48)"
        finally:
            browser.close()

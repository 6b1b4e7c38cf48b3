"""Read ``template.yaml`` so the local stack builds what the SAM template declares.

Only what the local stack needs is resolved: parameter defaults, ``!Ref``, ``!Sub``,
``!If`` on the template's conditions, and ``!GetAtt`` of the queues (mapped to the local
queue ARNs). Everything else is left as the raw CloudFormation structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
LOCAL_ACCOUNT = "123456789012"  # moto's default account
LOCAL_REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags into their long JSON forms."""


def _tag(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _short, _long in {
    "!Ref": "Ref",
    "!Sub": "Fn::Sub",
    "!GetAtt": "Fn::GetAtt",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!FindInMap": "Fn::FindInMap",
    "!ImportValue": "Fn::ImportValue",
    "!GetAZs": "Fn::GetAZs",
    "!Base64": "Fn::Base64",
    "!Condition": "Condition",
}.items():
    _CfnLoader.add_constructor(_short, _tag(_long))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """Parse a CloudFormation / SAM YAML template into plain Python structures."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Resolver:
    """Evaluates the intrinsic functions the local stack needs."""

    template: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        if name in self.overrides:
            return self.overrides[name]
        pseudo = {
            "AWS::AccountId": LOCAL_ACCOUNT,
            "AWS::Region": LOCAL_REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "ocr-service-local",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        params = self.template.get("Parameters", {})
        if name in params:
            return params[name].get("Default")
        raise KeyError(f"cannot resolve Ref {name!r} locally")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(x) for x in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.param(value)
            if key == "Fn::Sub":
                text, extra = (value, {}) if isinstance(value, str) else (value[0], value[1])

                def sub(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name in extra:
                        return str(self.resolve(extra[name]))
                    if "." in name and not name.startswith("AWS::"):
                        return self.attributes[tuple(name.split(".", 1))]
                    return str(self.param(name))

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if key == "Fn::If":
                cond, yes, no = value
                return self.resolve(yes if self.condition(cond) else no)
            if key == "Fn::Equals":
                a, b = (self.resolve(v) for v in value)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::GetAtt":
                return self.attributes[(value[0], value[1])]
        return {k: self.resolve(v) for k, v in node.items()}


@dataclass(frozen=True)
class QueueRule:
    """One S3 → SQS notification rule of the images bucket."""

    events: tuple[str, ...]
    queue_logical_id: str
    prefix: str
    suffix: str


@dataclass(frozen=True)
class StackSpec:
    """What the local stack creates, as declared in the template."""

    bucket_name: str
    queue_logical_id: str
    dead_letter_logical_id: str
    max_receive_count: int
    visibility_timeout: int
    rules: tuple[QueueRule, ...]
    function_env: dict[str, str]
    http_routes: tuple[tuple[str, str], ...]
    batch_size: int
    # An HttpApi event without Path and Method is SAM's ``$default`` route: requests no other
    # route matches reach the function (which answers 404 / 405 itself) instead of API Gateway's 404.
    http_default_route: bool = False
    # The object function's own variables (beyond the Globals), and the name of the one that
    # holds its queue's URL (``!Ref`` of the queue: where it sends page-range tasks).
    object_env: dict[str, str] = field(default_factory=dict)
    queue_url_env: str | None = None


def stack_spec(path: Path = TEMPLATE, overrides: dict[str, Any] | None = None) -> StackSpec:
    """Read the bucket, queues, notifications, environment and HTTP routes from the template."""
    template = load_template(path)
    resolver = Resolver(template, overrides or {})
    resources = template["Resources"]
    bucket = resources["ImagesBucket"]["Properties"]
    bucket_name = resolver.resolve(bucket["BucketName"])

    rules = []
    for config in bucket["NotificationConfiguration"]["QueueConfigurations"]:
        filters = {r["Name"].lower(): resolver.resolve(r["Value"]) for r in config["Filter"]["S3Key"]["Rules"]}
        rules.append(
            QueueRule(
                events=(config["Event"],),
                queue_logical_id=config["Queue"]["Fn::GetAtt"][0],
                prefix=filters.get("prefix", ""),
                suffix=filters.get("suffix", ""),
            )
        )
    queue_id = rules[0].queue_logical_id
    queue = resources[queue_id]["Properties"]
    redrive = queue["RedrivePolicy"]
    dead_letter_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]

    env_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    function_env = {k: str(resolver.resolve(v)) for k, v in env_vars.items()}

    routes = []
    default_route = False
    batch_size = 10
    object_env: dict[str, str] = {}
    queue_url_env = None
    for resource in resources.values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = resource["Properties"].get("Events", {}).values()
        if any(e["Type"] == "SQS" and e["Properties"]["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]} for e in events):
            variables = (resource["Properties"].get("Environment") or {}).get("Variables") or {}
            for name, value in variables.items():
                if value == {"Ref": queue_id}:
                    queue_url_env = name  # the queue's URL, known only once the local queue exists
                else:
                    object_env[name] = str(resolver.resolve(value))
        for event in events:
            if event["Type"] == "HttpApi":
                props = event.get("Properties") or {}
                path, method = props.get("Path"), props.get("Method")
                if (path in (None, "$default", "/$default")) and (method is None or method.upper() in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD")):
                    default_route = True
                else:
                    routes.append(((method or "ANY").upper(), path))
            elif event["Type"] == "SQS":
                batch_size = int(event["Properties"].get("BatchSize", batch_size))
    return StackSpec(
        bucket_name=bucket_name,
        queue_logical_id=queue_id,
        dead_letter_logical_id=dead_letter_id,
        max_receive_count=int(redrive["maxReceiveCount"]),
        visibility_timeout=int(queue.get("VisibilityTimeout", 30)),
        rules=tuple(rules),
        function_env=function_env,
        http_routes=tuple(routes),
        batch_size=batch_size,
        http_default_route=default_route,
        object_env=object_env,
        queue_url_env=queue_url_env,
    )

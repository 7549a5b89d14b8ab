"""Read template.yaml: the single source of truth for routes and functions."""

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...)."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {f"Fn::{suffix}" if suffix != "Ref" else "Ref": value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class HttpRoute:
    function: str  # logical id
    code_uri: str
    handler: str
    method: str
    path: str


def load_template(path: Path = TEMPLATE) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)


def resolve(node, conditions: dict):
    """Resolve Fn::If / AWS::NoValue for one set of condition values (what AWS::LanguageExtensions does)."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve(yes if conditions[name] else no, conditions)
        out = {k: resolve(v, conditions) for k, v in node.items()}
        return {k: v for k, v in out.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(node, list):
        return [r for r in (resolve(v, conditions) for v in node) if r != {"Ref": "AWS::NoValue"}]
    return node


def http_routes(template: dict) -> list[HttpRoute]:
    routes = []
    for name, res in sorted(template.get("Resources", {}).items()):
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                p = event["Properties"]
                routes.append(HttpRoute(name, props["CodeUri"].rstrip("/"), props["Handler"], p["Method"].upper(), p["Path"]))
    return routes


def load_function_module(code_uri: str, module: str = "app"):
    """Import functions/<name>/app.py under a unique module name (every function has an app.py)."""
    name = f"costplan_fn_{Path(code_uri).name}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / code_uri / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod

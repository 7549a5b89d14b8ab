"""Translate template.yaml as CloudFormation would, once per auth mode, and check every route's security.

Runs inside the aws-sam-cli venv (.venv-sam; `tools/sam_check.sh` creates it):
    .venv-sam/bin/python tools/sam_auth_check.py

It applies SAM CLI's own AWS::LanguageExtensions implementation (which resolves the Fn::If on the
HttpApi Auth and CorsConfiguration for the given parameter values) and then the SAM translator, and
checks that every generated OpenAPI operation carries the expected authorizer, that CORS appears only
when origins are configured, and that only the invoice functions get ce:GetCostAndUsage, and only when
Cost Explorer is on. Needs no AWS credentials and no network.
"""

import copy
import os
import sys
from pathlib import Path

from samcli.lib.cfn_language_extensions.api import process_template
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "IAM (defaults)": ({}, "AWS_IAM", False, False),
    "JWT + CORS + Cost Explorer": ({"AuthMode": "JWT", "JwtIssuer": "https://issuer.example.com/pool",
                                    "JwtAudience": "client-a,client-b", "CorsAllowOrigins": "https://app.example.com",
                                    "CostExplorerEnabled": "true"}, "JwtAuthorizer", True, True),
}
CE_FUNCTIONS = {"InvoiceAnalyzeFunctionRole", "InvoiceSimulateFunctionRole"}


class _Policies:  # the managed policies SAM attaches by name (no IAM call)
    def load(self):
        return {name: f"arn:aws:iam::aws:policy/{path}{name}" for name, path in (
            ("AWSLambdaBasicExecutionRole", "service-role/"), ("AWSXrayWriteOnlyAccess", ""),
            ("AWSLambdaSQSQueueExecutionRole", "service-role/"))}


def translate(template: dict, params: dict) -> dict:
    t = process_template(copy.deepcopy(template), parameter_values=params)
    t["Transform"] = "AWS::Serverless-2016-10-31"
    for res in t["Resources"].values():  # local paths are uploaded by `sam deploy`; the translator wants S3
        for key in ("CodeUri", "ContentUri"):
            if key in res.get("Properties", {}):
                res["Properties"][key] = "s3://bucket/key"
    return transform(t, params, _Policies())


def check(out: dict, authorizer: str, cors: bool, ce: bool) -> list[str]:
    errors = []
    body = out["Resources"]["CostPlanHttpApi"]["Properties"]["Body"]
    ops = [(m.upper(), p, op) for p, item in body["paths"].items() for m, op in item.items()]
    if not ops:
        errors.append("no routes generated")
    for method, path, op in ops:
        if op.get("security") != [{authorizer: []}]:
            errors.append(f"{method} {path}: security {op.get('security')}, expected {authorizer}")
    if bool(body.get("x-amazon-apigateway-cors")) != cors:
        errors.append(f"CORS present={bool(body.get('x-amazon-apigateway-cors'))}, expected {cors}")
    for name, res in out["Resources"].items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        actions = [a for pol in res["Properties"].get("Policies", []) for s in pol["PolicyDocument"]["Statement"]
                   for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
        has_ce = any(a.startswith("ce:") for a in actions)
        if has_ce != (ce and name in CE_FUNCTIONS):
            errors.append(f"{name}: ce permission={has_ce}")
    return errors


def main() -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    failed = False
    for label, (params, authorizer, cors, ce) in MODES.items():
        out = translate(template, params)
        errors = check(out, authorizer, cors, ce)
        routes = sum(len(v) for v in out["Resources"]["CostPlanHttpApi"]["Properties"]["Body"]["paths"].values())
        print(f"sam_auth_check: {label}: {routes} routes behind {authorizer}: {'FAIL' if errors else 'ok'}")
        for e in errors:
            print(f"  {e}")
        failed |= bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

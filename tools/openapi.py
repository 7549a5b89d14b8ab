"""Generate contracts/openapi.json from every function app, and refuse breaking changes.

``python -m tools.openapi write``  regenerate (fails if a path, schema, property or enum value
                                   present in the committed document would disappear)
``python -m tools.openapi check``  exit 1 if the committed document is stale or the code breaks it
"""

import json
import sys

from tools.template import ROOT, http_routes, load_function_module, load_template

OPENAPI = ROOT / "contracts" / "openapi.json"


# pydantic leaves a constraint on a validator-wrapped integer inside ``X | None`` under its Python name
# (``ge``/``le``) instead of the JSON Schema keyword; validation still enforces it. Published under its real name.
_PYTHON_CONSTRAINTS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_schema_keywords(node):
    if isinstance(node, dict):
        typed = node.get("type") in ("integer", "number")
        return {(_PYTHON_CONSTRAINTS.get(k, k) if typed else k): _json_schema_keywords(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_schema_keywords(v) for v in node]
    return node


def merged_openapi() -> dict:
    doc = {"openapi": "3.1.0", "info": {"title": "CostPlan API", "version": "1.0.0"}, "paths": {},
           "components": {"schemas": {}}}
    seen = set()
    for route in http_routes(load_template()):
        if route.code_uri in seen:
            continue
        seen.add(route.code_uri)
        sub = load_function_module(route.code_uri).app.openapi()
        doc["paths"].update(sub.get("paths", {}))
        schemas = doc["components"]["schemas"]
        for name, schema in sub.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:  # one name, two shapes: a response would break the other
                raise ValueError(f"schema {name} differs between functions ({route.code_uri}); give one a new name")
            schemas[name] = schema
    return json.loads(json.dumps(_json_schema_keywords(doc), sort_keys=True))


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def breaking_changes(old: dict, new: dict) -> list[str]:
    """What ``new`` removes or renames relative to ``old``: paths, operations, schemas, properties, enum values."""
    out = []
    for path, ops in old.get("paths", {}).items():
        for method in ops:
            if method not in new.get("paths", {}).get(path, {}):
                out.append(f"removed operation {method.upper()} {path}")
    new_schemas = new.get("components", {}).get("schemas", {})
    for name, schema in old.get("components", {}).get("schemas", {}).items():
        if name not in new_schemas:
            out.append(f"removed schema {name}")
            continue
        for prop in schema.get("properties", {}):
            if prop not in new_schemas[name].get("properties", {}):
                out.append(f"removed property {name}.{prop}")
        for value in schema.get("enum", []):
            if value not in new_schemas[name].get("enum", []):
                out.append(f"removed enum value {name}.{value}")
    return out


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "check"
    new = merged_openapi()
    old = json.loads(OPENAPI.read_text()) if OPENAPI.exists() else {}
    broken = breaking_changes(old, new)
    if broken:
        print("contracts are additive only; this change breaks them:\n  " + "\n  ".join(broken))
        return 1
    if mode == "write":
        OPENAPI.write_text(render(new))
        print(f"wrote {OPENAPI.relative_to(ROOT)} ({len(new['paths'])} paths)")
        return 0
    if render(new) != OPENAPI.read_text():
        print("contracts/openapi.json is stale (additive change): run `make openapi` and commit it")
        return 1
    print("contracts/openapi.json is current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

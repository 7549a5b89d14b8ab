"""`make run`: serve every HttpApi route of template.yaml from one uvicorn process.

The route table is read from template.yaml and each route is served by the very FastAPI app
its Lambda runs (functions/<name>/app.py), so local routes cannot drift from the template.
The dispatcher in front of them passes bodies through untouched: each function app applies its
own body limit, content coding and media types, exactly as in Lambda (invoice/analyze takes
6 MB and text/csv; the others 256 KiB of JSON).
Embedded defaults only: no AWS account, no network. /docs (Swagger UI) and /redoc load their scripts and styles
from the bundles fastapi-offline ships (a dev-only pin), so the docs render with no internet; the deployed Lambdas
serve no docs page (the HTTP app factory turns docs off).
"""

import argparse
import os
from importlib.resources import files

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tools.dispatch import dispatcher
from tools.openapi import merged_openapi
from tools.template import load_function_module

DOCS_ASSETS = "/docs/assets"  # Swagger UI and ReDoc bundles, served from the installed package: no CDN
ASSET_DIR = files("fastapi_offline") / "static"  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js
TITLE = "CostPlan API"


async def swagger_ui(_request):
    return get_swagger_ui_html(openapi_url="/openapi.json", title=TITLE,
                               swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                               swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
                               swagger_ui_parameters={"validatorUrl": None})  # no badge from validator.swagger.io


async def redoc(_request):
    return get_redoc_html(openapi_url="/openapi.json", title=TITLE, redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
                          redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png", with_google_fonts=False)


def build_app():
    app = dispatcher(lambda code_uri: load_function_module(code_uri).app)
    spec = merged_openapi()

    async def openapi(_request):
        return JSONResponse(spec)

    # Ahead of the factory's own /openapi.json, which would describe only this dispatcher.
    app.router.routes[:0] = [Route("/openapi.json", openapi, methods=["GET"]),
                             Route("/docs", swagger_ui, methods=["GET"]), Route("/redoc", redoc, methods=["GET"]),
                             Mount(DOCS_ASSETS, app=StaticFiles(directory=str(ASSET_DIR)), name="docs-assets")]
    return app


def loopback_host(host: str) -> str:
    """`make run` serves every route without auth, so it binds to a loopback address and nothing else."""
    import ipaddress

    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(f"{host} is not a loopback address; the local server has no auth, "
                                         "so it only listens on 127.0.0.1 / ::1 / localhost")
    return host


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", type=loopback_host,
                        help="loopback only: the local server has no authorizer (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    os.environ.setdefault("COSTPLAN_PUBLIC_URL", f"http://{args.host}:{args.port}")  # report download links
    app = build_app()
    for r in app.state.route_table:
        print(f"  {r.method:6} http://{args.host}:{args.port}{r.path}  ->  {r.function} ({r.code_uri}/app.py)")
    print(f"  docs   http://{args.host}:{args.port}/docs  (and /redoc; assets served locally)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

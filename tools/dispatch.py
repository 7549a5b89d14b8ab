"""The local API dispatcher: every HttpApi route of template.yaml, each served by the FastAPI app its Lambda runs.

`make run` (tools.local_api, which adds the docs routes) and the client's in-process transport
(costplan_client.transport.local_app, which imports the function apps lazily) both build it here, so their route
tables cannot drift from the template or from each other.
"""

import os
from collections.abc import Callable
from pathlib import Path

from starlette.routing import Route

from costplan.adapters.http import create_app
from tools.template import TEMPLATE, http_routes, load_template


def dispatcher(endpoint: Callable[[str], object], template: Path = TEMPLATE):
    """A local-mode app routing each template route to ``endpoint(code_uri)`` (an ASGI app); ``app.state.route_table``
    keeps the routes. Embedded defaults: local-disk report storage and an in-process queue, no AWS account."""
    os.environ.setdefault("COSTPLAN_STORAGE", "local")
    app = create_app("local", max_body=None)  # no limit of its own: each function app applies its Lambda's
    table = http_routes(load_template(template))
    for route in table:
        app.router.routes.append(Route(route.path, endpoint=endpoint(route.code_uri), methods=[route.method]))
    app.state.route_table = table
    return app

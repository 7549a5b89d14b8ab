"""The FastAPI app factory and Lambda entry point every function shares.

One place turns every failure into the one error envelope
``{error: {code, message, details: [{field, reason}]}, correlation_id}``:
400 malformed JSON, 422 validation, 404 unknown route, 405 wrong method, 413 body too
large, 500 only for real faults (logged with the correlation id).
"""

import json
import uuid
from collections.abc import Callable

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.exceptions import HTTPException as StarletteHTTPException

from costplan.adapters import snapstart
from costplan.adapters.observability import logger, metrics
from costplan.services.errors import NotFound, RequestRejected
from costplan_contracts.bounds import REQUEST_BODY_MAX_BYTES
from costplan_contracts.common import ErrorBody, ErrorDetail, ErrorEnvelope
from costplan_contracts.enums import ErrorCode

CORRELATION_HEADER = "x-correlation-id"
_STATUS_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.PAYLOAD_TOO_LARGE,
                 400: ErrorCode.MALFORMED_JSON}


def _field(loc: tuple) -> str:
    parts = [p for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def correlation_id(scope: dict) -> str:
    event = scope.get("aws.event") or {}
    rid = (event.get("requestContext") or {}).get("requestId")
    if rid:
        return rid
    for name, value in scope.get("headers") or []:
        if name.decode("latin-1") in (CORRELATION_HEADER, "x-request-id"):
            return value.decode("latin-1")[:128]
    return str(uuid.uuid4())


def envelope(status: int, code: ErrorCode, message: str, cid: str, details=()) -> JSONResponse:
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message, details=list(details)), correlation_id=cid)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers={CORRELATION_HEADER: cid})


class EnvelopeMiddleware:
    """Pure ASGI: correlation id, body-size limit, and the last line of defence for faults."""

    def __init__(self, app, max_body: int = REQUEST_BODY_MAX_BYTES) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cid = correlation_id(scope)
        scope.setdefault("state", {})["correlation_id"] = cid
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_body:
                return await envelope(413, ErrorCode.PAYLOAD_TOO_LARGE,
                                      f"Request body exceeds {self.max_body} bytes", cid)(scope, receive, send)
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                if not any(k.lower() == CORRELATION_HEADER.encode() for k, _ in message["headers"]):
                    message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), cid.encode())]
            await send(message)

        try:
            await self.app(scope, replay, send_with_id)
        except Exception:
            logger.exception("unhandled fault", extra={"correlation_id": cid, "path": scope.get("path")})
            await envelope(500, ErrorCode.INTERNAL_ERROR, "Internal error; quote the correlation id",
                           cid)(scope, receive, send)


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    cid = request.scope["state"]["correlation_id"]
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {})
        return envelope(400, ErrorCode.MALFORMED_JSON, "Request body is not valid JSON", cid,
                        [ErrorDetail(field="body", reason=str(ctx.get("error", "invalid JSON")))])
    details = [ErrorDetail(field=_field(tuple(e.get("loc", ()))), reason=e.get("msg", "invalid")) for e in errors]
    return envelope(422, ErrorCode.VALIDATION_ERROR, "Request failed validation", cid, details)


async def _rejected(request: Request, exc: RequestRejected) -> JSONResponse:
    details = [ErrorDetail(field=d.field, reason=d.reason) for d in exc.details]
    return envelope(422, ErrorCode.VALIDATION_ERROR, exc.message, request.scope["state"]["correlation_id"], details)


async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
    return envelope(404, ErrorCode.NOT_FOUND, exc.message, request.scope["state"]["correlation_id"])


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _STATUS_CODES.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
    message = {404: f"No route for {request.method} {request.url.path}",
               405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
    return envelope(exc.status_code, code, message, request.scope["state"]["correlation_id"])


def create_app(title: str, max_body: int = REQUEST_BODY_MAX_BYTES) -> FastAPI:
    app = FastAPI(title=f"CostPlan {title}", version="1.0.0", docs_url=None, redoc_url=None,
                  responses={422: {"model": ErrorEnvelope}, 400: {"model": ErrorEnvelope}})
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(RequestRejected, _rejected)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_middleware(EnvelopeMiddleware, max_body=max_body)
    return app


def lambda_handler(app: FastAPI) -> Callable:
    """Mangum adapter wrapped with the Powertools Logger (API Gateway request id as correlation id) and Metrics."""
    adapter = Mangum(app, lifespan="off")
    snapstart.register(app, adapter)  # SnapStart: prime before the snapshot, reset after a restore

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics
    def handler(event, context):
        metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
        return adapter(event, context)

    return handler


def json_body(response) -> dict:
    """Decode a Lambda proxy response body (tests and tools)."""
    return json.loads(response["body"])
